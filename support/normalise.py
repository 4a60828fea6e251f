"""From what a requester sent to what a ticket stores, or exactly what is wrong with it.

Every entry point (API, form) hands in a `TicketRequest` of raw values; `normalise()`
checks types and rules and returns a `CleanTicket`, or raises TicketInvalid with messages
per field. Keeping this in one place keeps the API and the form in agreement.
"""

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from . import links, rendering
from .conf import site_url
from .exceptions import TicketInvalid
from .storable import storage_problem
from .text import is_blank

MAX_SUBJECT = 255
MAX_NAME = 255
MAX_EMAIL = 254
MAX_TAG = 64
MAX_TAGS = 50
MAX_LOCATION = 2048
MAX_MESSAGE = 100_000


@dataclass
class TicketRequest:
    """What a requester sent, as received: any value may be missing (None) or of a wrong type."""

    email_address: Any = None
    subject: Any = None
    body: Any = None
    username: Any = None
    id: Any = None
    tags: Any = None
    account_id: Any = None
    location: Any = None
    info: Any = None

    @classmethod
    def field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))


@dataclass(frozen=True)
class CleanTicket:
    """A request that passed every rule, normalised."""

    id: uuid.UUID | None
    account_id: uuid.UUID | None
    name: str
    email: str
    subject: str
    body: str
    tags: list[str]
    location: str
    info: dict[str, Any]

    def description(self) -> str:
        """The body, then the location's URL, then the course's URL (support.links)."""
        return links.description(self.body, self.location, self.info)

    def fingerprint(self, account_id: uuid.UUID | None, files: Sequence[str] = ()) -> str:
        """A hash of the content, to tell a retried request from a different one; `files`
        are the SHA-256 of its attachments, in order (none: the hash of a request
        without files, as it always was)."""
        content = [
            self.name, self.email, self.subject, self.body, self.tags,
            str(account_id or ""), self.location, self.info,
        ]  # fmt: skip
        if files:
            content.append(list(files))
        encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(encoded.encode()).hexdigest()


def normalise(request: TicketRequest) -> CleanTicket:
    """Check and normalise `request`. Raises TicketInvalid listing every problem found."""
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    def text(name: str, *, required: bool = False) -> str:
        value = getattr(request, name)
        if value is None:
            if required:
                fail(name, _("This field is required."))
            return ""
        if not isinstance(value, str):
            fail(name, _("Send text."))
            return ""
        problem = storage_problem(value)
        if problem:
            fail(name, problem)
            return ""
        if is_blank(value):
            if required:
                fail(name, _("This field may not be blank."))
            return ""
        return value

    def uuid_or_none(name: str) -> uuid.UUID | None:
        value = getattr(request, name)
        if value is None or isinstance(value, uuid.UUID):
            return value
        try:
            return uuid.UUID(value)
        except (TypeError, ValueError, AttributeError):
            fail(name, _("Must be a valid UUID."))
            return None

    email = text("email_address", required=True).strip()
    if email:
        try:
            if len(email) > MAX_EMAIL:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            fail("email_address", _("Enter a valid e-mail address."))
        else:
            email = BaseUserManager.normalize_email(email)

    subject = " ".join(text("subject", required=True).split())
    if len(subject) > MAX_SUBJECT:
        fail("subject", _("Keep the subject under %d characters.") % MAX_SUBJECT)

    body = text("body", required=True)
    if body and rendering.shows_nothing(body):
        fail("body", _("This field may not be blank."))

    name = text("username").strip() or email  # blank: the e-mail address
    if len(name) > MAX_NAME:
        fail("username", _("Keep the name under %d characters.") % MAX_NAME)

    tags = _tags(request.tags, lambda message: fail("tags", message))

    info = request.info if request.info is not None else {}
    if not isinstance(info, dict):
        fail("info", _("Send info as a JSON object."))
        info = {}
    elif problem := storage_problem(info):
        fail("info", problem)

    try:
        location = _location(text("location"))
    except ValueError as err:
        fail("location", str(err))
        location = ""

    ticket_id = uuid_or_none("id")
    account_id = uuid_or_none("account_id")
    if errors:
        raise TicketInvalid(errors)
    return CleanTicket(ticket_id, account_id, name, email, subject, body, tags, location, info)


def identity(email: Any, name: Any, account_id: Any) -> tuple[str, str, uuid.UUID | None]:
    """Who files a ticket when someone vouches for them (a logged-in user, the platform's
    signed token), checked by the rules `normalise()` applies to a request's e-mail
    address, name and account: (the e-mail address normalised, the name or else the
    e-mail address, the account id or None). Raises TicketInvalid naming the fields at
    fault (`email_address`, `username`, `account_id`)."""
    # A request of these three and a subject and body that pass, so that the rules are
    # normalise()'s own, not a copy.
    clean = normalise(
        TicketRequest(
            email_address=email, username=name, account_id=account_id, subject="x", body="x"
        )
    )
    return clean.email, clean.name, clean.account_id


def message_body(value: Any) -> str:
    """Check the body of a message added to a conversation (Markdown or HTML). Raises
    TicketInvalid({"body": [...]}) when it is missing, too long, not storable, or blank
    as shown (support.rendering.shows_nothing: `&nbsp;`, `<p></p>`, `[](#)`...)."""
    if not isinstance(value, str):
        problem = _("Write a message.")
    else:
        problem = storage_problem(value)
        if problem is None and is_blank(value):
            problem = _("Write a message.")
        elif problem is None and len(value) > MAX_MESSAGE:
            problem = _("Keep the message under %d characters.") % MAX_MESSAGE
        elif problem is None and rendering.shows_nothing(value):
            problem = _("Write a message.")
    if problem:
        raise TicketInvalid({"body": [problem]})
    return value


def clean_tags(value: Any) -> list[str]:
    """Tags as every ticket stores them (lower case, unique, sorted), for staff's edits.

    Raises TicketInvalid({"tags": [...]}) for tags a requester could not have sent either.
    """
    errors: list[str] = []
    tags = _tags(value, errors.append)
    if errors:
        raise TicketInvalid({"tags": errors})
    return tags


def _tags(value: Any, fail) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        fail(_("Send tags as a list of strings."))
        return []
    tags = set()
    for tag in value:
        tag = tag.strip().lower()
        if storage_problem(tag) is None and is_blank(tag):
            fail(_("A tag may not be blank."))
        elif len(tag) > MAX_TAG or storage_problem(tag):
            fail(_("Keep each tag under %d characters of text.") % MAX_TAG)
        tags.add(tag)
    if len(tags) > MAX_TAGS:
        fail(_("At most %d tags.") % MAX_TAGS)
    return sorted(tags)


def _location(value: str) -> str:
    """A path on the site. A full URL on the site's own host is reduced to its path."""
    value = value.strip()
    if not value:
        return ""
    if len(value) > MAX_LOCATION:
        raise ValueError(_("Keep the location under %d characters.") % MAX_LOCATION)
    if not value.isprintable():
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
