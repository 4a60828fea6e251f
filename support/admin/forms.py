"""Forms of the staff pages: the ticket page (status, tags, a reply or note), a new key."""

from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from ..forms import as_field_errors
from ..models import ApiKey, Ticket
from ..normalise import clean_tags, message_body
from ..text import is_blank


class TagsField(forms.CharField):
    """Tags as one line of text, comma-separated; stored as the API stores them."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        with as_field_errors("tags"):
            # Nothing between two commas (or only what shows as nothing) is no tag.
            return clean_tags([tag for tag in text.split(",") if not is_blank(tag)])


class TicketForm(forms.ModelForm):
    """The ticket page's one form: status and tags, and a public reply or internal note.

    One form, so that no way of leaving the page (Save, Save and continue, Send) drops a
    reply someone typed: whichever button is pressed, a typed message is sent with the
    status chosen. Send (`SEND`) insists on a message; Save does without one.
    """

    SEND = "_conversation"  # the name of the Send button
    REPLY = "reply"
    NOTE = "note"
    CONVERSATION = ("kind", "body")

    tags = TagsField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))
    kind = forms.ChoiceField(
        label=_("Send as"),
        choices=[
            (REPLY, _("Public reply (e-mailed to the requester)")),
            (NOTE, _("Internal note (staff only)")),
        ],
        initial=REPLY,
        required=False,  # a reply, unless a note is chosen
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label=_("Message"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=_("Markdown or HTML."),
    )

    class Meta:
        model = Ticket
        fields = ["status", "tags"]
        help_texts = {
            "status": _(
                "A public reply makes the ticket pending (awaiting the requester's reply) "
                "unless you choose another status here; a note leaves it as it is."
            ),
        }

    @cached_property
    def changed_data(self) -> list[str]:
        # The ticket's own fields: a message is not a change of the ticket (it is logged
        # as a message of its own), and "Send as" has no stored value to differ from.
        return [name for name in super().changed_data if name not in self.CONVERSATION]

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        if is_blank(body) and self.SEND not in self.data:
            return ""  # Save without a message: status and tags only
        with as_field_errors("body"):
            return message_body(body)


class ApiKeyAddForm(forms.ModelForm):
    """A new key: for one account, or without one a service key for the platform."""

    class Meta:
        model = ApiKey
        fields = ["name", "account_id"]
        help_texts = {
            "account_id": _(
                "The account the key acts for. Leave empty for a service key, which acts "
                "for any account (the platform's back end)."
            ),
        }
