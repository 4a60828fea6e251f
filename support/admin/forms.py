"""Forms of the staff pages: the ticket page (status, tags, a reply or note), a new key."""

from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import attachments as checks
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


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Any number of files, as received: support.attachments judges them."""

    widget = MultipleFileInput

    def clean(self, data, initial=None) -> list:
        return [file for file in (data if isinstance(data, list | tuple) else [data]) if file]


class TicketForm(forms.ModelForm):
    """The ticket page's one form: status and tags, and a public reply or internal note.

    One form, so that no way of leaving the page (Save, Save and continue, Send) drops a
    reply someone typed: whichever button is pressed, a typed message is sent with the
    status chosen. Send (`SEND`) insists on a message; Save does without one.
    """

    SEND = "_conversation"  # the name of the Send button
    REPLY = "reply"
    NOTE = "note"
    CONVERSATION = ("kind", "body", "attachments")

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
    attachments = AttachmentsField(
        label=_("Files"),
        required=False,
        help_text=_("Sent with the message (a note's files stay with staff)."),
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not checks.enabled():
            del self.fields["attachments"]

    def clean_attachments(self) -> list[checks.Upload]:
        """The files as checked uploads; each refused one is an error naming it."""
        uploads, refusals = checks.check(self.cleaned_data["attachments"])
        if refusals:
            raise forms.ValidationError([refusal.message for refusal in refusals])
        return uploads

    def clean(self):
        cleaned = super().clean()
        chosen = self.files.getlist("attachments") if self.files else []
        if cleaned.get("attachments") and not cleaned.get("body") and "body" not in self.errors:
            self.add_error("body", gettext("Write a message to go with the files."))
        if chosen and self.errors:
            # A browser sends files once: a form shown again has none chosen.
            names = ", ".join(checks.safe_name(file.name) for file in chosen)
            self.add_error(
                "attachments",
                gettext("Choose the files again (a refused form keeps none): %(names)s.")
                % {"names": names},
            )
        return cleaned

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
