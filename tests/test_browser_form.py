"""The help form on the desk's own pages, in real Chromium."""

import re

from support.models import Ticket

XSS_SUBJECT = "<script>alert('subject')</script>Broken"
XSS_BODY = "Look: <img src=x onerror=\"alert('body')\"> <script>alert('body2')</script> **bold**"


def test_form_is_filed_with_the_keyboard_alone(page, desk):
    page.goto(f"{desk}/support/new/")

    for text in ("jane@example.com", "Jane Doe", "Kernel died", "My kernel died."):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Tab")  # the files, which are optional
    assert page.evaluate("document.activeElement.type") == "file"
    page.keyboard.press("Tab")  # past the honeypot, which the keyboard never reaches
    assert page.evaluate("document.activeElement.textContent") == "Send"
    page.keyboard.press("Enter")

    page.get_by_role("heading", name="Thank you: we have your request").wait_for()
    ticket = Ticket.objects.get()
    link = page.locator(".support-link a")
    assert link.get_attribute("href") == f"{desk}{ticket.requester_path()}"
    assert (ticket.requester_email, ticket.requester_name) == ("jane@example.com", "Jane Doe")
    assert (ticket.subject, ticket.first_message.body) == ("Kernel died", "My kernel died.")
    # The page's script told support what the browser shows.
    assert ticket.info["browser"].startswith("Chrome ")
    assert ticket.info["os"] == "Linux"
    assert re.fullmatch(r"\d+x\d+", ticket.info["screen"])
    assert ticket.info["language"]


def test_template_tag_form_on_the_home_page_records_the_page(page, desk):
    page.goto(f"{desk}/?from=menu")
    page.get_by_label("Your e-mail address").fill("jane@example.com")
    page.get_by_label("Subject").fill("From the home page")
    page.get_by_label("How can we help?").fill("Hello")
    page.get_by_role("button", name="Send").click()

    page.get_by_role("heading", name="Thank you: we have your request").wait_for()
    assert Ticket.objects.get().location == "/?from=menu"


def test_errors_are_announced_and_focused(page, desk):
    page.goto(f"{desk}/support/new/")
    page.get_by_label("Your e-mail address").fill("jane@example")  # passes the browser's check
    page.get_by_label("Subject").fill("x")
    page.get_by_label("How can we help?").fill("y")
    page.get_by_role("button", name="Send").click()

    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Enter a valid email address." in alert.inner_text()
    assert page.evaluate("document.activeElement.id") == "support-errors"
    assert page.get_by_label("Your e-mail address").get_attribute("aria-invalid") == "true"
    assert not Ticket.objects.exists()


def test_scripts_in_subject_and_message_never_run_in_preview_or_on_the_ticket_page(page, desk):
    page.goto(f"{desk}/support/new/")
    page.get_by_label("Your e-mail address").fill("jane@example.com")
    page.get_by_label("Subject").fill(XSS_SUBJECT)
    page.get_by_label("How can we help?").fill(XSS_BODY)
    page.get_by_role("button", name="Preview").click()

    preview = page.locator(".support-preview")
    preview.wait_for()
    assert page.evaluate("document.activeElement.id") == "support-preview"  # read next
    assert preview.locator("strong").inner_text() == "bold"
    assert preview.locator("script, img[onerror]").count() == 0
    page.get_by_role("button", name="Send").click()
    page.locator(".support-link a").click()
    page.get_by_role("heading", name=XSS_SUBJECT).wait_for()  # shown as text
    page.wait_for_load_state("load")

    assert page.dialogs == []
    assert page.locator("main script, main [onerror]").count() == 0
