"""Forwarding to external helpdesks, against local HTTP servers standing in for them."""

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.test import Client
from urllib3 import encode_multipart_formdata

from support import conversation
from support.backends.webhook import signature
from support.models import Attachment, Delivery, Ticket
from tests.conftest import ACCOUNT, checked, png_bytes, run_worker, ticket_payload, upload
from tests.receivers import zendesk_stand_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def zendesk(settings, http_receiver):
    """A stand-in for Zendesk's API that, like Zendesk, honours Idempotency-Key."""
    http_receiver.respond = zendesk_stand_in()
    settings.SUPPORT = {
        **settings.SUPPORT,
        "CONFIRM_TO_REQUESTER": False,
        "FORWARD_BACKEND": "support.backends.zendesk.ForwardBackend",
        "ZENDESK_URL": http_receiver.url,
        "ZENDESK_EMAIL": "agent@example.com",
        "ZENDESK_API_TOKEN": "tok3n",
    }
    return http_receiver


@pytest.fixture
def webhook(settings, http_receiver):
    settings.SUPPORT = {
        **settings.SUPPORT,
        "CONFIRM_TO_REQUESTER": False,
        "FORWARD_BACKEND": "support.backends.webhook.ForwardBackend",
        "WEBHOOK_URL": f"{http_receiver.url}/hooks/support",
        "WEBHOOK_SECRET": "s3cret",
    }
    return http_receiver


def file(api, **overrides) -> dict:
    response = api.post("/api/v1/create_support_ticket", ticket_payload(**overrides), format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_zendesk_gets_the_ticket_with_its_requester(api, zendesk):
    filed = file(api, username="Jane Doe")
    run_worker()

    create, note = zendesk.requests
    assert (create.method, create.path) == ("POST", "/api/v2/tickets.json")
    assert create.headers["Authorization"] == "Basic YWdlbnRAZXhhbXBsZS5jb20vdG9rZW46dG9rM24="
    assert create.headers["Idempotency-Key"] == f"support-ticket-{filed['id']}"
    assert create.headers["Content-Type"] == "application/json"
    assert create.headers["User-Agent"].startswith("django-support-desk/")
    ticket = Ticket.objects.get()
    assert create.json() == {
        "ticket": {
            "subject": "package xyz",
            "comment": {"body": ticket.description},
            "requester": {
                "name": "Jane Doe",
                "email": "jane@example.com",
                "external_id": str(ACCOUNT),
            },
            "tags": ["member"],
            "external_id": filed["id"],
        }
    }
    assert (note.method, note.path) == ("PUT", "/api/v2/tickets/1000.json")
    comment = note.json()["ticket"]["comment"]
    assert comment["public"] is False and "Mozilla/5.0" in comment["body"]
    assert (ticket.external_id, ticket.external_url) == (
        "1000", f"{zendesk.url}/agent/tickets/1000",
    )  # fmt: skip
    assert Delivery.objects.get().status == "sent"


def test_zendesk_info_can_go_to_custom_fields(api, zendesk, settings):
    settings.SUPPORT = {
        **settings.SUPPORT,
        "ZENDESK_INFO_FIELDS": {"user_agent": 11, "course": 12},
    }
    file(api)
    run_worker()

    [create] = zendesk.requests  # nothing left over for a note
    assert create.json()["ticket"]["custom_fields"] == [
        {"id": 11, "value": "Mozilla/5.0"},
        {"id": 12, "value": "cc8f1243-d573-4562-9aab-c15a3872d683"},
    ]


def test_zendesk_outage_is_retried_without_a_duplicate(api, zendesk):
    attempts = []
    honest = zendesk.respond

    def flaky(received):
        attempts.append(received.method)
        if len(attempts) == 1:
            return 503, {"Retry-After": "0"}, {"error": "down"}
        if received.method == "PUT" and attempts.count("PUT") == 1:
            return 500, {}, {"error": "oops"}  # made the ticket, failed the note
        return honest(received)

    zendesk.respond = flaky
    file(api)
    run_worker()

    assert attempts == ["POST", "POST", "PUT", "POST", "PUT"]
    creates = [r for r in zendesk.requests if r.method == "POST"]
    assert len({r.headers["Idempotency-Key"] for r in creates}) == 1  # one Zendesk ticket
    assert {r.path for r in zendesk.requests if r.method == "PUT"} == {"/api/v2/tickets/1000.json"}
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 3)
    assert Ticket.objects.get().external_id == "1000"


