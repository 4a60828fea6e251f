"""Settings of the deployable project, read from the environment (see .env.example)."""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

import support
from support.conf import known_settings

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")


def support_settings(env: environ.Env) -> dict:
    """SUPPORT from the environment: every setting of the app and its built-in backends
    whose SUPPORT_<NAME> is set, read as its declared type (an empty text is None, an empty
    list []); settings that are not set are left out, so the app's defaults apply."""
    readers = {bool: env.bool, int: env.int, float: env.float, dict: env.json}
    values = {}
    for setting in known_settings():
        variable = f"SUPPORT_{setting.name}"
        raw = os.environ.get(variable)  # .env is read into the environment above
        if raw is None:
            continue
        if setting.kind is str:
            values[setting.name] = raw or None
        elif setting.kind is list:
            values[setting.name] = [item.strip() for item in raw.split(",") if item.strip()]
        else:
            values[setting.name] = readers[setting.kind](variable)
    return values


DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=true for local development)."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "support",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work beside the one writer; IMMEDIATE transactions take the write
    # lock up front, so concurrent writers wait (up to `timeout` seconds) instead of
    # failing with "database is locked" when a read lock cannot be upgraded.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# The rate limits must be shared by every worker process: the default file cache is shared
# on one machine; set CACHE_URL=redis://... when serving from several machines.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{BASE_DIR / 'var' / 'cache'}")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache":
    # Django's file cache culls a random third of its entries at 300, counters included,
    # and counts without a lock: support's keeps counters (see support/filecache.py).
    CACHES["default"]["BACKEND"] = "support.filecache.FileCache"
elif CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # A Redis that hangs must not hang requests: give up on it after a second (the desk
    # then works without the cache, see support/cache.py). ?socket_timeout=... overrides.
    CACHES["default"].setdefault("OPTIONS", {})
    CACHES["default"]["OPTIONS"].setdefault("socket_connect_timeout", 1)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", 1)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "var" / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Serve static files without `collectstatic` when running from a checkout. Once
# `collectstatic` has run (production), serve what it collected: compressed copies included.
WHITENOISE_USE_FINDERS = DEBUG or not Path(STATIC_ROOT).is_dir()

SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", False) else None
)

# E-mail: printed to the console unless EMAIL_URL names a server, e.g.
# smtp+tls://user:password@smtp.example.com:587
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="support@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background tasks (e-mail, forwarding). The database backend needs no other server: run
# `manage.py db_worker` beside the web server. For a broker, e.g. Redis through
# django-tasks-rq: SUPPORT_TASKS_BACKEND=django_tasks_rq.RQBackend (see README).
TASKS = {
    "default": {
        "BACKEND": env("SUPPORT_TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Support desk API",
    "DESCRIPTION": (
        "File support tickets and list an account's tickets. Wire-compatible with "
        "CoCalc's `create_support_ticket` and `get_support_tickets`."
    ),
    "VERSION": support.__version__,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# The app's settings (support/conf.py declares each, with its default and type): those
# whose SUPPORT_<NAME> is set in the environment, read as their type; the rest keep the
# app's defaults. SITE_URL has none, and PUBLIC_URL none that links anywhere: unset, start-up
# stops (support.E001, and E007 when DEBUG is off); scripts/run sets both.
SUPPORT = support_settings(env)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Django logs the path of every 4xx and 5xx: hide the secrets of ticket links in it.
    "filters": {"redact": {"()": "support.logs.RedactSecrets"}},
    "formatters": {
        "level": {"format": "%(levelname)s %(name)s: %(message)s"},
        # The development server's request lines, as Django writes them.
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"], "formatter": "level"},
        "server": {"class": "logging.StreamHandler", "filters": ["redact"], "formatter": "server"},
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # Django's own handlers (its console while DEBUG is on, the development server's request
    # lines, mail to ADMINS) would write paths as they are: every record of Django's goes
    # through the handlers above instead.
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": ["server"], "propagate": False},
    },
}
