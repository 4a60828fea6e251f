"""Start-up checks of the app's settings (`manage.py check`)."""

import re
from pathlib import Path
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .conf import get_setting
from .ratelimit import Rate


@register()
def check_settings(app_configs, **kwargs) -> list[Error]:
    errors = []
    try:
        site = urlsplit(str(get_setting("SITE_URL")))
    except ImproperlyConfigured as err:
        errors.append(
            Error(
                str(err),
                hint="The platform's base URL, e.g. SUPPORT = {'SITE_URL': 'https://cocalc.com'}.",
                id="support.E001",
            )
        )
    else:
        if site.scheme not in ("http", "https") or not site.netloc:
            errors.append(
                Error(
                    "SUPPORT['SITE_URL'] must be an absolute http(s) URL.",
                    hint="For example 'https://cocalc.com'.",
                    id="support.E002",
                )
            )
    errors += _rate_errors(
        "API_RATE", "support.E003", "Use a rate such as '120/min', or None to turn rate "
        "limiting off.",
    )  # fmt: skip
    max_bytes = get_setting("MAX_REQUEST_BYTES")
    if not isinstance(max_bytes, int) or max_bytes <= 0:
        errors.append(
            Error(
                "SUPPORT['MAX_REQUEST_BYTES'] must be a positive whole number.",
                id="support.E004",
            )
        )
    return errors


@register()
def check_deliveries(app_configs, **kwargs) -> list[Error]:
    errors = []
    path = get_setting("FORWARD_BACKEND")
    if path:
        try:
            backend_class = import_string(path)
        except ImportError as err:
            errors.append(
                Error(
                    f"SUPPORT['FORWARD_BACKEND'] = {path!r} cannot be imported: {err}",
                    hint="A dotted path such as 'support.backends.zendesk.ForwardBackend', "
                    "or None to forward nothing.",
                    id="support.E005",
                )
            )
        else:
            missing = getattr(backend_class, "missing_settings", list)()
            errors += [
                Error(
                    f"{path} needs SUPPORT[{name!r}] (SUPPORT_{name} in the environment).",
                    hint="See the backend's module documentation.",
                    id="support.E006",
                )
                for name in missing
            ]
    errors += _public_url_errors()
    return errors


def _public_url_errors() -> list[Error]:
    """PUBLIC_URL, which e-mail and forwarded tickets need: they have no request whose host
    a link could follow. Missing is an error in production (DEBUG off), so that it stops at
    start-up rather than send mail with dead links. In development (DEBUG on) it is not
    reported, lest every command say so: the worker's error names it when mail needs it."""
    public = get_setting("PUBLIC_URL")
    if public:
        parts = urlsplit(str(public))
        if parts.scheme in ("http", "https") and parts.hostname and not parts.query:
            return []
        return [
            Error(
                f"SUPPORT['PUBLIC_URL'] = {public!r} is not an absolute http(s) URL.",
                hint="This desk's address as people reach it, e.g. 'https://support.example.com'.",
                id="support.E008",
            )
        ]
    sends = [
        reason
        for reason, on in [
            ("confirmations to requesters (CONFIRM_TO_REQUESTER)",
             get_setting("CONFIRM_TO_REQUESTER")),
            ("notices to STAFF_EMAILS", get_setting("STAFF_EMAILS")),
            ("staff's replies from the admin", apps.is_installed("django.contrib.admin")),
            ("tickets forwarded by FORWARD_BACKEND", get_setting("FORWARD_BACKEND")),
        ]
        if on
    ]  # fmt: skip
    if not sends or settings.DEBUG:
        return []
    return [
        Error(
            "SUPPORT['PUBLIC_URL'] is not set, but this desk sends "
            f"{', '.join(sends)}, which link to the desk and need its address.",
            hint="Set it to this desk's address as people reach it, e.g. "
            "SUPPORT['PUBLIC_URL'] = 'https://support.example.com' (in this repository's "
            "project: SUPPORT_PUBLIC_URL=https://support.example.com in the environment or "
            ".env). Links in API answers and pages follow the request's host until then.",
            id="support.E007",
        )
    ]


