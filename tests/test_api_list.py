"""get_support_tickets: an account's tickets, newest change first, in pages."""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from support.models import Ticket
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, ticket_payload

URL = "/api/v1/get_support_tickets"
CREATE = "/api/v1/create_support_ticket"
pytestmark = pytest.mark.django_db


def file(client, **overrides):
    response = client.post(CREATE, ticket_payload(**overrides), format="json")
    assert response.status_code == 200, response.content
    return response.json()


def listing(client, method="get", **params):
    if method == "get":
        response = client.get(URL, params)
    else:
        response = client.post(URL, params, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_ticket_shows_up_as_soon_as_it_is_filed(api):
    filed = file(api, subject="Kernel died")
    body = listing(api)

    assert body["event"] == "support_tickets"
    assert body["has_more"] is False
    [ticket] = body["tickets"]
    assert ticket["id"] == filed["id"]
    assert ticket["url"] == filed["url"]
    assert ticket["subject"] == "Kernel died"
    assert ticket["status"] == "new"
    assert ticket["description"].startswith("please install package xyz")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ticket["created_at"])
    assert ticket["updated_at"] == ticket["created_at"]
    assert set(ticket) == {
        "id", "subject", "description", "created_at", "updated_at", "status", "url"
    }  # fmt: skip


def test_listed_url_opens_the_ticket_page(api):
    file(api, subject="Kernel died")
    url = listing(api)["tickets"][0]["url"]

    assert b"Kernel died" in APIClient().get(url).content


@pytest.mark.parametrize("method", ["get", "post"])
def test_query_id_is_echoed(api, method):
    assert listing(api, method, id="q-1")["id"] == "q-1"


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("sent", [{}, {"id": None}, {"id": ""}, {"id": "\u200b"}],
                         ids=["absent", "null", "empty", "blank"])  # fmt: skip
def test_query_without_an_id_gets_a_new_uuid(api, method, sent):
    if method == "get" and sent.get("id") is None:
        sent = {}  # a query string has no null
    first, second = listing(api, method, **sent)["id"], listing(api, method, **sent)["id"]

    assert uuid.UUID(first) and uuid.UUID(second) and first != second


def test_error_without_a_query_id_keeps_id_null(api):
    response = api.get(URL, {"limit": "0"})

    assert response.status_code == 400
    assert response.json()["id"] is None


def test_error_echoes_the_query_id(api):
    response = api.get(URL, {"limit": "0", "id": "q-7"})

    assert response.status_code == 400
    assert response.json()["id"] == "q-7"


def test_form_body_works(api):
    file(api)
    response = api.post(URL, {"limit": "1", "id": "q"})

    assert response.status_code == 200
    assert len(response.json()["tickets"]) == 1


def test_newest_change_comes_first(api):
    ids = [file(api, subject=f"t{i}")["id"] for i in range(3)]
    Ticket.objects.filter(pk=ids[0]).update(updated_at=timezone.now() + timedelta(minutes=5))

    listed = [t["id"] for t in listing(api)["tickets"]]
    assert listed == [ids[0], ids[2], ids[1]]


def test_pages_neither_skip_nor_repeat_tickets_with_equal_times(api):
    ids = {file(api, subject=f"t{i}")["id"] for i in range(7)}
    same_time = timezone.now()
    Ticket.objects.update(updated_at=same_time)

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"starting_after": cursor} if cursor else {})}
        body = listing(api, **params)
        seen += [t["id"] for t in body["tickets"]]
        pages += 1
        if not body["has_more"]:
            break
        cursor = body["tickets"][-1]["id"]

    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == ids


def test_limit_caps_the_page_and_reports_more(api):
    for i in range(3):
        file(api, subject=f"t{i}")
    body = listing(api, limit=2)

    assert len(body["tickets"]) == 2
    assert body["has_more"] is True


def test_default_limit_is_100(api):
    now = timezone.now()
    Ticket.objects.bulk_create(
        Ticket(
            requester_name="a", requester_email="a@example.com", subject=f"t{i}",
            description="b", account_id=ACCOUNT, channel="api", access_key="k",
            fingerprint="f", updated_at=now - timedelta(seconds=i),
        )
        for i in range(101)
    )  # fmt: skip
    body = listing(api)

    assert len(body["tickets"]) == 100
    assert body["has_more"] is True


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "many"])
def test_limit_out_of_range_is_refused(api, limit):
    response = api.get(URL, {"limit": limit})

    assert response.status_code == 400
    assert "limit" in response.json()["fields"]


def test_starting_after_another_accounts_ticket_is_refused(api, service_api):
    other = file(service_api, account_id=str(OTHER_ACCOUNT))["id"]
    response = api.get(URL, {"starting_after": other})

    assert response.status_code == 400
    assert "starting_after" in response.json()["fields"]


def test_starting_after_an_unknown_id_is_refused(api):
    response = api.get(URL, {"starting_after": str(uuid.uuid4())})

    assert response.status_code == 400


def test_one_account_never_sees_anothers_tickets(api, service_api):
    file(service_api, account_id=str(OTHER_ACCOUNT), subject="theirs")
    file(api, subject="mine")

    assert [t["subject"] for t in listing(api)["tickets"]] == ["mine"]


def test_account_key_may_not_list_another_account(api):
    response = api.get(URL, {"account_id": str(OTHER_ACCOUNT)})

    assert response.status_code == 403
    assert response.json()["event"] == "error"


def test_account_key_may_name_its_own_account(api):
    file(api)

    assert len(listing(api, account_id=str(ACCOUNT))["tickets"]) == 1


def test_service_key_must_name_the_account(service_api):
    response = service_api.get(URL)

    assert response.status_code == 400
    assert "account_id" in response.json()["fields"]


def test_service_key_lists_the_named_account(service_api, api):
    file(api, subject="mine")
    file(service_api, account_id=str(OTHER_ACCOUNT), subject="theirs")

    body = listing(service_api, "post", account_id=str(OTHER_ACCOUNT))
    assert [t["subject"] for t in body["tickets"]] == ["theirs"]


def test_tickets_filed_without_account_are_not_listed(service_api):
    file(service_api, account_id=None)

    assert listing(service_api, account_id=str(ACCOUNT))["tickets"] == []


def test_unknown_parameter_is_refused(api):
    response = api.get(URL, {"account": str(ACCOUNT)})

    assert response.status_code == 400
    assert "account" in response.json()["fields"]


def test_listing_takes_few_queries(api, django_assert_max_num_queries):
    for i in range(5):
        file(api, subject=f"t{i}")
    with django_assert_max_num_queries(2):
        listing(api)
