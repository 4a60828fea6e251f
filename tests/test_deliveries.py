"""What a new ticket causes: e-mail to the requester and to staff, through a real SMTP
server, sent after commit by a worker, retried, and marked failed for staff to see."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django_tasks_db.models import DBTaskResult

from support.models import Delivery, Ticket
from tests.conftest import make_ticket, run_worker, ticket_payload

pytestmark = pytest.mark.django_db(transaction=True)  # tasks are enqueued on commit
URL = "/api/v1/create_support_ticket"


@pytest.fixture
def staff(settings):
    settings.SUPPORT = {**settings.SUPPORT, "STAFF_EMAILS": ["help@example.com"]}
    settings.DEFAULT_FROM_EMAIL = "support@example.com"


def file(api, **overrides) -> dict:
    response = api.post(URL, ticket_payload(**overrides), format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_request_sends_nothing_itself_and_leaves_it_to_the_worker(api, smtp_server, staff):
    file(api)
    file(api, subject="Another")

    assert smtp_server.messages == []
    assert set(Ticket.objects.values_list("unplanned_deliveries", flat=True)) == {
        "confirmation,staff_notification"
    }
    assert DBTaskResult.objects.count() == 1  # one wake-up, however many tickets
    run_worker()
    assert len(smtp_server.messages) == 4
    assert set(Ticket.objects.values_list("unplanned_deliveries", flat=True)) == {""}
    assert sorted(Delivery.objects.values_list("kind", "status")) == [
        ("confirmation", "sent"), ("confirmation", "sent"),
        ("staff_notification", "sent"), ("staff_notification", "sent"),
    ]  # fmt: skip


def test_worker_mails_requester_the_link_and_tells_staff(api, smtp_server, staff):
    filed = file(api, username="Jane Doe", subject="Kernel died")
    run_worker()

    by_recipient = {m["X-Envelope-To"]: m for m in smtp_server.messages}
    assert set(by_recipient) == {"jane@example.com", "help@example.com"}
    confirmation = by_recipient["jane@example.com"]
    assert confirmation["Subject"] == "[Support] Kernel died"
    assert confirmation["From"] == "support@example.com"
    text, html = (part.get_payload(decode=True).decode() for part in confirmation.get_payload())
    assert filed["url"] in text and f'href="{filed["url"]}"' in html
    assert "Hello Jane Doe" in text
    staff_mail = by_recipient["help@example.com"]
    assert "Jane Doe" in staff_mail["Subject"] and "Kernel died" in staff_mail["Subject"]
    assert "291f43c1-deae-431c-b763-712307fa6859" in staff_mail.get_payload()[0].get_payload()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_mail_threads_by_ticket(api, smtp_server, staff, settings):
    settings.SUPPORT = {**settings.SUPPORT, "REPLY_TO": "support@example.com"}
    filed = file(api)
    run_worker()

    ids = {m["X-Envelope-To"]: m["Message-ID"] for m in smtp_server.messages}
    assert ids["jane@example.com"] == f"<ticket-{filed['id']}@testserver>"
    assert ids["help@example.com"] == f"<ticket-{filed['id']}.staff@testserver>"
    assert {m["Reply-To"] for m in smtp_server.messages} == {"support@example.com"}


def test_html_mail_is_sanitised(api, smtp_server):
    file(api, body="<script>alert(1)</script><b>bold</b>")
    run_worker()

    html = smtp_server.messages[0].get_payload()[1].get_payload(decode=True).decode()
    assert "<b>bold</b>" in html and "<script" not in html


def test_confirmation_can_be_turned_off(api, smtp_server, settings):
    settings.SUPPORT = {**settings.SUPPORT, "CONFIRM_TO_REQUESTER": False}
    file(api)
    run_worker()

    assert smtp_server.messages == [] and not Delivery.objects.exists()


def test_mail_server_down_is_retried_then_marked_failed(api, smtp_server, settings):
    settings.SUPPORT = {**settings.SUPPORT, "DELIVERY_MAX_ATTEMPTS": 3}
    smtp_server.failing = True
    file(api)
    run_worker()

    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.attempts == 3
    assert "451" in delivery.last_error
    assert Ticket.objects.count() == 1  # the ticket itself is safe


def test_retry_command_sends_failed_deliveries_again(api, smtp_server, settings):
    settings.SUPPORT = {**settings.SUPPORT, "DELIVERY_MAX_ATTEMPTS": 1}
    smtp_server.failing = True
    file(api)
    run_worker()
    assert Delivery.objects.get().status == "failed"
    out = StringIO()
    call_command("support_deliveries", "list", stdout=out)
    assert "failed" in out.getvalue()

    smtp_server.failing = False
    call_command("support_deliveries", "retry", "--all-failed", stdout=StringIO())
    run_worker()

    assert Delivery.objects.get().status == "sent"
    assert len(smtp_server.messages) == 1


def test_list_command_shows_each_unfinished_delivery_on_one_line():
    ticket = make_ticket()
    Delivery.objects.create(ticket=ticket, kind="confirmation", status="sent")
    failed = Delivery.objects.create(
        ticket=ticket, kind="forward", status="failed", attempts=10,
        last_error="DeliveryError: 422 from the helpdesk\n{\"error\": \"RecordInvalid\"}",
    )  # fmt: skip
    pending = Delivery.objects.create(ticket=ticket, kind="staff_notification")
    out = StringIO()

    call_command("support_deliveries", "list", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == [str(failed.pk), str(pending.pk)]
    assert "failed" in lines[0] and str(ticket.pk) in lines[0]
    assert '422 from the helpdesk {"error": "RecordInvalid"}' in lines[0]
    assert "pending" in lines[1] and "staff_notification" in lines[1]


def test_backoff_doubles_between_attempts(api, smtp_server, settings):
    settings.SUPPORT = {**settings.SUPPORT, "DELIVERY_BACKOFF_SECONDS": 30}
    smtp_server.failing = True
    file(api)
    run_worker()  # the first attempt fails; the retry is not due yet

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    first_wait = (delivery.next_attempt_at - delivery.created_at).total_seconds()
    assert 29 < first_wait < 60
    Delivery.objects.update(next_attempt_at=delivery.created_at)  # as if the wait was over
    call_command("support_deliveries", "resume", stdout=StringIO())
    run_worker()
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert 59 < (delivery.next_attempt_at - delivery.created_at).total_seconds() < 120


def test_resume_sends_what_a_dead_worker_left(api, smtp_server):
    file(api)
    DBTaskResult.objects.all().delete()  # the wake-up is lost, as if the process died
    run_worker()
    assert smtp_server.messages == []

    call_command("support_deliveries", "resume", stdout=StringIO())
    run_worker()
    assert len(smtp_server.messages) == 1


def test_delivery_claimed_by_a_live_worker_is_not_sent_twice(api, smtp_server, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.SUPPORT = {**settings.SUPPORT, "DELIVERY_BACKOFF_SECONDS": 30}
    smtp_server.failing = True
    file(api)
    run_worker()  # planned, tried once, failed
    smtp_server.failing = False
    now = timezone.now()
    Delivery.objects.update(next_attempt_at=now, claimed_until=now + timedelta(minutes=5))
    call_command("support_deliveries", "resume", stdout=StringIO())
    run_worker()

    assert smtp_server.messages == []
    assert Delivery.objects.get().status == "pending"


def test_admin_retries_failed_deliveries(api, smtp_server, settings, admin_user):
    settings.SUPPORT = {**settings.SUPPORT, "DELIVERY_MAX_ATTEMPTS": 1}
    smtp_server.failing = True
    filed = file(api)
    run_worker()
    smtp_server.failing = False
    client = Client()
    client.force_login(admin_user)

    page = client.get(f"/admin/support/ticket/{filed['id']}/change/")
    assert b"Failed" in page.content and b"451" in page.content
    response = client.post(
        "/admin/support/ticket/",
        {"action": "retry_failed_deliveries", "_selected_action": [filed["id"]]},
        follow=True,
    )
    assert b"Retrying 1 delivery" in response.content
    run_worker()
    assert Delivery.objects.get().status == "sent"


def test_ticket_is_answered_when_waking_the_worker_fails(api, settings, caplog):
    tasks = settings.TASKS
    # The task backend refuses the wake-up (as a broker that is down would).
    settings.TASKS = {"default": {**tasks["default"], "QUEUES": ["elsewhere"]}}
    responses = [api.post(URL, ticket_payload(id=...), format="json") for _ in range(3)]

    assert [r.status_code for r in responses] == [200] * 3
    assert Ticket.objects.count() == 3  # three tickets, each answered once: no retries
    assert any(r.levelname == "ERROR" and "wake" in r.getMessage() for r in caplog.records)

    settings.TASKS = tasks  # the backend is back; resume picks the tickets up
    call_command("support_deliveries", "resume", stdout=StringIO())
    run_worker()
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 3
