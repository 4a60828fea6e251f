import base64
import io
import os
import re
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image
from rest_framework.test import APIClient

from support import attachments, conversation, keys
from support.models import Account, ApiKey, Attachment, Delivery, Message, Ticket
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


def followups(ticket: Ticket | None = None):
    """The messages that followed the requests that opened tickets (`ticket`'s only, if
    given): replies, notes and the requester's answers, without the request itself."""
    messages = Message.objects.exclude(
        kind=Message.Kind.REQUESTER, created_at=F("ticket__created_at")
    )
    return messages.filter(ticket=ticket) if ticket is not None else messages


def png_bytes(width: int = 640, height: int = 400, color: str = "teal") -> bytes:
    """A real PNG picture."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    """A file as a browser or client uploads it (the header type is the client's claim)."""
    return SimpleUploadedFile(name, content, content_type)


def checked(*files) -> list:
    """`files` checked as the app checks uploads (support.attachments), all passing."""
    uploads, refusals = attachments.check(files)
    assert not refusals, refusals
    return uploads


def make_ticket(**fields) -> Ticket:
    """A ticket filed as the web form files one, then given `fields` (status, updated_at...)
    as if it had lived a while. Keys of ticket_payload() (subject, account_id, tags...)
    go into the request, and `attachments` (checked uploads) with it."""
    request_fields = {k: fields.pop(k) for k in list(fields) if k in TicketRequest.field_names()}
    payload = ticket_payload(**request_fields)
    if "email_address" in fields:
        payload["email_address"] = fields.pop("email_address")
    ticket = file_ticket(
        TicketRequest(**payload), channel=fields.pop("channel", "form"),
        attachments=fields.pop("attachments", ()),
    ).ticket  # fmt: skip
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


@pytest.fixture
def wsgi(db):
    """Call the project's WSGI application as a server would; (status, headers, body)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    application = get_wsgi_application()

    def call(path: str, body: bytes, content_type: str, **environ):
        # By default as the development server passes a chunked body: the socket, chunk
        # framing and all, without a CONTENT_LENGTH or `wsgi.input_terminated`.
        framed = b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + 8192]), body[i : i + 8192])
                          for i in range(0, len(body), 8192))  # fmt: skip
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "",
            "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": content_type, "HTTP_TRANSFER_ENCODING": "chunked",
            "wsgi.input": io.BytesIO(framed + b"0\r\n\r\n"), "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(), "wsgi.multithread": False,
            "wsgi.multiprocess": False, "wsgi.run_once": False, "wsgi.version": (1, 0),
            **environ,
        }  # fmt: skip
        started = {}

        def start_response(status, headers, exc_info=None):
            started.update(status=int(status.split()[0]), headers=dict(headers))

        result = application(environ, start_response)
        content = b"".join(result)
        result.close()
        return started["status"], started["headers"], content

    yield call
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def app_data(db, support_staff):
    """One of everything the app stores: a ticket with a reply, a note and a delivery, an
    account key, and an entry in the ticket's history."""
    ticket = make_ticket(subject="Quarterly invoice wrong", email_address="jane@example.com")
    conversation.reply(
        ticket, author=support_staff, body="Fixed the invoice.",
        attachments=checked(upload("invoice.png", png_bytes())),
    )  # fmt: skip
    conversation.add_note(ticket, author=support_staff, body="Refund 40 EUR")
    key, _ = keys.create_key(account_id=ACCOUNT, name="jane's script")
    ticket.refresh_from_db()
    LogEntry.objects.create(
        user=support_staff, content_type=ContentType.objects.get_for_model(Ticket),
        object_id=str(ticket.pk), object_repr=str(ticket), action_flag=CHANGE,
        change_message="Replied.",
    )  # fmt: skip
    return {
        Ticket: ticket,
        Account: Account.objects.get(pk=ticket.pk),
        ApiKey: key,
        Delivery: Delivery.objects.get(kind="reply"),
        Message: ticket.messages.first(),
        Attachment: Attachment.objects.get(),
    }


def app_admin_urls(data: dict) -> list[str]:
    """Every URL of the admin that touches the app's models, found in the admin's own URL
    patterns (so that a page added later is covered): each ModelAdmin's pages with real
    ids, the app's index, "view on site" for each model, autocomplete for each relation."""
    urls = ["/admin/support/"]
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "support":
            continue
        base = f"/admin/support/{model._meta.model_name}/"
        for pattern in model_admin.urls:
            route = str(pattern.pattern)
            route = re.sub(r"<uuid:account_id>", str(ACCOUNT), route)
            route = re.sub(r"<uuid:file_id>", str(data[Attachment].pk), route)
            route = re.sub(r"<(?:path|int):object_id>", str(data[model].pk), route)
            assert "<" not in route, f"a converter this test does not fill: {route}"
            urls.append(base + route)
    for model in apps.get_app_config("support").get_models():
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
        urls.append(f"/admin/r/{content_type.pk}/{data[model].pk}/")
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete:
                urls.append(
                    f"/admin/autocomplete/?app_label=support&model_name="
                    f"{model._meta.model_name}&field_name={field.name}&term=a"
                )
    return urls


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
