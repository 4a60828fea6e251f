"""The cache is not the database: the desk files tickets when its cache is down or hangs,
and desks that share one Redis never read each other's entries."""

import logging
import socket
import threading
import uuid

import pytest
import requests
from django.core import mail
from django.db import connection
from django.test import Client

from support.models import Delivery, Ticket
from tests.conftest import ACCOUNT, followups, run_worker, ticket_payload
from tests.stack import Stack, free_port
from tests.test_form import open_form, send

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/create_support_ticket"


@pytest.fixture(params=["redis", "file"])
def unreachable_cache(request, settings, tmp_path):
    """Redis at a port where nothing listens (as configured: with socket timeouts), or
    the file cache in a directory that cannot be made (a file is in the way)."""
    if request.param == "redis":
        cache = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    else:
        (tmp_path / "var").write_text("")
        cache = {"BACKEND": "support.filecache.FileCache", "LOCATION": tmp_path / "var" / "cache"}
    settings.CACHES = {"default": cache}
    settings.SUPPORT = {
        **settings.SUPPORT,
        "API_RATE": "1/min",
        "CLIENT_RATE": "1/min",
        "FORM_RATE": "1/h",
        "REPLY_RATE": "1/h",
    }


def cache_errors(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "support.cache" and r.levelno == logging.ERROR
    ]


@pytest.mark.django_db(transaction=True)  # as served: the worker is woken on commit
def test_api_files_tickets_with_the_cache_unreachable(unreachable_cache, api, caplog):
    # Three creates without an id, as a client that retries would send them.
    responses = [api.post(CREATE, ticket_payload(id=...), format="json") for _ in range(3)]

    assert [r.status_code for r in responses] == [200] * 3  # rate limits fail open
    ids = {r.json()["id"] for r in responses}
    assert set(map(str, Ticket.objects.values_list("pk", flat=True))) == ids
    errors = cache_errors(caplog)
    assert len(errors) == 1  # said once, not once per request
    assert "rate limits are not enforced" in errors[0]
    assert "API keys are looked up in the database" in errors[0]

    run_worker()  # the worker is woken without the cache's flag

    assert sorted(m.to[0] for m in mail.outbox) == ["jane@example.com"] * 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_form_and_ticket_page_work_with_the_cache_unreachable(unreachable_cache, caplog):
    client = Client()
    for subject in ("one", "two"):  # over FORM_RATE and CLIENT_RATE: they fail open
        assert send(client, open_form(client), subject=subject).status_code == 302
    ticket = Ticket.objects.get(subject="two")

    page = client.get(ticket.requester_path())
    reply = client.post(ticket.requester_path(), {"body": "More details."})

    assert page.status_code == 200
    assert reply.status_code == 302
    assert followups(ticket).get().body == "More details."
    assert cache_errors(caplog)


class SilentServer:
    """A "Redis" that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent_redis():
    server = SilentServer()
    yield server
    server.close()


def test_a_cache_that_hangs_cannot_hang_the_desk(tmp_path, postgres_url, silent_redis):
    # The project's own settings, with CACHE_URL pointing at the silent server: the socket
    # timeouts are config/settings.py's.
    stack = Stack(
        tmp_path,
        postgres_url,
        CACHE_URL=f"redis://127.0.0.1:{silent_redis.port}/0",
        SUPPORT_API_RATE="1/min",
        SUPPORT_PUBLIC_URL="http://support.example.com",
    )
    try:
        stack.log_file = tmp_path / "desk.log"
        key = stack.manage("support_keys", "create", "--service").splitlines()[-1]
        url = stack.serve(workers=1)
        responses = [
            requests.post(
                f"{url}{CREATE}",
                json={"email_address": f"u{i}@example.com", "subject": "Hi", "body": "Help"},
                headers={"Authorization": f"Bearer {key}"},
                timeout=15,  # a request that hangs fails the test here
            )
            for i in range(3)
        ]
        assert [r.status_code for r in responses] == [200] * 3
        assert stack.query("SELECT count(*) FROM support_ticket") == [(3,)]

        stack.manage("db_worker", "--batch", "--interval", "0")

        assert stack.query("SELECT kind, status, count(*) FROM support_delivery GROUP BY 1, 2") == [
            ("confirmation", "sent", 3)
        ]
        assert "ERROR support.cache: The cache (CACHES['default']) failed" in stack.log()
    finally:
        stack.close()


@pytest.fixture(scope="module")
def two_desks(tmp_path_factory, redis_url):
    """Two desks (each its own database) sharing one Redis, each with two account keys
    (`keys`) and served by gunicorn (`url`)."""
    postgres = None
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        postgres = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres"
    desks = []
    try:
        for name in ("a", "b"):
            stack = Stack(
                tmp_path_factory.mktemp(f"desk-{name}"),
                postgres,
                CACHE_URL=redis_url,
                SUPPORT_API_RATE="3/min",
                SUPPORT_PUBLIC_URL=f"http://desk-{name}.example.com",
            )
            desks.append(stack)
            stack.keys = [
                stack.manage("support_keys", "create", "--account-id", str(ACCOUNT)).split()[-1]
                for _ in range(2)
            ]
            stack.url = stack.serve(workers=1)
        yield desks
    finally:
        for stack in desks:
            stack.close()


def create(stack: Stack, key: str) -> requests.Response:
    return requests.post(
        f"{stack.url}{CREATE}",
        json={"email_address": "a@example.com", "subject": f"{uuid.uuid4()}", "body": "Help"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def test_a_key_of_one_desk_is_unknown_on_the_other(two_desks):
    a, b = two_desks
    assert create(a, a.keys[0]).status_code in (200, 429)  # A's key is now in the cache
    stored_on_b = b.query("SELECT count(*) FROM support_ticket")

    response = create(b, a.keys[0])

    assert response.status_code == 401
    assert b.query("SELECT count(*) FROM support_ticket") == stored_on_b


def test_each_desk_counts_its_own_key_number_one(two_desks):
    a, b = two_desks
    # Key number 1 of each desk (each database numbers its keys from 1).
    assert b.query("SELECT id FROM support_apikey ORDER BY id LIMIT 1") == [(1,)]
    statuses = [create(a, a.keys[0]).status_code for _ in range(4)]
    assert statuses[-1] == 429

    assert create(b, b.keys[0]).status_code == 200


def test_each_desk_wakes_its_own_worker(two_desks):
    a, b = two_desks
    # One after the other, within the wake-up flag's 10 s.
    assert create(a, a.keys[1]).status_code == 200
    assert create(b, b.keys[1]).status_code == 200

    b.manage("db_worker", "--batch", "--interval", "0")

    assert b.query("SELECT count(*) FROM support_ticket WHERE unplanned_deliveries <> ''") == [(0,)]
    assert b.query("SELECT count(*) FROM support_delivery WHERE status = 'sent'")[0][0] >= 1
