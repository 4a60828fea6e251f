"""The app's settings: one dict, `SUPPORT`, read at call time through `get_setting()`.

Every setting is declared once, here (`SETTINGS`: name, default, type, what it does), or,
for a forwarding backend, in the backend's own class (`declared_settings`), so that a
backend from another package brings its own. The README's table of settings, the
`SUPPORT_*` part of `.env.example` and the project's reading of the environment are all
made from these declarations (`manage.py support_settings`); tests keep them equal.

    SUPPORT = {
        "SITE_URL": "https://cocalc.com",     # the only setting without a default
        "PUBLIC_URL": "https://support.example.com",
        ...
    }
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

REQUIRED = object()  # the default of a setting that has none: it must be set


@dataclass(frozen=True)
class Setting:
    """One setting: `SUPPORT[name]`, or `SUPPORT_<name>` in the project's environment.

    `kind` is how the environment spells it (str, int, float, bool, list, dict: a list is
    comma-separated, a dict is JSON; an empty str means None); `help` says what it does,
    for the docs; `example` is shown where the default is not a useful example.
    """

    name: str
    default: Any
    kind: type
    help: str
    example: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


# Programs, by the type of their content and by the endings that run them on a double
# click: refused as attachments unless ATTACHMENT_DENIED_TYPES says otherwise.
PROGRAMS = (
    "application/vnd.microsoft.portable-executable", "application/x-dosexec",
    "application/x-msdownload", "application/x-executable", "application/x-sharedlib",
    "application/x-mach-binary", "application/x-msi", "application/java-archive",
    "application/vnd.android.package-archive", ".exe", ".dll", ".com", ".scr", ".pif", ".bat",
    ".cmd", ".msi", ".msp", ".hta", ".vbs", ".vbe", ".wsf", ".ps1", ".lnk", ".jar", ".apk",
)  # fmt: skip

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SITE_URL",
        REQUIRED,
        str,
        "The platform whose users file tickets: `location` and `course` become links on it.",
        "https://cocalc.com",
    ),
    Setting(
        "PUBLIC_URL",
        None,
        str,
        "This desk's address as people reach it: links in e-mail and forwarded "
        "tickets, and the domain of Message-IDs. Unset, links in pages and API answers "
        "follow the request's host, and no e-mail can be sent (support.E007).",
        "https://support.example.com",
    ),
    Setting(
        "API_RATE",
        "120/min",
        str,
        "Requests per API key (a rate such as 120/min); empty turns it off.",
    ),
    Setting(
        "API_KEY_CACHE_SECONDS",
        60,
        float,
        "A key revoked by any means, even in SQL, stops working within this many "
        "seconds; 0 caches no key.",
    ),
    Setting(
        "CLIENT_RATE",
        "120/min",
        str,
        "Requests per client (its address, or a signed identity's account) to the "
        "requester's pages and to the API without a valid key; empty turns it off.",
    ),
    Setting("REPLY_RATE", "10/h", str, "Requester replies per ticket; empty: no limit."),
    Setting("REPLY_CLIENT_RATE", "60/h", str, "Requester replies per client; empty: no limit."),
    Setting(
        "CACHE_NAMESPACE",
        None,
        str,
        "Prefix of the app's cache keys; unset: one made from the database's address, "
        "so that two desks on one Redis never share a key.",
    ),
    Setting(
        "MAX_REQUEST_BYTES",
        1024 * 1024,
        int,
        "Request bodies (API, help form, replies, chunked ones too) larger than this "
        "many bytes get a 413.",
    ),
    Setting(
        "FROM_EMAIL",
        None,
        str,
        "The sender of the desk's e-mail; unset: DEFAULT_FROM_EMAIL.",
        "support@example.com",
    ),
    Setting(
        "REPLY_TO",
        None,
        str,
        "Where requesters' replies to the desk's e-mail go.",
        "support@example.com",
    ),
    Setting(
        "CONFIRM_TO_REQUESTER", True, bool, "E-mail the requester a link to each new ticket's page."
    ),
    Setting(
        "STAFF_EMAILS",
        [],
        list,
        "Addresses told of every new ticket and every requester's reply.",
        "help@example.com,oncall@example.com",
    ),
    Setting(
        "FORWARD_BACKEND",
        None,
        str,
        "Copy every ticket to a helpdesk: the dotted path of a ForwardBackend class "
        "(support/backends/); unset forwards nothing.",
        "support.backends.zendesk.ForwardBackend",
    ),
    Setting(
        "DELIVERY_MAX_ATTEMPTS",
        10,
        int,
        "Attempts at an e-mail or forward before it is marked failed for staff.",
    ),
    Setting(
        "DELIVERY_BACKOFF_SECONDS",
        30,
        float,
        "Wait before the first retry of a delivery; it doubles with each attempt.",
    ),
    Setting("DELIVERY_MAX_BACKOFF_SECONDS", 3600, float, "The longest wait between retries."),
    Setting(
        "DELIVERY_CLAIM_SECONDS",
        300,
        float,
        "A worker that died while sending lets its deliveries go after this long.",
    ),
    Setting(
        "FRAME_ANCESTORS",
        [],
        list,
        "Origins (scheme, host, port) that may show the help form in the widget's iframe.",
        "https://cocalc.com,https://www.cocalc.com",
    ),
    Setting(
        "FORM_USER",
        "support.requester.django_user",
        str,
        "A function(request) -> {email, name, account_id} naming the logged-in "
        "requester; empty asks everyone.",
    ),
    Setting("FORM_TAGS", [], list, "Tags on every ticket the help form files.", "web-form"),
    Setting(
        "IDENTITY_SECRET",
        None,
        str,
        "A secret (32 bytes or more) shared with the platform, which signs who is "
        "logged in there (an HS256 JWT) so that the widget's form does not ask them.",
    ),
    Setting(
        "FORM_RATE",
        "30/h",
        str,
        "Tickets filed through the form per client (address, or signed-in account); "
        "empty turns it off. 30 an hour lets a class behind one school address each "
        "file one.",
    ),
    Setting(
        "FORM_MIN_SECONDS",
        3,
        float,
        "A form sent sooner than this after it was shown is refused (bots are fast).",
    ),
    Setting(
        "FORM_MAX_AGE_SECONDS",
        6 * 3600,
        float,
        "A form shown longer ago than this must be sent again.",
    ),
    Setting(
        "FORM_IP_HEADER",
        None,
        str,
        "Behind a reverse proxy: the request header holding the client's address (its "
        "last entry counts), for every per-client limit; unset: the connection's "
        "address.",
        "HTTP_X_FORWARDED_FOR",
    ),
    # Attachments (support.attachments): what is accepted, where it is kept, how it is sent.
    Setting(
        "ATTACHMENT_MAX_FILES",
        10,
        int,
        "Files one message may carry (the form, a reply, the API); 0 turns attachments off.",
    ),
    Setting(
        "ATTACHMENT_MAX_BYTES",
        20 * 1024 * 1024,
        int,
        "The largest file accepted, in bytes (Zendesk's own limit is 20 MB).",
    ),
    Setting(
        "ATTACHMENT_MAX_TOTAL_BYTES",
        50 * 1024 * 1024,
        int,
        "The files of one message together, in bytes.",
    ),
    Setting(
        "ATTACHMENT_ALLOWED_TYPES",
        [],
        list,
        "Only files of these types are accepted: MIME types as read from the content "
        "(image/png, image/*) or name endings (.log), as an <input accept> lists them; "
        "empty: any type not denied.",
        "image/*,application/pdf,text/plain,.log",
    ),
    Setting(
        "ATTACHMENT_DENIED_TYPES",
        list(PROGRAMS),
        list,
        "Files of these types are refused (the same forms as ATTACHMENT_ALLOWED_TYPES): "
        "by default programs, by their content and by the name endings that run them on a "
        "double click.",
    ),
    Setting(
        "ATTACHMENT_DIR",
        "var/attachments",
        str,
        "The folder attachments are kept in, outside any static or media URL (relative "
        "to the project's BASE_DIR); used unless ATTACHMENT_STORAGE names a storage.",
        "/srv/support/attachments",
    ),
    Setting(
        "ATTACHMENT_STORAGE",
        None,
        str,
        "The alias of an entry of Django's STORAGES to keep attachments in instead (any "
        "Django storage, e.g. S3 through django-storages); it must not be public.",
        "support-attachments",
    ),
    Setting(
        "ATTACHMENT_SERVE",
        "django",
        str,
        "Who sends a file once the desk has allowed it: `django` streams it, "
        "`x-accel-redirect` hands it to nginx (ATTACHMENT_ACCEL_LOCATION), `redirect` "
        "sends the browser to the storage's own signed URL.",
        "x-accel-redirect",
    ),
    Setting(
        "ATTACHMENT_ACCEL_LOCATION",
        "/_support_attachments/",
        str,
        "With ATTACHMENT_SERVE=x-accel-redirect: nginx's `internal` location that "
        "serves ATTACHMENT_DIR.",
    ),
    Setting(
        "ATTACHMENT_LINK_SECONDS",
        7 * 24 * 3600,
        int,
        "How long the signed links to files in webhook payloads work.",
    ),
    Setting(
        "ATTACHMENT_EMAIL_MAX_BYTES",
        10 * 1024 * 1024,
        int,
        "Files are attached to e-mail up to this many bytes in all; the rest are linked.",
    ),
    Setting(
        "ATTACHMENT_PENDING_SECONDS",
        24 * 3600,
        int,
        "Files uploaded with a form that was refused are kept this long for the next "
        "try; then the clean-up removes them.",
    ),
)
DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}
_MISSING = object()


def get_setting(name: str, default: Any = _MISSING) -> Any:
    """Return `SUPPORT[name]`, else its default: the app's (`SETTINGS`), or `default` for a
    setting the app does not declare (a forwarding backend's, see
    support.backends.base.BaseForwardBackend.setting).

    Raises ImproperlyConfigured naming the setting when it has no default and is not set
    (or is set empty), KeyError for a name nobody declared.
    """
    if name in DEFAULTS:
        default = DEFAULTS[name]
    elif default is _MISSING:
        raise KeyError(f"{name!r} is not a setting of the app: pass its default.")
    value = getattr(settings, "SUPPORT", {}).get(name, default)
    if value is REQUIRED or (value in (None, "") and default is REQUIRED):
        raise ImproperlyConfigured(f"Set SUPPORT[{name!r}] in your Django settings.")
    return value


def known_settings() -> Iterable[Setting]:
    """The app's settings, then those of its built-in forwarding backends."""
    from .backends import webhook, zendesk

    seen = set()
    for setting in (
        *SETTINGS,
        *zendesk.ForwardBackend.declared_settings,
        *webhook.ForwardBackend.declared_settings,
    ):
        if setting.name not in seen:
            seen.add(setting.name)
            yield setting


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