# An origin, as CSP's frame-ancestors takes it: https://cocalc.com, http://localhost:3000,
# https://*.example.com. Nothing that could end the directive or add another.
ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9.-]+(:\d+)?")


@register()
def check_form(app_configs, **kwargs) -> list[Error]:
    errors = _rate_errors(
        "FORM_RATE", "support.E010", "Use a rate such as '5/h', or None to turn the form's "
        "throttle off.",
    )  # fmt: skip
    ancestors = get_setting("FRAME_ANCESTORS")
    if isinstance(ancestors, str) or not all(
        isinstance(origin, str) and ORIGIN.fullmatch(origin) for origin in ancestors
    ):
        errors.append(
            Error(
                f"SUPPORT['FRAME_ANCESTORS'] = {ancestors!r} is not a list of origins.",
                hint="The sites that may show the help form, e.g. ['https://cocalc.com'].",
                id="support.E011",
            )
        )
    path = get_setting("FORM_USER")
    if path:
        try:
            import_string(path)
        except ImportError as err:
            errors.append(
                Error(
                    f"SUPPORT['FORM_USER'] = {path!r} cannot be imported: {err}",
                    hint="A dotted path to a function(request) returning the logged-in "
                    "requester's email, name and account_id, or None to ask everyone.",
                    id="support.E012",
                )
            )
    secret = get_setting("IDENTITY_SECRET")
    if secret and (not isinstance(secret, str) or len(secret.encode()) < 32):
        errors.append(
            Error(
                "SUPPORT['IDENTITY_SECRET'] is shorter than 32 bytes.",
                hint="Anyone who guesses it can file tickets as any of your users: use a "
                "long random secret, e.g. python -c 'import secrets; print(secrets."
                "token_urlsafe(32))'.",
                id="support.E013",
            )
        )
    return errors


def _rate_errors(name: str, error_id: str, hint: str) -> list[Error]:
    """An error if SUPPORT[name] is set but is not a rate ('5/h', see support.ratelimit)."""
    rate = get_setting(name)
    if not rate:
        return []
    try:
        Rate.parse(rate)
    except ValueError:
        return [Error(f"SUPPORT[{name!r}] = {rate!r} is not a rate.", hint=hint, id=error_id)]
    return []


RATES = ("API_RATE", "CLIENT_RATE", "FORM_RATE", "REPLY_RATE", "REPLY_CLIENT_RATE")
# Default caches that cannot hold the rate limits' counters, and why.
UNFIT_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "counts in each process apart, so "
    "every worker process lets the whole limit through",
    "django.core.cache.backends.dummy.DummyCache": "stores nothing, so nothing is limited",
    "django.core.cache.backends.filebased.FileBasedCache": "deletes a random third of its "
    "entries, counters included, once it holds MAX_ENTRIES, and counts without a lock",
    "django.core.cache.backends.db.DatabaseCache": "counts without a lock (concurrent "
    "requests lose counts) and culls entries, counters included",
}


