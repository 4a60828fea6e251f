"""Every view that takes a body reads it through the same checks (support.bodies), under
real gunicorn: a malformed chunked body is a 400 "cut off" on every endpoint (JSON from the
API, the refusal page elsewhere) and is counted by the throttles; the widget's opening POST
is checked like every other (size, framing, charset)."""

import io
import json
import re
import socket
from urllib.parse import urlencode

import pytest
import requests
from django.db import connection
from django.urls import reverse

from support import urls as support_urls
from tests.stack import Stack, free_port
from tests.test_chunked import chunks, served  # noqa: F401  (the module's gunicorn)

LIMIT = 1024 * 1024  # the default SUPPORT["MAX_REQUEST_BYTES"]
# Chunked bodies gunicorn cannot read: InvalidChunkSize, ChunkMissingTerminator,
# InvalidChunkExtension (none of them an OSError).
BROKEN_CHUNKS = {
    "size not hex": b"zz\r\nabc\r\n0\r\n\r\n",
    "no terminator": b"3\r\nabcXX0\r\n\r\n",
    "bad extension": b"3;\x01\r\nabc\r\n0\r\n\r\n",
}


def raw_request(url: str, head: str, body: bytes = b"") -> tuple[int, dict, bytes]:
    """Send `head` (request line and headers, without the blank line) and `body` as they
    are; (status, headers, body) of the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\nConnection: close\r\n\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, content = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    if headers.get("transfer-encoding") == "chunked":
        content = unchunked(content)
    return int(status_line.split()[1]), headers, content


def unchunked(content: bytes) -> bytes:
    body = b""
    while True:
        size, _, rest = content.partition(b"\r\n")
        if not int(size, 16):
            return body
        body, content = body + rest[: int(size, 16)], rest[int(size, 16) + 2 :]


def ticket_page(url: str, key: str) -> str:
    filed = requests.post(
        f"{url}/api/v1/create_support_ticket",
        json={"email_address": "jane@example.com", "subject": "Body checks", "body": "help"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert filed.status_code == 200, filed.text
    return filed.json()["url"].removeprefix(url)


def endpoints(url: str, key: str) -> dict[str, str]:
    page = ticket_page(url, key)
    return {
        "api create": "/api/v1/create_support_ticket",
        "api list": "/api/v1/get_support_tickets",
        "help form": "/support/new/",
        "embedded form": "/support/embed/",
        "widget's opening": "/support/embed/open/",
        "ticket page": page,
        "solved": page + "solved/",
        "admin login": "/admin/login/",
    }


def post_chunked(url: str, path: str, key: str, body: bytes, content_type: str, extra=""):
    auth = f"\r\nAuthorization: Bearer {key}" if path.startswith("/api/") else ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1{auth}\r\nContent-Type: {content_type}\r\n"
        f"Transfer-Encoding: chunked{extra}"
    )
    return raw_request(url, head, body)


@pytest.mark.parametrize("broken", BROKEN_CHUNKS)
def test_a_malformed_chunked_body_is_a_400_cut_off_everywhere(served, broken):  # noqa: F811
    url, key, _ = served
    for name, path in endpoints(url, key).items():
        for content_type in ("application/json", "application/x-www-form-urlencoded"):
            status, headers, content = post_chunked(
                url, path, key, BROKEN_CHUNKS[broken], content_type
            )

            assert status == 400, (name, content_type, content[:300])
            if path.startswith("/api/"):
                assert headers["content-type"] == "application/json", name
                answer = json.loads(content)
                assert answer["event"] == "error" and "cut off" in answer["error"], name
            else:
                assert headers["content-type"].startswith("text/html"), name
                assert b"Your request could not be read" in content, name
                assert b"The request was cut off" in content, name


@pytest.fixture(scope="module")
def strict(tmp_path_factory, django_db_blocker):
    """gunicorn whose per-client and per-key limits allow 2 requests a minute."""
    with django_db_blocker.unblock():
        db = connection.settings_dict
        postgres = connection.vendor == "postgresql"
    postgres_url = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres"
    stack = Stack(
        tmp_path_factory.mktemp("strict"),
        postgres_url if postgres else None,
        SUPPORT_CLIENT_RATE="2/min",
        SUPPORT_API_RATE="2/min",
        SUPPORT_FORM_IP_HEADER="HTTP_X_FORWARDED_FOR",  # a client of its own for each test
    )
    try:
        key = stack.manage("support_keys", "create", "--service").splitlines()[-1]
        yield stack.serve(workers=1, port=free_port()), key
    finally:
        stack.close()


@pytest.mark.parametrize(
    "path", ["/api/v1/create_support_ticket", "/support/new/", "/support/embed/open/"]
)
def test_malformed_bodies_are_counted_by_the_throttles(strict, path):
    url, key = strict
    client = f"\r\nX-Forwarded-For: 192.0.2.{len(path)}"
    body = BROKEN_CHUNKS["size not hex"]
    statuses = [post_chunked(url, path, key, body, FORM, client)[0] for _ in range(3)]

    assert statuses == [400, 400, 429]


def test_every_requester_view_reads_its_body_through_the_checks():
    for pattern in support_urls.urlpatterns:
        assert getattr(pattern.callback, "support_reads_body", False), pattern.name
        assert getattr(pattern.callback, "csrf_exempt", False), pattern.name  # checked after


# --- the widget's opening POST, checked like every other body


def open_widget(url: str, body: bytes, content_type: str, *, chunked: bool):
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"
    if chunked:
        body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks(body, 65536)) + b"0\r\n\r\n"
    head = (
        f"POST /support/embed/open/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: {content_type}\r\n{framing}"
    )
    return raw_request(url, head, body)


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize("chunked", [False, True])
def test_the_widget_opening_reads_a_body_as_sent(served, chunked):  # noqa: F811
    url, _, _ = served
    body = urlencode({"location": "/projects/opening-marker", "language": "de"}).encode()

    status, headers, content = open_widget(url, body, FORM, chunked=chunked)

    assert status == 200
    assert b'value="/projects/opening-marker"' in content
    assert "frame-ancestors" in headers["content-security-policy"]


@pytest.mark.parametrize("chunked", [False, True])
def test_the_widget_opening_over_the_limit_is_a_413_page(served, chunked):  # noqa: F811
    url, _, _ = served
    body = b"location=/" + b"a" * LIMIT

    status, headers, content = open_widget(url, body, FORM, chunked=chunked)

    assert status == 413
    assert headers["content-type"].startswith("text/html")
    assert b"too large" in content and b"aaaaaaaaaa" not in content
    assert "frame-ancestors" in headers["content-security-policy"]  # shown in the iframe


@pytest.mark.parametrize("charset", ["utf-7", "latin-1", "nonsense"])
def test_the_widget_opening_in_another_charset_is_a_415_page(served, charset):  # noqa: F811
    url, _, _ = served
    body = b"location=%2Fx&language=%2B2AA-"

    status, headers, content = open_widget(url, body, f"{FORM}; charset={charset}", chunked=False)

    assert status == 415
    assert headers["content-type"].startswith("text/html")
    assert b"UTF-8" in content


def test_the_widget_opening_the_dev_server_cannot_read_is_a_411_page(wsgi):
    status, headers, content = wsgi("/support/embed/open/", b"location=%2Fx", FORM)

    assert status == 411
    assert headers["Content-Type"].startswith("text/html")
    assert "Content-Length" in content.decode()
    assert re.search(r"<h1>Your request could not be read</h1>", content.decode())


def test_the_opening_utf7_on_the_dev_server_is_a_415_page(wsgi):
    status, _, content = wsgi(
        reverse("support:embedded_open"),
        b"location=%2Fx",
        f"{FORM}; charset=utf-7",
        CONTENT_LENGTH="13",
        HTTP_TRANSFER_ENCODING="",
        **{"wsgi.input": io.BytesIO(b"location=%2Fx")},
    )

    assert status == 415, content[:500]
