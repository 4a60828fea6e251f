"""The app's settings: one dict, `SUPPORT`, read at call time with its defaults here.

SUPPORT = {
    "SITE_URL": "https://cocalc.com",   # required: expands `location` and `course`
    "API_RATE": "120/min",              # per API key; None or "" turns it off
    "MAX_REQUEST_BYTES": 1048576,       # larger API requests get a 413
}
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

REQUIRED = object()

DEFAULTS: dict[str, Any] = {
    "SITE_URL": REQUIRED,
    "API_RATE": "120/min",
    "MAX_REQUEST_BYTES": 1024 * 1024,
}


def get_setting(name: str) -> Any:
    """Return `SUPPORT[name]`, or its default; raise ImproperlyConfigured if it is required."""
    if name not in DEFAULTS:
        raise KeyError(f"Unknown support setting {name!r}")
    value = getattr(settings, "SUPPORT", {}).get(name, DEFAULTS[name])
    if value is REQUIRED:
        raise ImproperlyConfigured(f"Set SUPPORT[{name!r}] in your Django settings.")
    return value


def site_url() -> str:
    """The platform's base URL, without a trailing slash."""
    return str(get_setting("SITE_URL")).rstrip("/")