@register()
def check_limits(app_configs, **kwargs) -> list[CheckMessage]:
    """The per-client and reply rates, and a cache that can hold what the app keeps there."""
    messages: list[CheckMessage] = []
    for name in ("CLIENT_RATE", "REPLY_RATE", "REPLY_CLIENT_RATE"):
        messages += _rate_errors(
            name, "support.E020", "Use a rate such as '60/h', or None to turn it off."
        )
    lifetime = get_setting("API_KEY_CACHE_SECONDS")
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime < 0:
        messages.append(
            Error(
                "SUPPORT['API_KEY_CACHE_SECONDS'] must be a number of seconds, 0 or more.",
                hint="A revoked key keeps working at most this long; 0 caches no key.",
                id="support.E021",
            )
        )
    cache = settings.CACHES.get("default", {})
    backend = cache.get("BACKEND", "")
    limited = [name for name in RATES if get_setting(name)]
    if limited and backend in UNFIT_CACHES:
        messages.append(
            Warning(
                f"The default cache ({backend}) {UNFIT_CACHES[backend]}: "
                f"{', '.join(limited)} cannot hold.",
                hint="On one machine use 'support.filecache.FileCache' (the project's "
                "default); on several, Redis (CACHE_URL=redis://...).",
                id="support.W020",
            )
        )
    options = cache.get("OPTIONS", {})
    if backend.endswith("RedisCache") and not (
        options.get("socket_timeout") and options.get("socket_connect_timeout")
    ):
        messages.append(
            Warning(
                "The default cache is Redis without socket timeouts: a Redis that stops "
                "answering makes every request wait for it.",
                hint="Add 'OPTIONS': {'socket_connect_timeout': 1, 'socket_timeout': 1} "
                "(seconds) to CACHES['default'].",
                id="support.W021",
            )
        )
    return messages


# What the app cannot work without, and why: named in the error, so a project that installs
# the app learns the line to add.
REQUIRED_APPS = {
    "django.contrib.contenttypes": "the admin's pages and the staff group's permissions",
    "django.contrib.auth": "staff users, who write replies and notes",
    "rest_framework": "the API",
    "drf_spectacular": "the API's schema and documentation pages",
    "django_tasks": "the worker that sends e-mail and forwards tickets",
}
# Task backends that would run e-mail and forwarding inside the request (an outage of the
# mail server would then fail or slow the request) or never run them at all.
UNFIT_TASK_BACKENDS = {
    "django_tasks.backends.immediate.ImmediateBackend": "runs them inside the request",
    "django_tasks.backends.dummy.DummyBackend": "never runs them",
}


@register()
def check_installation(app_configs, **kwargs) -> list[Error]:
    from django.apps import apps
    from django.conf import settings

    errors = [
        Error(
            f"The support app needs {app!r} in INSTALLED_APPS, for {needed_for}.",
            hint=f"Add {app!r} to INSTALLED_APPS (see the README, 'Use it in your Django "
            "project').",
            id="support.E014",
        )
        for app, needed_for in REQUIRED_APPS.items()
        if not apps.is_installed(app)
    ]
    schema_class = getattr(settings, "REST_FRAMEWORK", {}).get("DEFAULT_SCHEMA_CLASS")
    if schema_class != "drf_spectacular.openapi.AutoSchema":
        errors.append(
            Error(
                "The API's schema and documentation pages need drf-spectacular's schema "
                f"class; REST_FRAMEWORK['DEFAULT_SCHEMA_CLASS'] is {schema_class!r}.",
                hint="REST_FRAMEWORK = {'DEFAULT_SCHEMA_CLASS': "
                "'drf_spectacular.openapi.AutoSchema'}",
                id="support.E016",
            )
        )
    tasks = getattr(settings, "TASKS", None) or {}
    backend = tasks.get("default", {}).get(
        "BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
    )
    if backend in UNFIT_TASK_BACKENDS:
        errors.append(
            Error(
                f"TASKS['default'] is {backend}, which {UNFIT_TASK_BACKENDS[backend]}: "
                "e-mail and forwarding must run in a worker, after the request.",
                hint="Use a backend with workers, e.g. TASKS = {'default': {'BACKEND': "
                "'django_tasks_db.DatabaseBackend'}} with 'django_tasks_db' in "
                "INSTALLED_APPS and `manage.py db_worker` running.",
                id="support.E015",
            )
        )
    return errors


SERVE_MODES = ("django", "x-accel-redirect", "redirect")


