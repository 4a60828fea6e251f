"""The help form's spam guards: each refuses what it should, with words a person can act on,
and lets a person through."""

import math
import uuid

import pytest
from django.test import Client

from support import guards
from support.conf import DEFAULTS
from support.models import Ticket
from tests.test_form import form_fields, open_form, send
from tests.test_form_identity import EMBED, SECRET
from tests.test_form_identity import token as identity_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """The guards' and the rate limits' clock, moved by hand."""

    class Clock:
        now = 1_800_000_000.0

        def __call__(self) -> float:
            return self.now

    fake = Clock()
    monkeypatch.setattr(guards, "clock", fake)
    monkeypatch.setattr("support.ratelimit.clock", fake)
    return fake


def errors(response) -> str:
    html = response.content.decode()
    assert 'role="alert"' in html
    return html.split('role="alert"')[1].split("</div>")[0]


def test_filled_honeypot_is_refused_with_a_message():
    client = Client()
    response = send(client, open_form(client), website="http://spam.example")

    assert response.status_code == 400
    assert "Leave this field empty" in errors(response)
    assert not Ticket.objects.exists()


def test_honeypot_is_hidden_from_people_and_screen_readers():
    html = Client().get("/support/new/").content.decode()

    assert '<div aria-hidden="true" style="position:absolute;left:-10000px' in html
    assert 'name="website" autocomplete="off" tabindex="-1"' in html


def test_form_sent_faster_than_a_person_writes_is_refused_then_accepted(settings, clock):
    settings.SUPPORT = {**settings.SUPPORT, "FORM_MIN_SECONDS": 3}
    client = Client()
    fields = open_form(client)

    clock.now += 1
    response = send(client, fields)
    assert response.status_code == 400
    assert "less than 3 seconds after it was opened" in errors(response)
    assert not Ticket.objects.exists()

    clock.now += 3  # the person reads the message and sends again
    assert send(client, form_fields(response.content.decode())).status_code == 302
    assert Ticket.objects.count() == 1


def test_form_opened_too_long_ago_is_refused_and_renewed(settings, clock):
    settings.SUPPORT = {**settings.SUPPORT, "FORM_MAX_AGE_SECONDS": 2 * 3600}
    client = Client()
    fields = open_form(client)

    clock.now += 2 * 3600 + 1
    response = send(client, fields, subject="Still here")
    assert response.status_code == 400
    assert "opened more than 2 hours ago" in errors(response)
    renewed = form_fields(response.content.decode())
    assert renewed["token"] != fields["token"]
    assert renewed["subject"] == "Still here"  # what they wrote is kept

    clock.now += 5
    assert send(client, renewed).status_code == 302
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("token", ["", "forged", "eyJpZCI6IngifQ:1abc:badsignature"])
def test_missing_or_forged_token_is_refused(token):
    client = Client()
    response = send(client, {**open_form(client), "token": token})

    assert response.status_code == 400
    assert "could not be checked" in errors(response)
    assert form_fields(response.content.decode())["token"] not in ("", token)
    assert not Ticket.objects.exists()


def test_replayed_token_is_refused_once_its_ticket_is_gone():
    client = Client()
    fields = open_form(client)
    send(client, fields)
    Ticket.objects.all().delete()  # staff deleted the spam

    response = send(client, fields)

    assert response.status_code == 400
    assert "already sent" in errors(response)
    assert not Ticket.objects.exists()


def test_sent_form_changed_and_sent_again_is_a_new_request_after_a_warning():
    client = Client()
    fields = open_form(client)
    send(client, fields)

    response = send(client, fields, subject="Another question")
    assert response.status_code == 400
    assert "already sent" in errors(response)
    assert Ticket.objects.count() == 1

    renewed = form_fields(response.content.decode())
    assert renewed["subject"] == "Another question"
    assert send(client, renewed, subject="Another question").status_code == 302
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        "Another question",
        "Kernel died",
    ]


