"""The app's settings: one dict, `SUPPORT`, read at call time with its defaults here.

    SUPPORT = {
        "SITE_URL": "https://cocalc.com",        # required: expands `location` and `course`
        "PUBLIC_URL": "https://support.example", # this desk's address, for links in e-mail
                                                 # and the Message-ID domain; None: links
                                                 # follow the request's host, and e-mail
                                                 # cannot be sent (support.E007)
        "API_RATE": "120/min",                   # per API key; None or "" turns it off
        "API_KEY_CACHE_SECONDS": 60,             # a key revoked by any means (even in SQL)
                                                 # stops working within this; 0: no cache
        "CLIENT_RATE": "120/min",                # requests per client (address, or signed
                                                 # identity's account) to the requester's
                                                 # pages and to the API without a valid key
        "REPLY_RATE": "10/h",                    # requester replies per ticket
        "REPLY_CLIENT_RATE": "60/h",             # requester replies per client
        "CACHE_NAMESPACE": None,                 # prefix of the app's cache keys; None: one
                                                 # made from the default database's address
        "MAX_REQUEST_BYTES": 1048576,            # larger request bodies (API, help form,
                                                 # replies; chunked too) get a 413
        "FROM_EMAIL": None,                      # None: DEFAULT_FROM_EMAIL
        "REPLY_TO": None,                        # where requesters' replies go
        "CONFIRM_TO_REQUESTER": True,            # mail the requester a link to the ticket
        "STAFF_EMAILS": [],                      # told of every new ticket
        "FORWARD_BACKEND": None,                 # e.g. "support.backends.zendesk.ForwardBackend"
        "DELIVERY_MAX_ATTEMPTS": 10,             # then the delivery is marked failed
        "DELIVERY_BACKOFF_SECONDS": 30,          # first retry; doubles each time
        "DELIVERY_MAX_BACKOFF_SECONDS": 3600,
        "DELIVERY_CLAIM_SECONDS": 300,           # a worker that died holding a delivery
                                                 # lets it go after this long
        # The help form (/support/new/, and /support/embed/ inside the widget's iframe).
        "FRAME_ANCESTORS": [],                   # origins that may frame the form, e.g.
                                                 # ["https://cocalc.com"]; 'self' always may
        "FORM_USER": "support.requester.django_user",  # function(request) -> dict with
                                                 # email, name, account_id; or None for anonymous
        "FORM_TAGS": [],                         # tags on every ticket the form files
        "IDENTITY_SECRET": None,                 # shared with the platform, which signs who
                                                 # is logged in for the widget (HS256 JWT);
                                                 # None: the widget's form always asks
        "FORM_RATE": "30/h",                     # tickets per client (address, or signed
                                                 # identity's account); None turns it off
        "FORM_MIN_SECONDS": 3,                   # a form sent sooner after it was shown is refused
        "FORM_MAX_AGE_SECONDS": 6 * 3600,        # a form shown longer ago must be sent again
        "FORM_IP_HEADER": None,                  # None: REMOTE_ADDR; behind a proxy e.g.
                                                 # "HTTP_X_FORWARDED_FOR" (its last address);
                                                 # for every per-client limit
    }

Each forwarding backend reads its own keys too (ZENDESK_URL, WEBHOOK_SECRET...): see
support/backends/.
"""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

REQUIRED = object()

DEFAULTS: dict[str, Any] = {
    "SITE_URL": REQUIRED,
    "PUBLIC_URL": None,
    "API_RATE": "120/min",
    "API_KEY_CACHE_SECONDS": 60,
    "CLIENT_RATE": "120/min",
    "REPLY_RATE": "10/h",
    "REPLY_CLIENT_RATE": "60/h",
    "CACHE_NAMESPACE": None,
    "MAX_REQUEST_BYTES": 1024 * 1024,
    "FROM_EMAIL": None,
    "REPLY_TO": None,
    "CONFIRM_TO_REQUESTER": True,
    "STAFF_EMAILS": [],
    "FORWARD_BACKEND": None,
    "DELIVERY_MAX_ATTEMPTS": 10,
    "DELIVERY_BACKOFF_SECONDS": 30,
    "DELIVERY_MAX_BACKOFF_SECONDS": 3600,
    "DELIVERY_CLAIM_SECONDS": 300,
    "FRAME_ANCESTORS": [],
    "FORM_USER": "support.requester.django_user",
    "FORM_TAGS": [],
    "IDENTITY_SECRET": None,
    "FORM_RATE": "30/h",
    "FORM_MIN_SECONDS": 3,
    "FORM_MAX_AGE_SECONDS": 6 * 3600,
    "FORM_IP_HEADER": None,
    # Forwarding backends' own settings.
    "ZENDESK_URL": REQUIRED,
    "ZENDESK_EMAIL": REQUIRED,
    "ZENDESK_API_TOKEN": REQUIRED,
    "ZENDESK_INFO_FIELDS": {},
    "WEBHOOK_URL": REQUIRED,
    "WEBHOOK_SECRET": REQUIRED,
    "HTTP_TIMEOUT_SECONDS": 10,
}


def get_setting(name: str) -> Any:
    """Return `SUPPORT[name]`, or its default; raise ImproperlyConfigured if it is required."""
    if name not in DEFAULTS:
        raise KeyError(f"Unknown support setting {name!r}")
    value = getattr(settings, "SUPPORT", {}).get(name, DEFAULTS[name])
    if value is REQUIRED or (value in (None, "") and DEFAULTS[name] is REQUIRED):
        raise ImproperlyConfigured(f"Set SUPPORT[{name!r}] in your Django settings.")
    return value


def site_url() -> str:
    """The platform's base URL, without a trailing slash."""
    return str(get_setting("SITE_URL")).rstrip("/")


PUBLIC_URL_NEEDED = (
    "Set SUPPORT['PUBLIC_URL'] (this desk's address, e.g. 'https://support.example.com'): "
    "e-mail and forwarded tickets link to it."
)


def public_url(path: str, request=None) -> str:
    """The absolute URL of `path` on this desk: PUBLIC_URL if set, else the host the
    `request` came to (so that a desk nobody configured links to where it was reached).

    Without a request (e-mail, forwarding: the worker has none) PUBLIC_URL is the only
    address there is: ImproperlyConfigured if it is not set (support.E007 says so at
    start-up)."""
    base = get_setting("PUBLIC_URL")
    if base:
        return str(base).rstrip("/") + path
    if request is None:
        raise ImproperlyConfigured(PUBLIC_URL_NEEDED)
    return request.build_absolute_uri(path)


def public_host() -> str:
    """The host name of PUBLIC_URL (the domain of e-mail's Message-IDs); raises
    ImproperlyConfigured if it is not set."""
    host = urlsplit(str(get_setting("PUBLIC_URL") or "")).hostname
    if not host:
        raise ImproperlyConfigured(PUBLIC_URL_NEEDED)
    return host
