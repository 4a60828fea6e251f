"""From the form to the requester's ticket page and back and forth with support, in real
Chromium: follow the link, read the reply, answer, mark it solved; no script ever runs."""

import pytest
from django.contrib.auth import get_user_model

from support import conversation
from support.models import Message, Ticket
from tests.conftest import followups, make_ticket

SCRIPTS = "Still **broken**: <img src=x onerror=\"alert('img')\"> <script>alert('reply')</script>"


def file_through_the_form(page, desk) -> Ticket:
    page.goto(f"{desk}/support/new/")
    page.get_by_label("Your e-mail address").fill("jane@example.com")
    page.get_by_label("Your name").fill("Jane")
    page.get_by_label("Subject").fill("Kernel died")
    page.get_by_label("How can we help?").fill("My kernel died.")
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="Thank you: we have your request").wait_for()
    return Ticket.objects.get()


def test_requester_follows_the_link_replies_and_marks_it_solved(page, desk):
    ticket = file_through_the_form(page, desk)
    staff = get_user_model().objects.create_user("ann", first_name="Ann")
    conversation.reply(ticket, author=staff, body="Did you restart the project?")

    page.locator(".support-link a").click()
    page.get_by_role("heading", name="Kernel died").wait_for()
    assert page.locator(".status").inner_text() == "Awaiting your reply"
    assert "Did you restart the project?" in page.locator(".message-reply").inner_text()

    page.get_by_label("Your reply").fill("Yes, and it still dies.")
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("Your reply was sent to support.").wait_for()
    assert "Yes, and it still dies." in page.locator(".message-requester").last.inner_text()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN  # the reply reopened it for staff
    assert list(followups(ticket).values_list("kind", "body")) == [
        (Message.Kind.REPLY, "Did you restart the project?"),
        (Message.Kind.REQUESTER, "Yes, and it still dies."),
    ]

    page.get_by_role("button", name="This is solved").click()
    page.get_by_text("Thank you! The request is marked as solved.").wait_for()
    assert page.locator(".status").inner_text() == "Solved"
    assert page.get_by_role("button", name="This is solved").count() == 0
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED
    assert page.dialogs == []


def test_scripts_in_replies_never_run(page, desk):
    ticket = file_through_the_form(page, desk)
    staff = get_user_model().objects.create_user("ann", first_name="Ann")
    conversation.reply(ticket, author=staff, body=f"Staff quoting: {SCRIPTS}")

    page.goto(f"{desk}{ticket.requester_path()}")
    page.get_by_label("Your reply").fill(SCRIPTS)
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("Your reply was sent to support.").wait_for()
    page.wait_for_load_state("load")

    assert page.locator(".message-requester strong").last.inner_text() == "broken"
    assert page.locator("main script, main [onerror]").count() == 0
    assert page.dialogs == []


@pytest.mark.parametrize("body", ["<li>a bare item", "Traceback:\n```\nFile x.py"])
def test_desk_links_stay_in_the_message_whatever_the_body_leaves_open(page, desk, body):
    ticket = make_ticket(body=body)
    page.goto(desk + ticket.requester_path())

    link = page.locator("p.desk-links a").first
    assert link.is_visible()
    # As Chromium parsed the page: the link is the desk's, in the requester's message,
    # outside what they wrote (no <li> of theirs closed the message's list item).
    assert link.evaluate(
        "a => [!!a.closest('li.message-requester'), !!a.closest('article, pre, code')]"
    ) == [True, False]
    assert page.locator("li.message-requester article.markup").count() == 1


def test_a_reply_typed_while_staff_closed_the_request_stays_on_the_page(page, desk):
    ticket = file_through_the_form(page, desk)
    page.goto(f"{desk}{ticket.requester_path()}")
    page.get_by_label("Your reply").fill("One more thing:\nthe logs are attached below.")
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.CLOSED)  # staff, meanwhile

    page.get_by_role("button", name="Send reply").click()

    page.get_by_text("This request is closed. Please send a new one.").wait_for()
    kept = page.get_by_label("Your reply was not sent. Here it is, to copy into a new request:")
    assert kept.input_value() == "One more thing:\nthe logs are attached below."
    assert kept.get_attribute("readonly") is not None
    assert page.get_by_role("button", name="Send reply").count() == 0
    assert not followups(ticket).exists()
