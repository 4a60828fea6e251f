"""The desk's address in the links it gives: the request's host in answers and pages unless
SUPPORT['PUBLIC_URL'] is set; PUBLIC_URL alone in e-mail (which has no request), and as the
domain of its Message-IDs."""

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from support.models import Delivery, Ticket
from tests.conftest import basic, run_worker, ticket_payload
from tests.test_form import open_form, send

HOST = "127.0.0.1:8001"  # where a new user served the desk: not the default :8000


@pytest.fixture
def no_public_url(settings):
    settings.SUPPORT = {**settings.SUPPORT, "PUBLIC_URL": None}


@pytest.fixture
def public_url(settings):
    settings.SUPPORT = {**settings.SUPPORT, "PUBLIC_URL": "https://support.example.com/"}
    return "https://support.example.com"


def api_links(account_key) -> tuple[Ticket, str, list[str]]:
    """File a ticket and list the account's tickets through the API, on HOST; the ticket,
    the `url` of the create's answer and the `url`s of the list's."""
    client = APIClient(HTTP_HOST=HOST)
    client.credentials(HTTP_AUTHORIZATION=basic(account_key))
    created = client.post("/api/v1/create_support_ticket", ticket_payload(), format="json")
    listed = client.get("/api/v1/get_support_tickets")
    assert created.status_code == listed.status_code == 200, (created.content, listed.content)
    ticket = Ticket.objects.get(pk=created.json()["id"])
    return ticket, created.json()["url"], [t["url"] for t in listed.json()["tickets"]]


def form_link(ticket_page_host: str = HOST) -> tuple[Ticket, str]:
    """Send the help form on HOST; the ticket and the confirmation page's HTML."""
    client = Client(HTTP_HOST=ticket_page_host)
    response = send(client, open_form(client))
    assert response.status_code == 302
    return Ticket.objects.get(), client.get(response["Location"]).content.decode()


def test_without_public_url_api_links_follow_the_request_host(no_public_url, account_key):
    ticket, created, listed = api_links(account_key)

    assert created == f"http://{HOST}{ticket.requester_path()}"
    assert listed == [created]
    assert Client(HTTP_HOST=HOST).get(created).status_code == 200  # a link that works


def test_without_public_url_the_form_links_to_where_it_was_sent(no_public_url, db):
    ticket, page = form_link()

    assert f'href="http://{HOST}{ticket.requester_path()}"' in page
    assert "127.0.0.1:8000" not in page


def test_public_url_is_used_for_every_link_whatever_the_host(public_url, account_key):
    ticket, created, listed = api_links(account_key)
    assert created == f"{public_url}{ticket.requester_path()}" and listed == [created]

    Ticket.objects.all().delete()
    ticket, page = form_link()
    assert f'href="{public_url}{ticket.requester_path()}"' in page


@pytest.mark.django_db(transaction=True)
def test_mail_links_to_and_is_identified_by_the_public_url(public_url, settings):
    settings.SUPPORT = {**settings.SUPPORT, "STAFF_EMAILS": ["help@example.com"]}
    ticket, _page = form_link()

    run_worker()

    sent = {message.to[0]: message for message in mail.outbox}
    confirmation, notice = sent["jane@example.com"], sent["help@example.com"]
    assert f"{public_url}{ticket.requester_path()}" in confirmation.body
    assert f"{public_url}/admin/support/ticket/{ticket.pk}/change/" in notice.body
    assert confirmation.extra_headers["Message-ID"] == f"<ticket-{ticket.pk}@support.example.com>"
    assert notice.extra_headers["Message-ID"] == f"<ticket-{ticket.pk}.staff@support.example.com>"
    assert HOST not in confirmation.body + notice.body


@pytest.mark.django_db(transaction=True)
def test_without_public_url_no_mail_goes_out_with_a_guessed_address(no_public_url):
    form_link()

    run_worker()

    assert mail.outbox == []  # start-up said so (support.E007/W007): nothing to link to
    assert not Delivery.objects.filter(status=Delivery.Status.SENT).exists()
