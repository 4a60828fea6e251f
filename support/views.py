"""The requester's pages, which need no account: the help form (on the desk's own page and
inside the widget's iframe) and what follows it, and the private page of each ticket,
where whoever holds its link reads and answers it.

Each view translates HTTP into one call of the write path (support.tickets.file_ticket,
support.conversation), as the API does.
"""

import secrets

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import clients, conversation, guards, links, ratelimit, requester
from .bodies import reads_body
from .conf import get_setting, public_url
from .exceptions import IdempotencyConflict, TicketClosed, TicketInvalid
from .forms import ReplyForm, TicketForm, file_refusals, files_context, take_files
from .framing import frameable
from .models import Attachment, Message, Ticket
from .normalise import TicketRequest
from .rendering import render_text
from .tickets import file_ticket

# --- the help form


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@reads_body(files=True)
def new_ticket(request: HttpRequest) -> HttpResponse:
    """The help form as a page of the desk (and where the template tag's form posts)."""
    return _ticket_form(request, embed=False)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@reads_body(framed=frameable, files=True)  # outside frameable, which sets the CSRF cookie last
@frameable
def embedded_ticket(request: HttpRequest) -> HttpResponse:
    """The help form without the site's chrome, for the widget's iframe."""
    return _ticket_form(request, embed=True)


@csrf_exempt  # it shows a form and changes nothing; sending the form is CSRF-checked
@never_cache
@require_POST
@frameable
def embedded_ticket_open(request: HttpRequest) -> HttpResponse:
    """The help form in the widget's iframe, opened by the widget's POST (a form targeting
    the iframe), so that what it carries (the signed identity, the page's address) travels
    in a request body, which servers and proxies do not log, never in a URL."""
    return _ticket_form(request, embed=True, opening=True)


@never_cache
def ticket_filed(request: HttpRequest, pk, key: str) -> HttpResponse:
    return _filed(request, pk, key, embed=False)


@never_cache
@frameable
def embedded_ticket_filed(request: HttpRequest, pk, key: str) -> HttpResponse:
    return _filed(request, pk, key, embed=True)


