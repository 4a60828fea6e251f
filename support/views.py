"""The requester's private page for one ticket: whoever holds the link may read and answer."""

import secrets

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import conversation, links
from .bodies import reads_body
from .exceptions import TicketClosed, TicketInvalid
from .forms import ReplyForm
from .models import Message, Ticket
from .rendering import render_text


def ticket_from_link(pk, key: str) -> Ticket:
    """The ticket a private link (its id and secret) opens; 404 for any other."""
    ticket = Ticket.objects.filter(pk=pk).first()
    if ticket is None or not secrets.compare_digest(ticket.access_key, key):
        raise Http404
    return ticket


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@reads_body
def ticket_detail(request: HttpRequest, pk, key: str) -> HttpResponse:
    """The ticket, its conversation, and a box to reply (POST)."""
    ticket = ticket_from_link(pk, key)
    form = ReplyForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            conversation.reply_as_requester(ticket, body=form.cleaned_data["body"])
        except TicketInvalid as err:
            form.add_domain_errors(err)
        except TicketClosed as err:
            form.add_error(None, str(err))
        else:
            messages.success(request, _("Your reply was sent to support."), fail_silently=True)
            return redirect(ticket.requester_path() + "#latest")
        ticket.refresh_from_db()
    thread = [
        {"message": message, "html": render_text(message.body)}
        for message in ticket.messages.exclude(kind=Message.Kind.NOTE)
    ]
    response = render(
        request,
        "support/ticket_detail.html",
        {
            "ticket": ticket,
            "description_html": links.description_html(ticket),
            "thread": thread,
            "form": form,
            "can_solve": ticket.status not in (Ticket.Status.SOLVED, Ticket.Status.CLOSED),
        },
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_POST
@reads_body
def ticket_solved(request: HttpRequest, pk, key: str) -> HttpResponse:
    """The requester's "this is solved" button."""
    ticket = ticket_from_link(pk, key)
    try:
        conversation.mark_solved(ticket)
    except TicketClosed as err:
        messages.error(request, str(err), fail_silently=True)
    else:
        messages.success(
            request, _("Thank you! The request is marked as solved."), fail_silently=True
        )
    return redirect(ticket.requester_path())
