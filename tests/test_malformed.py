"""Whatever a client sends, and whatever Django or DRF raise reading it, the API answers
with JSON in the contract's shape, never a 500 or an HTML page; the requester's pages
answer with a page, never a 500."""

import io
import json

import pytest
from django.test import Client

from support.models import Ticket
from tests.conftest import make_ticket, ticket_payload

CREATE = "/api/v1/create_support_ticket"
LIST = "/api/v1/get_support_tickets"
CALLS = pytest.mark.parametrize("url", [CREATE, LIST], ids=["create", "list"])
pytestmark = pytest.mark.django_db


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["event"] == "error"
    assert isinstance(body["error"], str) and body["error"]
    assert body["id"] is None or isinstance(body["id"], str)
    return body


def raw(client, url, text: str | bytes, content_type="application/json"):
    return client.post(url, text, content_type=content_type)


class Broken(io.BytesIO):
    """A client that went away in the middle of its body."""

    def read(self, *args):
        raise OSError("connection reset by peer")


# Echoed back: ids and unknown field names with lone surrogates.


@pytest.mark.parametrize("query_id", ['"\\udfff"', '"\\ud800"', '"a\\udc00b"'])
@CALLS
def test_id_that_cannot_be_encoded_is_refused_and_not_echoed(api, url, query_id):
    body = assert_error(raw(api, url, f'{{"id": {query_id}}}'), 400)

    assert body["id"] is None
    assert "id" in body["fields"]


def test_id_that_cannot_be_encoded_in_a_query_string_is_a_json_error(api):
    # A query string is read as UTF-8, which cannot yield a lone surrogate: the id is
    # what the bytes say, or U+FFFD.
    response = api.get(LIST + "?id=%ED%A0%80")

    assert response.status_code == 200
    assert response.json()["id"] == "\ufffd\ufffd\ufffd"


@pytest.mark.parametrize("name", ["\\ud800", "\\udfff", "ok\\udc80"])
@CALLS
def test_unknown_field_that_cannot_be_encoded_is_named_in_readable_text(api, url, name):
    body = assert_error(raw(api, url, f'{{"{name}": 1}}'), 400)

    assert any("\ufffd" in field for field in body["fields"]), body["fields"]
    assert "\ufffd" in body["error"]


def test_info_key_that_cannot_be_encoded_is_named_in_readable_text(api):
    text = json.dumps(ticket_payload(info=...))[:-1] + ', "info": {"\\ud800": 1}}'
    body = assert_error(raw(api, CREATE, text), 400)

    assert body["fields"]["info"][0].startswith("\ufffd: ")


# What Django raises reading a body.


@CALLS
@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_form_body_with_too_many_fields_is_a_json_400(api, url, encoding):
    fields = {f"f{i}": "1" for i in range(1001)}
    if encoding == "urlencoded":
        response = raw(
            api, url, "&".join(f"{k}=1" for k in fields), "application/x-www-form-urlencoded"
        )
    else:
        response = api.post(url, fields)  # multipart

    body = assert_error(response, 400)
    assert "too many fields" in body["error"]
    assert "fields" not in body  # nothing was read, so nothing is said to be missing


@CALLS
def test_multipart_body_with_too_many_files_is_a_json_400(api, url):
    files = {f"f{i}": io.BytesIO(b"x") for i in range(101)}

    assert_error(api.post(url, files), 400)


@CALLS
def test_body_over_djangos_own_limit_is_a_json_413(api, url, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100  # a project's setting, under the app's limit

    response = raw(api, url, "subject=" + "x" * 500, "application/x-www-form-urlencoded")

    assert_error(response, 413)


@CALLS
@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("multipart/form-data", "--x\r\n"),  # no boundary
        ("multipart/form-data; boundary=", "--\r\n"),
        ("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data\r\n\r\n"),
        ("multipart/form-data; boundary=x", "no parts at all"),
        ("multipart/form-data; boundary=" + "x" * 100, "--x"),
        ("application/json", "\xff\xfe{}"),
        ("application/json", "[" * 50_000),
    ],
    ids=["no-boundary", "empty-boundary", "truncated", "no-parts", "long-boundary",
         "bad-utf8-json", "deep-json"],
)  # fmt: skip
def test_malformed_body_is_answered_in_json(api, url, content_type, text):
    response = raw(api, url, text.encode("latin-1"), content_type)

    # A multipart body without parts reads as no fields, which may be all a list needs.
    assert response.status_code in (200, 400), response.content[:300]
    assert response["Content-Type"] == "application/json"
    if response.status_code == 400:
        assert_error(response, 400)
    else:
        assert response.json()["event"] == "support_tickets"


@CALLS
def test_body_cut_off_is_a_json_400(wsgi, account_key, url):
    status, headers, content = wsgi(
        url, b"", "application/json",
        CONTENT_LENGTH="100", HTTP_TRANSFER_ENCODING="", HTTP_AUTHORIZATION=f"Bearer {account_key}",
        **{"wsgi.input": Broken()},
    )  # fmt: skip

    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert json.loads(content)["event"] == "error"


@CALLS
@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "١٠"])
def test_malformed_content_length_is_a_json_400(wsgi, account_key, url, length):
    status, _headers, content = wsgi(
        url, b"", "application/json",
        CONTENT_LENGTH=length, HTTP_TRANSFER_ENCODING="", HTTP_AUTHORIZATION=f"Bearer {account_key}",
        **{"wsgi.input": io.BytesIO(b"{}")},
    )  # fmt: skip

    assert status == 400
    assert "Content-Length" in json.loads(content)["error"]


