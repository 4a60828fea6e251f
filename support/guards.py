"""The help form's defences against spam and abuse, none needing a third-party service.

- A honeypot: a field people never see (bots fill every field).
- A signed token, made when the form is shown: it carries the new ticket's id (so a
  double-clicked form files one ticket) and the time, so that a form sent faster than a
  person writes, or long after it was shown, is refused; a token that filed a ticket is
  remembered in the cache until it expires, so it cannot be replayed.
- A throttle: at most SUPPORT["FORM_RATE"] tickets per client (support.ratelimit), counting
  tickets filed, not forms refused.

Each refusal is a `FormRejected` whose message tells a real person what to do.
"""

import math
import time
import uuid
from dataclasses import dataclass

from django.core import signing
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import cache
from .conf import get_setting
from .ratelimit import RateLimited

SALT = "support.form"
# Tests move this clock; everything here reads the time through it.
clock = time.time


class FormRejected(Exception):
    """A guard refused the form. `renew` says the form needs a new token to be sent again;
    `status` is the HTTP status to answer with, `retry_after` the seconds to wait if any."""

    def __init__(self, message: str, *, renew: bool = False, status: int = 400, retry_after=None):
        super().__init__(message)
        self.message = message
        self.renew = renew
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Token:
    ticket_id: uuid.UUID
    issued_at: float


def issue_token() -> str:
    """A new token for a form being shown."""
    return signing.dumps({"id": str(uuid.uuid4()), "t": round(clock(), 3)}, salt=SALT)


def check_honeypot(value: str) -> None:
    if value:
        raise FormRejected(
            _(
                "This looks like an automated request: the field “Leave this field empty” "
                "was filled in. If you are a person, empty it and send the form again."
            )
        )


def check_token(value: str) -> Token:
    """The token's content, if it is genuine and its age is that of a form a person wrote."""
    try:
        data = signing.loads(value, salt=SALT)
        token = Token(uuid.UUID(data["id"]), float(data["t"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise FormRejected(
            _(
                "This form could not be checked (it may come from an old page). What you "
                "wrote is kept: please send it again."
            ),
            renew=True,
        ) from None
    age = clock() - token.issued_at
    minimum = get_setting("FORM_MIN_SECONDS")
    if age < minimum:
        seconds = math.ceil(minimum)
        raise FormRejected(
            ngettext(
                "The form was sent less than %(seconds)d second after it was opened, faster "
                "than a person writes. Please check your message and send it again.",
                "The form was sent less than %(seconds)d seconds after it was opened, faster "
                "than a person writes. Please check your message and send it again.",
                seconds,
            )
            % {"seconds": seconds}
        )
    maximum = get_setting("FORM_MAX_AGE_SECONDS")
    if age > maximum:
        hours = max(1, round(maximum / 3600))
        raise FormRejected(
            ngettext(
                "This form was opened more than %(hours)d hour ago. What you wrote is kept: "
                "please send it again.",
                "This form was opened more than %(hours)d hours ago. What you wrote is kept: "
                "please send it again.",
                hours,
            )
            % {"hours": hours},
            renew=True,
        )
    return token


def looks_genuine(data) -> bool:
    """Whether a form's POST `data` passes the honeypot and the token (so that its files
    are worth keeping for the next try, whatever else it lacks)."""
    try:
        check_honeypot(data.get("website", ""))
        check_token(data.get("token", ""))
    except FormRejected:
        return False
    return True


def was_used(token: Token) -> bool:
    """Whether `token` filed a ticket already (False if the cache cannot say: the ticket's
    id, which the token carries, still files it once)."""
    return cache.get(_used_key(token)) is not None


def mark_used(token: Token) -> None:
    """Remember that `token` filed its ticket, until it would have expired anyway."""
    remaining = token.issued_at + get_setting("FORM_MAX_AGE_SECONDS") - clock()
    cache.set(_used_key(token), 1, max(1, math.ceil(remaining)) + 60)


def replayed() -> FormRejected:
    return FormRejected(
        _(
            "This form was already sent. What you wrote is kept: send it again to open "
            "another request."
        ),
        renew=True,
    )


def too_many(limited: RateLimited) -> FormRejected:
    """The refusal of a ticket over SUPPORT["FORM_RATE"]."""
    return FormRejected(
        ngettext(
            "Too many requests were sent from your network. Please try again in "
            "%(minutes)d minute; what you wrote is kept.",
            "Too many requests were sent from your network. Please try again in "
            "%(minutes)d minutes; what you wrote is kept.",
            limited.minutes,
        )
        % {"minutes": limited.minutes},
        status=429,
        retry_after=limited.retry_after,
    )


def _used_key(token: Token) -> str:
    return cache.key("form-used", token.ticket_id)
