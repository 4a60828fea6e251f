"""Forms of the requester's pages. They only collect input: rules live in the domain
(support.normalise), whose errors the views put back on the fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .exceptions import TicketInvalid


class ReplyForm(forms.Form):
    """The requester's answer on their ticket page."""

    body = forms.CharField(
        label=_("Your reply"),
        widget=forms.Textarea(attrs={"rows": 6}),
        strip=False,
        help_text=_("Markdown works: **bold**, `code`, lists and links."),
        error_messages={"required": _("Write a message.")},
    )

    def add_domain_errors(self, error: TicketInvalid) -> None:
        """Show the domain's messages on the fields they concern."""
        for field, messages in error.errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
