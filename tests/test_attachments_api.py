"""create_support_ticket with files: a multipart body whose part `ticket` is the ticket's
JSON and whose parts `attachments` are its files (../shared/API.md). The original wire
format keeps working unchanged."""

import hashlib
import io
import json
import uuid

import pytest
from urllib3 import encode_multipart_formdata

from support.models import Attachment, Ticket
from tests.conftest import ACCOUNT, png_bytes, statements, ticket_payload

pytestmark = pytest.mark.django_db

URL = "/api/v1/create_support_ticket"


def named(name: str, content: bytes) -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


def multipart(api, parts: list[tuple]):
    """POST a multipart body built part by part: (name, text) or (name, (filename, bytes,
    content type)), as curl -F sends it."""
    body, content_type = encode_multipart_formdata(parts)
    return api.post(URL, body, content_type=content_type)


def create(api, payload: dict | None = None, files=(), **overrides):
    parts = [("ticket", (None, json.dumps(payload or ticket_payload(**overrides)).encode(),
                         "application/json"))]  # fmt: skip
    parts += [
        ("attachments", (name, content, "application/octet-stream")) for name, content in files
    ]
    return multipart(api, parts)


def test_multipart_create_with_files_keeps_json_types_and_stores_the_files(api):
    shot = png_bytes(300, 200)
    response = create(api, files=[("shot.png", shot), ("notes.txt", b"line one\n")])

    assert response.status_code == 200, response.content
    assert response.json()["event"] == "support_ticket_url"
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.tags == ["member"] and ticket.info["user_agent"] == "Mozilla/5.0"
    assert ticket.account_id == ACCOUNT and ticket.channel == "api"
    files = {f.name: f for f in ticket.first_message.attachments.all()}
    assert set(files) == {"shot.png", "notes.txt"}
    assert (files["shot.png"].content_type, files["shot.png"].width) == ("image/png", 300)
    assert files["notes.txt"].content_type == "text/plain"
    assert files["shot.png"].sha256 == hashlib.sha256(shot).hexdigest()


def test_multipart_create_without_files_is_a_plain_ticket(api):
    response = create(api)

    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get()
    assert ticket.tags == ["member"] and not ticket.attachments.exists()


def test_the_ticket_part_may_be_a_file_part_as_curl_at_sends_it(api):
    response = multipart(
        api,
        [("ticket", ("ticket.json", json.dumps(ticket_payload()).encode(), "application/json")),
         ("attachments", ("a.txt", b"a", "text/plain"))],
    )  # fmt: skip

    assert response.status_code == 200, response.content
    assert Ticket.objects.get().attachments.get().name == "a.txt"


def test_the_original_multipart_form_still_files_and_may_carry_files(api):
    fields = {k: v for k, v in ticket_payload().items() if k not in ("tags", "info")}
    response = api.post(URL, {**fields, "attachments": [named("log.txt", b"x")]})

    assert response.status_code == 200, response.content
    assert Ticket.objects.get().attachments.get().name == "log.txt"
    # ... and without files exactly as before: JSON-only fields are refused in a form body.
    response = api.post(URL, {**fields, "subject": "again", "tags": "x"})
    assert response.status_code == 400
    assert "Send tags as JSON" in response.json()["fields"]["tags"][0]


def test_a_file_over_the_limit_is_a_413_naming_it(api, settings):
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_MAX_BYTES": 100}

    response = create(api, files=[("small.txt", b"s"), ("huge.bin", b"x" * 101)])

    assert response.status_code == 413
    body = response.json()
    assert body["event"] == "error"
    assert body["fields"]["attachments"] == [
        "“huge.bin” is larger than 100 bytes: send files of 100 bytes at most."
    ]
    assert "huge.bin" in body["error"]
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_too_many_files_is_a_413(api, settings):
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_MAX_FILES": 2}

    response = create(api, files=[(f"{n}.txt", b"x") for n in range(3)])

    assert response.status_code == 413
    assert response.json()["fields"]["attachments"] == [
        "“2.txt” was not taken: a message may carry 2 files at most."
    ]
    assert not Attachment.objects.exists()


