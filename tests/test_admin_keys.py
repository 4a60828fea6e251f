"""API keys in the admin: made with the secret shown once, revoked, and their use seen."""

import re

from django.utils import timezone

from support import keys
from support.models import ApiKey
from tests.conftest import ACCOUNT, basic, ticket_payload

KEYS = "/admin/support/apikey/"


def test_new_account_key_shows_its_secret_once(staff_client):
    response = staff_client.post(
        KEYS + "add/", {"name": "jane's script", "account_id": str(ACCOUNT)}
    )

    assert response.status_code == 200
    html = response.content.decode()
    [secret] = re.findall(r'value="(sk_[A-Za-z0-9_-]+)"', html)
    key = ApiKey.objects.get()
    assert (key.kind, key.account_id, key.name) == ("account", ACCOUNT, "jane's script")
    assert key.hashed_key == keys.hash_key(secret) and key.prefix == secret[:11]
    assert "cannot be shown again" in html and "no-store" in response["Cache-Control"]
    assert f'href="/admin/support/account/{ACCOUNT}/"' in html

    page = staff_client.get(f"{KEYS}{key.pk}/change/").content.decode()
    listing = staff_client.get(KEYS).content.decode()
    for later in (page, listing):
        assert secret not in later and f"{key.prefix}…" in later


def test_the_new_key_works_in_the_api(staff_client, client):
    html = staff_client.post(KEYS + "add/", {"name": "", "account_id": ""}).content.decode()
    [secret] = re.findall(r'value="(sk_[A-Za-z0-9_-]+)"', html)
    assert ApiKey.objects.get().kind == ApiKey.Kind.SERVICE

    response = client.post(
        "/api/v1/create_support_ticket",
        ticket_payload(),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(secret),
    )

    assert response.status_code == 200


def test_bad_account_id_is_a_form_error(staff_client):
    response = staff_client.post(KEYS + "add/", {"name": "x", "account_id": "not-a-uuid"})

    assert response.status_code == 200
    assert "Enter a valid UUID." in response.content.decode()
    assert not ApiKey.objects.exists()


def test_revoke_action_and_button(staff_client, client):
    first, first_secret = keys.create_key(account_id=ACCOUNT, name="one")
    second, _ = keys.create_key(account_id=ACCOUNT, name="two")
    assert keys.authenticate(first_secret) is not None  # now in the cache

    response = staff_client.post(KEYS, {"action": "revoke_keys", "_selected_action": [first.pk]})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.revoked_at is not None
    refused = client.get("/api/v1/get_support_tickets", HTTP_AUTHORIZATION=basic(first_secret))
    assert refused.status_code == 401  # at once, although the key was cached

    page = staff_client.get(f"{KEYS}{second.pk}/change/").content.decode()
    assert f'action="/admin/support/apikey/{second.pk}/revoke/"' in page
    assert staff_client.get(f"{KEYS}{second.pk}/revoke/").status_code == 405
    response = staff_client.post(f"{KEYS}{second.pk}/revoke/")
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.revoked_at is not None
    page = staff_client.get(f"{KEYS}{second.pk}/change/").content.decode()
    assert "Revoked" in page and "/revoke/" not in page


def test_list_shows_last_use_and_account(staff_client):
    key, _ = keys.create_key(account_id=ACCOUNT, name="used")
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    keys.create_key(name="service")

    html = staff_client.get(KEYS).content.decode()

    assert f'href="/admin/support/account/{ACCOUNT}/"' in html
    assert "Any (service key)" in html
    assert html.count("Active") >= 2
    assert staff_client.get(KEYS, {"q": str(ACCOUNT)}).context["cl"].result_count == 1


def test_keys_cannot_be_deleted_only_revoked(staff_client):
    key, _ = keys.create_key(account_id=ACCOUNT)

    assert staff_client.get(f"{KEYS}{key.pk}/delete/").status_code == 403
