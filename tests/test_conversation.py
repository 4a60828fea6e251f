"""The conversation on a ticket: staff replies and notes, and the requester's side of it on
their private page (reply, "this is solved"), with the e-mail each causes."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from support import conversation
from support.exceptions import TicketInvalid
from support.models import Delivery, Message, Ticket
from tests.conftest import followups, run_worker, ticket_payload

pytestmark = pytest.mark.django_db(transaction=True)  # deliveries are enqueued on commit


@pytest.fixture
def staff(settings):
    settings.SUPPORT = {**settings.SUPPORT, "STAFF_EMAILS": ["help@example.com"]}


@pytest.fixture
def agent(db):
    return get_user_model().objects.create_user(
        "agent", "agent@example.com", "pw", first_name="Ada", last_name="Agent", is_staff=True
    )


@pytest.fixture
def filed(api):
    """A ticket filed through the API, its confirmation already sent; returns (ticket, url)."""
    response = api.post("/api/v1/create_support_ticket", ticket_payload(), format="json")
    assert response.status_code == 200
    run_worker()
    mail.outbox.clear()
    return Ticket.objects.get(), response.json()["url"]


def page(url: str) -> str:
    response = Client().get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_staff_reply_is_mailed_in_the_ticket_thread_and_shown_on_the_page(filed, agent):
    ticket, url = filed
    conversation.reply(ticket, author=agent, body="Installed **xyz** for you.")

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING  # awaiting the requester
    assert mail.outbox == []  # nothing is sent inside the request
    run_worker()

    [sent] = mail.outbox
    assert sent.to == ["jane@example.com"]
    assert sent.subject == "Re: [Support] package xyz"
    message = followups().get()
    assert sent.extra_headers["Message-ID"] == f"<ticket-{ticket.pk}.msg-{message.pk}@testserver>"
    assert sent.extra_headers["In-Reply-To"] == f"<ticket-{ticket.pk}@testserver>"
    assert "Ada Agent answered your request" in sent.body and url in sent.body
    assert "<strong>xyz</strong>" in sent.alternatives[0].content
    html = page(url)
    assert "Ada Agent (support) wrote" in html and "Installed <strong>xyz</strong>" in html
    assert "Awaiting your reply" in html


def test_staff_may_choose_the_status_of_a_reply(filed, agent):
    ticket, _ = filed
    conversation.reply(ticket, author=agent, body="Done.", status=Ticket.Status.SOLVED)

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED


def test_internal_note_never_leaves_the_admin(filed, agent):
    ticket, url = filed
    before = ticket.updated_at
    conversation.add_note(ticket, author=agent, body="Customer is on the old plan; secret-ish")
    run_worker()

    assert mail.outbox == []
    assert not Delivery.objects.filter(kind=Delivery.Kind.REPLY).exists()
    assert "secret-ish" not in page(url)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW and ticket.updated_at == before


def test_blank_or_unstorable_staff_reply_is_refused(filed, agent):
    ticket, _ = filed
    for body in ("", "   \n", "nul \x00 byte"):
        with pytest.raises(TicketInvalid) as caught:
            conversation.reply(ticket, author=agent, body=body)
        assert "body" in caught.value.errors
    with pytest.raises(TicketInvalid):
        conversation.reply(ticket, author=agent, body="ok", status="bogus")
    assert not followups().exists()


def test_requester_reply_reopens_a_pending_ticket_and_tells_staff(filed, agent, staff):
    ticket, url = filed
    conversation.reply(ticket, author=agent, body="Which version?")
    run_worker()
    mail.outbox.clear()

    response = Client().post(url, {"body": "Version 3.11, thanks"}, follow=True)

    assert response.redirect_chain == [(url.removeprefix("http://testserver") + "#latest", 302)]
    html = response.content.decode()
    assert "Your reply was sent to support." in html
    assert "Version 3.11, thanks" in html
    assert "In progress" in html
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    run_worker()
    [sent] = mail.outbox
    assert sent.to == ["help@example.com"]
    assert sent.subject == "New reply from jane@example.com: package xyz"
    assert sent.extra_headers["In-Reply-To"] == f"<ticket-{ticket.pk}.staff@testserver>"
    assert f"http://testserver/admin/support/ticket/{ticket.pk}/change/" in sent.body


def test_requester_reply_reopens_a_solved_ticket(filed):
    ticket, url = filed
    Ticket.objects.update(status=Ticket.Status.SOLVED)

    Client().post(url, {"body": "It broke again"})

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


def test_requester_reply_without_staff_emails_causes_no_delivery(filed):
    _, url = filed
    Client().post(url, {"body": "More details"})

    assert followups().get().kind == Message.Kind.REQUESTER
    assert not Delivery.objects.filter(kind=Delivery.Kind.REQUESTER_REPLY).exists()


def test_blank_reply_shows_an_error_and_stores_nothing(filed):
    _, url = filed
    response = Client().post(url, {"body": "  "})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and "Write a message." in html
    assert 'aria-invalid="true"' in html
    assert not followups().exists()


def test_reply_sent_twice_is_stored_once(filed):
    _, url = filed
    Client().post(url, {"body": "Same words"})
    Client().post(url, {"body": "Same words"})

    assert followups().count() == 1


def test_closed_ticket_takes_no_reply(filed):
    _, url = filed
    Ticket.objects.update(status=Ticket.Status.CLOSED)

    html = page(url)
    assert "This request is closed" in html and "Send reply" not in html
    response = Client().post(url, {"body": "hello?"})
    assert "This request is closed. Please send a new one." in response.content.decode()
    assert not followups().exists()


def test_this_is_solved_button(filed):
    ticket, url = filed
    assert "This is solved" in page(url)

    response = Client().post(url + "solved/", follow=True)

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED
    html = response.content.decode()
    assert "Thank you! The request is marked as solved." in html
    assert "This is solved" not in html
    assert "Replying opens the request again." in html


def test_solved_needs_post_and_the_secret(filed):
    ticket, url = filed
    assert Client().get(url + "solved/").status_code == 405
    wrong = url.replace(ticket.access_key, "x" * 24)
    assert Client().post(wrong + "solved/").status_code == 404
    assert Client().post(wrong, {"body": "hi"}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW and not followups().exists()


def test_markup_in_replies_is_sanitised(filed, agent):
    ticket, url = filed
    conversation.reply(ticket, author=agent, body='<img src=x onerror="alert(1)">staff')
    Client().post(url, {"body": "<script>alert(1)</script>requester"})

    thread = page(url).split('<ol class="thread">')[1].split("</ol>")[0]
    assert "staff" in thread and "requester" in thread
    assert "<script" not in thread and "onerror" not in thread


def test_reply_form_keeps_csrf_protection(filed):
    _, url = filed
    client = Client(enforce_csrf_checks=True)

    assert client.post(url, {"body": "no token"}).status_code == 403
    assert not followups().exists()


def test_bulk_status_change_counts_only_changed_tickets(api):
    for subject in ("a", "b", "c"):
        api.post("/api/v1/create_support_ticket", ticket_payload(subject=subject), format="json")
    Ticket.objects.filter(subject="a").update(status=Ticket.Status.CLOSED)

    assert conversation.set_status(Ticket.objects.all(), Ticket.Status.CLOSED) == 2
    assert set(Ticket.objects.values_list("status", flat=True)) == {"closed"}
