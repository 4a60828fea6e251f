"""The requester's private page for one ticket: whoever holds the link may read and answer."""

import secrets

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import clients, conversation, links, ratelimit
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
    status, retry_after = 200, None
    if form.is_valid():
        try:
            _reply(request, ticket, form.cleaned_data["body"])
        except TicketInvalid as err:
            form.add_domain_errors(err)
        except TicketClosed as err:
            form.add_error(None, str(err))
        except ratelimit.RateLimited as limited:
            # The reply stays in the box (the form is bound), to be sent again later.
            form.add_error(None, _too_many_replies(limited))
            status, retry_after = 429, limited.retry_after
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
        status=status,
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _reply(request: HttpRequest, ticket: Ticket, body: str) -> None:
    """Store the requester's reply, counted per ticket (REPLY_RATE) and per client
    (REPLY_CLIENT_RATE): only replies stored count, not those refused or sent twice."""
    if conversation.repeats_last_reply(ticket, body):
        return  # a double click or a reload: stored already, and not counted again
    limits = [("REPLY_RATE", ticket.pk), ("REPLY_CLIENT_RATE", clients.client_key(request))]
    with ratelimit.counting(*limits):
        conversation.reply_as_requester(ticket, body=body)


def _too_many_replies(limited: ratelimit.RateLimited) -> str:
    return ngettext(
        "Many replies were sent in a short time. Please wait %(minutes)d minute, then send "
        "this one again: it is kept below.",
        "Many replies were sent in a short time. Please wait %(minutes)d minutes, then send "
        "this one again: it is kept below.",
        limited.minutes,
    ) % {"minutes": limited.minutes}


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
