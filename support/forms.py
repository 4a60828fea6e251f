"""Forms of the requester's pages: the help form and the reply on a ticket's page. They
only collect input: rules live in the domain (support.normalise), whose errors the views
put back on the fields."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django import forms
from django.utils.translation import gettext_lazy as _

from .exceptions import TicketInvalid
from .normalise import MAX_EMAIL, MAX_LOCATION, MAX_NAME, MAX_SUBJECT
from .text import is_blank

# What the widget and the page's script may report about the browser.
MAX_LANGUAGE = 35
MAX_SCREEN = 20


class HiddenField(forms.CharField):
    """What the page or its script sends unseen. A person cannot correct a hidden field,
    so nothing in one fails the form by itself: a NUL is dropped (rather than refused, as
    Django's CharField does), text that shows as nothing counts as empty, and the guards
    and the normaliser judge the rest with messages a person can act on."""

    widget = forms.HiddenInput

    def __init__(self, *, max_length: int | None = None, **kwargs):
        super().__init__(required=False, **kwargs)
        self.validators = []
        self.cut = max_length

    def to_python(self, value) -> str:
        text = super().to_python(value).replace("\x00", "")
        return "" if is_blank(text) else text[: self.cut]


class DomainErrorsMixin:
    """For a form whose input the domain (support.normalise) judges."""

    def add_domain_errors(self, error: TicketInvalid, *, shown: Iterable[str] = ()) -> None:
        """Put the domain's messages on the fields they name, if the person sees them
        (`shown`, else every field of the form), and the rest on the form as a whole."""
        shown = set(shown or self.fields)
        for field, messages in error.errors.items():
            for message in messages:
                self.add_error(field if field in shown else None, message)


@contextmanager
def as_field_errors(name: str) -> Iterator[None]:
    """Turn a TicketInvalid raised inside into a ValidationError of the field `name`, for
    a field's `to_python` or a form's `clean_<name>` that hands its value to the domain."""
    try:
        yield
    except TicketInvalid as err:
        raise forms.ValidationError(err.errors.get(name) or [str(err)]) from None


class ReplyForm(DomainErrorsMixin, forms.Form):
    """The requester's answer on their ticket page."""

    body = forms.CharField(
        label=_("Your reply"),
        widget=forms.Textarea(attrs={"rows": 6}),
        strip=False,
        help_text=_("Markdown works: **bold**, `code`, lists and links."),
        error_messages={"required": _("Write a message.")},
    )


class TicketForm(DomainErrorsMixin, forms.Form):
    """E-mail, name, subject and message, plus the hidden context and the spam guards.

    With `identity` (the logged-in requester) the e-mail and name are not asked.
    """

    # Field names are TicketRequest's, so its errors land on the right field.
    email_address = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=MAX_EMAIL,
        help_text=_("We write to you there, and send you the link to your request."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    username = forms.CharField(
        label=_("Your name"),
        required=False,
        max_length=MAX_NAME,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    subject = forms.CharField(label=_("Subject"), max_length=MAX_SUBJECT)
    body = forms.CharField(
        label=_("How can we help?"),
        strip=False,  # leading spaces are Markdown (an indented code block)
        help_text=_("You can use Markdown: **bold**, `code`, lists and links."),
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    # The honeypot: hidden from people and from screen readers (see the template).
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    # Hidden: checked by the guards and the normaliser, whose messages a person can act on
    # (a person cannot fix a hidden field, so none of these fails the form by itself).
    token = HiddenField()
    signed_identity = HiddenField()
    location = HiddenField(max_length=MAX_LOCATION)
    language = HiddenField(max_length=MAX_LANGUAGE)
    screen = HiddenField(max_length=MAX_SCREEN)

    # Shown in the form; the rest are hidden.
    asked = ("email_address", "username", "subject", "body")

    def __init__(self, *args, identity=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.identity = identity
        if identity:
            # Taken from the account, never from the request: a logged-in person cannot
            # file as someone else.
            del self.fields["email_address"], self.fields["username"]

    def visible(self) -> list[forms.BoundField]:
        """The fields a person fills in, each pointing screen readers at its help and errors."""
        bound = [self[name] for name in self.asked if name in self.fields]
        for field in bound:
            attrs = field.field.widget.attrs
            described = [f"{field.auto_id}_helptext"] if field.help_text else []
            if field.errors:
                described.append(f"{field.auto_id}_error")
                attrs["aria-invalid"] = "true"
            if described:
                attrs["aria-describedby"] = " ".join(described)
        return bound

    def renew_token(self, token: str) -> None:
        """Show the form again with a new token (the old one is spent or expired)."""
        if self.is_bound:
            self.data = self.data.copy()
            self.data["token"] = token
        else:
            self.initial["token"] = token
