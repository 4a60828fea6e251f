"""The requester's private ticket page, which the API's `url` opens."""

import uuid

import pytest
from django.test import Client

from support.models import Ticket
from tests.conftest import ticket_payload

pytestmark = pytest.mark.django_db


def file(api, **overrides) -> str:
    response = api.post("/api/v1/create_support_ticket", ticket_payload(**overrides), format="json")
    assert response.status_code == 200
    return response.json()["url"]


def test_page_shows_subject_status_and_description_without_login(api):
    url = file(api, subject="Kernel died", body="My **kernel** died.")
    response = Client().get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Kernel died" in html
    assert "Received" in html  # status "new", in words a requester understands
    assert "My <strong>kernel</strong> died." in html
    assert (
        '<a href="https://cocalc.com/projects/0010abe1-9283-4b42-b403-fa4fc1e3be57/'
        'worksheet.sagews" rel="noopener noreferrer nofollow">'
    ) in html


def test_pending_reads_awaiting_your_reply(api):
    url = file(api)
    Ticket.objects.update(status=Ticket.Status.PENDING)

    assert "Awaiting your reply" in Client().get(url).content.decode()


def test_html_body_is_rendered(api):
    url = file(api, body="<p>Hello <em>there</em></p><table><tr><td>1</td></tr></table>")
    html = Client().get(url).content.decode()

    assert "<p>Hello <em>there</em></p>" in html
    assert "<td>1</td>" in html


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>hello",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        '<iframe src="https://evil.example"></iframe>hello',  # alone it shows nothing: refused
        "<svg onload=alert(1)>hello",
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_dangerous_markup_is_removed(api, body):
    html = Client().get(file(api, body=body)).content.decode()
    article = html.split('<div class="body">')[1].split("</li>")[0]

    # What stays is inert text; no element, attribute or link can run anything.
    for needle in (
        "<script",
        "onerror=",
        'href="javascript',
        "<iframe",
        "<svg",
        "onload=",
        "style=",
    ):
        assert needle not in article.lower()


def test_subject_is_escaped(api):
    html = Client().get(file(api, subject="<b>bold</b>")).content.decode()

    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<b>bold</b>" not in html


def test_wrong_secret_is_a_404(api):
    url = file(api)
    ticket = Ticket.objects.get()

    assert Client().get(url.replace(ticket.access_key, "x" * 24)).status_code == 404
    assert Client().get(url.replace(ticket.access_key, "")).status_code == 404


def test_unknown_ticket_is_a_404(api):
    url = file(api)
    ticket = Ticket.objects.get()

    assert Client().get(url.replace(str(ticket.pk), str(uuid.uuid4()))).status_code == 404


def test_each_ticket_has_its_own_secret(api):
    first, second = file(api, subject="a"), file(api, subject="b")
    key_a, key_b = (url.rstrip("/").rsplit("/", 1)[1] for url in (first, second))

    assert key_a != key_b and len(key_a) >= 22


def test_page_is_not_indexed_or_cached(api):
    response = Client().get(file(api))

    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"  # the secret never leaves the site
