"""Put the help form on any page of the project: {% load support %} then
{% support_form %} (the form itself) or {% support_button %} (a link to the form's page).
Both record the page they are on as the ticket's `location`."""

from urllib.parse import urlencode

from django import template
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from .. import guards, requester
from ..forms import TicketForm, files_context

register = template.Library()


@register.inclusion_tag("support/includes/ticket_form.html", takes_context=True)
def support_form(context) -> dict:
    """The help form, posting to the desk's form page (which shows any errors)."""
    request = _request(context)
    form = TicketForm(
        identity=requester.form_user(request),
        initial={"token": guards.issue_token(), "location": request.get_full_path()},
    )
    return {
        "form": form,
        "action": reverse("support:new"),
        "preview": None,
        "files": files_context(),
    }


@register.simple_tag(takes_context=True)
def support_button(context, label: str = "") -> SafeString:
    """A link to the form's page, styled as a button."""
    query = urlencode({"location": _request(context).get_full_path()})
    return format_html(
        '<a class="support-button" href="{}?{}">{}</a>',
        reverse("support:new"),
        query,
        label or _("Contact support"),
    )


def _request(context):
    request = context.get("request")
    if request is None:
        raise ImproperlyConfigured(
            "The support template tags need the request: add "
            "'django.template.context_processors.request' to your template context processors."
        )
    return request
