"""The help widget on another site: one script tag, the form in an iframe, in real Chromium.

The desk is served at http://localhost:<port>, the platform's page at
http://127.0.0.1:<port>: different sites, so the iframe is a third-party context (no
SameSite=Lax cookie goes with its requests)."""

import time

import jwt
import pytest

from support import framing
from support.models import Ticket
from tests.conftest import ACCOUNT

PATH = "/projects/0010abe1/files/notebook.ipynb"


@pytest.fixture
def host_page(host_site, desk, settings):
    """A page of the platform with the widget, its URL. The platform may frame the form."""
    host_site.pages[PATH] = (
        "<!doctype html><html lang='en'><head><title>Notebook</title></head><body>"
        "<h1>A notebook</h1>"
        f'<script src="{desk}/static/support/widget.js" data-label="Get help" defer></script>'
        "</body></html>"
    )
    settings.SUPPORT = {**settings.SUPPORT, "FRAME_ANCESTORS": [host_site.origin]}
    return f"{host_site.origin}{PATH}?tab=2"


def open_widget(page, url):
    page.goto(url)
    page.get_by_role("button", name="Get help").click()
    return page.frame_locator("iframe[title='Get help']")


def test_widget_files_a_ticket_from_another_site_through_csrf(page, host_page):
    form = open_widget(page, host_page)
    form.get_by_label("Your e-mail address").fill("jane@example.com")
    form.get_by_label("Subject").fill("From the notebook")
    form.get_by_label("How can we help?").fill("The kernel died.")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        form.get_by_role("button", name="Send").click()

    # The POST from the cross-site iframe passed Django's CSRF check (a 403 otherwise).
    assert posted.value.status == 302
    form.get_by_role("heading", name="Thank you: we have your request").wait_for()
    ticket = Ticket.objects.get()
    link = form.locator(".support-link a")
    assert link.get_attribute("href").endswith(ticket.requester_path())
    assert link.get_attribute("target") == "_blank"
    assert ticket.channel == Ticket.Channel.FORM
    assert ticket.location == f"{PATH}?tab=2"  # the host page, as the script saw it
    assert ticket.info["language"] and ticket.info["screen"]
    assert ticket.info["browser"].startswith("Chrome ")
    assert page.dialogs == []


def test_without_the_partitioned_cookie_the_iframe_post_fails_csrf(page, host_page, monkeypatch):
    # The control for the test above: with Django's usual SameSite=Lax cookie the browser
    # keeps the cookie out of the third-party iframe and the CSRF check refuses the form.
    monkeypatch.setattr(framing, "_set_embedded_csrf_cookie", lambda request, response: None)
    form = open_widget(page, host_page)
    form.get_by_label("Your e-mail address").fill("jane@example.com")
    form.get_by_label("Subject").fill("x")
    form.get_by_label("How can we help?").fill("y")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        form.get_by_role("button", name="Send").click()

    assert posted.value.status == 403
    assert not Ticket.objects.exists()


def test_widget_is_a_keyboard_friendly_dialog_closed_with_escape(page, host_page):
    form = open_widget(page, host_page)
    form.get_by_label("Your e-mail address").wait_for()
    dialog = page.get_by_role("dialog", name="Get help")
    assert dialog.is_visible()

    form.get_by_label("Subject").focus()  # focus inside the iframe: Escape reaches the form
    page.keyboard.press("Escape")

    dialog.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.textContent") == "Get help"
    page.keyboard.press("Enter")  # opens again
    dialog.wait_for(state="visible")
    page.get_by_role("button", name="Close").click()
    dialog.wait_for(state="hidden")


def test_site_not_on_the_allowlist_cannot_show_the_form(page, host_page, settings):
    settings.SUPPORT = {**settings.SUPPORT, "FRAME_ANCESTORS": ["https://cocalc.com"]}
    page.goto(host_page)
    with (
        page.expect_console_message(lambda m: "frame-ancestors" in m.text) as refused,
        page.expect_response(lambda r: "/support/embed/" in r.url) as answered,
    ):
        page.get_by_role("button", name="Get help").click()

    assert answered.value.status == 200  # the desk answered; the browser would not show it
    assert "The request has been blocked" in refused.value.text
    frame = page.locator("iframe[title='Get help']").element_handle().content_frame()
    frame.wait_for_load_state()
    assert frame.locator("form").count() == 0
    assert page.dialogs == []


def test_person_the_platform_signs_for_is_not_asked_who_they_are(page, host_site, desk, settings):
    secret = "a-secret-the-platform-and-the-desk-share-0123456789"
    settings.SUPPORT = {
        **settings.SUPPORT, "FRAME_ANCESTORS": [host_site.origin], "IDENTITY_SECRET": secret,
    }  # fmt: skip
    identity = jwt.encode(
        {"email": "ada@example.com", "name": "Ada", "account_id": str(ACCOUNT),
         "exp": int(time.time()) + 600},
        secret, "HS256",
    )  # fmt: skip
    host_site.pages[PATH] = (
        "<!doctype html><html lang='en'><head><title>Notebook</title></head><body>"
        f'<script src="{desk}/static/support/widget.js" data-label="Get help" '
        f'data-identity="{identity}" defer></script></body></html>'
    )

    requests = []
    page.on("request", lambda request: requests.append(request))
    form = open_widget(page, f"{host_site.origin}{PATH}?tab=secret")
    form.get_by_text("You are writing as Ada (ada@example.com)").wait_for()
    assert form.get_by_label("Your e-mail address").count() == 0
    form.get_by_label("Subject").fill("Signed in")
    form.get_by_label("How can we help?").fill("No e-mail asked.")
    form.get_by_role("button", name="Send").click()
    form.get_by_role("heading", name="Thank you: we have your request").wait_for()

    ticket = Ticket.objects.get()
    assert (ticket.requester_email, ticket.requester_name) == ("ada@example.com", "Ada")
    assert ticket.account_id == ACCOUNT
    assert ticket.location == f"{PATH}?tab=secret"
    # The token and the host page's query went in request bodies, never in a URL (which
    # servers, proxies and Referer headers pass on and log).
    desk_requests = [request for request in requests if request.url.startswith(desk)]
    assert [r.method for r in desk_requests if "/support/embed/" in r.url][:1] == ["POST"]
    for request in desk_requests:
        for value in (request.url, request.headers.get("referer", "")):
            assert identity not in value and "tab=secret" not in value
