"""The widget's form for a person logged in to the platform: the platform signs who they
are (an HS256 JWT with SUPPORT["IDENTITY_SECRET"]), and the form does not ask again."""

import time
import uuid

import jwt
import pytest
from django.test import Client

from support.models import Ticket
from tests.test_form import form_fields, send

pytestmark = pytest.mark.django_db

SECRET = "a-secret-the-platform-and-the-desk-share-0123456789"
ACCOUNT = uuid.UUID("291f43c1-deae-431c-b763-712307fa6859")
EMBED = "/support/embed/"
OPEN = "/support/embed/open/"  # where the widget POSTs to open the form


@pytest.fixture(autouse=True)
def identity_secret(settings):
    settings.SUPPORT = {**settings.SUPPORT, "IDENTITY_SECRET": SECRET}


def token(secret: str = SECRET, **claims) -> str:
    claims = {
        "email": "ada@example.com", "name": "Ada Lovelace", "account_id": str(ACCOUNT),
        "exp": int(time.time()) + 600, **claims,
    }  # fmt: skip
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, "HS256")


def open_embed(client: Client, identity: str) -> tuple[str, dict]:
    """Open the form as the widget does: a cross-site POST, without a CSRF token."""
    response = client.post(OPEN, {"identity": identity, "location": "/projects/p"})
    assert response.status_code == 200
    html = response.content.decode()
    return html, form_fields(html)


def test_signed_person_is_not_asked_and_files_with_their_account():
    client = Client()
    html, fields = open_embed(client, token())

    assert 'name="email_address"' not in html and 'name="username"' not in html
    assert "You are writing as Ada Lovelace (ada@example.com)" in html
    # What the page sends is only what a person could type: the e-mail comes from the token.
    response = send(client, fields, path=EMBED, email_address="eve@example.com")

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.requester_email, ticket.requester_name) == ("ada@example.com", "Ada Lovelace")
    assert ticket.account_id == ACCOUNT
    assert ticket.location == "/projects/p"


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda: token(secret="another-secret-another-secret-0123456"), id="forged"),
        pytest.param(lambda: token(exp=int(time.time()) - 3600), id="expired"),
        pytest.param(lambda: token(exp=None), id="no-expiry"),
        pytest.param(lambda: token(email=None), id="no-email"),
        pytest.param(
            lambda: jwt.encode({"email": "a@b.c", "exp": 2**40}, None, "none"), id="alg-none"
        ),
        pytest.param(lambda: "not.a.token", id="garbage"),
    ],
)
def test_token_that_does_not_check_out_counts_for_nothing(bad):
    client = Client()
    html, fields = open_embed(client, bad())

    assert 'name="email_address"' in html  # asked, as anyone is
    fields["signed_identity"] = bad()  # and sending it along does not help either
    send(client, fields, path=EMBED, email_address="jane@example.com")

    ticket = Ticket.objects.get()
    assert ticket.requester_email == "jane@example.com" and ticket.account_id is None


def test_identity_is_checked_again_when_the_form_is_sent():
    client = Client()
    _, fields = open_embed(client, token())
    fields["signed_identity"] = token(
        email="eve@example.com", secret="x" * 40
    )  # swapped in the page

    response = send(client, fields, path=EMBED, email_address="")

    assert response.status_code == 200  # asked for the e-mail address now
    assert "Your e-mail address" in response.content.decode()
    assert not Ticket.objects.exists()


def test_without_a_secret_tokens_are_ignored(settings):
    settings.SUPPORT = {**settings.SUPPORT, "IDENTITY_SECRET": None}
    html, _ = open_embed(Client(), token())

    assert 'name="email_address"' in html


