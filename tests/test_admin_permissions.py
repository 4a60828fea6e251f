"""Who sees the staff side: the "Support staff" group, and nobody else but superusers."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client

from support import keys
from support.models import ApiKey, Ticket
from support.staff import GROUP, PERMISSIONS
from tests.conftest import ACCOUNT, app_admin_urls, followups, make_ticket

SUPPORT_PAGES = [
    "/admin/support/",
    "/admin/support/ticket/",
    "/admin/support/ticket/export/",
    "/admin/support/account/",
    f"/admin/support/account/{ACCOUNT}/",
    "/admin/support/apikey/",
    "/admin/support/apikey/add/",
    "/admin/support/delivery/",
]


@pytest.fixture
def outsider(db):
    """Staff (may log in to the admin), but not in the group."""
    user = User.objects.create_user("outsider", "o@example.com", "pw", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def test_group_has_exactly_the_permissions_needed(db):
    group = Group.objects.get(name=GROUP)

    codenames = set(group.permissions.values_list("codename", flat=True))
    assert codenames == set(PERMISSIONS)
    assert not any(code.startswith("delete_") for code in codenames)
    assert set(group.permissions.values_list("content_type__app_label", flat=True)) == {"support"}


def test_migrate_keeps_what_a_site_added_to_the_group(db):
    group = Group.objects.get(name=GROUP)
    group.permissions.remove(group.permissions.get(codename="view_delivery"))
    extra = group.permissions.model.objects.get(codename="view_user")
    group.permissions.add(extra)

    call_command("migrate", verbosity=0)

    codenames = set(group.permissions.values_list("codename", flat=True))
    assert codenames == {*PERMISSIONS, "view_user"}


def test_staff_outside_the_group_see_nothing_of_the_app(outsider):
    ticket = make_ticket()
    key, _ = keys.create_key(account_id=ACCOUNT)

    index = outsider.get("/admin/")
    assert index.status_code == 200
    assert (
        "Support" not in index.content.decode() and "/admin/support/" not in index.content.decode()
    )
    for url in [
        *SUPPORT_PAGES,
        f"/admin/support/ticket/{ticket.pk}/change/",
        f"/admin/support/apikey/{key.pk}/change/",
    ]:
        assert outsider.get(url).status_code in (403, 404), url
    assert outsider.post(f"/admin/support/apikey/{key.pk}/revoke/").status_code == 403
    response = outsider.post(
        f"/admin/support/ticket/{ticket.pk}/change/",
        {"_conversation": "1", "kind": "reply", "body": "hi"},
    )
    assert response.status_code == 403
    assert not followups(ticket).exists()
    key.refresh_from_db()
    assert key.revoked_at is None


def test_group_member_reaches_every_page(staff_client):
    ticket = make_ticket()

    index = staff_client.get("/admin/").content.decode()
    for name in ("Tickets", "Accounts", "API keys", "Deliveries"):
        assert name in index
    for url in [*SUPPORT_PAGES, f"/admin/support/ticket/{ticket.pk}/change/"]:
        assert staff_client.get(url).status_code == 200, url


def test_group_member_may_not_delete_tickets(staff_client):
    ticket = make_ticket()

    assert staff_client.get(f"/admin/support/ticket/{ticket.pk}/delete/").status_code == 403
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_view_only_staff_cannot_answer_or_change(db):
    user = User.objects.create_user("viewer", "v@example.com", "pw", is_staff=True)
    user.user_permissions.add(*Group.objects.get(name=GROUP).permissions.filter(
        codename__startswith="view_"))  # fmt: skip
    client = Client()
    client.force_login(user)
    ticket = make_ticket()

    page = client.get(f"/admin/support/ticket/{ticket.pk}/change/")
    assert page.status_code == 200 and 'name="_conversation"' not in page.content.decode()
    response = client.post(
        f"/admin/support/ticket/{ticket.pk}/change/",
        {"_conversation": "1", "kind": "note", "body": "hi"},
    )
    assert response.status_code == 403 and not followups(ticket).exists()
    assert client.get("/admin/support/ticket/").context["action_form"] is None  # no actions


def secrets_of(data: dict) -> list[str]:
    """What no one outside Support staff may see of `app_data`."""
    ticket, key = data[Ticket], data[ApiKey]
    return [ticket.access_key, ticket.subject, ticket.requester_email, "Refund 40 EUR",
            "Fixed the invoice", key.prefix, key.name]  # fmt: skip


def test_staff_outside_the_group_reach_nothing_of_the_app_by_any_admin_url(outsider, app_data):
    ticket = app_data[Ticket]
    before = (ticket.status, followups(ticket).count(), ApiKey.objects.get().revoked_at)
    urls = app_admin_urls(app_data)
    assert len(urls) > 25  # every page of four admins, and the site's own routes

    for url in urls:
        for method in (outsider.get, outsider.post):
            response = method(url, {"_conversation": "Send", "kind": "reply", "body": "x",
                                    "status": "closed", "action": "revoke_keys",
                                    "_selected_action": app_data[ApiKey].pk}, follow=True)  # fmt: skip
            # 405: a GET-only route of Django's (autocomplete) refuses a POST before all else.
            assert response.status_code in (403, 404, 405), (method, url, response.status_code)
            shown = response.content.decode() + "".join(url for url, _ in response.redirect_chain)
            for secret in secrets_of(app_data):
                assert secret not in shown, (url, secret)

    ticket.refresh_from_db()
    assert (ticket.status, followups(ticket).count(), ApiKey.objects.get().revoked_at) == before
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_view_on_site_never_leads_to_a_requesters_private_page(db, app_data):
    superuser = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(superuser)

    for model in apps.get_app_config("support").get_models():
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
        response = client.get(f"/admin/r/{content_type.pk}/{app_data[model].pk}/")
        assert response.status_code == 404, model
    # The ticket page links to it, for those who may see the ticket.
    page = client.get(f"/admin/support/ticket/{app_data[Ticket].pk}/change/")
    assert app_data[Ticket].access_key in page.content.decode()
