"""What Django and gunicorn answer themselves, before or outside the API's views: JSON in
the contract's shape under the API (a Host not allowed, a 404, a 403, a 500), Django's
pages elsewhere; and gunicorn, run with the README's production options, takes every
request the API accepts, leaving only what is over its documented limits to its own pages.
"""

import json

import pytest
import requests
from django.test import Client, RequestFactory
from django.urls import get_resolver

from tests.stack import Stack
from tests.test_body_checks import raw_request
from tests.test_logs import production_options

pytestmark = pytest.mark.django_db
API_PATHS = ["/api/v1/create_support_ticket", "/api/v1/get_support_tickets", "/api/v1/nope",
             "/api/v1/schema/"]  # fmt: skip


def assert_json_error(status: int, content_type: str, body: bytes, expected: int) -> dict:
    assert status == expected, body[:300]
    assert content_type == "application/json"
    answer = json.loads(body)
    assert answer["event"] == "error" and answer["id"] is None and answer["error"]
    return answer


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_host_not_allowed_is_a_json_400_under_the_api(path, method):
    response = getattr(Client(), method)(path, HTTP_HOST="evil.example")

    assert_json_error(response.status_code, response["Content-Type"], response.content, 400)


def test_a_host_not_allowed_is_a_page_elsewhere():
    response = Client().get("/support/new/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(("status", "args"), [(403, (Exception(),)), (404, (Exception(),)),
                                              (500, ())])  # fmt: skip
def test_the_projects_error_handlers_answer_json_under_the_api(status, args):
    handler = get_resolver().resolve_error_handler(status)

    api = handler(RequestFactory().get("/api/v1/get_support_tickets"), *args)
    page = handler(RequestFactory().get("/support/new/"), *args)

    assert_json_error(api.status_code, api["Content-Type"], api.content, status)
    assert page.status_code == status and page["Content-Type"].startswith("text/html")


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """gunicorn with the README's production options (one worker); (url, key)."""
    tmp = tmp_path_factory.mktemp("production")
    stack = Stack(tmp)
    options = production_options()
    options[options.index("--workers") + 1] = "1"
    try:
        key = stack.manage("support_keys", "create", "--service").splitlines()[-1]
        yield stack.serve(options=options, output=tmp / "gunicorn.log"), key
    finally:
        stack.close()


def test_the_longest_request_the_api_takes_reaches_it(production):
    url, key = production
    # A list query with the longest id (128 characters of 4 UTF-8 bytes, each %-encoded),
    # an account and a cursor, the key as Basic credentials, and a browser's headers.
    params = {"id": "\U0001f600" * 128, "account_id": "291f43c1-deae-431c-b763-712307fa6859",
              "starting_after": "0c7ae00c-ea43-4981-b454-90d4a8b1ac47", "limit": "1000"}  # fmt: skip
    headers = {f"X-Browser-Header-{n}": "x" * 200 for n in range(30)}

    response = requests.get(
        f"{url}/api/v1/get_support_tickets", params=params, auth=(key, ""), headers=headers,
        timeout=30,
    )  # fmt: skip

    assert len(response.request.url) > 1600
    assert response.status_code == 400 and response.headers["Content-Type"] == "application/json"
    answer = response.json()  # the API's answer: no such ticket, and the id echoed
    assert "starting_after" in answer["fields"] and answer["id"] == params["id"]


def test_a_host_not_allowed_is_json_under_gunicorn(production):
    url, key = production
    status, headers, body = raw_request(
        url, f"GET /api/v1/get_support_tickets HTTP/1.1\r\nHost: evil.example\r\n"
        f"Authorization: Bearer {key}"
    )  # fmt: skip

    assert_json_error(status, headers["content-type"], body, 400)


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (f"GET /api/v1/get_support_tickets?id={'x' * 8200} HTTP/1.1\r\nHost: 127.0.0.1", 414),
        ("GET /api/v1/get_support_tickets HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         + "\r\n".join(f"X-{n}: y" for n in range(60)), 431),
        (f"GET /api/v1/get_support_tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nX: {'y' * 8200}", 431),
    ],
    ids=["request-line", "header-count", "header-size"],
)  # fmt: skip
def test_only_what_is_over_the_documented_limits_gets_gunicorns_page(production, head, status):
    url, _ = production

    answered, headers, _body = raw_request(url, head)

    # gunicorn's own page (README, Production: a proxy in front answers these in JSON).
    assert (answered, headers["content-type"]) == (status, "text/html")
