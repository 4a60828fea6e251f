"""Blank means blank to a reader: text that shows nothing (zero-width, format, separator
and filler characters) counts as empty in every text field of every entry point."""

import pytest
from django.test import Client

from support.models import Ticket
from tests.conftest import followups, make_ticket, ticket_payload
from tests.test_admin_tickets import _no_inlines, page_url
from tests.test_form import open_form, send

CREATE = "/api/v1/create_support_ticket"
pytestmark = pytest.mark.django_db

# Each shows as nothing; the example first.
INVISIBLE = {
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "word joiner": "\u2060",
    "byte-order mark": "\ufeff",
    "Hangul choseong filler": "\u115f",
    "Hangul jungseong filler": "\u1160",
    "Hangul filler": "\u3164",
    "halfwidth Hangul filler": "\uffa0",
    "Braille blank": "\u2800",
    "Mongolian vowel separator": "\u180e",
    "soft hyphen": "\u00ad",
    "combining grapheme joiner": "\u034f",
    "variation selector": "\ufe0f",
    "tag space": "\U000e0020",
    "Khitan filler": "\U00016fe4",
    "null notehead": "\U0001d159",
    "right-to-left override": "\u202e",
    "ideographic space": "\u3000",
    "no-break space": "\u00a0",
    "line separator": "\u2028",
    "mixed": " \u200b\t\u3164\n\u2800\ufeff ",
}
BLANKS = pytest.mark.parametrize("blank", [c * 3 for c in INVISIBLE.values()], ids=INVISIBLE)


def post_json(client, payload):
    return client.post(CREATE, payload, format="json")


@BLANKS
@pytest.mark.parametrize("field", ["subject", "body", "email_address"])
def test_api_refuses_a_required_field_that_only_looks_filled(api, field, blank):
    response = post_json(api, ticket_payload(**{field: blank}))

    assert response.status_code == 400
    assert response.json()["fields"][field] == ["This field may not be blank."]
    assert not Ticket.objects.exists()


@BLANKS
def test_api_blank_username_means_the_email_address(api, blank):
    assert post_json(api, ticket_payload(username=blank)).status_code == 200

    assert Ticket.objects.get().requester_name == "jane@example.com"


@BLANKS
def test_api_refuses_a_tag_that_only_looks_filled(api, blank):
    response = post_json(api, ticket_payload(tags=["member", blank]))

    assert response.status_code == 400
    assert response.json()["fields"]["tags"] == ["A tag may not be blank."]


@pytest.mark.parametrize("blank", ["\u200b", "\u3164 \u2800"])
def test_api_blank_location_means_no_location(api, blank):
    assert post_json(api, ticket_payload(location=blank, info=...)).status_code == 200

    ticket = Ticket.objects.get()
    assert ticket.location == "" and ticket.description == ticket.first_message.body


@pytest.mark.parametrize(
    "subject", ["Hi\u200b", "\u200bA", "한", "👍", "ㅤx", "\u0301", "\ue000"],
    ids=["trailing zero-width", "leading zero-width", "Hangul syllable", "emoji",
         "filler then letter", "lone combining mark", "private use"],
)  # fmt: skip
def test_api_takes_text_with_something_to_see(api, subject):
    assert post_json(api, ticket_payload(subject=subject)).status_code == 200

    assert Ticket.objects.get().subject == subject


# The help form


@pytest.mark.parametrize("field", ["subject", "body"])
@pytest.mark.parametrize("blank", ["\u200b\u200c", "\u3164", "\u2800\ufeff"])
def test_help_form_shows_an_error_on_a_field_that_only_looks_filled(client, field, blank):
    response = send(client, open_form(client), **{field: blank})

    assert response.status_code == 200
    assert response.context["form"].errors[field] == ["This field may not be blank."]
    assert "This field may not be blank." in response.content.decode()
    assert not Ticket.objects.exists()


def test_help_form_blank_name_means_the_email_address(client):
    response = send(client, open_form(client), username="\u3164\u200b")

    assert response.status_code == 302
    assert Ticket.objects.get().requester_name == "jane@example.com"


@pytest.mark.parametrize("field", ["language", "screen"])
def test_help_form_drops_blank_context(client, field):
    assert send(client, open_form(client), **{field: "\u200b"}).status_code == 302

    assert field not in Ticket.objects.get().info


# The conversation: the requester's reply, staff's reply and note, staff's tags


@pytest.mark.parametrize("blank", ["\u200b", "\u2800\u3164", "\ufeff\n\u180e"])
def test_requester_reply_that_only_looks_filled_is_refused(blank):
    ticket = make_ticket()

    response = Client().post(ticket.requester_path(), {"body": blank})

    assert response.status_code == 200
    assert "Write a message." in response.content.decode()
    assert not followups().exists()


@pytest.mark.parametrize("kind", ["reply", "note"])
@pytest.mark.parametrize("blank", ["\u200b", "\u2800\u3164"])
def test_staff_reply_or_note_that_only_looks_filled_is_refused(staff_client, kind, blank):
    ticket = make_ticket(status="open")

    response = staff_client.post(
        page_url(ticket), {"_conversation": "1", "kind": kind, "body": blank}
    )

    assert response.status_code == 200
    assert "Write a message." in response.content.decode()
    assert not followups().exists()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


def test_staff_tags_that_only_look_filled_are_no_tags(staff_client):
    ticket = make_ticket(tags=["member"])

    response = staff_client.post(
        page_url(ticket),
        {"status": "new", "tags": "urgent, \u200b, \u3164\u2800 ,billing"} | _no_inlines(),
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.tags == ["billing", "urgent"]
