"""Requester replies on the ticket page are limited per ticket (SUPPORT["REPLY_RATE"]) and
per client (SUPPORT["REPLY_CLIENT_RATE"]), counting replies stored; what was typed is kept."""

import html
import math

import pytest
from django.test import Client

from support.models import Delivery
from tests.conftest import followups, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def staff_told(settings):
    settings.SUPPORT = {**settings.SUPPORT, "STAFF_EMAILS": ["staff@example.com"]}


def reply(client: Client, ticket, body: str):
    return client.post(ticket.requester_path(), {"body": body})


def test_replies_to_one_ticket_are_limited_and_the_text_is_kept(settings):
    settings.SUPPORT = {**settings.SUPPORT, "REPLY_RATE": "3/h"}
    ticket = make_ticket()
    client = Client()
    assert [reply(client, ticket, f"Detail {n}").status_code for n in range(3)] == [302] * 3

    refused = reply(client, ticket, "A fourth, *long* reply\n\nwith two paragraphs.")

    assert refused.status_code == 429
    wait = int(refused["Retry-After"])  # until the hour's window ends
    assert 0 < wait <= 3600
    minutes = math.ceil(wait / 60)
    page = html.unescape(refused.content.decode())
    assert f"Many replies were sent in a short time. Please wait {minutes} minute" in page
    assert ">A fourth, *long* reply\n\nwith two paragraphs.</textarea>" in page
    assert followups(ticket).count() == 3
    assert Delivery.objects.filter(kind=Delivery.Kind.REQUESTER_REPLY).count() == 3
    # Another address holding the link is held back too: the limit is the ticket's.
    assert reply(Client(REMOTE_ADDR="203.0.113.5"), ticket, "Me too").status_code == 429


def test_replies_from_one_client_are_limited_across_tickets(settings):
    settings.SUPPORT = {**settings.SUPPORT, "REPLY_CLIENT_RATE": "2/h"}
    tickets = [make_ticket() for _ in range(3)]
    client = Client()

    statuses = [reply(client, ticket, "Any news?").status_code for ticket in tickets]

    assert statuses == [302, 302, 429]
    assert reply(Client(REMOTE_ADDR="203.0.113.5"), tickets[2], "Any news?").status_code == 302
    assert followups().count() == 3


def test_replies_refused_for_their_content_or_sent_twice_do_not_count(settings):
    settings.SUPPORT = {**settings.SUPPORT, "REPLY_RATE": "2/h", "REPLY_CLIENT_RATE": "2/h"}
    ticket = make_ticket()
    client = Client()
    for _ in range(3):
        assert reply(client, ticket, "   \n  ").status_code == 200  # shown with its error
    assert reply(client, ticket, "First").status_code == 302
    assert reply(client, ticket, "First").status_code == 302  # a double click

    assert reply(client, ticket, "Second").status_code == 302
    assert list(followups(ticket).values_list("body", flat=True)) == ["First", "Second"]
    assert reply(client, ticket, "Third").status_code == 429
