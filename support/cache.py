"""Every use the app makes of Django's default cache, in one place: its keys, and what
happens when the cache fails.

Keys. `key(kind, *parts)` makes every key the app writes:
`support:<namespace>:<kind>:<parts>`. The namespace is SUPPORT["CACHE_NAMESPACE"], or by
default a digest of the default database's engine, host, port and name, so two desks (or
a desk and its tests) sharing one Redis never read each other's entries; the parts are
the thing's own unique value (an API key's hash, a ticket's id, a client's address),
never a row number, which the next database reuses.

Failures. The cache speeds things up and holds counters; it never decides whether a
ticket is stored. Each operation here catches the cache's errors (a Redis that refuses
connections, or times out: see the socket timeouts in the README) and returns what the
caller treats as "no cache": `get` misses, `add` answers None (unknown), `count` answers
None (rate limits then let the request through). The first failure is logged at ERROR,
and then at most once every LOG_SECONDS while the cache keeps failing; for RETRY_SECONDS
after a failure the cache is not asked at all (by any thread of the process), so a cache
that hangs costs a timeout now and then, not every request one per operation.
"""

import hashlib
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import DEFAULT_DB_ALIAS, connections

from .conf import get_setting

logger = logging.getLogger(__name__)

ALIAS = "default"
# After a failure, the cache is left alone this long (then tried again).
RETRY_SECONDS = 10
# While it keeps failing, say so again this often.
LOG_SECONDS = 60
# What a key part may hold as is; anything else (longer, or with characters memcached
# refuses in keys) is replaced by its SHA-256.
_PLAIN_PART = re.compile(r"[A-Za-z0-9._:/@+-]{1,80}")


def namespace() -> str:
    """This desk's namespace: SUPPORT["CACHE_NAMESPACE"], or a digest of the default
    database's engine, host, port and name (so each database has its own)."""
    configured = get_setting("CACHE_NAMESPACE")
    if configured:
        return str(configured)
    db = connections[DEFAULT_DB_ALIAS].settings_dict
    where = "|".join(str(db.get(name) or "") for name in ("ENGINE", "HOST", "PORT", "NAME"))
    return hashlib.sha256(where.encode()).hexdigest()[:16]


def key(kind: str, *parts: object) -> str:
    """The cache key of the thing `parts` name (e.g. key("api-key", hashed_key))."""
    shown = [
        part
        if _PLAIN_PART.fullmatch(part)
        # Any text has a digest, a lone surrogate too (it never reaches a database).
        else hashlib.sha256(part.encode("utf-8", "surrogatepass")).hexdigest()
        for part in map(str, parts)
    ]
    return ":".join(["support", namespace(), kind, *shown])


def get(cache_key: str, default: Any = None) -> Any:
    """The value stored at `cache_key`, or `default` if none (or the cache fails)."""
    return _call("get", lambda cache: cache.get(cache_key, default), default)


def set(cache_key: str, value: Any, seconds: float) -> None:
    """Store `value` for `seconds` (at least 1); nothing if the cache fails."""
    _call("set", lambda cache: cache.set(cache_key, value, max(1, round(seconds))), None)


def add(cache_key: str, value: Any, seconds: float) -> bool | None:
    """Store `value` for `seconds` unless the key holds a value: True if stored, False if
    not, None if the cache failed (the caller cannot know)."""
    return _call("add", lambda cache: cache.add(cache_key, value, max(1, round(seconds))), None)


def delete(cache_key: str) -> None:
    """Remove the key; nothing if the cache fails (its entry then expires on its own)."""
    _call("delete", lambda cache: cache.delete(cache_key), None)


def count(cache_key: str, seconds: float, delta: int = 1) -> int | None:
    """Add `delta` to the counter at `cache_key`, made (at 0) to live `seconds` if it does
    not exist; return its new value, or None if the cache failed.

    Atomic on Redis (SET NX with the expiry and INCRBY in one transaction), and on every
    backend whose `incr` is atomic (memcached, locmem, support.filecache.FileCache); on
    others (Django's FileBasedCache, DatabaseCache) concurrent counts can be lost:
    `manage.py check` warns (support.W020).
    """
    ttl = max(1, round(seconds))
    return _call("count", lambda cache: _count(cache, cache_key, ttl, delta), None)


def _count(cache: BaseCache, cache_key: str, ttl: int, delta: int) -> int:
    if isinstance(cache, RedisCache):
        # Django's RedisCache.incr checks that the key exists, then INCRs: a key that
        # expires in between comes back without an expiry. One MULTI/EXEC instead
        # (SET NX with the expiry, then INCRBY, which keeps it), through the backend's
        # client, with the key made as Django makes it (prefix and version).
        made = cache.make_and_validate_key(cache_key)
        pipeline = cache._cache.get_client(made, write=True).pipeline()
        pipeline.set(made, 0, ex=ttl, nx=True)
        pipeline.incrby(made, delta)
        _, value = pipeline.execute()
        return int(value)
    cache.add(cache_key, 0, ttl)
    try:
        return cache.incr(cache_key, delta)
    except ValueError:  # expired between add() and incr(): a new counter
        cache.set(cache_key, delta, ttl)
        return delta


@dataclass
class _Health:
    down_until: float = 0.0
    failing_since: float | None = None
    logged_at: float = 0.0
    failures: int = 0


# The cache's health in this process, for each configuration of it (tests change CACHES).
_health: dict[str, _Health] = {}
_lock = threading.Lock()


def _call(operation: str, action, fallback: Any) -> Any:
    config = repr(settings.CACHES.get(ALIAS))
    now = time.monotonic()
    with _lock:
        health = _health.setdefault(config, _Health())
        if now < health.down_until:
            health.failures += 1
            return fallback
    try:
        result = action(caches[ALIAS])  # making the backend can fail too (a bad directory)
    except Exception as err:  # noqa: BLE001  (any failure of the cache: see the docstring)
        with _lock:
            _failed(health, now, operation, err)
        return fallback
    if health.failing_since is not None:
        with _lock:
            if _health.get(config) is health:
                _health[config] = _Health()
                logger.warning(
                    "The cache answers again, after %.0f s; %d operations went without it.",
                    now - health.failing_since,
                    health.failures,
                )
    return result


def _failed(health: _Health, now: float, operation: str, err: Exception) -> None:
    health.down_until = now + RETRY_SECONDS
    health.failures += 1
    first = health.failing_since is None
    if first:
        health.failing_since = now
    elif now - health.logged_at < LOG_SECONDS:
        return
    health.logged_at = now
    logger.error(
        "The cache (CACHES[%r]) failed at %s: %s: %s%s. Until it answers (tried again "
        "every %d s): rate limits are not enforced, API keys are looked up in the "
        "database, and the deliveries worker is woken for every new ticket.",
        ALIAS,
        operation,
        type(err).__name__,
        str(err).rstrip("."),
        "" if first else f" (failing for {now - health.failing_since:.0f} s)",
        RETRY_SECONDS,
        exc_info=first,
    )
