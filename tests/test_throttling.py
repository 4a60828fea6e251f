"""Every page the desk shows to anyone is throttled per client (SUPPORT["CLIENT_RATE"]),
with a 429 page that says how long to wait and keeps what was typed."""

import html
import re
import time

import jwt
import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from support import downloads
from support import urls as support_urls
from support.models import Ticket
from tests.conftest import checked, make_ticket, png_bytes, upload
from tests.test_form import form_fields, open_form, send

pytestmark = pytest.mark.django_db

SECRET = "a-secret-the-platform-and-the-desk-share-0123456789"


@pytest.fixture(autouse=True)
def client_rate(settings):
    settings.SUPPORT = {**settings.SUPPORT, "CLIENT_RATE": "2/min", "IDENTITY_SECRET": SECRET}


@pytest.fixture
def ticket() -> Ticket:
    return make_ticket(attachments=checked(upload("shot.png", png_bytes())))


def every_page(ticket: Ticket) -> list[str]:
    """The URL of every view in support/urls.py."""
    file = ticket.attachments.get()
    args = {"pk": ticket.pk, "key": ticket.access_key, "file": file.pk,
            "token": downloads.signed_path(file).split("/")[-2]}  # fmt: skip
    urls = []
    for pattern in support_urls.urlpatterns:
        needed = {name: args[name] for name in pattern.pattern.converters}
        urls.append(reverse(f"support:{pattern.name}", kwargs=needed))
    return urls


def alert(response) -> str:
    return html.unescape(response.content.decode().split('role="alert"')[1].split("</div>")[0])


def test_every_page_is_throttled_per_client(ticket):
    pages = every_page(ticket)
    assert len(pages) == 10  # the test covers what support/urls.py serves
    for n, url in enumerate(pages):
        client = Client(REMOTE_ADDR=f"192.0.2.{n}")  # a client of its own for each page
        client.get(url)
        client.get(url)
        refused = client.get(url)

        assert refused.status_code == 429, url
        assert "Please wait 1 minute, then try again." in alert(refused)
        assert "Then reload this page." in refused.content.decode()
        assert 0 < int(refused["Retry-After"]) <= 60
        assert "no-store" in refused["Cache-Control"]
        # Another client is not held back.
        assert Client(REMOTE_ADDR=f"198.51.100.{n}").get(url).status_code != 429, url


def test_limit_can_be_turned_off(settings, ticket):
    client = Client()
    url = ticket.requester_path()
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]

    settings.SUPPORT = {**settings.SUPPORT, "CLIENT_RATE": None}

    assert {client.get(url).status_code for _ in range(10)} == {200}
    assert send(client, open_form(client)).status_code == 302


@pytest.mark.parametrize(
    ("page", "fields", "shown"),
    [
        ("form", {"subject": "Kernel died", "body": "It *died*.\n\nTwice.", "preview": "1"},
         ["Kernel died", "It *died*.\n\nTwice."]),
        ("ticket", {"body": "Here is the log:\n\n    Traceback"}, ["Here is the log:\n\n    Traceback"]),
    ],
)  # fmt: skip
def test_refused_post_keeps_what_was_typed_and_sends_it_again(ticket, page, fields, shown):
    url = "/support/new/" if page == "form" else ticket.requester_path()
    client = Client()
    client.get(url)
    client.get(url)

    refused = client.post(url, {**fields, "email_address": "jane@example.com"})

    assert refused.status_code == 429
    content = html.unescape(refused.content.decode())
    for text in shown:
        assert f">{text}</textarea>" in content
    # The form sends everything back as it was, to the same page.
    assert f'action="{url}"' in content
    resent = form_fields(refused.content.decode())
    assert resent["email_address"] == "jane@example.com"
    assert "csrfmiddlewaretoken" in resent


def test_embedded_form_refused_is_still_shown_in_the_widget(settings):
    client = Client()
    for _ in range(2):
        client.get("/support/embed/")

    refused = client.get("/support/embed/")

    assert refused.status_code == 429
    assert refused["Content-Security-Policy"] == "frame-ancestors 'self' https://cocalc.com"
    assert "X-Frame-Options" not in refused


def token(name: str, account: str) -> str:
    claims = {"email": f"{name}@example.com", "account_id": account, "exp": time.time() + 600}
    return jwt.encode(claims, SECRET, "HS256")


def test_people_signed_in_by_the_platform_count_per_account():
    client = Client()  # a classroom: everyone behind one address
    ada = token("ada", "0c7ae00c-ea43-4981-b454-90d4a8b1ac47")
    bob = token("bob", "291f43c1-deae-431c-b763-712307fa6859")
    statuses = [
        # Opened as the widget opens the form: its POST carries the identity.
        client.post("/support/embed/open/", {"identity": identity}).status_code
        for identity in (ada, ada, bob, bob, ada)
    ]

    assert statuses == [200, 200, 200, 200, 429]


def test_an_ipv6_client_is_its_slash_64():
    same = [Client(REMOTE_ADDR=f"2001:db8:0:1::{n}") for n in (1, 2, 3)]
    assert [c.get("/support/new/").status_code for c in same] == [200, 200, 429]
    assert Client(REMOTE_ADDR="2001:db8:0:2::1").get("/support/new/").status_code == 200


@pytest.mark.urls("tests.urls_exempt")
def test_an_exempt_view_is_never_throttled():
    client = Client()

    assert {client.get("/health/").status_code for _ in range(10)} == {200}
    assert [client.get("/page/").status_code for _ in range(3)] == [200, 200, 429]


def test_admin_login_is_throttled_per_client_and_keeps_no_password():
    client = Client()
    credentials = {"username": "ada", "password": "guess"}
    client.post("/admin/login/", credentials)
    client.post("/admin/login/", credentials)

    refused = client.post("/admin/login/", credentials)

    assert refused.status_code == 429
    kept = form_fields(refused.content.decode())
    assert kept["username"] == "ada"
    assert "password" not in kept and "guess" not in refused.content.decode()


def test_every_page_of_the_project_an_anonymous_visitor_reaches_is_throttled():
    from config import urls as project_urls

    pages = [p for p in project_urls.urlpatterns if isinstance(p, URLPattern)]
    assert len(pages) >= 3  # the home page, the admin's login, its view on site
    for n, pattern in enumerate(pages):
        url = "/" + re.sub(r"<[^>]+>", "1", str(pattern.pattern))
        client = Client(REMOTE_ADDR=f"198.51.100.{n}")
        answers = [client.get(url) for _ in range(3)]

        # Throttled, or nothing done for anyone not logged in (a redirect to the login).
        redirected = all(a.status_code == 302 and "/admin/login/" in a["Location"] for a in answers)
        assert redirected or answers[-1].status_code == 429, url
        if url == "/":
            assert [a.status_code for a in answers] == [200, 200, 429]