def test_zendesk_refusal_is_not_retried(api, zendesk):
    zendesk.respond = lambda received: (422, {}, {"error": "RecordInvalid"})
    file(api)
    run_worker()

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "422" in delivery.last_error and "RecordInvalid" in delivery.last_error


def test_webhook_is_signed_so_a_receiver_can_verify_it(api, webhook):
    filed = file(api)
    before = int(time.time())
    run_worker()

    [hook] = webhook.requests
    assert (hook.method, hook.path) == ("POST", "/hooks/support")
    timestamp = hook.headers["X-Support-Timestamp"]
    assert before <= int(timestamp) <= time.time()
    expected = hmac.new(b"s3cret", timestamp.encode() + b"." + hook.body, hashlib.sha256)
    assert hook.headers["X-Support-Signature"] == "sha256=" + expected.hexdigest()
    assert hook.headers["X-Support-Signature"] == signature("s3cret", timestamp, hook.body)
    document = json.loads(hook.body)
    delivery = Delivery.objects.get()
    assert hook.headers["X-Support-Delivery"] == str(delivery.pk)
    assert document["event"] == "ticket.created" and document["delivery"] == delivery.pk
    assert document["ticket"]["id"] == filed["id"]
    assert document["ticket"]["url"] == filed["url"]
    assert document["ticket"]["requester"] == {
        "name": "jane@example.com", "email": "jane@example.com",
    }  # fmt: skip
    assert delivery.status == "sent"


def test_webhook_failure_is_retried_with_the_same_delivery_id(api, webhook):
    calls = []

    def respond(received):
        calls.append(received.headers["X-Support-Delivery"])
        return (500, {}, {}) if len(calls) < 3 else (200, {}, {})

    webhook.respond = respond
    file(api)
    run_worker()

    assert len(calls) == 3 and len(set(calls)) == 1
    assert Delivery.objects.get().status == "sent"


def test_receiver_that_is_down_is_retried(api, webhook, settings):
    settings.SUPPORT = {**settings.SUPPORT, "DELIVERY_MAX_ATTEMPTS": 2}
    webhook.stop()
    file(api)
    run_worker()

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert "Connection refused" in delivery.last_error or "ConnectionError" in delivery.last_error


def test_delivery_errors_never_show_the_webhook_urls_secret(api, webhook, settings, caplog):
    # Many webhook URLs carry their secret in the path or query: errors name the server.
    settings.SUPPORT = {
        **settings.SUPPORT,
        "DELIVERY_MAX_ATTEMPTS": 2,
        "WEBHOOK_URL": f"{webhook.url}/hooks/T0/B0/xoxb-s3cr3t?token=q5ecret",
    }
    webhook.stop()
    file(api)
    run_worker()

    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and webhook.url.split("//")[1].split(":")[0] in (
        delivery.last_error
    )
    for secret in ("xoxb-s3cr3t", "q5ecret"):
        assert secret not in delivery.last_error and secret not in caplog.text


# --- files


def file_with_attachments(api, *files: tuple[str, bytes], **overrides) -> dict:
    parts = [
        ("ticket", (None, json.dumps(ticket_payload(**overrides)).encode(), "application/json"))
    ]
    parts += [
        ("attachments", (name, content, "application/octet-stream")) for name, content in files
    ]
    body, content_type = encode_multipart_formdata(parts)
    response = api.post("/api/v1/create_support_ticket", body, content_type=content_type)
    assert response.status_code == 200, response.content
    return response.json()


def test_zendesk_gets_the_files_through_its_uploads_api_then_the_tokens(api, zendesk):
    shot = png_bytes(200, 100)
    filed = file_with_attachments(api, ("screen shot.png", shot), ("Ünï.txt", b"log\n"))
    run_worker()

    uploads = [r for r in zendesk.requests if r.path.startswith("/api/v2/uploads.json")]
    assert [(r.method, parse_qs(urlsplit(r.path).query)["filename"]) for r in uploads] == [
        ("POST", ["screen shot.png"]), ("POST", ["Ünï.txt"]),
    ]  # fmt: skip
    assert [r.body for r in uploads] == [shot, b"log\n"]
    assert [r.headers["Content-Type"] for r in uploads] == ["image/png", "text/plain"]
    assert all(r.headers["Authorization"].startswith("Basic ") for r in uploads)
    [create] = [r for r in zendesk.requests if r.path == "/api/v2/tickets.json"]
    assert create.json()["ticket"]["comment"]["uploads"] == ["upload-1", "upload-2"]
    assert create.headers["Idempotency-Key"] == f"support-ticket-{filed['id']}"
    assert Delivery.objects.get().status == "sent"


