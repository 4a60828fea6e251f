"""The one write path for tickets: every way in (API, form, admin) files through here.

`file_ticket()` validates and normalises a request, resolves the account the caller may
act for, stores the ticket (once, however often the same request is retried) and
returns it. `list_tickets()` pages through an account's tickets, newest first.
"""

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import deliveries, filestore, keys
from .attachments import Upload
from .exceptions import AccountNotAllowed, ApiKeyGone, IdempotencyConflict, TicketInvalid
from .models import ApiKey, Attachment, Message, Ticket
from .normalise import TicketRequest, normalise

__all__ = ["Filed", "TicketRequest", "file_ticket", "list_tickets", "resolve_listed_account"]


@dataclass
class Filed:
    ticket: Ticket
    created: bool  # False when this was a retry of a request already stored


def file_ticket(
    request: TicketRequest,
    *,
    channel: str,
    api_key: ApiKey | None = None,
    attachments: Sequence[Upload | Attachment] = (),
) -> Filed:
    """Store `request` as a ticket, or return the ticket an identical request stored.

    `attachments` are the request's files: checked uploads (support.attachments), stored
    here once the request is found valid, or attachments already stored pending (a form's
    files kept from an earlier try), which become the first message's. Their hashes are
    part of what a retry must repeat. Uploads stored here are removed again if the ticket
    is not stored, or was stored before (a retry).

    Raises TicketInvalid (with messages per field), AccountNotAllowed when `api_key` may
    not act for the account named, IdempotencyConflict when `request.id` names a ticket
    with other content or of another account, ApiKeyGone when `api_key` (a copy from the
    cache) is no longer stored.
    """
    clean = normalise(request)
    account_id = _resolve_account(clean.account_id, api_key)
    if attachments:
        return _file_with_attachments(clean, account_id, channel, api_key, attachments)
    return _file(clean, account_id, channel, api_key)


def _file(clean, account_id, channel, api_key, attachments: Sequence = ()) -> Filed:
    now = timezone.now()
    ticket = Ticket(
        id=clean.id or uuid.uuid4(),
        access_key=secrets.token_urlsafe(18),
        requester_name=clean.name,
        requester_email=clean.email,
        subject=clean.subject,
        description=clean.description(),
        tags=clean.tags,
        account_id=account_id,
        location=clean.location,
        info=clean.info,
        channel=channel,
        api_key=api_key,
        fingerprint=clean.fingerprint(account_id, [a.sha256 for a in attachments]),
        unplanned_deliveries=",".join(deliveries.kinds_for_new_ticket()),
        created_at=now,
        updated_at=now,
    )
    # The ticket and its first message, the request, together or not at all (inside a
    # caller's transaction a savepoint keeps a taken id from breaking it).
    try:
        with transaction.atomic():
            ticket.save(force_insert=True)
            message = Message.objects.create(
                ticket=ticket, kind=Message.Kind.REQUESTER, author_name=clean.name,
                body=clean.body, created_at=now,
            )  # fmt: skip
            filestore.link(attachments, message)
    except IntegrityError:
        # The id is taken: by this very request, retried (perhaps at the same moment,
        # in which case the unique index made us wait for the first one to commit),
        # or by another ticket, which must not be revealed.
        existing = _retried(ticket, api_key)
        if existing is None:
            # Not the id: the key's row, which the cache still held, is gone.
            if api_key is not None and not ApiKey.objects.filter(pk=api_key.pk).exists():
                keys.forget(api_key)
                raise ApiKeyGone(api_key.prefix) from None
            raise
        return Filed(existing, created=False)
    if ticket.unplanned_deliveries:
        # robust: a wake-up that fails (the task broker down) is logged at ERROR, never an
        # error for a ticket already stored; `support_deliveries resume` plans it later.
        transaction.on_commit(deliveries.wake, robust=True)
    return Filed(ticket, created=True)


def _retried(ticket: Ticket, api_key: ApiKey | None) -> Ticket | None:
    """The stored ticket of `ticket`'s id, if `ticket` is a retry of it (None: no ticket
    has the id). Raises IdempotencyConflict for a ticket of other content or account."""
    existing = Ticket.objects.filter(pk=ticket.pk).first()
    if existing is None:
        return None
    if existing.fingerprint != ticket.fingerprint or (
        api_key is not None and not api_key.may_act_for(existing.account_id)
    ):
        raise IdempotencyConflict(str(ticket.pk)) from None
    return existing


def _file_with_attachments(clean, account_id, channel, api_key, attachments) -> Filed:
    """`_file` for a request with files: uploads are stored first (outside the
    transaction: a storage may take its time) and removed again unless the ticket takes
    them; a retry is answered without storing its files again."""
    hashes = [item.sha256 for item in attachments]
    if clean.id is not None:
        probe = Ticket(id=clean.id, fingerprint=clean.fingerprint(account_id, hashes))
        existing = _retried(probe, api_key)
        if existing is not None:
            return Filed(existing, created=False)
    new = filestore.store([item for item in attachments if isinstance(item, Upload)])
    stored = iter(new)
    attachments = [next(stored) if isinstance(item, Upload) else item for item in attachments]
    try:
        filed = _file(clean, account_id, channel, api_key, attachments)
    except BaseException:
        filestore.discard(new)
        raise
    if not filed.created:
        filestore.discard(new)  # a retry that raced this one: its ticket has the files
    return filed


# How many tickets a page of `list_tickets` holds: by default, and at most.
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def list_tickets(
    *, account_id: uuid.UUID, limit: int, starting_after: uuid.UUID | None = None
) -> tuple[list[Ticket], bool]:
    """Return a page of the account's tickets, newest change first, and whether more follow.

    `starting_after` is the last ticket of the previous page; it must be one of this
    account's tickets (else TicketInvalid).
    """
    tickets = Ticket.objects.filter(account_id=account_id).order_by("-updated_at", "-id")
    if starting_after is not None:
        cursor = tickets.filter(pk=starting_after).values_list("updated_at", flat=True).first()
        if cursor is None:
            raise TicketInvalid({"starting_after": [_("No ticket of this account has this id.")]})
        tickets = tickets.filter(
            Q(updated_at__lt=cursor) | Q(updated_at=cursor, id__lt=starting_after)
        )
    page = list(
        tickets.only(
            "id", "access_key", "subject", "description", "status", "created_at", "updated_at"
        )[: limit + 1]
    )
    return page[:limit], len(page) > limit


def resolve_listed_account(requested: uuid.UUID | None, api_key: ApiKey) -> uuid.UUID:
    """The account whose tickets `api_key` asks to list: service keys must name one."""
    if requested is None and api_key.is_service:
        raise TicketInvalid({"account_id": [_("A service key must name the account.")]})
    return _resolve_account(requested, api_key)


def _resolve_account(requested: uuid.UUID | None, api_key: ApiKey | None) -> uuid.UUID | None:
    if api_key is None or api_key.is_service:
        return requested
    if requested is None:
        return api_key.account_id
    if requested != api_key.account_id:
        raise AccountNotAllowed(_("This API key may only act for its own account."))
    return requested