@register()
def check_attachments(app_configs, **kwargs) -> list[CheckMessage]:
    """The attachments' limits and storage, and what Django's own upload settings must
    allow for them (the admin's uploads go through Django's handlers, not the app's)."""
    from .filestore import PrivateFileStorage, directory, storage

    messages: list[CheckMessage] = []
    for name in ("ATTACHMENT_MAX_FILES", "ATTACHMENT_MAX_BYTES", "ATTACHMENT_MAX_TOTAL_BYTES",
                 "ATTACHMENT_LINK_SECONDS", "ATTACHMENT_EMAIL_MAX_BYTES",
                 "ATTACHMENT_PENDING_SECONDS"):  # fmt: skip
        value = get_setting(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            messages.append(
                Error(f"SUPPORT[{name!r}] must be a whole number, 0 or more.", id="support.E030")
            )
    mode = get_setting("ATTACHMENT_SERVE")
    if mode not in SERVE_MODES:
        messages.append(
            Error(
                f"SUPPORT['ATTACHMENT_SERVE'] = {mode!r} is none of {', '.join(SERVE_MODES)}.",
                hint="`django` streams files itself; see the README's Production section.",
                id="support.E031",
            )
        )
    alias = get_setting("ATTACHMENT_STORAGE")
    if alias and alias not in getattr(settings, "STORAGES", {}):
        messages.append(
            Error(
                f"SUPPORT['ATTACHMENT_STORAGE'] = {alias!r} is not an entry of STORAGES.",
                hint="Add a private storage under that name to STORAGES, or leave it unset "
                "to keep files in ATTACHMENT_DIR.",
                id="support.E032",
            )
        )
    elif mode == "redirect" and isinstance(storage(), PrivateFileStorage):
        messages.append(
            Error(
                "SUPPORT['ATTACHMENT_SERVE'] is 'redirect', but the attachments' folder has "
                "no URL to redirect to.",
                hint="Use 'x-accel-redirect' behind nginx, or 'redirect' with a storage that "
                "signs its URLs (ATTACHMENT_STORAGE, e.g. S3 with querystring_auth).",
                id="support.E033",
            )
        )
    elif not alias:
        folder = directory().resolve()
        for public in ("MEDIA_ROOT", "STATIC_ROOT"):
            root = getattr(settings, public, None)
            if root and (folder == Path(root).resolve() or Path(root).resolve() in folder.parents):
                messages.append(
                    Warning(
                        f"SUPPORT['ATTACHMENT_DIR'] ({folder}) is inside {public}, which a "
                        "web server may serve to anyone.",
                        hint="Keep attachments in a folder of their own (the default "
                        "var/attachments).",
                        id="support.W030",
                    )
                )
    files = getattr(settings, "DATA_UPLOAD_MAX_NUMBER_FILES", 100)
    if files is not None and files < get_setting("ATTACHMENT_MAX_FILES") + 1:
        messages.append(
            Error(
                f"DATA_UPLOAD_MAX_NUMBER_FILES ({files}) is below SUPPORT['ATTACHMENT_MAX_"
                "FILES'] + 1: Django would refuse a message with every file allowed.",
                hint="Raise DATA_UPLOAD_MAX_NUMBER_FILES, or lower ATTACHMENT_MAX_FILES.",
                id="support.E034",
            )
        )
    handlers = getattr(settings, "FILE_UPLOAD_HANDLERS", [])
    in_memory = getattr(settings, "FILE_UPLOAD_MAX_MEMORY_SIZE", 0)
    if get_setting("ATTACHMENT_MAX_FILES") and (
        "django.core.files.uploadhandler.TemporaryFileUploadHandler" not in handlers
        or in_memory > 10 * 1024 * 1024
    ):
        messages.append(
            Warning(
                "Staff's files in the admin go through FILE_UPLOAD_HANDLERS, which here may "
                "hold each file in memory (up to ATTACHMENT_MAX_BYTES).",
                hint="Keep Django's TemporaryFileUploadHandler in FILE_UPLOAD_HANDLERS and "
                "FILE_UPLOAD_MAX_MEMORY_SIZE small (the default 2.5 MB).",
                id="support.W031",
            )
        )
    return messages