def test_zendesk_retry_uploads_only_what_is_missing_and_repeats_the_same_create(api, zendesk):
    honest, calls = zendesk.respond, []

    def flaky(received):
        calls.append(received.path.split("?")[0])
        if received.path.startswith("/api/v2/uploads.json") and calls.count(calls[-1]) == 2:
            return 503, {"Retry-After": "0"}, {"error": "down"}  # the second file, first time
        if received.path == "/api/v2/tickets.json" and calls.count(calls[-1]) == 1:
            return 500, {}, {"error": "oops"}  # the create, first time
        return honest(received)

    zendesk.respond = flaky
    file_with_attachments(api, ("a.txt", b"a"), ("b.txt", b"b"))
    run_worker()

    assert calls == [
        "/api/v2/uploads.json", "/api/v2/uploads.json",  # a, then b fails
        "/api/v2/uploads.json", "/api/v2/tickets.json",  # b again; the create fails
        "/api/v2/tickets.json", "/api/v2/tickets/1000.json",  # the same create; the note
    ]  # fmt: skip
    creates = [r for r in zendesk.requests if r.path == "/api/v2/tickets.json"]
    assert creates[0].body == creates[1].body  # the same call, which Zendesk recognises
    assert creates[1].json()["ticket"]["comment"]["uploads"] == ["upload-1", "upload-2"]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 3)


def test_webhook_lists_the_files_with_signed_links_that_expire(api, webhook, settings):
    filed = file_with_attachments(api, ("a.txt", b"the file"))
    run_worker()

    [hook] = webhook.requests
    [attached] = json.loads(hook.body)["ticket"]["attachments"]
    file = Attachment.objects.get()
    assert attached == {
        "id": str(file.pk), "name": "a.txt", "content_type": "text/plain", "size": 8,
        "sha256": hashlib.sha256(b"the file").hexdigest(), "url": attached["url"],
    }  # fmt: skip
    assert attached["url"].startswith("http://testserver/support/files/")
    assert filed["url"].split("/tickets/")[1].split("/")[1] not in attached["url"]  # no key
    client = Client()
    path = urlsplit(attached["url"]).path
    assert b"".join(client.get(path).streaming_content) == b"the file"
    assert client.get(path.replace("/files/", "/files/x")).status_code == 404  # forged
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_LINK_SECONDS": 0}
    time.sleep(1)
    assert client.get(path).status_code == 404  # expired


def test_mail_attaches_files_up_to_the_limit_and_links_the_rest(api, settings, support_staff):
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_EMAIL_MAX_BYTES": 1000,
                        "STAFF_EMAILS": ["help@example.com"]}  # fmt: skip
    filed = file_with_attachments(api, ("small.txt", b"s" * 600), ("big.txt", b"b" * 600))
    run_worker()

    by_recipient = {message.to[0]: message for message in mail.outbox}
    confirmation = by_recipient["jane@example.com"]
    staff = by_recipient["help@example.com"]
    for message in (confirmation, staff):
        assert [(name, content) for name, content, _type in message.attachments] == [
            ("small.txt", "s" * 600)
        ]
    big = Attachment.objects.get(name="big.txt")
    assert f"{filed['url']}files/{big.pk}/" in confirmation.body
    assert f"http://testserver/admin/support/ticket/{filed['id']}/files/{big.pk}/" in staff.body
    assert "small.txt (600\xa0bytes): attached" in confirmation.body

    ticket = Ticket.objects.get()
    mail.outbox.clear()
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_EMAIL_MAX_BYTES": 10**6}
    conversation.reply(ticket, author=support_staff, body="See the fix.",
                       attachments=checked(upload("fix.png", png_bytes())))  # fmt: skip
    run_worker()
    [reply] = mail.outbox
    assert [(name, kind) for name, _content, kind in reply.attachments] == [
        ("fix.png", "image/png")
    ]