# Encodings


def plain(wsgi, path: str, body: bytes, content_type: str, **environ):
    """`body` sent with a Content-Length, as a server passes it, by WSGI (the test client
    cannot encode a body in a charset such as rot13)."""
    return wsgi(
        path, b"", content_type, CONTENT_LENGTH=str(len(body)), HTTP_TRANSFER_ENCODING="",
        **{"wsgi.input": io.BytesIO(body), **environ},
    )  # fmt: skip


@CALLS
@pytest.mark.parametrize("charset", ["utf-7", "rot13", "hex", "zlib", "unicode_escape", "nope"])
def test_body_in_an_encoding_other_than_utf8_is_a_json_415(wsgi, account_key, url, charset):
    text = b"+2AA-=x&subject=+2AA-"  # a lone surrogate, as UTF-7 reads it
    status, headers, content = plain(
        wsgi, url, text, f"application/x-www-form-urlencoded; charset={charset}",
        HTTP_AUTHORIZATION=f"Bearer {account_key}",
    )  # fmt: skip

    assert status == 415
    assert headers["Content-Type"] == "application/json"
    assert "UTF-8" in json.loads(content)["error"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("charset", ["utf-16", "utf-32-le", "UTF-8"])
def test_json_in_a_unicode_encoding_is_read(api, charset):
    text = json.dumps({**ticket_payload(), "subject": "Grüße"}).encode(charset)
    response = raw(api, CREATE, text, f"application/json; charset={charset}")

    assert response.status_code == 200, response.content
    assert Ticket.objects.get().subject == "Grüße"


@pytest.mark.parametrize("charset", ["latin-1", "utf-7"])
def test_json_in_another_encoding_is_a_json_415(api, charset):
    response = raw(
        api, CREATE, json.dumps(ticket_payload()), f"application/json; charset={charset}"
    )

    assert_error(response, 415)


def test_query_string_is_utf8_whatever_the_content_type_says(wsgi, account_key):
    status, _, content = wsgi(
        LIST, b"", "text/plain; charset=utf-7", REQUEST_METHOD="GET", QUERY_STRING="id=%2B2AA-",
        HTTP_TRANSFER_ENCODING="", HTTP_AUTHORIZATION=f"Bearer {account_key}",
    )  # fmt: skip

    assert status == 200
    assert json.loads(content)["id"] == "+2AA-"


# The requester's pages answer with pages.


def test_help_form_shown_whatever_the_content_type_says(wsgi):
    status, _, content = wsgi(
        "/support/new/", b"", "text/plain; charset=utf-7", REQUEST_METHOD="GET",
        QUERY_STRING="location=%2B2AA-", HTTP_TRANSFER_ENCODING="",
    )  # fmt: skip

    assert status == 200
    assert 'value="+2AA-"' in content.decode()


@pytest.mark.parametrize("path", ["/support/new/", "/support/embed/"])
@pytest.mark.parametrize("charset", ["utf-7", "rot13"])
def test_help_form_sent_in_another_encoding_is_a_415_page(wsgi, path, charset):
    status, headers, content = plain(
        wsgi, path, b"subject=+2AA-", f"application/x-www-form-urlencoded; charset={charset}"
    )

    assert status == 415
    assert headers["Content-Type"].startswith("text/html")
    assert "UTF-8" in content.decode()
    assert not Ticket.objects.exists()


def test_embedded_refusal_page_may_be_framed(wsgi):
    _, headers, _ = plain(
        wsgi, "/support/embed/", b"x=1", "application/x-www-form-urlencoded; charset=utf-7"
    )

    assert "frame-ancestors 'self' https://cocalc.com" in headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("content_type", "text"),
    [("application/x-www-form-urlencoded", "&".join(["f=1"] * 1001)),
     ("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data\r\n\r\n"),
     ("multipart/form-data", "--x")],
    ids=["too-many-fields", "truncated-multipart", "no-boundary"],
)  # fmt: skip
def test_help_form_malformed_body_is_answered_with_a_page(content_type, text):
    response = Client().post("/support/new/", text, content_type=content_type)

    # Too many fields or no boundary: Django's 400; no parts: the form, with its errors.
    assert response.status_code in (200, 400)
    assert response["Content-Type"].startswith("text/html")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("kind", ["api", "page"])
def test_chunked_body_cut_off_is_a_400(wsgi, account_key, kind):
    path = CREATE if kind == "api" else make_ticket().requester_path()

    status, headers, content = wsgi(
        path, b"", "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {account_key}",
        **{"wsgi.input": Broken(), "wsgi.input_terminated": True},
    )  # fmt: skip

    assert status == 400
    assert headers["Content-Type"].startswith("application/json" if kind == "api" else "text/html")
    assert "cut off" in content.decode()


@pytest.mark.parametrize("page", ["form", "reply"])
def test_page_body_over_the_limit_is_a_413_page(settings, page):
    settings.SUPPORT = {**settings.SUPPORT, "MAX_REQUEST_BYTES": 1000}
    path = "/support/new/" if page == "form" else make_ticket().requester_path()

    response = Client().post(path, {"subject": "Big", "body": "x" * 1000})

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "too large" in response.content.decode()
    assert not Ticket.objects.filter(subject="Big").exists()