# Claims the API would refuse in a request: the token counts for nothing, and the form asks.
BAD_CLAIMS = {
    "email-surrogate": {"email": "ada\ud800@example.com"},
    "email-nul": {"email": "ada\x00@example.com"},
    "email-zero-width": {"email": "\u200b"},
    "email-spaces": {"email": "   "},
    "email-invalid": {"email": "not an email"},
    "email-too-long": {"email": "a" * 250 + "@example.com"},
    "email-not-text": {"email": ["ada@example.com"]},
    "name-surrogate": {"name": "Ada\udc00"},
    "name-nul": {"name": "Ada\x00"},
    "name-not-text": {"name": {"first": "Ada"}},
    "name-too-long": {"name": "N" * 5000},
    "account-not-uuid": {"account_id": "not-a-uuid"},
    "account-number": {"account_id": 12345678901234567890},
    "account-surrogate": {"account_id": "\ud800"},
}


@pytest.mark.parametrize("claims", BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
def test_token_with_a_claim_the_api_would_refuse_counts_for_nothing(settings, caplog, claims):
    # Throttled, as deployed: the client of a signed request is its account or e-mail.
    settings.SUPPORT = {**settings.SUPPORT, "CLIENT_RATE": "100/min"}
    client = Client()
    bad = token(**claims)
    html, fields = open_embed(client, bad)

    assert 'name="email_address"' in html and "You are writing as" not in html
    assert any("Identity token refused" in r.getMessage() for r in caplog.records)
    assert bad not in caplog.text
    fields["signed_identity"] = bad
    response = send(client, fields, path=EMBED, email_address="jane@example.com")

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.requester_email, ticket.account_id) == ("jane@example.com", None)


def test_token_claims_are_normalised_as_the_api_does():
    client = Client()
    html, fields = open_embed(client, token(email="Ada@EXAMPLE.COM", name="\u3164 "))

    assert "You are writing as Ada@example.com;" in html  # a blank name: the address
    send(client, fields, path=EMBED)

    ticket = Ticket.objects.get()
    assert (ticket.requester_email, ticket.requester_name) == ("Ada@example.com",) * 2


def form_user(request):
    """SUPPORT["FORM_USER"] for the next test: what the platform's function returns."""
    return request.platform_user


@pytest.mark.parametrize("claims", BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
def test_logged_in_user_the_api_would_refuse_is_asked(settings, caplog, claims, monkeypatch):
    settings.SUPPORT = {**settings.SUPPORT, "FORM_USER": f"{__name__}.form_user"}
    user = {"email": "ada@example.com", "name": "Ada", "account_id": str(ACCOUNT), **claims}
    monkeypatch.setattr("django.http.HttpRequest.platform_user", user, raising=False)
    client = Client()

    html = client.get("/support/new/").content.decode()

    assert 'name="email_address"' in html and "You are writing as" not in html
    assert any(f"{__name__}.form_user refused" in r.getMessage() for r in caplog.records)
    send(client, form_fields(html), email_address="jane@example.com")
    assert Ticket.objects.get().requester_email == "jane@example.com"


def test_identity_in_a_url_counts_for_nothing():
    # A token in a URL lands in access logs; the form reads it only from the widget's POST.
    response = Client().get(EMBED, {"identity": token(), "location": "/projects/p"})

    html = response.content.decode()
    assert 'name="email_address"' in html and "You are writing as" not in html
    assert token() not in html


def test_form_opened_by_post_is_frameable_and_sent_with_csrf(settings):
    settings.SUPPORT = {**settings.SUPPORT, "FRAME_ANCESTORS": ["https://cocalc.com"]}
    client = Client(enforce_csrf_checks=True)
    response = client.post(OPEN, {"identity": token(), "language": "de", "screen": "800x600"})

    assert response.status_code == 200
    assert "frame-ancestors 'self' https://cocalc.com" in response["Content-Security-Policy"]
    assert "Partitioned" in response.cookies["csrftoken"]["samesite"]
    fields = form_fields(response.content.decode())
    assert fields["language"] == "de" and fields["screen"] == "800x600"
    assert Client(enforce_csrf_checks=True).get(OPEN).status_code == 405
