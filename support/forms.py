"""Forms of the requester's pages: the help form and the reply on a ticket's page. They
only collect input: rules live in the domain (support.normalise), whose errors the views
put back on the fields."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import attachments, filestore, uploads
from .conf import get_setting
from .exceptions import TicketInvalid
from .normalise import MAX_EMAIL, MAX_LOCATION, MAX_NAME, MAX_SUBJECT
from .text import is_blank
from .uploads import Refusal

if TYPE_CHECKING:
    from .models import Attachment

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


# --- files, on the help form and the reply form


def take_files(
    request, *, ticket=None, store: bool = True
) -> tuple[list["Attachment"], list[Refusal]]:
    """The files a form sent: those kept from its last try (still ticked, `kept`), and the
    new ones (`attachments`) that pass support.attachments' checks, stored pending so that
    they are kept whatever happens to the rest of the form. Returns them and the
    refusals of the others. `store` False (a form a guard refuses) keeps no new file: each
    is refused, to be chosen again. `ticket`: the ticket whose page the form is on."""
    if request.method != "POST" or not attachments.enabled():
        return [], []
    kept = filestore.kept(request.POST.getlist("kept"), ticket=ticket)
    checked, refusals = attachments.check(
        request.FILES.getlist("attachments"), kept=kept, refused=uploads.refusals(request)
    )
    if not store:
        refusals += [
            Refusal(upload.name, gettext("Choose “%(name)s” again.") % {"name": upload.name})
            for upload in checked
        ]
        return kept, refusals
    return kept + filestore.store(checked, ticket=ticket), refusals


def file_refusals(error: TicketInvalid) -> list[Refusal]:
    """The domain's problems with a form's files (taken out of `error`), as refusals."""
    return [Refusal("", message) for message in error.errors.pop("attachments", [])]


def files_context(kept: Iterable = (), refusals: Iterable[Refusal] = ()) -> dict:
    """What support/includes/attachment_field.html shows: the file field with its limits,
    the files kept from the last try, and why others were refused."""
    if not attachments.enabled():
        return {"enabled": False}
    kept = list(kept)
    max_files = get_setting("ATTACHMENT_MAX_FILES")
    max_bytes = get_setting("ATTACHMENT_MAX_BYTES")
    return {
        "enabled": True,
        "kept": list(zip(filestore.keep(kept), kept, strict=True)),
        "errors": [refusal.message for refusal in refusals],
        "accept": ",".join(get_setting("ATTACHMENT_ALLOWED_TYPES")),
        "max_files": max_files,
        "max_bytes": max_bytes,
        "max_total": get_setting("ATTACHMENT_MAX_TOTAL_BYTES"),
        "help": _(
            "Screenshots or other files: up to %(count)d, of %(size)s each. You can also "
            "paste a screenshot (Ctrl+V) or drop files on the form."
        )
        % {"count": max_files, "size": uploads.limit_text(max_bytes)},
        "too_large": gettext("“{name}” is larger than %(size)s: choose a smaller file.")
        % {"size": uploads.limit_text(max_bytes)},
        "too_many": gettext("Choose %(count)d files at most.") % {"count": max_files},
        "too_much": gettext("The files add up to more than %(size)s: leave some out.")
        % {"size": uploads.limit_text(get_setting("ATTACHMENT_MAX_TOTAL_BYTES"))},
    }
