"""Forwarding to external helpdesks, against local HTTP servers standing in for them."""

import hashlib
import hmac
import json
import time

import pytest

from support.backends.webhook import signature
from support.models import Delivery, Ticket
from tests.conftest import ACCOUNT, run_worker, ticket_payload
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
