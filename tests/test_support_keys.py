"""`manage.py support_keys`: making, listing and revoking API keys."""

import re
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from support.models import ApiKey
from tests.conftest import ACCOUNT, ticket_payload

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = StringIO()
    call_command("support_keys", *args, stdout=out)
    return out.getvalue().splitlines()


def works(secret, **payload) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.post(
        "/api/v1/create_support_ticket", ticket_payload(**payload), format="json"
    ).status_code


def test_create_account_key_prints_a_working_key_on_the_last_line():
    lines = run("create", "--account-id", str(ACCOUNT), "--name", "jane's script")
    secret = lines[-1]

    assert secret.startswith("sk_") and len(secret) >= 27
    assert works(secret) == 200
    key = ApiKey.objects.get()
    assert (key.kind, key.account_id, key.name) == ("account", ACCOUNT, "jane's script")
    assert works(secret, account_id=str(uuid.uuid4())) == 403


def test_create_service_key():
    secret = run("create", "--service", "--name", "site")[-1]

    assert works(secret, account_id=str(uuid.uuid4())) == 200
    assert ApiKey.objects.get().kind == "service"


def test_create_needs_a_kind():
    with pytest.raises(CommandError):
        run("create", "--name", "x")


def test_import_existing_key():
    secret = run(
        "create", "--account-id", str(ACCOUNT), "--import-key", "sk_abcdefQWERTY090900000000"
    )[-1]

    assert secret == "sk_abcdefQWERTY090900000000"
    assert works(secret) == 200


def test_import_of_a_key_stored_already_says_so():
    run("create", "--service", "--import-key", "sk_abcdefQWERTY090900000000")

    with pytest.raises(CommandError, match="This key is stored already"):
        run("create", "--account-id", str(ACCOUNT), "--import-key", "sk_abcdefQWERTY090900000000")
    assert ApiKey.objects.get().kind == "service"


def test_import_malformed_key_is_refused():
    with pytest.raises(CommandError, match="sk_"):
        run("create", "--service", "--import-key", "password")
    assert not ApiKey.objects.exists()


def test_list_shows_prefixes_never_secrets():
    secret = run("create", "--service", "--name", "site")[-1]
    lines = run("list")

    assert len(lines) == 1
    assert secret[:11] in lines[0] and "site" in lines[0]
    assert secret not in "\n".join(lines)


def test_list_shows_account_keys_with_their_account():
    # As after scripts/run, which always makes an account key.
    secret = run("create", "--account-id", str(ACCOUNT), "--name", "demo")[-1]

    [line] = run("list")

    assert line.startswith(secret[:11] + "…") and str(ACCOUNT) in line and "demo" in line
    assert "active" in line and "last used never" in line


def test_list_shows_every_kind_of_key_one_line_each():
    account = run("create", "--account-id", str(ACCOUNT), "--name", "used\nsecond line")[-1]
    service = run("create", "--service", "--name", "site")[-1]
    revoked = run("create", "--account-id", str(ACCOUNT), "--name", "old")[-1]
    run("revoke", revoked[:11])
    assert works(account) == 200  # now used

    active, everything = run("list"), run("list", "--all")

    assert len(active) == 2 and len(everything) == 3
    by_prefix = {line[:11]: line for line in everything}
    assert "used second line" in by_prefix[account[:11]]
    assert "last used never" not in by_prefix[account[:11]]
    assert "service" in by_prefix[service[:11]] and "  -  " in by_prefix[service[:11]]
    assert "revoked" in by_prefix[revoked[:11]] and str(ACCOUNT) in by_prefix[revoked[:11]]
    assert not any(secret in "\n".join(everything) for secret in (account, service, revoked))


def test_create_with_replace_revokes_the_keys_it_replaces_and_no_other():
    old = run("create", "--account-id", str(ACCOUNT), "--name", "demo")[-1]
    other_name = run("create", "--account-id", str(ACCOUNT), "--name", "jane's script")[-1]
    other_account = run("create", "--account-id", str(uuid.uuid4()), "--name", "demo")[-1]
    service = run("create", "--service", "--name", "demo")[-1]

    lines = run("create", "--account-id", str(ACCOUNT), "--name", "demo", "--replace")

    new = lines[-1]
    assert lines[0] == f"Revoked {old[:11]}…, which it replaces."
    assert works(old) == 401 and works(new) == 200
    assert works(other_name) == 200 and works(service, account_id=str(uuid.uuid4())) == 200
    assert ApiKey.objects.get(prefix=other_account[:11]).revoked_at is None
    again = run("create", "--account-id", str(ACCOUNT), "--name", "demo", "--replace")[-1]
    assert works(new) == 401 and works(again) == 200


def test_revoke_by_prefix_stops_the_key():
    secret = run("create", "--service")[-1]
    run("revoke", secret[:11])

    assert works(secret) == 401
    assert run("list") == []
    assert "revoked" in run("list", "--all")[0]


@pytest.mark.parametrize("shown", ["list", "create"])
def test_revoke_takes_the_prefix_as_printed(shown):
    printed = run("create", "--service")
    secret = printed[-1]
    line = run("list")[0] if shown == "list" else printed[0]
    prefix = re.search(r"(sk_\S+…)", line).group(1)  # "sk_AbCdEfGh…", ellipsis and all

    run("revoke", prefix)

    assert works(secret) == 401


def test_revoke_by_whole_key():
    secret = run("create", "--service")[-1]
    run("revoke", secret)

    assert works(secret) == 401


def test_revoke_unknown_prefix_fails():
    with pytest.raises(CommandError, match="No active key"):
        run("revoke", "sk_nothere")


def test_revoke_ambiguous_prefix_fails():
    run("create", "--service")
    run("create", "--service")

    with pytest.raises(CommandError, match="2 active keys"):
        run("revoke", "sk_")
