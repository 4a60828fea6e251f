"""The desk's own links (the page the requester was on, their course) shown apart from what
the requester wrote: nothing a body leaves open can swallow or restyle them, on the
requester's page, in the HTML e-mail, or on the admin page."""

import lxml.html
import pytest
from django.core import mail
from django.test import Client

from support.models import Ticket
from tests.conftest import run_worker, ticket_payload

pytestmark = pytest.mark.django_db(transaction=True)  # mail goes out after commit

LOCATION = "https://cocalc.com/projects/0010abe1-9283-4b42-b403-fa4fc1e3be57/worksheet.sagews"
COURSE = "https://cocalc.com/projects/cc8f1243-d573-4562-9aab-c15a3872d683"
OPEN_ENDINGS = {
    "code-fence": 'Traceback:\n```\nFile "x.py", line 1',
    "tilde-fence": "~~~\ncode",
    "indented-code": "text\n\n    code",
    "div": "<div class='x'>open",
    "table": "<table><tr><td>cell",
    "comment": "before <!-- never closed",
    "quote": "> quoted\n> still quoted",
    "list": "- one\n- two",
    "bare-li": "<li>item",
    "pre": "<pre>pre",
    "link": '<a href="https://evil.example">open link',
    "heading": "<h1>big",
    "raw-text": "<textarea>swallow",
}
# Inside any of these, a desk link would be swallowed or restyled by the requester's text
# (which is rendered as one <article>; the page's own lists hold it).
SWALLOWING = {"pre", "code", "blockquote", "table", "a", "article", "h1", "textarea"}


def assert_links_stand_apart(html: str) -> None:
    tree = lxml.html.fromstring(html)
    for url in (LOCATION, COURSE):
        [link] = tree.xpath(f'//p[@class="desk-links"]/a[@href="{url}"]')
        assert link.text == url
        ancestors = {element.tag for element in link.iterancestors()}
        assert not ancestors & SWALLOWING, ancestors


def file(api, body: str) -> tuple[Ticket, str]:
    response = api.post("/api/v1/create_support_ticket", ticket_payload(body=body), format="json")
    assert response.status_code == 200, response.content
    return Ticket.objects.get(), response.json()["url"]


@pytest.mark.parametrize("body", OPEN_ENDINGS.values(), ids=OPEN_ENDINGS.keys())
def test_open_body_cannot_swallow_the_links_on_the_page_or_in_mail(api, settings, body):
    settings.SUPPORT = {**settings.SUPPORT, "STAFF_EMAILS": ["help@example.com"]}
    ticket, url = file(api, body)

    assert ticket.first_message.body == body  # stored as sent
    assert ticket.description == f"{body}\n\n{LOCATION}\n\nCourse: {COURSE}"  # API, helpdesks
    page = Client().get(url).content.decode()
    assert_links_stand_apart(page)
    tree = lxml.html.fromstring(page)
    [message] = tree.xpath('//li[contains(@class, "message-requester")]')
    assert message.xpath('.//p[@class="desk-links"]'), "the links stay in the message"
    run_worker()
    for sent in mail.outbox:  # the confirmation and the staff notification
        html = sent.alternatives[0][0]
        assert_links_stand_apart(html)
        assert f"{LOCATION}\n\nCourse: {COURSE}" in sent.body  # the text part, as stored


def test_admin_page_shows_the_body_alone_and_the_links_in_the_details(api, staff_client):
    ticket, _ = file(api, OPEN_ENDINGS["code-fence"])

    page = staff_client.get(f"/admin/support/ticket/{ticket.pk}/change/").content.decode()
    tree = lxml.html.fromstring(page)
    [description] = tree.xpath('//div[@class="description"]')
    assert "File" in description.text_content() and LOCATION not in description.text_content()
    assert tree.xpath(f'//table//a[@href="{LOCATION}"]') and tree.xpath(f'//a[@href="{COURSE}"]')
