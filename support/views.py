import secrets

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .models import Ticket
from .rendering import render_text


@never_cache
def ticket_detail(request: HttpRequest, pk, key: str) -> HttpResponse:
    """The requester's private page for one ticket: whoever holds the link may read it."""
    ticket = Ticket.objects.filter(pk=pk).first()
    if ticket is None or not secrets.compare_digest(ticket.access_key, key):
        raise Http404
    response = render(
        request,
        "support/ticket_detail.html",
        {"ticket": ticket, "description_html": render_text(ticket.description)},
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
