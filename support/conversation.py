"""The conversation on a ticket, and its status: the one write path for both.

Staff answer (`reply`, `add_note`) from the admin; the requester answers (`reply_as_requester`,
`mark_solved`) from their ticket page; staff change many tickets at once (`set_status`).
Each stores the change, then schedules what it causes (a reply e-mailed to the requester,
staff told of the requester's reply) through the delivery path, after commit.

A message may carry files (`attachments`): checked uploads (support.attachments), stored
before the message's transaction and removed again if the message is not stored, or
attachments stored pending by an earlier try of the same form.
"""

from collections.abc import Sequence
from contextlib import contextmanager

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from . import deliveries, filestore
from .attachments import Upload
from .conf import get_setting
from .exceptions import TicketClosed, TicketInvalid
from .models import Attachment, Delivery, Message, Ticket
from .normalise import message_body

__all__ = [
    "add_note", "mark_solved", "repeats_last_reply", "reply", "reply_as_requester", "set_status",
]  # fmt: skip

# What the requester's reply does to the status: work that was waiting on them resumes.
REOPENED_BY_REQUESTER = {Ticket.Status.PENDING, Ticket.Status.SOLVED}


Files = Sequence[Upload | Attachment]


def reply(
    ticket: Ticket,
    *,
    author: AbstractBaseUser,
    body: str,
    status: str | None = None,
    attachments: Files = (),
):
    """Answer the requester: store the reply, e-mail it to them, and set the ticket's
    status (`pending`, awaiting their reply, unless `status` says otherwise).
    Returns the Message. Raises TicketInvalid for a bad body or status."""
    body = message_body(body)
    status = _checked_status(status or Ticket.Status.PENDING)
    with _files(ticket, attachments) as files, transaction.atomic():
        ticket = _locked(ticket)
        message = _add(ticket, Message.Kind.REPLY, body, author=author, files=files)
        ticket.set_status(status, at=message.created_at)
        deliveries.schedule(ticket, Delivery.Kind.REPLY, message=message)
    return message


def add_note(
    ticket: Ticket,
    *,
    author: AbstractBaseUser,
    body: str,
    status: str | None = None,
    attachments: Files = (),
) -> Message:
    """Add an internal note, which only staff see (its files too); optionally change the
    status too."""
    body = message_body(body)
    with _files(ticket, attachments) as files, transaction.atomic():
        ticket = _locked(ticket)
        message = _add(ticket, Message.Kind.NOTE, body, author=author, files=files)
        if status is not None and status != ticket.status:
            ticket.set_status(_checked_status(status), at=message.created_at)
    return message


def reply_as_requester(ticket: Ticket, *, body: str, attachments: Files = ()) -> Message:
    """Add the requester's reply: a ticket that waited on them (pending) or was solved is
    open again, and staff are told. Raises TicketClosed, TicketInvalid."""
    body = message_body(body)
    if ticket.is_closed:  # before storing any file; checked again under the lock
        raise TicketClosed(_("This request is closed. Please send a new one."))
    with _files(ticket, attachments) as files, transaction.atomic():
        ticket = _locked(ticket)
        if ticket.is_closed:
            raise TicketClosed(_("This request is closed. Please send a new one."))
        if last := _repeated(ticket, body, files):
            files.clear()  # stored already, with the reply sent before
            return last  # the same reply sent twice (a double click, a reload)
        message = _add(ticket, Message.Kind.REQUESTER, body, name=ticket.requester_name,
                       files=files)  # fmt: skip
        status = Ticket.Status.OPEN if ticket.status in REOPENED_BY_REQUESTER else ticket.status
        ticket.set_status(status, at=message.created_at)
        if get_setting("STAFF_EMAILS"):
            deliveries.schedule(ticket, Delivery.Kind.REQUESTER_REPLY, message=message)
    return message


def repeats_last_reply(ticket: Ticket, body: str, attachments: Files = ()) -> bool:
    """Whether `body` (with files of these contents) is the requester's latest message on
    `ticket`, which `reply_as_requester` would return rather than store again. Raises
    TicketInvalid."""
    return _repeated(ticket, message_body(body), attachments) is not None


def _repeated(ticket: Ticket, body: str, files: Files = ()) -> Message | None:
    last = ticket.messages.order_by("-created_at", "-id").first()
    if last and last.kind == Message.Kind.REQUESTER and last.body == body:
        sent = list(last.attachments.values_list("sha256", flat=True)) if files else []
        if sent == [item.sha256 for item in files]:
            return last
    return None


@contextmanager
def _files(ticket: Ticket, attachments: Files):
    """The message's files as attachments: uploads stored (pending) for the block, which
    links them; those stored here are removed if the block fails, or drops them (by
    clearing the list it is given)."""
    uploads = [item for item in attachments if isinstance(item, Upload)]
    new = filestore.store(uploads, ticket=ticket) if uploads else []
    stored = iter(new)
    files = [next(stored) if isinstance(item, Upload) else item for item in attachments]
    try:
        yield files
    except BaseException:
        filestore.discard(new)
        raise
    if not files:
        filestore.discard(new)


def mark_solved(ticket: Ticket) -> None:
    """The requester says the problem is solved. Raises TicketClosed for a closed ticket."""
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.is_closed:
            raise TicketClosed(_("This request is closed."))
        if ticket.status != Ticket.Status.SOLVED:
            ticket.set_status(Ticket.Status.SOLVED)


def set_status(tickets: QuerySet[Ticket], status: str) -> int:
    """Give every ticket in `tickets` this status; returns how many changed."""
    return (
        tickets.exclude(status=_checked_status(status))
        .order_by()
        .update(status=status, updated_at=timezone.now())
    )


def _locked(ticket: Ticket) -> Ticket:
    """The ticket's row, locked until commit, so that concurrent changes apply in turn."""
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _add(ticket: Ticket, kind: str, body: str, *, author=None, name: str = "",
         files: Files = ()) -> Message:  # fmt: skip
    if author is not None:
        name = (getattr(author, "get_full_name", lambda: "")() or author.get_username()).strip()
    message = Message.objects.create(ticket=ticket, kind=kind, author=author, author_name=name,
                                     body=body)  # fmt: skip
    filestore.link(files, message)
    return message


def _checked_status(status: str) -> str:
    if status not in Ticket.Status.values:
        raise TicketInvalid({"status": [_("Choose a valid status.")]})
    return status