def test_a_refused_type_is_a_400_naming_the_file_whatever_its_name(api):
    response = create(api, files=[("report.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 60)])

    assert response.status_code == 400
    [message] = response.json()["fields"]["attachments"]
    assert message == (
        "“report.pdf” was not taken: files of this type (application/x-executable) are not"
        " accepted."
    )
    assert not Ticket.objects.exists()


def test_an_allowlist_takes_only_its_types(api, settings):
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_ALLOWED_TYPES": ["image/*", ".log"]}

    assert create(api, files=[("a.png", png_bytes()), ("b.log", b"x")]).status_code == 200
    refused = create(api, subject="two", files=[("c.txt", b"x")])
    assert refused.status_code == 400
    assert "(text/plain) are not accepted" in refused.json()["error"]


def test_the_json_part_is_held_to_the_body_limit(api, settings):
    settings.SUPPORT = {**settings.SUPPORT, "MAX_REQUEST_BYTES": 2000}

    big = create(api, body="x" * 3000, files=[("a.txt", b"a" * 5000)])
    as_file = multipart(
        api, [("ticket", ("t.json", json.dumps(ticket_payload(body="y" * 3000)).encode(), "x"))]
    )
    ok = create(api, files=[("a.txt", b"a" * 5000)])

    assert big.status_code == 413 and "text of the request is too large" in big.json()["error"]
    assert as_file.status_code == 413 and "t.json" in as_file.json()["fields"]["ticket"][0]
    assert ok.status_code == 200  # files have limits of their own


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ([("ticket", "[1, 2]")], "ticket"),
        ([("ticket", "{}"), ("subject", "x")], "subject"),
        ([("ticket", json.dumps(ticket_payload())), ("other", ("a.txt", b"a", "text/plain"))],
         "other"),
        ([("ticket", json.dumps(ticket_payload(colour="red")))], "colour"),
    ],
    ids=["not-an-object", "fields-beside-it", "unknown-file-part", "unknown-field"],
)  # fmt: skip
def test_a_malformed_multipart_create_is_a_400_naming_the_field(api, parts, field):
    response = multipart(api, parts)

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


def test_bad_json_in_the_ticket_part_is_a_400(api):
    response = multipart(api, [("ticket", "{nope")])

    assert response.status_code == 400
    assert response.json()["error"].startswith("ticket: JSON parse error")


def test_a_replay_with_the_same_files_is_the_same_ticket_and_other_files_a_409(api):
    ticket_id = str(uuid.uuid4())
    payload = ticket_payload(id=ticket_id)
    first = create(api, payload, files=[("a.txt", b"one")])
    again = create(api, payload, files=[("renamed.txt", b"one")])
    other = create(api, payload, files=[("a.txt", b"two")])
    none = create(api, payload)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert other.status_code == 409 and none.status_code == 409
    assert Attachment.objects.count() == 1  # nothing of the replays was kept
    assert other.json()["id"] == ticket_id  # the id of the ticket part is echoed


def test_a_replay_without_files_of_a_ticket_filed_without_files_still_works(api):
    ticket_id = str(uuid.uuid4())
    first = api.post(URL, ticket_payload(id=ticket_id), format="json")
    again = create(api, ticket_payload(id=ticket_id))

    assert again.status_code == 200 and again.json() == first.json()


def test_files_are_refused_when_the_desk_takes_none(api, settings):
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_MAX_FILES": 0}

    response = create(api, files=[("a.txt", b"a")])

    assert response.status_code == 400
    assert response.json()["fields"]["attachments"] == ["This desk takes no files."]


def test_a_create_without_files_costs_no_more_queries(api):
    api.post(URL, ticket_payload(subject="warm-up"), format="json")  # the key is cached
    with statements() as as_json:
        assert api.post(URL, ticket_payload(subject="json"), format="json").status_code == 200
    with statements() as as_multipart:
        assert create(api, subject="multipart").status_code == 200

    assert len(as_multipart) == len(as_json) <= 4
    assert not any("support_attachment" in sql for sql in as_json + as_multipart)


def test_the_schema_documents_the_multipart_extension():
    from django.test import Client

    document = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    create_call = document.json()["paths"]["/api/v1/create_support_ticket"]["post"]
    multipart_body = create_call["requestBody"]["content"]["multipart/form-data"]

    assert multipart_body["encoding"]["ticket"]["contentType"] == "application/json"
    schema = document.json()["components"]["schemas"][
        multipart_body["schema"]["$ref"].rsplit("/", 1)[1]
    ]
    assert schema["properties"]["attachments"]["items"]["format"] == "binary"
    assert schema["properties"]["ticket"]["allOf"][0]["$ref"].endswith("/CreateTicket")
    assert "`ticket`" in create_call["description"]
