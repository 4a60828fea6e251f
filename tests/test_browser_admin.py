"""The staff side in real Chromium: log in, find a ticket by its account, read it, answer;
nothing a requester wrote ever runs as a script on staff's pages."""

from support.models import Message, Ticket
from tests.conftest import ACCOUNT, make_ticket

SCRIPTS = "Help <img src=x onerror=\"alert('img')\"> <script>alert('body')</script> **now**"


def test_staff_finds_reads_and_answers_a_ticket(page, desk, support_staff):
    ticket = make_ticket(
        subject="<script>alert('subject')</script> kernel died",
        body=SCRIPTS,
        username="<b onmouseover=alert('name')>Jane</b>",
        info={"browser": "<script>alert('info')</script>", "os": "Linux"},
    )
    page.goto(f"{desk}/admin/login/?next=/admin/support/ticket/")
    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("textbox", name="Search").fill(str(ACCOUNT))
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="kernel died").click()
    page.get_by_role("heading", name="Request", exact=True).wait_for()
    assert "Help" in page.locator(".description").inner_text()
    assert "now" in page.locator(".description strong").inner_text()

    page.get_by_label("Message").fill("Restarted your project: try again?")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Reply sent to jane@example.com.").wait_for()
    assert "Restarted your project" in page.locator("#conversation").inner_text()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING
    assert Message.objects.get().author.username == "agent"

    page.goto(f"{desk}{ticket.requester_path()}")
    assert "Restarted your project: try again?" in page.content()
    assert page.dialogs == []
