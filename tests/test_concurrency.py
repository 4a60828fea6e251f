"""Many requests at once, over real HTTP and real parallel database connections.

PostgreSQL only: that is what production runs, and what lets requests truly overlap.
"""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from support.models import Ticket
from tests.conftest import ticket_payload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]

PARALLEL = 16


def fire(url: str, key: str, payloads: list[dict]) -> list[requests.Response]:
    """Send every payload at the same moment, one thread and one connection each."""
    barrier = threading.Barrier(len(payloads))

    def send(payload):
        with requests.Session() as session:
            barrier.wait()
            return session.post(
                url, json=payload, headers={"Authorization": f"Bearer {key}"}, timeout=30
            )

    with ThreadPoolExecutor(len(payloads)) as pool:
        return list(pool.map(send, payloads))


def test_identical_requests_at_once_make_exactly_one_ticket(live_server, account_key):
    payload = ticket_payload(id=str(uuid.uuid4()))
    responses = fire(
        f"{live_server.url}/api/v1/create_support_ticket", account_key, [payload] * PARALLEL
    )

    assert [r.status_code for r in responses] == [200] * PARALLEL
    assert len({r.text for r in responses}) == 1  # every one answered with the same ticket
    assert Ticket.objects.count() == 1
    assert str(Ticket.objects.get().pk) == payload["id"]


def test_same_id_with_different_content_at_once_makes_one_ticket(live_server, account_key):
    ticket_id = str(uuid.uuid4())
    payloads = [ticket_payload(id=ticket_id, subject=f"variant {i}") for i in range(PARALLEL)]
    responses = fire(f"{live_server.url}/api/v1/create_support_ticket", account_key, payloads)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (PARALLEL - 1)
    winner = next(r for r in responses if r.status_code == 200)
    ticket = Ticket.objects.get()
    assert winner.json()["id"] == str(ticket.pk)


def test_distinct_requests_at_once_all_become_tickets(live_server, account_key):
    payloads = [ticket_payload(subject=f"ticket {i}") for i in range(PARALLEL)]
    responses = fire(f"{live_server.url}/api/v1/create_support_ticket", account_key, payloads)

    assert [r.status_code for r in responses] == [200] * PARALLEL
    assert len({r.json()["id"] for r in responses}) == PARALLEL
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == sorted(
        p["subject"] for p in payloads
    )
    listed = requests.get(
        f"{live_server.url}/api/v1/get_support_tickets",
        headers={"Authorization": f"Bearer {account_key}"},
        timeout=30,
    ).json()
    assert len(listed["tickets"]) == PARALLEL
