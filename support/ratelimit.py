"""Rate limits: at most N events per period for one thing, counted in the shared cache.

Each limit is a setting holding a rate ("10/min", "30/h": a number, then s, min, h or day):

    API_RATE           requests per API key
    CLIENT_RATE        requests per client to the requester's pages and to what the API
                       answers without a valid key
    FORM_RATE          tickets filed through the help form, per client
    REPLY_RATE         requester replies per ticket
    REPLY_CLIENT_RATE  requester replies per client

None or "" turns a limit off. The count is a fixed window: the period's multiples of time
since the epoch, one counter each (`support.cache.count`: atomic on Redis and on the
project's file cache), so a limit never lets more than N through in one window.

`hit()` counts one event, or raises RateLimited (and counts nothing) if the window is
full. `counting()` counts events under several limits and takes them back if what they
counted did not happen (a message refused for its content), so that a limit counts what
its setting says. If the cache fails, limits let everything through (support.cache logs
it at ERROR).
"""

import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from . import cache
from .conf import get_setting

# Tests move this clock; the windows are read through it.
clock = time.time

_RATE = re.compile(r"\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)s?\s*", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    """`limit` events per `period` seconds."""

    limit: int
    period: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """Read "10/min", "30/h", "1000/day", "5/s" (and DRF's "10/m", "10/minute").
        Raises ValueError for anything else."""
        match = _RATE.fullmatch(str(text))
        if not match:
            raise ValueError(f"{text!r} is not a rate such as '10/min' or '30/h'.")
        return cls(int(match[1]), _SECONDS[match[2][0].lower()])


def configured(setting: str) -> Rate | None:
    """The rate SUPPORT[setting] holds, or None if the limit is off."""
    text = get_setting(setting)
    return Rate.parse(text) if text else None


class RateLimited(Exception):
    """One event too many under SUPPORT[setting]; `retry_after` is the number of seconds
    until its window ends."""

    def __init__(self, setting: str, retry_after: int):
        super().__init__(f"Over SUPPORT[{setting!r}]; retry after {retry_after} s")
        self.setting = setting
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        """The wait in whole minutes, at least one (what people are told)."""
        return max(1, math.ceil(self.retry_after / 60))


@dataclass
class Hit:
    """One counted event, which `refund()` takes back."""

    cache_key: str | None = None
    seconds: float = 0

    def refund(self) -> None:
        if self.cache_key:
            cache.count(self.cache_key, self.seconds, delta=-1)
            self.cache_key = None


def hit(setting: str, *thing: object) -> Hit:
    """Count one event for `thing` (its parts: an API key's hash, a ticket id, a client)
    under SUPPORT[setting]. Raises RateLimited, counting nothing, if the window already
    holds the limit. If the cache fails, counts nothing and lets the event through."""
    rate = configured(setting)
    if rate is None:
        return Hit()
    now = clock()
    window = int(now // rate.period)
    remaining = (window + 1) * rate.period - now
    cache_key = cache.key("rate", setting.lower(), *thing, window)
    # The counter lives until its window is over (and a second, for clocks that differ).
    seconds = remaining + 1
    count = cache.count(cache_key, seconds)
    if count is None:
        return Hit()
    counted = Hit(cache_key, seconds)
    if count > rate.limit:
        # Refused, so not counted: the window's count stays that of what it let through.
        counted.refund()
        raise RateLimited(setting, math.ceil(remaining))
    return counted


class Tally(list):
    """The events `counting()` counted; `refund()` takes them all back."""

    def refund(self) -> None:
        for counted in self:
            counted.refund()


@contextmanager
def counting(*limits: tuple) -> Iterator[Tally]:
    """Count one event under each of `limits`, (setting, *thing) tuples, for the block.

    Raises RateLimited (having taken back what it counted) if any is over. If the block
    raises, every count is taken back: what was counted did not happen. The block calls
    `refund()` on what it yields when it ends without doing what was counted.
    """
    tally = Tally()
    try:
        for setting, *thing in limits:
            tally.append(hit(setting, *thing))
        yield tally
    except BaseException:
        tally.refund()
        raise
