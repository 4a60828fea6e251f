"""The staff side in real Chromium: log in, find a ticket by its account, read it, answer;
nothing a requester wrote ever runs as a script on staff's pages."""

from support.models import Ticket
from tests.conftest import ACCOUNT, followups, make_ticket

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
    assert followups().get().author.username == "agent"

    page.goto(f"{desk}{ticket.requester_path()}")
    assert "Restarted your project: try again?" in page.content()
    assert page.dialogs == []


def log_in(page, desk: str, then: str) -> None:
    page.goto(f"{desk}/admin/login/?next={then}")
    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{desk}{then}")


def test_a_reply_saved_with_the_status_menu_is_sent_with_that_status(page, desk, support_staff):
    ticket = make_ticket(subject="Kernel died", status="open")
    log_in(page, desk, f"/admin/support/ticket/{ticket.pk}/change/")

    # One form, one status menu, no id twice.
    assert page.locator("select[name=status]").count() == 1
    assert (
        page.evaluate(
            "() => { const ids = [...document.querySelectorAll('[id]')].map(e => e.id);"
            " return ids.filter((id, i) => ids.indexOf(id) !== i); }"
        )
        == []
    )
    page.get_by_label("Message").fill("Restarted your kernel; it runs again.")
    page.get_by_label("Status").select_option("solved")
    page.get_by_role("button", name="Save", exact=True).click()

    page.get_by_text("Reply sent to jane@example.com.").wait_for()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED
    reply = followups().get()
    assert (reply.kind, reply.body) == ("reply", "Restarted your kernel; it runs again.")
    assert page.dialogs == []  # leaving by Save asked nothing


def test_leaving_with_unsent_text_asks_and_a_refused_reply_keeps_it(page, desk, support_staff):
    ticket = make_ticket(subject="Kernel died", status="open")
    log_in(page, desk, f"/admin/support/ticket/{ticket.pk}/change/")
    change_page = page.url
    message = page.get_by_label("Message")

    message.fill("Half an answer")
    page.locator(".breadcrumbs").get_by_role("link", name="Tickets").click()

    page.wait_for_timeout(500)
    assert len(page.dialogs) == 1  # "Leave site?", dismissed: the page stays
    assert page.url == change_page and message.input_value() == "Half an answer"

    too_long = "x" * 100_001
    message.fill(too_long)
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Keep the message under 100000 characters.").wait_for()
    assert page.get_by_label("Message").input_value() == too_long  # refused, not lost
    assert not followups().exists()

    page.get_by_label("Message").click()  # browsers ask only once someone touched the page
    page.locator(".breadcrumbs").get_by_role("link", name="Tickets").click()
    page.wait_for_timeout(500)
    assert len(page.dialogs) == 2 and page.get_by_label("Message").input_value() == too_long

    page.get_by_label("Message").fill("Short and sent.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Reply sent to jane@example.com.").wait_for()
    assert followups().get().body == "Short and sent."
    page.locator(".breadcrumbs").get_by_role("link", name="Tickets").click()
    page.wait_for_url(f"{desk}/admin/support/ticket/")
    assert len(page.dialogs) == 2  # nothing left unsent: no question


def log_out_elsewhere(page, desk: str, *, log_in_again: bool = False) -> None:
    """In another tab of the same browser: log out (and back in: a new CSRF token)."""
    other = page.context.new_page()
    other.goto(f"{desk}/admin/")
    other.locator("#logout-form button").click()
    other.get_by_text("Logged out").first.wait_for()
    if log_in_again:
        log_in(other, desk, "/admin/")
    other.close()


def test_a_reply_sent_after_the_session_ended_is_kept_until_sent(page, desk, support_staff):
    ticket = make_ticket(subject="Kernel died", status="open")
    change = f"/admin/support/ticket/{ticket.pk}/change/"
    log_in(page, desk, change)
    page.get_by_label("Internal note (staff only)").check()
    page.get_by_label("Message").fill("Checked the logs:\nthe disk is full.")
    log_out_elsewhere(page, desk)

    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_label("Username").wait_for()  # the login page: nothing was sent
    assert not followups().exists()
    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{desk}{change}")

    page.get_by_text("Your message was not sent: here it is again, as you left it.").wait_for()
    assert page.get_by_label("Message").input_value() == "Checked the logs:\nthe disk is full."
    assert page.get_by_label("Internal note (staff only)").is_checked()  # never mailed out
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Note added.").wait_for()
    note = followups().get()
    assert (note.kind, note.body) == ("note", "Checked the logs:\r\nthe disk is full.")
    # Sent: the draft is gone, here and on the next visit.
    assert page.get_by_label("Message").input_value() == ""
    page.reload()
    assert page.get_by_label("Message").input_value() == ""
    assert page.locator("#draft-restored").is_hidden()
    assert page.dialogs == []


def test_a_reply_refused_for_its_csrf_token_is_kept(page, desk, support_staff):
    ticket = make_ticket(subject="Kernel died", status="open")
    change = f"/admin/support/ticket/{ticket.pk}/change/"
    log_in(page, desk, change)
    page.get_by_label("Message").fill("Try restarting the project.")
    log_out_elsewhere(page, desk, log_in_again=True)  # the CSRF token changes

    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("CSRF verification failed").wait_for()  # Django's 403 page
    assert not followups().exists()
    page.goto(f"{desk}{change}")

    assert page.get_by_label("Message").input_value() == "Try restarting the project."
    assert page.get_by_label("Public reply (e-mailed to the requester)").is_checked()
    page.get_by_role("button", name="Save", exact=True).click()  # Save sends it too
    page.get_by_text("Reply sent to jane@example.com.").wait_for()
    assert followups().get().body == "Try restarting the project."
    page.goto(f"{desk}{change}")
    assert page.get_by_label("Message").input_value() == ""  # sent: not put back
