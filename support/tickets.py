"""The one write path for tickets: every way in (API, form, admin) files through here.

`file_ticket()` validates and normalises a request, resolves the account the caller may
act for, stores the ticket (once, however often the same request is retried) and
returns it. `list_tickets()` pages through an account's tickets, newest first.
"""

import hashlib
import json
import secrets
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.encoding import iri_to_uri
from django.utils.translation import gettext as _

from .conf import site_url
from .exceptions import AccountNotAllowed, IdempotencyConflict, TicketInvalid
from .models import ApiKey, Ticket

MAX_SUBJECT = 255
MAX_NAME = 255
MAX_TAG = 64
MAX_TAGS = 50
MAX_LOCATION = 2048
MAX_DEPTH = 32


@dataclass
class TicketRequest:
    """What a requester asks for, as any entry point received it (not yet normalised)."""

    email_address: str
    subject: str
    body: str
    username: str | None = None
    id: uuid.UUID | None = None
    tags: list[str] | None = None
    account_id: uuid.UUID | None = None
    location: str | None = None
    info: dict[str, Any] | None = None


@dataclass
class Filed:
    ticket: Ticket
    created: bool  # False when this was a retry of a request already stored


@dataclass
class _Clean:
    name: str
    email: str
    subject: str
    body: str
    tags: list[str]
    location: str
    info: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)


def file_ticket(request: TicketRequest, *, channel: str, api_key: ApiKey | None = None) -> Filed:
    """Store `request` as a ticket, or return the ticket an identical request stored.

    Raises TicketInvalid (with messages per field), AccountNotAllowed when `api_key` may
    not act for the account named, IdempotencyConflict when `request.id` names a ticket
    with other content or of another account.
    """
    clean = _normalise(request)
    account_id = _resolve_account(request.account_id, api_key)
    location_url = site_url() + iri_to_uri(clean.location) if clean.location else ""
    course = _course_id(clean.info)
    description = clean.body
    if location_url:
        description += f"\n\n{location_url}"
    if course:
        description += f"\n\nCourse: {site_url()}/projects/{course}"
    now = timezone.now()
    ticket = Ticket(
        id=request.id or uuid.uuid4(),
        access_key=secrets.token_urlsafe(18),
        requester_name=clean.name,
        requester_email=clean.email,
        subject=clean.subject,
        body=clean.body,
        description=description,
        tags=clean.tags,
        account_id=account_id,
        location=clean.location,
        info=clean.info,
        channel=channel,
        api_key=api_key,
        fingerprint=_fingerprint(clean, account_id),
        created_at=now,
        updated_at=now,
    )
    # Inside a caller's transaction the insert needs a savepoint, so that a taken id does
    # not break that transaction; in autocommit the insert is a transaction of its own.
    guard = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with guard:
            ticket.save(force_insert=True)
    except IntegrityError:
        # The id is taken: by this very request, retried (perhaps at the same moment,
        # in which case the unique index made us wait for the first one to commit),
        # or by another ticket, which must not be revealed.
        existing = Ticket.objects.filter(pk=ticket.pk).first()
        if existing is None:
            raise
        if existing.fingerprint != ticket.fingerprint or (
            api_key is not None and not api_key.may_act_for(existing.account_id)
        ):
            raise IdempotencyConflict(str(ticket.pk)) from None
        return Filed(existing, created=False)
    return Filed(ticket, created=True)


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


def _normalise(request: TicketRequest) -> _Clean:
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in ("email_address", "subject", "body", "username", "location", "tags", "info"):
        problem = _storage_problem(getattr(request, name))
        if problem:
            fail(name, problem)
    if errors:
        raise TicketInvalid(errors)

    email = (request.email_address or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        fail("email_address", _("Enter a valid e-mail address."))
    else:
        email = BaseUserManager.normalize_email(email)

    subject = " ".join((request.subject or "").split())
    if not subject:
        fail("subject", _("This field may not be blank."))
    elif len(subject) > MAX_SUBJECT:
        fail("subject", _("Keep the subject under %d characters.") % MAX_SUBJECT)

    body = request.body or ""
    if not body.strip():
        fail("body", _("This field may not be blank."))

    name = (request.username or "").strip() or email
    if len(name) > MAX_NAME:
        fail("username", _("Keep the name under %d characters.") % MAX_NAME)

    tags: set[str] = set()
    for tag in request.tags or []:
        tag = str(tag).strip().lower()
        if not tag:
            fail("tags", _("A tag may not be blank."))
        elif len(tag) > MAX_TAG:
            fail("tags", _("Keep each tag under %d characters.") % MAX_TAG)
        tags.add(tag)
    if len(tags) > MAX_TAGS:
        fail("tags", _("At most %d tags.") % MAX_TAGS)

    info = request.info if request.info is not None else {}
    if not isinstance(info, dict):
        fail("info", _("Send info as a JSON object."))

    try:
        location = _normalise_location(request.location or "")
    except ValueError as err:
        fail("location", str(err))
        location = ""

    if errors:
        raise TicketInvalid(errors)
    return _Clean(name, email, subject, body, sorted(tags), location, info)


def _normalise_location(value: str) -> str:
    """A path on the site. A full URL on the site's own host is reduced to its path."""
    value = value.strip()
    if not value:
        return ""
    if len(value) > MAX_LOCATION:
        raise ValueError(_("Keep the location under %d characters.") % MAX_LOCATION)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(_("The location may not contain control characters."))
    site = urlsplit(site_url())
    not_on_site = _("The location must be a path on %(site)s, such as /projects/….") % {
        "site": site.netloc
    }
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValueError(not_on_site) from None
    if parts.scheme or parts.netloc:
        if parts.scheme.lower() not in ("http", "https") or (
            parts.netloc.lower() != site.netloc.lower()
        ):
            raise ValueError(not_on_site)
        value = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        raise ValueError(not_on_site)
    return value


def _course_id(info: dict[str, Any]) -> uuid.UUID | None:
    course = info.get("course")
    if not isinstance(course, str):
        return None
    try:
        return uuid.UUID(course)
    except ValueError:
        return None


def _fingerprint(clean: _Clean, account_id: uuid.UUID | None) -> str:
    content = [
        clean.name,
        clean.email,
        clean.subject,
        clean.body,
        clean.tags,
        str(account_id or ""),
        clean.location,
        clean.info,
    ]
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _storage_problem(value: Any, depth: int = 0) -> str | None:
    """Why `value` cannot be stored by every database, or None: a NUL character or a lone
    surrogate (JSON allows it as an escape, UTF-8 cannot encode it), or absurd nesting."""
    if depth > MAX_DEPTH:
        return _("Nested more than %d levels deep.") % MAX_DEPTH
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return _("Contains text that is not valid Unicode.")
        if "\x00" in value:
            return _("Contains a NUL character.")
        return None
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list | tuple):
        for item in value:
            problem = _storage_problem(item, depth + 1)
            if problem:
                return problem
    return None
