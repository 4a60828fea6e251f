"""Accounts in the admin: the list ranked by recent activity, and each account's page."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from support import accounts, keys
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, make_ticket

ACCOUNTS = "/admin/support/account/"
THIRD = uuid.UUID("7d4b0a4e-3d55-4d8a-9c55-2c4f6b0f7a11")


def account_url(account_id) -> str:
    return f"{ACCOUNTS}{account_id}/"


@pytest.fixture
def activity(db):
    """Three accounts: OTHER_ACCOUNT most recently active, then ACCOUNT, then THIRD."""
    now = timezone.now()
    for minutes, account, status in [
        (300, ACCOUNT, "closed"), (200, THIRD, "new"), (100, ACCOUNT, "open"),
        (90, ACCOUNT, "pending"), (10, OTHER_ACCOUNT, "solved"),
    ]:  # fmt: skip
        make_ticket(
            account_id=str(account), status=status, subject=f"{status} of {account}",
            created_at=now - timedelta(minutes=minutes + 1000),
            updated_at=now - timedelta(minutes=minutes),
        )  # fmt: skip
    make_ticket(account_id=None, subject="anonymous")


def test_accounts_list_ranks_by_recent_activity_with_counts(staff_client, activity):
    response = staff_client.get(ACCOUNTS)

    assert response.status_code == 200
    rows = response.context["page"].accounts
    assert [row.account_id for row in rows] == [OTHER_ACCOUNT, ACCOUNT, THIRD]
    assert rows[1].total == 3 and rows[1].counts == {"closed": 1, "open": 1, "pending": 1}
    html = response.content.decode()
    assert f'href="/admin/support/account/{ACCOUNT}/"' in html
    assert html.index(str(OTHER_ACCOUNT)) < html.index(str(ACCOUNT)) < html.index(str(THIRD))


def test_accounts_list_pages_by_activity(db, activity):
    first = accounts.recent_accounts(limit=2)
    assert [a.account_id for a in first.accounts] == [OTHER_ACCOUNT, ACCOUNT]
    assert first.next is not None

    second = accounts.recent_accounts(limit=2, after=first.next)
    # ACCOUNT has older tickets too, but it was on the first page.
    assert [a.account_id for a in second.accounts] == [THIRD]
    assert second.next is None


def test_accounts_active_at_the_same_instant_are_neither_lost_nor_repeated(db):
    moment = timezone.now()
    ids = [uuid.uuid4() for _ in range(5)]
    for account in ids:
        make_ticket(account_id=str(account), updated_at=moment)

    seen, after = [], None
    while True:
        page = accounts.recent_accounts(limit=2, after=after)
        seen += [a.account_id for a in page.accounts]
        if page.next is None:
            break
        after = page.next

    assert sorted(seen) == sorted(ids)


def test_accounts_list_next_link_leads_to_older_accounts(staff_client, activity, monkeypatch):
    from support.admin import accounts as admin_accounts

    monkeypatch.setattr(admin_accounts, "ACCOUNTS_PER_PAGE", 2)
    first = staff_client.get(ACCOUNTS)
    next_url = first.context["next_url"]
    assert next_url

    second = staff_client.get(ACCOUNTS + next_url)

    assert [row.account_id for row in second.context["page"].accounts] == [THIRD]
    assert not second.context["next_url"]
    assert staff_client.get(ACCOUNTS, {"after": "garbage", "after_id": "x"}).status_code == 200


def test_accounts_search_opens_the_account(staff_client, activity):
    response = staff_client.get(ACCOUNTS, {"q": f" {ACCOUNT} "})
    assert response.status_code == 302 and response.url == account_url(ACCOUNT)

    response = staff_client.get(ACCOUNTS, {"q": "not an id"})
    assert response.status_code == 200
    assert "Enter an account id" in response.content.decode()


def test_account_page_shows_tickets_keys_counts_and_contact(
    staff_client, activity, django_assert_max_num_queries
):
    key, _secret = keys.create_key(account_id=ACCOUNT, name="jane's script")
    revoked, _secret = keys.create_key(account_id=ACCOUNT, name="old")
    keys.revoke(revoked)
    keys.create_key(account_id=OTHER_ACCOUNT, name="someone else's")

    with django_assert_max_num_queries(10):
        response = staff_client.get(account_url(ACCOUNT))

    assert response.status_code == 200
    html = response.content.decode()
    for status in ("closed", "open", "pending"):  # every status
        assert f"{status} of {ACCOUNT}" in html
    assert "new of" not in html and "anonymous" not in html
    summary = response.context["summary"]
    assert summary.total == 3 and summary.count("open") == 1 and summary.count("new") == 0
    assert summary.first_contact < summary.last_activity
    assert '<td class="count-pending">1</td>' in html
    assert f"{key.prefix}…" in html and "jane&#x27;s script" in html
    assert "Revoked" in html and "someone else" not in html
    assert f'href="/admin/support/apikey/{key.pk}/change/"' in html
    assert f"/admin/support/ticket/?q={ACCOUNT}" in html


def test_unknown_account_is_404(staff_client, db):
    response = staff_client.get(account_url(uuid.uuid4()))

    assert response.status_code == 404
    assert "This account has no tickets." in response.content.decode()


def test_account_page_pages_its_tickets(staff_client, db, monkeypatch):
    from support.admin import accounts as admin_accounts

    monkeypatch.setattr(admin_accounts, "TICKETS_PER_PAGE", 2)
    for i in range(3):
        make_ticket(subject=f"number {i}", updated_at=timezone.now() - timedelta(minutes=i))

    first = staff_client.get(account_url(ACCOUNT)).content.decode()
    second = staff_client.get(account_url(ACCOUNT) + "?p=2").content.decode()

    assert "number 0" in first and "number 1" in first and "number 2" not in first
    assert "number 2" in second and "Page 2 of 2" in second
    assert staff_client.get(account_url(ACCOUNT) + "?p=9").status_code == 404
