"""Authentication and rate limiting of the API, as a client meets them."""

import base64
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from support import keys
from support.models import ApiKey, Ticket
from tests.conftest import basic, statements, ticket_payload

URL = "/api/v1/create_support_ticket"
LIST_URL = "/api/v1/get_support_tickets"
pytestmark = pytest.mark.django_db


def call(authorization=None, url=URL):
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client.post(url, ticket_payload(), format="json")


def assert_unauthorized(response, message):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="api"'
    assert response.json() == {"event": "error", "id": None, "error": message}
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("url", [URL, LIST_URL])
def test_missing_header_is_refused(url):
    assert_unauthorized(call(url=url), "You must provide authentication via an API key.")


def test_unknown_scheme_is_refused(account_key):
    assert_unauthorized(call(f"Token {account_key}"), "Unknown authorization type 'Token'")


@pytest.mark.parametrize(
    "authorization",
    [
        basic("sk_" + "x" * 40),
        "Bearer sk_" + "x" * 40,
        "Bearer ",
        "Bearer not-a-key",
        basic(""),
    ],
)
def test_unknown_key_is_refused(authorization, account_key):
    assert_unauthorized(call(authorization), "No account found. Is your API key wrong?")


def test_malformed_basic_credentials_are_refused(account_key):
    response = call("Basic %%%not-base64")

    assert response.status_code == 401
    assert "Basic" in response.json()["error"]


def test_revoked_key_is_refused(account_key):
    keys.revoke(ApiKey.objects.get())

    assert_unauthorized(call(basic(account_key)), "No account found. Is your API key wrong?")


def test_key_revoked_just_after_use_is_refused_at_once(account_key):
    assert call(basic(account_key)).status_code == 200  # the key is now cached
    keys.revoke(ApiKey.objects.get())

    assert call(basic(account_key)).status_code == 401


@pytest.mark.django_db(transaction=True)  # as served: no test transaction around it
def test_cached_key_needs_no_query(account_key, settings):
    settings.SUPPORT = {**settings.SUPPORT, "CONFIRM_TO_REQUESTER": False}  # the create alone
    call(basic(account_key))
    with statements() as sql:
        assert call(basic(account_key)).status_code == 200

    # The ticket and its first message; nothing to authenticate.
    assert [statement.split()[:3] for statement in sql] == [
        ["INSERT", "INTO", '"support_ticket"'],
        ["INSERT", "INTO", '"support_message"'],
    ]


def test_basic_with_empty_password_works(account_key):
    assert call(basic(account_key)).status_code == 200


def test_basic_password_is_ignored(account_key):
    header = "Basic " + base64.b64encode(f"{account_key}:whatever".encode()).decode()

    assert call(header).status_code == 200


def test_bearer_works(account_key):
    assert call(f"Bearer {account_key}").status_code == 200


def test_scheme_is_case_insensitive(account_key):
    assert call(f"bearer {account_key}").status_code == 200


def test_use_is_recorded_on_the_key(account_key):
    call(f"Bearer {account_key}")

    assert ApiKey.objects.get().last_used_at is not None


def test_use_is_recorded_at_most_once_a_minute(account_key):
    long_ago = timezone.now() - timedelta(hours=1)
    ApiKey.objects.update(last_used_at=long_ago)
    call(f"Bearer {account_key}")
    used = ApiKey.objects.get().last_used_at
    call(f"Bearer {account_key}")

    assert used > long_ago
    assert ApiKey.objects.get().last_used_at == used


def test_only_a_hash_of_the_key_is_stored(account_key):
    key = ApiKey.objects.get()

    assert account_key not in {key.hashed_key, key.prefix, key.name}
    assert key.hashed_key == keys.hash_key(account_key)
    assert account_key.startswith(key.prefix) and len(key.prefix) == 11


def test_rate_limit_answers_429_with_retry_after(account_key, settings):
    settings.SUPPORT = {**settings.SUPPORT, "API_RATE": "3/min"}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account_key}")
    statuses = [client.post(URL, ticket_payload(), format="json").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get(LIST_URL)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["event"] == "error"
    assert Ticket.objects.count() == 3


def test_rate_limit_is_per_key(account_key, service_key, settings):
    settings.SUPPORT = {**settings.SUPPORT, "API_RATE": "1/min"}

    assert call(f"Bearer {account_key}").status_code == 200
    assert call(f"Bearer {account_key}").status_code == 429
    assert call(f"Bearer {service_key}").status_code == 200


def test_empty_rate_turns_limiting_off(account_key, settings):
    settings.SUPPORT = {**settings.SUPPORT, "API_RATE": ""}

    assert all(call(f"Bearer {account_key}").status_code == 200 for _ in range(20))


@pytest.mark.django_db(transaction=True)  # as served: no test transaction around it
def test_key_revoked_in_sql_stops_working_within_the_cache_lifetime(
    account_key, settings, shared_cache
):
    settings.SUPPORT = {**settings.SUPPORT, "API_KEY_CACHE_SECONDS": 2}
    assert call(basic(account_key)).status_code == 200  # now in the cache
    # As an operator or another service would: not through the app.
    ApiKey.objects.update(revoked_at=timezone.now())

    # Used all the time, as a busy script uses it; each use must not keep it alive.
    deadline = time.monotonic() + 10
    statuses = []
    while time.monotonic() < deadline and 401 not in statuses:
        statuses.append(call(basic(account_key)).status_code)

    assert statuses[0] == 200  # the cached copy, for up to API_KEY_CACHE_SECONDS
    assert statuses[-1] == 401
    assert [call(basic(account_key)).status_code for _ in range(3)] == [401] * 3


@pytest.mark.django_db(transaction=True)  # the key's foreign key is checked at commit
def test_key_deleted_in_sql_while_cached_is_a_401_never_a_500(account_key, shared_cache):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account_key}")
    assert client.get(LIST_URL).status_code == 200  # now in the cache
    with connection.cursor() as cursor:  # as an operator would, not through the app
        cursor.execute("DELETE FROM support_apikey")

    created = client.post(URL, ticket_payload(), format="json")

    assert_unauthorized(created, "No account found. Is your API key wrong?")
    # The stale copy is gone from the cache: every call is refused from now on.
    assert_unauthorized(client.get(LIST_URL), "No account found. Is your API key wrong?")


@pytest.mark.django_db(transaction=True)
def test_rate_limit_holds_in_the_shared_cache(account_key, settings, shared_cache):
    settings.SUPPORT = {**settings.SUPPORT, "API_RATE": "3/min"}

    statuses = [call(f"Bearer {account_key}").status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
    assert Ticket.objects.count() == 3


def test_anonymous_calls_are_throttled_per_client(account_key, settings):
    settings.SUPPORT = {**settings.SUPPORT, "CLIENT_RATE": "2/min"}

    statuses = [call("Bearer sk_" + "x" * 40).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    refused = call()  # no key at all
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["event"] == "error"
    # A valid key from the same address is not held back; another address is not either.
    assert call(f"Bearer {account_key}").status_code == 200
    other = APIClient(REMOTE_ADDR="198.51.100.9")
    assert other.post(URL, ticket_payload(), format="json").status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/schema/", "/api/v1/docs/", "/api/v1/ping"])
def test_what_anyone_may_read_is_throttled_per_client(path, settings):
    settings.SUPPORT = {**settings.SUPPORT, "CLIENT_RATE": "2/min"}
    client = APIClient()

    statuses = [client.get(path).status_code for _ in range(3)]

    answered = 404 if path.endswith("ping") else 200
    assert statuses == [answered, answered, 429]
