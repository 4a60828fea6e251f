"""Values no database can store are refused with a 400 naming the field, before the
database sees them: on SQLite and PostgreSQL alike, through every entry point."""

import json

import pytest

from support.models import Ticket
from tests.conftest import ticket_payload
from tests.test_form import open_form, send

CREATE = "/api/v1/create_support_ticket"
LIST = "/api/v1/get_support_tickets"
pytestmark = pytest.mark.django_db

HUGE = "9" * 400  # an integer beyond a double's range
# Numbers as a client writes them in raw JSON, which Python reads but no database stores.
UNSTORABLE_NUMBERS = {
    "1e999": "1e999", "-1e999": "-1e999", "NaN": "NaN", "Infinity": "Infinity",
    "-Infinity": "-Infinity", "400 digits": HUGE, "-400 digits": "-" + HUGE,
    "5000 digits": "9" * 5000,  # past Python's own limit for reading an integer
}  # fmt: skip


def raw_create(client, fields: dict, **raw: str):
    """POST the payload as JSON, with `raw` fields spliced in as written (not valid for
    json.dumps: NaN, 1e999...)."""
    text = json.dumps(fields)[:-1]
    for name, value in raw.items():
        text += f', "{name}": {value}'
    return client.post(CREATE, text + "}", content_type="application/json")


def assert_refused(response, field: str) -> dict:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["event"] == "error" and field in body["fields"], body
    assert field in body["error"]
    return body


@pytest.mark.parametrize("number", UNSTORABLE_NUMBERS.values(), ids=UNSTORABLE_NUMBERS.keys())
def test_unstorable_number_in_info_is_refused_naming_the_field(api, number):
    response = raw_create(api, ticket_payload(info=...), info=f'{{"exit_code": {number}}}')

    body = assert_refused(response, "info")
    assert body["fields"]["info"][0].startswith("exit_code: ")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("info", ['{"a": [1, {"b": NaN}]}', '{"x": {"y": [1e999]}}'])
def test_unstorable_number_deep_in_info_is_refused(api, info):
    assert_refused(raw_create(api, ticket_payload(info=...), info=info), "info")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("field", ["email_address", "subject", "body", "username", "location"])
@pytest.mark.parametrize("number", ["NaN", "1e999", HUGE], ids=["NaN", "1e999", "huge"])
def test_unstorable_number_in_a_text_field_is_refused(api, field, number):
    assert_refused(raw_create(api, ticket_payload(**{field: ...}), **{field: number}), field)


@pytest.mark.parametrize("field", ["id", "account_id"])
def test_unstorable_number_as_an_id_is_refused(api, field):
    assert_refused(raw_create(api, ticket_payload(**{field: ...}), **{field: "NaN"}), field)


def test_unstorable_number_in_tags_is_refused(api):
    assert_refused(raw_create(api, ticket_payload(tags=...), tags="[1e999]"), "tags")


@pytest.mark.parametrize(
    "number", ["1.7976931348623157e308", "-1.7976931348623157e308", "5e-324", "1e-400",
               str(2**63), str(10**308), "0", "-0.0"]
)  # fmt: skip
def test_numbers_within_a_doubles_range_are_stored_and_read_back(api, number):
    response = raw_create(api, ticket_payload(info=...), info=f'{{"n": {number}}}')

    assert response.status_code == 200, response.content
    # PostgreSQL keeps the decimal a float was written as, and reads 1.79e308 back as
    # an integer of 309 digits: the same number.
    assert float(Ticket.objects.get().info["n"]) == float(json.loads(number))


@pytest.mark.parametrize(
    ("field", "value"),
    [("subject", "Hi\x00"), ("body", "\x00"), ("username", "Jane\x00"),
     ("email_address", "a\x00@example.com"), ("location", "/p\x00")],
)  # fmt: skip
def test_nul_in_any_text_field_is_refused_in_a_form_body(api, field, value):
    payload = {**ticket_payload(tags=..., info=...), field: value}
    response = api.post(CREATE, payload)  # multipart, as a browser or curl -F sends it

    assert_refused(response, field)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("field", ["subject", "body", "username", "email_address", "location"])
def test_lone_surrogate_in_any_text_field_is_refused(api, field):
    response = raw_create(api, ticket_payload(**{field: ...}), **{field: '"x\\udfff"'})

    assert_refused(response, field)


def test_lone_surrogate_in_an_info_key_is_refused(api):
    response = raw_create(api, ticket_payload(info=...), info='{"\\ud800": 1}')

    assert_refused(response, "info")


@pytest.mark.parametrize("value", ["NaN", "1e999", '"\\udfff"', '"q\\u0000"'])
def test_list_query_id_that_cannot_be_echoed_is_refused(api, value):
    response = api.post(LIST, f'{{"id": {value}}}', content_type="application/json")

    body = assert_refused(response, "id")
    assert body["id"] is None


@pytest.mark.parametrize(
    "value", ["NaN", "1e999", "-Infinity", HUGE], ids=["NaN", "1e999", "-Infinity", "huge"]
)
@pytest.mark.parametrize("field", ["limit", "starting_after", "account_id"])
def test_list_parameters_refuse_unstorable_numbers(api, field, value):
    response = api.post(LIST, f'{{"{field}": {value}}}', content_type="application/json")

    assert_refused(response, field)


def test_list_query_id_with_nul_is_refused_in_a_form_body_and_query_string(api):
    assert_refused(api.post(LIST, {"id": "a\x00"}), "id")
    assert_refused(api.get(LIST, {"id": "a\x00"}), "id")


# The help form: visible fields explain, hidden ones never fail the form by themselves.


@pytest.mark.parametrize("field", ["subject", "body", "username", "email_address"])
def test_help_form_explains_a_nul_on_the_field(client, field):
    response = send(client, open_form(client), **{field: "Hi\x00there"})

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"), [("language", "de\x00"), ("screen", "1x\x002"), ("location", "/p/\x00x")]
)
def test_help_form_drops_a_nul_in_hidden_context(client, field, value):
    response = send(client, open_form(client), **{field: value})

    assert response.status_code == 302, response.context["form"].errors
    ticket = Ticket.objects.get()
    assert "\x00" not in json.dumps(ticket.info) + ticket.location
    assert ticket.location == ("/p/x" if field == "location" else "")


def test_help_form_stores_a_user_agent_with_a_nul_without_it(client):
    ua = "Mozilla/5.0\x00 Firefox/130.0"
    response = send(client, open_form(client), headers={"User-Agent": ua})

    assert response.status_code == 302
    assert Ticket.objects.get().info["user_agent"] == "Mozilla/5.0 Firefox/130.0"
