"""POST /api/v1/create_support_ticket, through HTTP, as a client script uses it."""

import json
import uuid

import pytest

from support.models import Ticket
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, basic, statements, ticket_payload

URL = "/api/v1/create_support_ticket"
pytestmark = pytest.mark.django_db


def create(client, payload=None, **kwargs):
    return client.post(URL, payload if payload is not None else ticket_payload(), **kwargs)


def post_json(client, payload):
    return client.post(URL, payload, format="json")


def assert_error(response, status, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["event"] == "error"
    assert isinstance(body["error"], str) and body["error"]
    if field is not None:
        assert field in body["fields"], body
    return body


def test_seed_example_files_a_ticket_and_answers_with_its_url(api):
    response = post_json(api, ticket_payload(id="abd649bf-ea2d-4952-b925-e44c6903945e"))

    assert response.status_code == 200
    body = response.json()
    assert body["event"] == "support_ticket_url"
    assert body["id"] == "abd649bf-ea2d-4952-b925-e44c6903945e"
    ticket = Ticket.objects.get()
    assert str(ticket.pk) == body["id"]
    assert body["url"] == f"http://testserver/support/tickets/{ticket.pk}/{ticket.access_key}/"
    assert ticket.requester_email == "jane@example.com"
    assert ticket.requester_name == "jane@example.com"  # no username: the e-mail address
    assert ticket.subject == "package xyz"
    assert ticket.first_message.body == "please install package xyz for use with Python3"
    assert ticket.tags == ["member"]
    assert ticket.account_id == ACCOUNT
    assert ticket.status == Ticket.Status.NEW
    assert ticket.channel == Ticket.Channel.API
    assert ticket.info == {
        "user_agent": "Mozilla/5.0",
        "course": "cc8f1243-d573-4562-9aab-c15a3872d683",
    }


def test_description_appends_location_and_course_urls(api):
    post_json(api, ticket_payload())

    assert Ticket.objects.get().description == (
        "please install package xyz for use with Python3\n\n"
        "https://cocalc.com/projects/0010abe1-9283-4b42-b403-fa4fc1e3be57/worksheet.sagews\n\n"
        "Course: https://cocalc.com/projects/cc8f1243-d573-4562-9aab-c15a3872d683"
    )


def test_id_is_generated_when_absent(api):
    response = post_json(api, ticket_payload(id=...))

    assert response.status_code == 200
    assert uuid.UUID(response.json()["id"]) == Ticket.objects.get().pk


def test_minimal_request_has_no_links_in_description(api):
    payload = {"email_address": "a@example.com", "subject": "Hi", "body": "Help"}
    response = post_json(api, payload)

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.description == "Help"
    assert ticket.tags == [] and ticket.info == {} and ticket.location == ""


def test_explicit_nulls_mean_absent(api):
    payload = ticket_payload(id=None, username=None, tags=None, location=None, info=None)
    response = post_json(api, payload)

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert (
        ticket.tags == [] and ticket.info == {} and ticket.description == ticket.first_message.body
    )


def test_username_is_the_name_on_the_ticket(api):
    post_json(api, ticket_payload(username="  Jane Doe "))

    assert Ticket.objects.get().requester_name == "Jane Doe"


def test_blank_username_means_the_email_address(api):
    post_json(api, ticket_payload(username="   "))

    assert Ticket.objects.get().requester_name == "jane@example.com"


def test_subject_line_breaks_become_spaces(api):
    post_json(api, ticket_payload(subject="  package\r\nxyz\nmissing  "))

    assert Ticket.objects.get().subject == "package xyz missing"


def test_body_is_stored_as_sent(api):
    body = "  <p>Hello</p>\n\n```\ncode\n```\n"
    post_json(api, ticket_payload(body=body))

    assert Ticket.objects.get().first_message.body == body


def test_tags_are_trimmed_lowercased_and_deduplicated(api):
    post_json(api, ticket_payload(tags=[" Member", "member", "URGENT ", "jupyter"]))

    assert Ticket.objects.get().tags == ["jupyter", "member", "urgent"]


def test_form_body_is_accepted(api):
    payload = ticket_payload(tags=..., info=...)
    response = api.post(URL, payload)  # application/x-www-form-urlencoded... or multipart

    assert response.status_code == 200, response.content
    assert Ticket.objects.get().subject == "package xyz"


def test_urlencoded_body_is_accepted(api):
    response = api.post(
        URL,
        "email_address=a%40example.com&subject=Hi&body=Help",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("field", ["tags", "info"])
def test_json_only_field_in_form_body_is_refused(api, field):
    payload = {"email_address": "a@example.com", "subject": "Hi", "body": "Help", field: "x"}
    response = api.post(URL, payload)

    body = assert_error(response, 400, field)
    assert "JSON" in body["fields"][field][0]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("field", ["email_address", "subject", "body"])
def test_missing_required_field_is_refused(api, field):
    response = post_json(api, ticket_payload(**{field: ...}))

    body = assert_error(response, 400, field)
    assert body["fields"][field] == ["This field is required."]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("field", ["email_address", "subject", "body"])
@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_blank_required_field_is_refused(api, field, blank):
    response = post_json(api, ticket_payload(**{field: blank}))

    assert_error(response, 400, field)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("email", ["jane", "jane@", "@example.com", "jane@exa mple.com", 42])
def test_invalid_email_is_refused(api, email):
    response = post_json(api, ticket_payload(email_address=email))

    assert_error(response, 400, "email_address")


def test_email_domain_is_lowercased(api):
    post_json(api, ticket_payload(email_address="Jane@Example.COM"))

    assert Ticket.objects.get().requester_email == "Jane@example.com"


@pytest.mark.parametrize("field", ["id", "account_id"])
def test_invalid_uuid_is_refused(api, field):
    response = post_json(api, ticket_payload(**{field: "not-a-uuid"}))

    assert_error(response, 400, field)


@pytest.mark.parametrize("tags", ["member", {"a": 1}, [1, ["x"]], [""], ["x" * 65]])
def test_malformed_tags_are_refused(api, tags):
    response = post_json(api, ticket_payload(tags=tags))

    assert_error(response, 400, "tags")


@pytest.mark.parametrize("info", ["browser", ["a"], 3])
def test_info_that_is_not_an_object_is_refused(api, info):
    response = post_json(api, ticket_payload(info=info))

    assert_error(response, 400, "info")


def test_unknown_fields_are_refused_by_name(api):
    response = post_json(api, ticket_payload(priority="high", cc=["x@example.com"]))

    body = assert_error(response, 400)
    assert set(body["fields"]) == {"priority", "cc"}
    assert "priority" in body["error"] and "cc" in body["error"]


def test_error_echoes_the_query_id(api):
    query_id = str(uuid.uuid4())
    response = post_json(api, ticket_payload(id=query_id, subject=""))

    assert assert_error(response, 400)["id"] == query_id


def test_error_without_id_has_null_id(api):
    assert assert_error(post_json(api, ticket_payload(subject="")), 400)["id"] is None


def test_long_subject_is_refused(api):
    assert_error(post_json(api, ticket_payload(subject="x" * 256)), 400, "subject")


@pytest.mark.parametrize(
    "location",
    [
        "https://evil.example/projects/x",
        "//evil.example/projects/x",
        "javascript:alert(1)",
        "data:text/html,hi",
        "projects/relative",
        "http://cocalc.com@evil.example/",
        "/projects/\nx",
    ],
)
def test_location_off_the_site_is_refused(api, location):
    response = post_json(api, ticket_payload(location=location))

    assert_error(response, 400, "location")
    assert not Ticket.objects.exists()


def test_location_as_full_url_on_the_site_is_reduced_to_its_path(api):
    post_json(api, ticket_payload(location="https://cocalc.com/projects/abc/files/a.ipynb?x=1"))

    ticket = Ticket.objects.get()
    assert ticket.location == "/projects/abc/files/a.ipynb?x=1"
    assert "\n\nhttps://cocalc.com/projects/abc/files/a.ipynb?x=1\n\n" in ticket.description


def test_location_with_spaces_becomes_a_valid_url(api):
    post_json(api, ticket_payload(location="/projects/abc/files/my notebook.ipynb", info=...))

    ticket = Ticket.objects.get()
    assert ticket.description.endswith(
        "\n\nhttps://cocalc.com/projects/abc/files/my%20notebook.ipynb"
    )


def test_course_that_is_not_a_uuid_is_kept_but_adds_no_line(api):
    post_json(api, ticket_payload(info={"course": "intro-101"}, location=...))

    ticket = Ticket.objects.get()
    assert ticket.info == {"course": "intro-101"}
    assert "Course:" not in ticket.description


@pytest.mark.parametrize(
    "payload",
    [
        {"email_address": "a@example.com", "subject": "Hi\x00", "body": "Help"},
        {"email_address": "a@example.com", "subject": "Hi", "body": "Help", "info": {"k": "\x00"}},
    ],
)
def test_nul_characters_are_refused(api, payload):
    assert_error(post_json(api, payload), 400)


def test_lone_surrogates_are_refused(api):
    raw = '{"email_address": "a@example.com", "subject": "Hi", "body": "\\ud800 help"}'
    response = api.post(URL, raw, content_type="application/json")

    assert_error(response, 400, "body")


def test_deeply_nested_info_is_refused(api):
    nested = "[" * 100 + "]" * 100
    raw = '{"email_address": "a@example.com", "subject": "Hi", "body": "b", "info": {"x": %s}}'
    response = api.post(URL, raw % nested, content_type="application/json")

    assert_error(response, 400, "info")


def test_absurdly_nested_json_is_a_400(api):
    raw = "[" * 100_000 + "]" * 100_000
    assert_error(api.post(URL, raw, content_type="application/json"), 400)


@pytest.mark.parametrize("raw", ["{not json", "", "[]", '"text"', "NaN"])
def test_malformed_or_non_object_json_is_refused(api, raw):
    assert_error(api.post(URL, raw, content_type="application/json"), 400)


def test_unsupported_content_type_is_a_json_error(api):
    response = api.post(URL, "<ticket/>", content_type="application/xml")

    assert_error(response, 415)


def test_oversized_request_is_refused_with_413(api):
    payload = ticket_payload(body="x" * (1024 * 1024))
    response = api.post(URL, json.dumps(payload), content_type="application/json")

    assert_error(response, 413)
    assert not Ticket.objects.exists()


def test_request_just_under_the_limit_is_read(api):
    payload = ticket_payload(body="x" * (1024 * 1024 - 2000))
    response = api.post(URL, json.dumps(payload), content_type="application/json")

    assert response.status_code == 200
    assert len(Ticket.objects.get().first_message.body) == 1024 * 1024 - 2000


def test_size_limit_is_a_setting(api, settings):
    settings.SUPPORT = {**settings.SUPPORT, "MAX_REQUEST_BYTES": 100}

    assert_error(post_json(api, ticket_payload()), 413)


def test_get_is_not_allowed(api):
    assert_error(api.get(URL), 405)


def test_answers_json_whatever_the_accept_header(api):
    response = api.post(URL, ticket_payload(), format="json", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_unknown_api_call_is_a_json_404(api):
    body = assert_error(api.post("/api/v1/create_support_tickets", {}), 404)
    assert "no such API call" in body["error"]


# Accounts


def test_account_key_files_for_its_account_by_default(api):
    post_json(api, ticket_payload(account_id=...))

    assert Ticket.objects.get().account_id == ACCOUNT


def test_account_key_may_not_file_for_another_account(api):
    response = post_json(api, ticket_payload(account_id=str(OTHER_ACCOUNT)))

    assert_error(response, 403)
    assert not Ticket.objects.exists()


def test_service_key_files_for_any_account(service_api):
    response = post_json(service_api, ticket_payload(account_id=str(OTHER_ACCOUNT)))

    assert response.status_code == 200
    assert Ticket.objects.get().account_id == OTHER_ACCOUNT


def test_service_key_may_file_without_an_account(service_api):
    response = post_json(service_api, ticket_payload(account_id=...))

    assert response.status_code == 200
    assert Ticket.objects.get().account_id is None


def test_ticket_records_the_key_that_filed_it(api):
    post_json(api, ticket_payload())

    assert Ticket.objects.get().api_key.account_id == ACCOUNT


# Idempotency


def test_replayed_id_returns_same_ticket(api):
    payload = ticket_payload(id=str(uuid.uuid4()))
    first = post_json(api, payload)
    second = post_json(api, payload)

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert Ticket.objects.count() == 1


def test_replay_is_compared_after_normalising(api):
    ticket_id = str(uuid.uuid4())
    first = post_json(api, ticket_payload(id=ticket_id, tags=["Member"], subject="package xyz"))
    second = post_json(
        api, ticket_payload(id=ticket_id, tags=["member ", "MEMBER"], subject=" package\nxyz ")
    )

    assert second.status_code == 200
    assert first.json() == second.json()
    assert Ticket.objects.count() == 1


def test_replay_with_form_body_matches_json(api):
    ticket_id = str(uuid.uuid4())
    payload = ticket_payload(id=ticket_id, tags=..., info=...)
    first = post_json(api, payload)
    second = api.post(URL, payload)

    assert second.status_code == 200
    assert first.json() == second.json()


def test_same_id_with_other_content_is_a_conflict(api):
    ticket_id = str(uuid.uuid4())
    post_json(api, ticket_payload(id=ticket_id, subject="first"))
    response = post_json(api, ticket_payload(id=ticket_id, subject="second"))

    body = assert_error(response, 409)
    assert "first" not in json.dumps(body)
    assert Ticket.objects.get().subject == "first"


def test_same_id_from_another_account_is_a_conflict_that_reveals_nothing(api, db):
    from support import keys

    ticket_id = str(uuid.uuid4())
    post_json(api, ticket_payload(id=ticket_id))
    other = api.__class__()
    other.credentials(HTTP_AUTHORIZATION=basic(keys.create_key(account_id=OTHER_ACCOUNT)[1]))
    response = post_json(other, ticket_payload(id=ticket_id, account_id=str(OTHER_ACCOUNT)))

    body = assert_error(response, 409)
    assert "url" not in body and "package xyz" not in json.dumps(body)
    assert Ticket.objects.count() == 1


def test_service_key_replay_of_account_key_ticket_returns_it(api, service_api):
    payload = ticket_payload(id=str(uuid.uuid4()))
    first = post_json(api, payload)
    second = post_json(service_api, payload)

    assert second.status_code == 200
    assert first.json() == second.json()


@pytest.mark.django_db(transaction=True)  # as served: no test transaction around it
def test_create_takes_at_most_three_queries(api, settings):
    settings.SUPPORT = {**settings.SUPPORT, "CONFIRM_TO_REQUESTER": False}  # the create alone
    post_json(api, ticket_payload())  # the key is now cached and its use recorded
    with statements() as sql:
        response = post_json(api, ticket_payload())

    assert response.status_code == 200
    assert len(sql) <= 3, sql
