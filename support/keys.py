"""API keys: made once and shown once, stored as a hash, looked up by that hash.

A key is `sk_` and 43 random URL-safe characters (256 bits), so a single fast hash is
enough: unlike passwords, such keys cannot be guessed from a dictionary.
"""

import hashlib
import re
import secrets
import uuid
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from .models import ApiKey

KEY_PREFIX = "sk_"
KEY_PATTERN = re.compile(r"^sk_[A-Za-z0-9_-]{24,}$")
VISIBLE_CHARS = 11  # "sk_" and 8 characters: enough to tell keys apart, useless to guess
# Recording every use would add a write to every API call; once a minute is enough to
# answer "is this key still in use?".
LAST_USED_RESOLUTION = timedelta(minutes=1)
CACHE_SECONDS = 60


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def is_well_formed(raw: str) -> bool:
    return bool(KEY_PATTERN.match(raw))


def create_key(
    *, account_id: uuid.UUID | None = None, name: str = "", raw: str | None = None
) -> tuple[ApiKey, str]:
    """Make a key; return it and its secret, which is not stored and cannot be shown again.

    With `account_id` the key acts for that account only; without, it is a service key.
    `raw` imports an existing secret (e.g. keys handed out by a previous system); it must
    look like a key. Raises ValueError for a malformed `raw`.
    """
    if raw is None:
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
    elif not is_well_formed(raw):
        raise ValueError("A key is 'sk_' followed by at least 24 URL-safe characters.")
    key = ApiKey.objects.create(
        kind=ApiKey.Kind.ACCOUNT if account_id else ApiKey.Kind.SERVICE,
        account_id=account_id,
        name=name,
        prefix=raw[:VISIBLE_CHARS],
        hashed_key=hash_key(raw),
    )
    return key, raw


def authenticate(raw: str) -> ApiKey | None:
    """Return the active key whose secret is `raw`, and note that it was used.

    Keys are kept in the default cache for CACHE_SECONDS, so that most API calls need no
    query to authenticate; `revoke()` removes a key from the cache, so a revoked key stops
    working at once wherever the cache is shared (the project's file or Redis cache).
    """
    if not is_well_formed(raw):
        return None
    hashed = hash_key(raw)
    key = cached = cache.get(_cache_key(hashed))
    if key is None:
        try:
            key = ApiKey.objects.get(hashed_key=hashed, revoked_at__isnull=True)
        except ApiKey.DoesNotExist:
            return None
    now = timezone.now()
    stale = key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION
    if stale:
        key.last_used_at = now
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    if stale or cached is None:  # one cache write, not one per change
        cache.set(_cache_key(hashed), key, CACHE_SECONDS)
    return key


def revoke(key: ApiKey) -> None:
    """Revoke `key`: from now on it authenticates nothing."""
    key.revoke()
    cache.delete(_cache_key(key.hashed_key))


def _cache_key(hashed: str) -> str:
    return f"support:api-key:{hashed}"
