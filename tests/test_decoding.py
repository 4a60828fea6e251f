"""A body whose text does not decode in its charset is a 400, never read in part or with
characters replaced: JSON in UTF-8, UTF-16 or UTF-32 with a lone surrogate, a truncated
character or a stray byte; a form with bytes, raw or %-escaped, that are not UTF-8."""

import json

import pytest
from django.test import Client

from support.models import Message, Ticket
from tests.conftest import make_ticket, ticket_payload
from tests.test_malformed import CREATE, assert_error, raw

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


def encoded(charset: str) -> bytes:
    return json.dumps(ticket_payload(subject="Décodé"), ensure_ascii=False).encode(charset)


@pytest.mark.parametrize(
    ("charset", "body"),
    [
        ("utf-16-le", encoded("utf-16-le") + b"\x00\xd8"),  # a trailing lone surrogate
        ("utf-16-le", encoded("utf-16-le") + b"\x20"),  # half a character
        ("utf-16", encoded("utf-16")[:-1]),
        ("utf-16-be", encoded("utf-16-be")[:20] + b"\xdc\x00" + encoded("utf-16-be")[20:]),
        ("utf-32-le", encoded("utf-32-le") + b"\x00\xd8\x00\x00"),
        ("utf-32-le", encoded("utf-32-le") + b"\x00\x00\x11\x00"),  # past U+10FFFF
        ("utf-8", encoded("utf-8") + b"\xc3"),
        ("utf-8", encoded("utf-8").replace(b"\xc3\xa9", b"\xed\xa0\x80", 1)),  # a surrogate
    ],
    ids=["utf16-lone-surrogate", "utf16-odd-byte", "utf16-bom-truncated", "utf16be-low-alone",
         "utf32-surrogate", "utf32-past-unicode", "utf8-truncated", "utf8-surrogate"],
)  # fmt: skip
def test_json_that_does_not_decode_is_a_json_400(api, charset, body):
    response = raw(api, CREATE, body, f"application/json; charset={charset}")

    error = assert_error(response, 400)
    assert "not valid" in error["error"]
    assert not Ticket.objects.exists()


def test_json_that_decodes_is_read_whole(api):
    response = raw(api, CREATE, encoded("utf-16-le"), "application/json; charset=utf-16-le")

    assert response.status_code == 200, response.content
    assert Ticket.objects.get().subject == "Décodé"


@pytest.mark.parametrize(
    "body",
    [b"subject=caf\xe9", b"subject=caf%E9", b"body=%ED%A0%80", b"subject=%C3", b"%FF=1"],
    ids=["raw-latin1", "escaped-latin1", "escaped-surrogate", "escaped-truncated", "name"],
)
def test_form_that_does_not_decode_is_a_json_400_from_the_api(api, body):
    text = b"email_address=jane%40example.com&subject=s&body=b&" + body

    response = raw(api, CREATE, text, FORM)

    assert "not valid UTF-8" in assert_error(response, 400)["error"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("page", ["form", "reply"])
@pytest.mark.parametrize("body", [b"body=caf\xe9", b"body=caf%E9%21"])
def test_form_that_does_not_decode_is_a_400_page(page, body):
    ticket = make_ticket()
    path = "/support/new/" if page == "form" else ticket.requester_path()

    response = Client().post(path, body + b"&subject=s", content_type=FORM)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "not valid UTF-8" in response.content.decode()
    assert Ticket.objects.count() == 1 and Message.objects.count() == 1


def test_form_in_utf8_raw_or_escaped_is_read(api):
    text = "email_address=jane%40example.com&subject=Caf%C3%A9+&body=Grüße".encode()

    response = raw(api, CREATE, text, FORM)

    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get()
    assert ticket.subject == "Café" and ticket.first_message.body == "Grüße"
