import base64
import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from support import keys
from support.models import Ticket
from support.tickets import TicketRequest, file_ticket
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.receivers import HostSite, HttpReceiver, SmtpServer

ACCOUNT = uuid.UUID("291f43c1-deae-431c-b763-712307fa6859")
OTHER_ACCOUNT = uuid.UUID("0c7ae00c-ea43-4981-b454-90d4a8b1ac47")


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")


def basic(secret: str) -> str:
    return "Basic " + base64.b64encode(f"{secret}:".encode()).decode()


@pytest.fixture
def account_key(db):
    """An account key's secret, for ACCOUNT."""
    return keys.create_key(account_id=ACCOUNT, name="tests")[1]


@pytest.fixture
def service_key(db):
    return keys.create_key(name="site back end")[1]


@pytest.fixture
def api(account_key):
    """An API client holding ACCOUNT's key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(account_key))
    return client


@pytest.fixture
def service_api(service_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {service_key}")
    return client


def ticket_payload(**overrides) -> dict:
    """The seed document's example request."""
    payload = {
        "email_address": "jane@example.com",
        "subject": "package xyz",
        "account_id": str(ACCOUNT),
        "body": "please install package xyz for use with Python3",
        "tags": ["member"],
        "location": "/projects/0010abe1-9283-4b42-b403-fa4fc1e3be57/worksheet.sagews",
        "info": {"user_agent": "Mozilla/5.0", "course": "cc8f1243-d573-4562-9aab-c15a3872d683"},
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not ...}


@contextmanager
def statements():
    """Capture the SQL statements run inside, leaving out transaction control (BEGIN,
    COMMIT, savepoints): SQLite logs those, PostgreSQL's driver sends them unlogged."""
    with CaptureQueriesContext(connection) as context:
        captured: list[str] = []
        yield captured
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
    captured += [q["sql"] for q in context.captured_queries if not q["sql"].startswith(control)]


def run_worker() -> None:
    """Run every task that is due, as `manage.py db_worker` does, then return."""
    call_command("db_worker", "--batch", "--interval", "0", verbosity=0)


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a local port, which Django's mail goes to."""
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture
def http_receiver():
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def _orm_beside_playwright():
    # Playwright's sync API runs an asyncio loop in this thread while it is started, which
    # trips Django's guard against ORM calls from async code; the tests' own ORM calls (and
    # the test database's flushes) are plain sync code. Only while a module's browser runs.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(_orm_beside_playwright, django_db_setup):
    """One Chromium per test module, stopped before the next module's tests run (which
    must find no event loop running)."""
    if not Path(CHROMIUM).exists():
        message = f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + ": .ci/run installs it", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def desk(browser, live_server, transactional_db, settings):
    """The desk served to the browser, with links pointing at it; its URL."""
    settings.SUPPORT = {**settings.SUPPORT, "PUBLIC_URL": live_server.url}
    return live_server.url


@pytest.fixture
def page(browser, desk):
    """A fresh browser profile's page. `page.dialogs` records every alert() and the like
    (none may ever open: a script in a message must never run)."""
    context = browser.new_context()
    page = context.new_page()
    page.dialogs = []

    def record(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def host_site():
    site = HostSite().start()
    yield site
    site.stop()


def make_ticket(**fields) -> Ticket:
    """A ticket filed as the web form files one, then given `fields` (status, updated_at...)
    as if it had lived a while. Keys of ticket_payload() (subject, account_id, tags...)
    go into the request."""
    request_fields = {k: fields.pop(k) for k in list(fields) if k in TicketRequest.field_names()}
    payload = ticket_payload(**request_fields)
    if "email_address" in fields:
        payload["email_address"] = fields.pop("email_address")
    ticket = file_ticket(TicketRequest(**payload), channel=fields.pop("channel", "form")).ticket
    if fields:
        Ticket.objects.filter(pk=ticket.pk).update(**fields)
        ticket.refresh_from_db()
    return ticket


@pytest.fixture
def support_staff(db):
    """A staff user in the "Support staff" group (made by a migration), not a superuser."""
    user = User.objects.create_user(
        "agent", "agent@example.com", "pw", first_name="Ada", last_name="Agent", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Support staff"))
    return user


@pytest.fixture
def staff_client(support_staff):
    """A test client logged in to the admin as `support_staff`."""
    client = Client()
    client.force_login(support_staff)
    return client


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """TEST_REDIS_URL: a Redis database the tests may write to (each test writes keys of
    its own, and never clears the database). Skipped without one, except with CI set."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as err:
        message = f"needs Redis at {REDIS_URL} (set TEST_REDIS_URL): {err}"
        if os.environ.get("CI"):
            pytest.fail(message + ": .ci/run starts one", pytrace=False)
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture(params=["file", "redis"])
def shared_cache(request, settings, tmp_path) -> str:
    """The cache as deployed: the project's file cache, or Redis (with the socket timeouts
    of config/settings.py); the desk's cache namespace is this test's own. Its name."""
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    settings.SUPPORT = {**settings.SUPPORT, "CACHE_NAMESPACE": namespace}
    if request.param == "file":
        settings.CACHES = {
            "default": {"BACKEND": "support.filecache.FileCache", "LOCATION": tmp_path / "cache"}
        }
        yield request.param
        return
    import redis

    url = request.getfixturevalue("redis_url")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    yield request.param
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"*support:{namespace}:*"):
        client.delete(key)


@pytest.fixture
def postgres_url() -> str | None:
    """The test database's PostgreSQL server (its `postgres` database), for tests.stack
    (which makes databases of its own there); None on SQLite."""
    if connection.vendor != "postgresql":
        return None
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres"
