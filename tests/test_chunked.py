"""Bodies without a Content-Length (`Transfer-Encoding: chunked`, as HTTP clients stream
them) are read, never taken for empty: under real gunicorn, for the API and the
requester's pages, with the size limit holding for what is read. Where the server cannot
hand such a body over (Django's development server: no `wsgi.input_terminated`), the
answer is a 411: JSON from the API, a page from the pages."""

import io
import json
import re
import uuid
from urllib.parse import urlencode

import pytest
import requests
from django.db import connection
from urllib3 import encode_multipart_formdata

from support.models import Ticket
from tests.stack import Stack, free_port
from tests.test_form import form_fields

LIMIT = 1024 * 1024  # the default SUPPORT["MAX_REQUEST_BYTES"]
PAYLOAD = {"email_address": "jane@example.com", "subject": "Streamed", "body": "help"}


@pytest.fixture(scope="module")
def served(tmp_path_factory, django_db_blocker):
    """gunicorn on a database of its own (PostgreSQL when the suite runs on it), with a
    service key; (url, key, stack)."""
    with django_db_blocker.unblock():
        postgres = connection.vendor == "postgresql"
        db = connection.settings_dict
    postgres_url = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres"
    port = free_port()
    stack = Stack(
        tmp_path_factory.mktemp("chunked"),
        postgres_url if postgres else None,
        SUPPORT_FORM_MIN_SECONDS="0",
        SUPPORT_FORM_RATE="",
        SUPPORT_CONFIRM_TO_REQUESTER="false",
        SUPPORT_PUBLIC_URL=f"http://127.0.0.1:{port}",  # links to gunicorn's address
    )
    try:
        key = stack.manage("support_keys", "create", "--service").splitlines()[-1]
        yield stack.serve(workers=1, port=port), key, stack
    finally:
        stack.close()


