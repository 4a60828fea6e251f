"""Start-up checks catch settings the app cannot work with."""

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError


def check_ids(settings, **support) -> None:
    settings.SUPPORT = support
    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    return str(raised.value)


def test_missing_site_url_is_reported(settings):
    assert "support.E001" in check_ids(settings)


def test_site_url_must_be_absolute(settings):
    assert "support.E002" in check_ids(settings, SITE_URL="cocalc.com")


def test_rate_must_parse(settings):
    assert "support.E003" in check_ids(settings, SITE_URL="https://x.example", API_RATE="lots")


def test_max_request_bytes_must_be_positive(settings):
    out = check_ids(settings, SITE_URL="https://x.example", MAX_REQUEST_BYTES=0)
    assert "support.E004" in out


def test_forward_backend_that_cannot_be_imported_is_reported(settings):
    out = check_ids(
        settings, SITE_URL="https://x.example", PUBLIC_URL="https://s.example",
        FORWARD_BACKEND="support.backends.nowhere.ForwardBackend",
    )  # fmt: skip
    assert "support.E005" in out


def test_forward_backend_without_its_settings_is_reported(settings):
    out = check_ids(
        settings, SITE_URL="https://x.example", PUBLIC_URL="https://s.example",
        FORWARD_BACKEND="support.backends.zendesk.ForwardBackend", ZENDESK_URL=None,
    )  # fmt: skip
    assert "support.E006" in out
    assert "ZENDESK_URL" in out and "ZENDESK_API_TOKEN" in out


def test_mail_without_public_url_is_reported(settings):
    assert "support.E007" in check_ids(settings, SITE_URL="https://x.example")


def test_public_url_is_needed_for_staff_replies_alone(settings):
    # No confirmations, no staff notices: staff's replies from the admin are still mailed.
    out = check_ids(
        settings, SITE_URL="https://x.example", CONFIRM_TO_REQUESTER=False, STAFF_EMAILS=[]
    )

    assert "support.E007" in out and "staff's replies" in out
    assert "SUPPORT['PUBLIC_URL']" in out and "SUPPORT_PUBLIC_URL=" in out  # what to set


def test_missing_public_url_is_not_reported_in_development(settings):
    # Every command would say so; scripts/run sets it for the processes it starts.
    settings.DEBUG = True
    settings.SUPPORT = {**settings.SUPPORT, "PUBLIC_URL": None}

    assert [m.id for m in run_checks() if m.id.startswith("support.")] == []


@pytest.mark.parametrize("value", ["support.example.com", "ftp://support.example.com", "/x"])
def test_public_url_must_be_an_absolute_http_url(settings, value):
    assert "support.E008" in check_ids(settings, SITE_URL="https://x.example", PUBLIC_URL=value)


def test_good_settings_pass(settings):
    settings.SUPPORT = {
        "SITE_URL": "https://cocalc.com",
        "PUBLIC_URL": "https://support.example.com",
        "API_RATE": None,
        "FORWARD_BACKEND": "support.backends.webhook.ForwardBackend",
        "WEBHOOK_URL": "https://hooks.example.com/support",
        "WEBHOOK_SECRET": "s3cret",
    }
    call_command("check")


@pytest.mark.parametrize(
    ("setting", "value", "error"),
    [
        ("FORM_RATE", "lots", "support.E010"),
        ("FRAME_ANCESTORS", "https://cocalc.com", "support.E011"),
        ("FRAME_ANCESTORS", ["https://cocalc.com; script-src *"], "support.E011"),
        ("FRAME_ANCESTORS", ["*"], "support.E011"),
        ("FORM_USER", "nowhere.function", "support.E012"),
        ("IDENTITY_SECRET", "short", "support.E013"),
    ],
)
def test_bad_form_settings_are_reported(settings, setting, value, error):
    assert error in check_ids(settings, SITE_URL="https://x.example", **{setting: value})


def test_good_form_settings_pass(settings, tmp_path):
    settings.CACHES = {"default": {"BACKEND": "support.filecache.FileCache", "LOCATION": tmp_path}}
    settings.SUPPORT = {
        **settings.SUPPORT,
        "FORM_RATE": "10/min",
        "FRAME_ANCESTORS": ["https://cocalc.com", "http://localhost:3000", "https://*.x.org"],
        "FORM_USER": "support.requester.django_user",
        "IDENTITY_SECRET": "x" * 32,
    }

    assert [error.id for error in run_checks() if error.id.startswith("support.")] == []


@pytest.mark.parametrize(
    ("setting", "value", "error"),
    [
        ("CLIENT_RATE", "lots", "support.E020"),
        ("REPLY_RATE", "10/fortnight", "support.E020"),
        ("REPLY_CLIENT_RATE", "ten/h", "support.E020"),
        ("API_KEY_CACHE_SECONDS", -1, "support.E021"),
        ("API_KEY_CACHE_SECONDS", "60", "support.E021"),
    ],
)
def test_bad_limit_settings_are_reported(settings, setting, value, error):
    assert error in check_ids(settings, SITE_URL="https://x.example", **{setting: value})


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
        "django.core.cache.backends.filebased.FileBasedCache",
    ],
)
def test_rate_limits_on_a_cache_that_cannot_hold_them_are_reported(settings, tmp_path, backend):
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": str(tmp_path)}}
    settings.SUPPORT = {**settings.SUPPORT, "API_RATE": "10/min"}
    warnings = {m.id: m.msg for m in run_checks() if m.id.startswith("support.")}

    assert "API_RATE cannot hold" in warnings["support.W020"]

    every_limit = ("API_RATE", "CLIENT_RATE", "FORM_RATE", "REPLY_RATE", "REPLY_CLIENT_RATE")
    settings.SUPPORT = {**settings.SUPPORT, **dict.fromkeys(every_limit)}  # all off
    assert "support.W020" not in {m.id for m in run_checks()}


def test_redis_without_socket_timeouts_is_reported(settings):
    redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}
    settings.CACHES = {"default": redis}
    assert "support.W021" in {m.id for m in run_checks()}

    settings.CACHES = {
        "default": {**redis, "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
    }
    assert "support.W021" not in {m.id for m in run_checks()}


@pytest.mark.parametrize("app", ["rest_framework", "drf_spectacular", "django_tasks"])
def test_a_required_app_missing_is_named(settings, app):
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != app]
    errors = [e for e in run_checks() if e.id == "support.E014"]
    assert len(errors) == 1
    assert repr(app) in errors[0].msg and "INSTALLED_APPS" in errors[0].hint


@pytest.mark.parametrize(
    "tasks",
    [
        {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
        {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}},
        {},  # django-tasks' default is the immediate backend
    ],
)
def test_a_task_backend_without_workers_is_refused(settings, tasks):
    settings.TASKS = tasks
    errors = [e for e in run_checks() if e.id == "support.E015"]
    assert len(errors) == 1
    assert "django_tasks_db.DatabaseBackend" in errors[0].hint


def test_a_schema_class_other_than_drf_spectaculars_is_refused(settings):
    settings.REST_FRAMEWORK = {}
    errors = [e for e in run_checks() if e.id == "support.E016"]
    assert len(errors) == 1
    assert "drf_spectacular.openapi.AutoSchema" in errors[0].hint