def test_each_ip_is_throttled_with_a_message(settings):
    settings.SUPPORT = {**settings.SUPPORT, "FORM_RATE": "2/h"}
    client = Client()
    for subject in ("one", "two"):
        assert send(client, open_form(client), subject=subject).status_code == 302

    response = send(client, open_form(client), subject="three")

    assert response.status_code == 429
    assert "Too many requests were sent from your network" in errors(response)
    assert "try again in" in errors(response)
    assert Ticket.objects.count() == 2
    # Another address is not held back.
    other = Client(REMOTE_ADDR="203.0.113.7")
    assert send(other, open_form(other), subject="four").status_code == 302


def test_double_click_does_not_count_twice_against_the_rate(settings):
    settings.SUPPORT = {**settings.SUPPORT, "FORM_RATE": "1/h"}
    client = Client()
    fields = open_form(client)

    assert send(client, fields).status_code == 302
    assert send(client, fields).status_code == 302
    assert Ticket.objects.count() == 1


def test_throttle_window_ends(settings, clock):
    settings.SUPPORT = {**settings.SUPPORT, "FORM_RATE": "1/h"}
    client = Client()
    send(client, open_form(client), subject="one")
    assert send(client, open_form(client), subject="two").status_code == 429

    clock.now += 3600
    assert send(client, open_form(client), subject="two").status_code == 302


def test_throttle_reads_the_trusted_proxy_header(settings):
    settings.SUPPORT = {
        **settings.SUPPORT,
        "FORM_RATE": "1/h",
        "FORM_IP_HEADER": "HTTP_X_FORWARDED_FOR",
    }
    client = Client()  # every request comes from the proxy's address
    sent = [
        send(client, open_form(client), subject=ip, headers={"X-Forwarded-For": f"1.1.1.1, {ip}"})
        for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.1")
    ]

    assert [r.status_code for r in sent] == [302, 302, 429]


def test_forms_refused_for_their_content_do_not_count(settings):
    settings.SUPPORT = {**settings.SUPPORT, "FORM_RATE": "2/h"}
    client = Client()
    for overrides in [{"body": "   "}, {"location": "https://evil.example/x"}] * 3:
        refused = send(client, open_form(client), **overrides)
        assert refused.status_code == 200  # shown again with the problem
        assert not Ticket.objects.exists()

    assert send(client, open_form(client), subject="one").status_code == 302
    assert send(client, open_form(client), subject="two").status_code == 302
    assert send(client, open_form(client), subject="three").status_code == 429
    assert Ticket.objects.count() == 2


def test_rate_counts_each_signed_in_account_apart(settings):
    settings.SUPPORT = {**settings.SUPPORT, "FORM_RATE": "1/h", "IDENTITY_SECRET": SECRET}
    client = Client()  # a class behind one address, each signed in by the platform
    statuses = []
    for account in (uuid.uuid4(), uuid.uuid4()):
        identity = identity_token(account_id=str(account), email=f"{account}@example.com")
        opened = client.post("/support/embed/open/", {"identity": identity})  # as the widget
        fields = form_fields(opened.content.decode())
        statuses.append(send(client, fields, path=EMBED).status_code)

    assert statuses == [302, 302]
    assert Ticket.objects.count() == 2


def test_default_rate_lets_a_classroom_behind_one_address_file(settings):
    # The app's default: a class of 30 (CoCalc's users are classes, often behind one
    # school address) may each file a ticket in the same hour.
    settings.SUPPORT = {**settings.SUPPORT, "FORM_RATE": DEFAULTS["FORM_RATE"]}
    client = Client()

    statuses = {send(client, open_form(client), subject=f"{n}").status_code for n in range(30)}

    assert statuses == {302}
    assert Ticket.objects.count() == 30


def test_refusal_over_the_rate_says_when_to_retry(settings):
    settings.SUPPORT = {**settings.SUPPORT, "FORM_RATE": "1/h"}
    client = Client()
    send(client, open_form(client), subject="one")

    refused = send(client, open_form(client), subject="two")

    assert refused.status_code == 429
    minutes = math.ceil(int(refused["Retry-After"]) / 60)
    assert f"Please try again in {minutes} minute" in errors(refused)
    assert form_fields(refused.content.decode())["subject"] == "two"  # what they wrote is kept
