"""An outage a user would believe: with the mail server and the helpdesk down, tickets are
filed through the API; the worker is killed in the middle of sending; everything comes
back, the worker is started again, and every ticket was mailed and forwarded once.

The whole project runs in processes of its own (gunicorn, `manage.py db_worker`) on a
database of its own; the mail server and Zendesk are real servers on local ports that
count what they receive. On PostgreSQL, two workers run at once.
"""

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from tests.receivers import HttpReceiver, SmtpServer, zendesk_stand_in
from tests.stack import Stack, free_port

TICKETS = 200


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def stack(tmp_path):
    postgres = connection.vendor == "postgresql"
    if postgres:
        db = connection.settings_dict
        postgres_url = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres"
    smtp_port, zendesk_port = free_port(), free_port()
    stack = Stack(
        tmp_path,
        postgres_url if postgres else None,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        SUPPORT_PUBLIC_URL="http://support.example.com",
        SUPPORT_STAFF_EMAILS="staff@example.com",
        SUPPORT_FORWARD_BACKEND="support.backends.zendesk.ForwardBackend",
        SUPPORT_ZENDESK_URL=f"http://127.0.0.1:{zendesk_port}",
        SUPPORT_ZENDESK_EMAIL="agent@example.com",
        SUPPORT_ZENDESK_API_TOKEN="tok3n",
        SUPPORT_DELIVERY_BACKOFF_SECONDS="0.2",
        SUPPORT_DELIVERY_MAX_BACKOFF_SECONDS="1",
        SUPPORT_DELIVERY_MAX_ATTEMPTS="1000",
        SUPPORT_DELIVERY_CLAIM_SECONDS="3",
    )
    stack.smtp_port, stack.zendesk_port = smtp_port, zendesk_port
    stack.worker_count = 2 if postgres else 1
    try:
        yield stack
    finally:
        stack.close()


def sent(stack: Stack) -> int:
    return stack.query("SELECT count(*) FROM support_delivery WHERE status = 'sent'")[0][0]


def test_outage_and_a_killed_worker_lose_nothing_and_send_nothing_twice(stack):
    key = stack.manage("support_keys", "create", "--service").splitlines()[-1]
    url = stack.serve(workers=2)
    workers = [
        stack.start("manage.py", "db_worker", "--interval", "0.1")
        for _ in range(stack.worker_count)
    ]

    def file(i: int) -> requests.Response:
        return requests.post(
            f"{url}/api/v1/create_support_ticket",
            json={"email_address": f"user{i}@example.com", "subject": f"Ticket {i}",
                  "body": "Help", "info": {"user_agent": "test"}},
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )  # fmt: skip

    # 1. Mail server and helpdesk down: every ticket is still accepted at once.
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(file, range(TICKETS)))
    assert [r.status_code for r in responses] == [200] * TICKETS
    ticket_ids = {r.json()["id"] for r in responses}
    wait_for(
        lambda: stack.query("SELECT count(*) FROM support_delivery WHERE attempts > 0")[0][0]
        >= 3 * TICKETS // 2,
        60, "the workers to try and fail",
    )  # fmt: skip
    assert sent(stack) == 0

    # 2. Everything comes back; the workers are killed in the middle of sending.
    smtp = SmtpServer(port=stack.smtp_port, delay=0.005).start()
    zendesk = HttpReceiver(port=stack.zendesk_port, respond=zendesk_stand_in()).start()
    try:
        wait_for(lambda: sent(stack) >= TICKETS // 2, 120, "some deliveries to go out")
        for worker in workers:
            stack.kill(worker)
        sent_when_killed = sent(stack)
        assert sent_when_killed < 3 * TICKETS, "the workers had finished: nothing was cut"

        # 3. The workers start again, as a supervisor would start them.
        stack.manage("support_deliveries", "resume")
        for _ in range(stack.worker_count):
            stack.start("manage.py", "db_worker", "--interval", "0.1")
        wait_for(lambda: sent(stack) == 3 * TICKETS, 180, "every delivery to be sent")
    finally:
        smtp.stop()
        zendesk.stop()

    # Every ticket: one confirmation to its requester, one notice to staff, one Zendesk
    # ticket. A worker killed between the mail server's "250 OK" and recording it sends
    # that one message again, with the same Message-ID (which mail clients fold into
    # one): at most one such message per killed worker.
    message_ids = Counter(m["Message-ID"].strip() for m in smtp.messages)
    assert set(message_ids) == {f"<ticket-{t}@support.example.com>" for t in ticket_ids} | {
        f"<ticket-{t}.staff@support.example.com>" for t in ticket_ids
    }
    assert sum(message_ids.values()) - len(message_ids) <= stack.worker_count
    assert set(zendesk.respond.made) == {f"support-ticket-{t}" for t in ticket_ids}
    creates = [r for r in zendesk.requests if r.method == "POST"]
    assert len(creates) - TICKETS <= stack.worker_count
    assert stack.query("SELECT status, count(*) FROM support_delivery GROUP BY status") == [
        ("sent", 3 * TICKETS)
    ]
    forwarded = stack.query("SELECT count(*) FROM support_ticket WHERE external_id <> ''")
    assert forwarded == [(TICKETS,)]
