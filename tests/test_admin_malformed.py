"""Whatever an address or a form holds, every admin route of the app answers with a page,
a redirect, a 403 or a 404, never a server error: searches of any length, actions on
malformed selections, "view on site" and object pages with ids that are no ids."""

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from support.models import ApiKey, Delivery, Ticket
from tests.conftest import app_admin_urls
from tests.test_admin_query_strings import fetch

MANY_WORDS = " ".join(f"w{i}" for i in range(1200))
# Ids that are no ids: not a number, not a UUID, NUL, past 64 bits, empty, the other kind.
MALFORMED_IDS = ["zzz", "", "\x00", "9" * 400, "-99999999999999999999", "1", "1e5",
                 "00000000-0000-0000-0000-00000000000G"]  # fmt: skip
LISTS = {
    Ticket: ("/admin/support/ticket/", "mark_solved"),
    Delivery: ("/admin/support/delivery/", "retry"),
    ApiKey: ("/admin/support/apikey/", "revoke_keys"),
}


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.mark.parametrize(
    "page",
    ["/admin/support/ticket/", "/admin/support/ticket/export/", "/admin/support/apikey/"],
)
def test_a_search_of_any_number_of_words_gives_a_page(staff_client, app_data, page):
    response, body = fetch(staff_client, page + "?" + f"q=Quarterly+{MANY_WORDS}")

    assert response.status_code == 200
    if page.endswith("export/"):
        assert body.startswith("id,subject")
    else:
        assert "Only the first 20 words (1000 characters) were searched." in body


def test_a_search_of_few_words_still_finds(staff_client, app_data):
    response, html = fetch(staff_client, "/admin/support/ticket/?q=Quarterly+invoice")

    assert [t.pk for t in response.context["cl"].result_list] == [app_data[Ticket].pk]
    assert "were searched" not in html


def test_an_action_on_every_row_of_a_long_search_gives_a_page(staff_client, app_data):
    ticket = app_data[Ticket]
    data = {"action": "mark_solved", "select_across": "1", "index": "0",
            "_selected_action": str(ticket.pk)}  # fmt: skip

    response = staff_client.post(
        f"/admin/support/ticket/?q=Quarterly+{MANY_WORDS}", data, follow=True
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("model", "selected"),
    [
        (model, selected)
        for model in LISTS
        for selected in MALFORMED_IDS
        if selected != "1" or model is Ticket  # "1" is an id of the others' lists
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else repr(value)[:12],
)
def test_an_action_on_a_malformed_selection_changes_nothing(
    superuser_client, app_data, model, selected
):
    page, action = LISTS[model]
    before = list(model.objects.values())
    data = {"action": action, "index": "0", "_selected_action": selected}

    response = superuser_client.post(page, data, follow=True)

    assert response.status_code == 200
    assert "Items must be selected in order to perform actions on them" in (
        response.content.decode()
    )
    assert list(model.objects.values()) == before


def test_an_action_acts_on_the_well_formed_ids_of_a_mixed_selection(superuser_client, app_data):
    ticket = app_data[Ticket]
    data = {"action": "mark_solved", "index": "0"}
    data["_selected_action"] = ["zzz", "9" * 400, str(ticket.pk), "\x00"]

    response = superuser_client.post("/admin/support/ticket/", data, follow=True)

    assert response.status_code == 200 and "1 ticket set to Solved." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED


def test_every_admin_route_with_an_id_that_is_no_id_answers(superuser_client, app_data):
    urls = app_admin_urls(app_data)
    routes = set()
    for url in urls:
        for row in app_data.values():
            if f"/{row.pk}/" in url:
                routes.update(url.replace(f"/{row.pk}/", f"/{bad}/") for bad in MALFORMED_IDS)
    # "View on site" for every content type, and content types that are none.
    for content_type in ContentType.objects.all():
        routes.update(f"/admin/r/{content_type.pk}/{bad}/" for bad in MALFORMED_IDS if bad)
    routes.update(f"/admin/r/{bad}/1/" for bad in MALFORMED_IDS if bad)
    assert len(routes) > 100

    for route in sorted(routes):
        for method in ("get", "post"):
            response = getattr(superuser_client, method)(route)
            assert response.status_code in (200, 302, 403, 404, 405), (method, route)


def test_view_on_site_of_an_existing_ticket_is_a_404(staff_client, app_data):
    content_type = ContentType.objects.get_for_model(Ticket)

    response = staff_client.get(f"/admin/r/{content_type.pk}/{app_data[Ticket].pk}/")

    assert response.status_code == 404  # Ticket has no get_absolute_url: nothing to show