def _ticket_form(request: HttpRequest, *, embed: bool, opening: bool = False) -> HttpResponse:
    # Who is asking: logged in here, or vouched for by the platform showing the widget
    # (a signed token the widget POSTs to open the form and the page carries along in its
    # body, checked again when the form is sent; never read from a URL, which gets logged).
    if opening:
        signed, context = request.POST.get("identity", ""), request.POST
    elif request.method == "POST":
        signed, context = request.POST.get("signed_identity", ""), request.POST
    else:
        signed, context = "", request.GET
    identity = requester.form_user(request) or requester.signed_identity(signed)
    preview = None
    status = 200
    retry_after = None
    files, refusals = [], []
    if request.method == "POST" and not opening:
        # Kept whatever else the form lacks, unless a guard would refuse the form anyway.
        files, refusals = take_files(request, store=guards.looks_genuine(request.POST))
    if request.method == "GET" or opening:
        form = TicketForm(
            identity=identity,
            initial={
                "signed_identity": signed if identity else "",
                "token": guards.issue_token(),
                "location": context.get("location", ""),
                "language": context.get("language", ""),
                "screen": context.get("screen", ""),
            },
        )
    elif "preview" in request.POST:
        # Shown again as sent, with the message rendered as the ticket page will; not
        # checked yet, so that an unfinished form shows no errors.
        form = TicketForm(identity=identity, initial=request.POST.dict())
        preview = render_text(request.POST.get("body", ""), cache=False)
    else:
        form = TicketForm(request.POST, identity=identity)
        if form.is_valid() and not refusals:
            try:
                ticket = _file(request, form, files)
            except guards.FormRejected as err:
                form.add_error(None, err.message)
                if err.renew:
                    form.renew_token(guards.issue_token())
                status = err.status
                retry_after = err.retry_after
            except TicketInvalid as err:
                # Problems with what the page sent unseen (location, info) are the form's.
                refusals += file_refusals(err)
                form.add_domain_errors(err, shown=[field.name for field in form.visible()])
            else:
                name = "support:embedded_filed" if embed else "support:filed"
                return redirect(name, pk=ticket.pk, key=ticket.access_key)
    response = render(
        request,
        "support/new_ticket.html",
        {
            "form": form,
            "preview": preview,
            "embed": embed,
            "action": reverse("support:embedded_new" if embed else "support:new"),
            "files": files_context(files, refusals),
        },
        status=status,
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _file(request: HttpRequest, form: TicketForm, files: list[Attachment]) -> Ticket:
    """File the form's ticket (with `files`, stored pending) once, whatever a double
    click or a replay sends."""
    data = form.cleaned_data
    guards.check_honeypot(data["website"])
    token = guards.check_token(data["token"])
    identity = form.identity or {
        "email": data["email_address"],
        "name": data["username"],
        "account_id": None,
    }
    account_id = identity.get("account_id")
    ticket_request = TicketRequest(
        email_address=identity["email"],
        username=identity.get("name") or "",
        account_id=str(account_id) if account_id else None,
        subject=data["subject"],
        body=data["body"],
        id=str(token.ticket_id),
        tags=list(get_setting("FORM_TAGS")),
        location=data["location"],
        info=requester.client_info(
            request.headers.get("User-Agent", ""),
            language=data["language"],
            screen=data["screen"],
        ),
    )
    limits = [("FORM_RATE", clients.client_key(request, form.identity))]
    if guards.was_used(token):
        # Sent before: the same ticket again (a double click, or the page reloaded after
        # sending), unless it was changed or deleted since. Not counted again.
        if not Ticket.objects.filter(pk=token.ticket_id).exists():
            raise guards.replayed()
        limits = []
    try:
        # Counts tickets filed: a form refused for what it holds is taken back.
        with ratelimit.counting(*limits) as counted:
            filed = file_ticket(ticket_request, channel=Ticket.Channel.FORM, attachments=files)
            if not filed.created:
                counted.refund()
    except ratelimit.RateLimited as limited:
        raise guards.too_many(limited) from None
    except IdempotencyConflict:
        raise guards.replayed() from None
    guards.mark_used(token)
    return filed.ticket


def _filed(request: HttpRequest, pk, key: str, *, embed: bool) -> HttpResponse:
    ticket = ticket_from_link(pk, key)
    response = render(
        request,
        "support/ticket_filed.html",
        {
            "ticket": ticket,
            "ticket_url": public_url(ticket.requester_path(), request),
            "confirm": get_setting("CONFIRM_TO_REQUESTER"),
            "embed": embed,
        },
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- the ticket's page


def ticket_from_link(pk, key: str) -> Ticket:
    """The ticket a private link (its id and secret) opens; 404 for any other."""
    ticket = Ticket.objects.filter(pk=pk).first()
    if ticket is None or not secrets.compare_digest(ticket.access_key, key):
        raise Http404
    return ticket


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@reads_body(files=True)
def ticket_detail(request: HttpRequest, pk, key: str) -> HttpResponse:
    """The ticket, its conversation, and a box to reply (POST), with files."""
    ticket = ticket_from_link(pk, key)
    form = ReplyForm(request.POST if request.method == "POST" else None)
    files, refusals = [], []
    if request.method == "POST" and not ticket.is_closed:
        files, refusals = take_files(request, ticket=ticket)
    status, retry_after = 200, None
    if form.is_valid() and not refusals:
        try:
            _reply(request, ticket, form.cleaned_data["body"], files)
        except TicketInvalid as err:
            refusals += file_refusals(err)
            form.add_domain_errors(err, shown=["body"])
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
    # After the request (the first message, shown with the desk's links); notes are staff's.
    messages_ = list(
        ticket.messages.exclude(kind=Message.Kind.NOTE).prefetch_related("attachments")
    )
    thread = [{"message": message, "html": render_text(message.body)} for message in messages_[1:]]
    response = render(
        request,
        "support/ticket_detail.html",
        {
            "ticket": ticket,
            "description_html": links.description_html(ticket),
            "request_files": list(messages_[0].attachments.all()) if messages_ else [],
            "thread": thread,
            "form": form,
            "files": files_context(files, refusals),
            "can_solve": ticket.status not in (Ticket.Status.SOLVED, Ticket.Status.CLOSED),
        },
        status=status,
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _reply(request: HttpRequest, ticket: Ticket, body: str, files: list[Attachment]) -> None:
    """Store the requester's reply (with `files`, stored pending), counted per ticket
    (REPLY_RATE) and per client (REPLY_CLIENT_RATE): only replies stored count, not those
    refused or sent twice."""
    if conversation.repeats_last_reply(ticket, body, files):
        return  # a double click or a reload: stored already, and not counted again
    limits = [("REPLY_RATE", ticket.pk), ("REPLY_CLIENT_RATE", clients.client_key(request))]
    with ratelimit.counting(*limits):
        conversation.reply_as_requester(ticket, body=body, attachments=files)


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
