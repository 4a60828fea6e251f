"""API keys: made once and shown once, stored as a hash, looked up by that hash.

A key is `sk_` and 43 random URL-safe characters (256 bits), so a single fast hash is
enough: unlike passwords, such keys cannot be guessed from a dictionary.
"""

import hashlib
import re
import secrets
import time
import uuid
from datetime import timedelta

from django.utils import timezone

from . import cache
from .conf import get_setting
from .models import ApiKey

KEY_PREFIX = "sk_"
KEY_PATTERN = re.compile(r"^sk_[A-Za-z0-9_-]{24,}$")
VISIBLE_CHARS = 11  # "sk_" and 8 characters: enough to tell keys apart, useless to guess
# Recording every use would add a write to every API call; once a minute is enough to
# answer "is this key still in use?".
LAST_USED_RESOLUTION = timedelta(minutes=1)


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

    A key read from the database is kept in the cache for SUPPORT["API_KEY_CACHE_SECONDS"]
    from that read, and no longer: a use never extends a cached copy's life. So a key
    revoked by any means (the admin, `support_keys revoke`, an UPDATE in SQL) stops working
    within that time; `revoke()` also removes it from the cache, so a key revoked through
    the app stops at once wherever the cache is shared. Recording the use (once a minute)
    checks revocation too. If the cache fails, every call reads the database.
    """
    if not is_well_formed(raw):
        return None
    hashed = hash_key(raw)
    cache_key = cache.key("api-key", hashed)
    lifetime = get_setting("API_KEY_CACHE_SECONDS")
    entry = cache.get(cache_key) if lifetime else None
    changed = entry is None
    if entry is None:
        key = ApiKey.objects.filter(hashed_key=hashed, revoked_at__isnull=True).first()
        if key is None:
            return None
        expires_at = time.time() + lifetime
    else:
        key, expires_at = entry
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        if not ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(last_used_at=now):
            cache.delete(cache_key)  # revoked since it was cached
            return None
        key.last_used_at = now
        changed = True
    remaining = expires_at - time.time()
    if changed and remaining >= 1:  # one cache write, not one per change
        cache.set(cache_key, (key, expires_at), remaining)
    return key


def forget(key: ApiKey) -> None:
    """Drop the cache's copy of `key`: the next use reads the database."""
    cache.delete(cache.key("api-key", key.hashed_key))


def revoke(key: ApiKey) -> None:
    """Revoke `key`: from now on it authenticates nothing, here and in every process that
    shares the cache (a key revoked in SQL instead stops within API_KEY_CACHE_SECONDS).
    The one way the app revokes a key: the admin, its action and the command call it."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=key.revoked_at)
    forget(key)