def chunks(data: bytes, size: int = 8192):
    """A body requests sends with `Transfer-Encoding: chunked` (a generator has no length)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def count(stack: Stack, where: str = "1=1") -> int:
    return stack.query(f"SELECT count(*) FROM support_ticket WHERE {where}")[0][0]


def api_post(url, key, call, body: bytes, content_type="application/json"):
    response = requests.post(
        f"{url}/api/v1/{call}",
        data=chunks(body),
        headers={"Authorization": f"Bearer {key}", "Content-Type": content_type},
        timeout=30,
    )
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.request.headers
    return response


def test_chunked_json_ticket_is_filed_whole(served):
    url, key, stack = served
    ticket_id = str(uuid.uuid4())
    body = json.dumps({**PAYLOAD, "id": ticket_id, "tags": ["chunked"]}).encode()

    response = api_post(url, key, "create_support_ticket", body)

    assert response.status_code == 200, response.text
    assert response.json()["id"] == ticket_id
    assert stack.query(
        "SELECT m.body, t.tags FROM support_ticket t JOIN support_message m ON m.ticket_id = t.id"
        " WHERE t.subject = 'Streamed'"
    ) == [("help", ["chunked"] if stack.postgres_url else '["chunked"]')]


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart"])
def test_chunked_form_body_is_read(served, content_type):
    url, key, stack = served
    subject = f"Form {content_type[:9]}"
    fields = {**PAYLOAD, "subject": subject}
    if content_type == "multipart":
        body, content_type = encode_multipart_formdata(fields)
    else:
        body = urlencode(fields).encode()

    response = api_post(url, key, "create_support_ticket", body, content_type)

    assert response.status_code == 200, response.text
    assert count(stack, f"subject = '{subject}'") == 1


def test_chunked_list_query_is_read(served):
    url, key, _ = served
    account = str(uuid.uuid4())
    body = json.dumps({"id": "q-chunked", "account_id": account, "limit": 5}).encode()

    response = api_post(url, key, "get_support_tickets", body)

    assert response.status_code == 200, response.text
    assert response.json()["id"] == "q-chunked"


def test_chunked_body_just_under_the_limit_is_read(served):
    url, key, stack = served
    text = "x" * (LIMIT - len(sized(subject="Just under", body="")))
    body = sized(subject="Just under", body=text)
    assert len(body) == LIMIT

    response = api_post(url, key, "create_support_ticket", body)

    assert response.status_code == 200, response.text
    [(length,)] = stack.query(
        "SELECT length(m.body) FROM support_ticket t JOIN support_message m"
        " ON m.ticket_id = t.id WHERE t.subject = 'Just under'"
    )
    assert length == len(text)


@pytest.mark.parametrize("over", [1, 300_000])
def test_chunked_body_over_the_limit_is_a_json_413_and_stores_nothing(served, over):
    url, key, stack = served
    body = sized(subject="Over", body="x" * (LIMIT - len(sized(subject="Over", body="")) + over))
    assert len(body) == LIMIT + over

    response = api_post(url, key, "create_support_ticket", body)

    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["event"] == "error" and "too large" in response.json()["error"]
    assert count(stack, "subject = 'Over'") == 0


def sized(**fields) -> bytes:
    return json.dumps({**PAYLOAD, **fields}).encode()


def page_session(url: str, path: str) -> tuple[requests.Session, dict]:
    """A browser's session on the page at `path`: its cookies and its form's fields."""
    session = requests.Session()
    response = session.get(url + path, timeout=30)
    assert response.status_code == 200
    return session, form_fields(response.text)


def test_help_form_sent_chunked_files_the_ticket(served):
    url, _, stack = served
    session, fields = page_session(url, "/support/new/")
    data = {**fields, **PAYLOAD, "subject": "From the form, chunked", "send": "1"}

    response = session.post(
        url + "/support/new/",
        data=chunks(urlencode(data).encode()),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
        timeout=30,
    )

    assert response.status_code == 302, response.text[:2000]
    assert "/support/new/sent/" in response.headers["Location"]
    assert count(stack, "subject = 'From the form, chunked'") == 1


def test_help_form_sent_chunked_keeps_its_csrf_check(served):
    url, _, stack = served
    session, fields = page_session(url, "/support/new/")
    data = {**fields, **PAYLOAD, "subject": "Forged", "csrfmiddlewaretoken": "forged" * 6}

    response = session.post(
        url + "/support/new/",
        data=chunks(urlencode(data).encode()),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )

    assert response.status_code == 403
    assert count(stack, "subject = 'Forged'") == 0


def test_help_form_sent_chunked_over_the_limit_is_a_413_page(served):
    url, _, stack = served
    session, fields = page_session(url, "/support/new/")
    data = {**fields, **PAYLOAD, "subject": "Huge form", "body": "x" * LIMIT}

    response = session.post(
        url + "/support/new/",
        data=chunks(urlencode(data).encode()),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )

    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("text/html")
    assert "too large" in response.text
    assert count(stack, "subject = 'Huge form'") == 0


def test_reply_sent_chunked_is_stored(served):
    url, key, stack = served
    filed = requests.post(
        f"{url}/api/v1/create_support_ticket",
        json={**PAYLOAD, "subject": "Needs a reply"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    page = filed.json()["url"]
    session, fields = page_session(url, page.removeprefix(url))

    response = session.post(
        page,
        data=chunks(urlencode({**fields, "body": "Streamed reply"}).encode()),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
        timeout=30,
    )

    assert response.status_code == 302, response.text[:2000]
    assert stack.query("SELECT count(*) FROM support_message WHERE body = 'Streamed reply'") == [
        (1,)
    ]


# Django's development server hands Django the raw socket: no `wsgi.input_terminated`.


def test_api_body_the_server_cannot_read_is_a_json_411(wsgi, account_key):
    status, headers, content = wsgi(
        "/api/v1/create_support_ticket",
        json.dumps(PAYLOAD).encode(),
        "application/json",
        HTTP_AUTHORIZATION=f"Bearer {account_key}",
    )

    assert status == 411
    assert headers["Content-Type"] == "application/json"
    body = json.loads(content)
    assert body["event"] == "error" and "Content-Length" in body["error"]
    assert "fields" not in body  # never "every field is missing"


@pytest.mark.parametrize("path", ["/support/new/", "/support/embed/"])
def test_page_body_the_server_cannot_read_is_a_411_page(wsgi, path):
    status, headers, content = wsgi(
        path, urlencode({**PAYLOAD, "send": "1"}).encode(), "application/x-www-form-urlencoded"
    )

    assert status == 411
    assert headers["Content-Type"].startswith("text/html")
    assert re.search(r"<h1>Your request could not be read</h1>", content.decode())
    assert "Content-Length" in content.decode()


def test_reply_the_server_cannot_read_is_a_411_page(wsgi, api):
    filed = api.post("/api/v1/create_support_ticket", PAYLOAD, format="json").json()

    status, _, content = wsgi(
        filed["url"].removeprefix("http://testserver"),
        b"body=hello",
        "application/x-www-form-urlencoded",
    )

    assert status == 411
    assert "Content-Length" in content.decode()


def test_wsgi_server_that_ends_the_input_gets_the_body_read(wsgi, account_key):
    """The same request from a server that sets wsgi.input_terminated (gunicorn does):
    the app reads the body itself."""
    unframed = io.BytesIO(json.dumps(PAYLOAD).encode())  # what gunicorn's input reads

    status, _, content = wsgi(
        "/api/v1/create_support_ticket", b"", "application/json",
        HTTP_AUTHORIZATION=f"Bearer {account_key}",
        **{"wsgi.input": unframed, "wsgi.input_terminated": True},
    )  # fmt: skip

    assert status == 200, content
    assert json.loads(content)["event"] == "support_ticket_url"


def test_asgi_body_without_a_length_is_read(transactional_db, account_key, monkeypatch):
    """Under an ASGI server (config/asgi.py) Django's handler has the whole body, but its
    request has no CONTENT_LENGTH to size it by: the app reads it. (The view runs in a
    thread of its own, hence a database without a test transaction.)"""
    from asgiref.sync import async_to_sync
    from asgiref.testing import ApplicationCommunicator
    from django.core.asgi import get_asgi_application

    body = json.dumps({**PAYLOAD, "subject": "Over ASGI"}).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/create_support_ticket", "raw_path": b"",
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                    (b"transfer-encoding", b"chunked"),
                    (b"authorization", f"Bearer {account_key}".encode())],
    }  # fmt: skip

    async def exchange():
        app = ApplicationCommunicator(get_asgi_application(), scope)
        for part in chunks(body, 10):
            await app.send_input({"type": "http.request", "body": part, "more_body": True})
        await app.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await app.receive_output(10)
        content = await app.receive_output(10)
        return start["status"], content["body"]

    # The request's thread closes its connection when the request ends, as it should.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    status, content = async_to_sync(exchange)()

    assert status == 200, content
    assert Ticket.objects.get().subject == "Over ASGI"
