"""Forms of the staff pages: the ticket's status and tags, a reply or note, a new key."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..exceptions import TicketInvalid
from ..models import ApiKey, Ticket
from ..normalise import clean_tags
from ..text import is_blank


class TagsField(forms.CharField):
    """Tags as one line of text, comma-separated; stored as the API stores them."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        try:
            # Nothing between two commas (or only what shows as nothing) is no tag.
            return clean_tags([tag for tag in text.split(",") if not is_blank(tag)])
        except TicketInvalid as err:
            raise forms.ValidationError(err.errors["tags"]) from None


class TicketForm(forms.ModelForm):
    """What staff edit on the ticket page: status and tags."""

    tags = TagsField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))

    class Meta:
        model = Ticket
        fields = ["status", "tags"]


class ConversationForm(forms.Form):
    """A public reply to the requester, or an internal note for staff."""

    REPLY = "reply"
    NOTE = "note"

    kind = forms.ChoiceField(
        label=_("Send as"),
        choices=[
            (REPLY, _("Public reply (e-mailed to the requester)")),
            (NOTE, _("Internal note (staff only)")),
        ],
        initial=REPLY,
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=_("Markdown or HTML."),
    )
    status = forms.ChoiceField(
        label=_("Then set the status to"),
        required=False,
        choices=[("", _("Default")), *Ticket.Status.choices],
        help_text=_(
            "Default: pending (awaiting the requester's reply) after a public reply; "
            "unchanged after a note."
        ),
    )


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
