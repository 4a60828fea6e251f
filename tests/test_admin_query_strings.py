"""Any query string on any admin page of the app gives a page: the filter ignored (with a
word saying so) or an error message, never a server error; on SQLite and PostgreSQL."""

import re
import uuid

import pytest
from django.contrib.auth.models import User
from django.test import Client

from support.models import Ticket
from tests.conftest import app_admin_urls

# Huge, negative and malformed numbers; NUL anywhere; dates that do not parse or do not fit
# the database once in UTC; lookups and fields that do not exist; lone surrogates
# percent-encoded (UTF-8 of U+D800, and a cut-off sequence); the admin's own parameters
# misused.
ANY_ID = uuid.uuid4()
HOSTILE = [
    "p=184467440737095516", "p=99999999999999999999999", "p=-1", "p=0", "p=99999", "p=1e9",
    "p=%00", "%00=1", "q=%00", "q=a%00b", "tag=%00", "status=%00", "channel=%00", "kind=%00",
    "state=%00", "has_account=%00", "created_at__gte=%00", "o=%00", "after=%00&after_id=%00",
    "created_at__gte=xx", "created_at__lt=99999-01-01", "updated_at__gte=2020-13-45",
    "created_at__gte=9999-12-31T23:59:59.999999-23:59",
    "created_at__lt=0001-01-01T00:00:00%2B23:59", "created_at__isnull=maybe",
    f"after=9999-12-31T23:59:59.999999-23:59&after_id={ANY_ID}",
    f"after=0001-01-01T00:00:00%2B23:59&after_id={ANY_ID}", "after=2024-01-01&after_id=1",
    "foo=bar", "id__gt=1", "status__in=x,y", "ticket__subject=x", "account_id=x",
    "tags__contains=x", "api_key__hashed_key__startswith=a", "o=99", "o=-1", "o=1.2",
    "q=%ED%A0%80", "tag=%ED%A0%80", "created_at__gte=%ED%A0%80", "q=%F0%9F", "%ED%A0%80=1",
    "_to_field=access_key", "_popup=1", "e=1", "e=1&tag=%00", "all=", "_facets=1",
    "_changelist_filters=p%3D184467440737095516", "q=" + "x" * 5000,
]  # fmt: skip


ADMIN_OWN = [
    "_to_field=access_key", "_to_field=%00", "_popup=%00", "_changelist_filters=%00",
    "_changelist_filters=p%3D184467440737095516", "%00=1", "%ED%A0%80=1", "p=-1",
]  # fmt: skip


@pytest.fixture
def superuser_client(db):
    """A superuser: every page of the app is open to them, delete pages included."""
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def fetch(client, url: str):
    """The page `url` leads to, redirects followed, and its body (streamed ones read to the
    end: a CSV export fails while it streams if at all)."""
    response = client.get(url, follow=True)
    if response.streaming:
        return response, b"".join(response.streaming_content).decode(errors="replace")
    return response, response.content.decode()


def test_every_admin_page_of_the_app_takes_any_query_string(superuser_client, app_data):
    urls = app_admin_urls(app_data)
    # The pages that read their query string get every hostile one; the others (a change,
    # delete or add page, view-on-site) read only the admin's own parameters, and get a few.
    reading = re.compile(r"/admin/support/(\w+/|ticket/export/|.*/history/|account/.+/)$")
    for url in urls:
        joiner = "&" if "?" in url else "?"
        queries = HOSTILE if reading.search(url) or "?" in url else ADMIN_OWN
        for query in queries:
            response, _body = fetch(superuser_client, f"{url}{joiner}{query}")
            assert response.status_code < 500, (url, query, response.status_code)


@pytest.mark.parametrize(
    ("page", "query"),
    [
        ("/admin/support/ticket/", "tag=%00"),
        ("/admin/support/ticket/export/", "tag=%00"),
        ("/admin/support/ticket/export/", "created_at__gte=xx"),
        ("/admin/support/ticket/", "created_at__gte=9999-12-31T23:59:59.999999-23:59"),
        ("/admin/support/ticket/", "subject__regex=("),
        ("/admin/support/ticket/", "e=1&tag=%00"),
        ("/admin/support/delivery/", "status=%00"),
        ("/admin/support/delivery/", "created_at__gte=9999-12-31T23:59:59.999999-23:59"),
        ("/admin/support/delivery/", "id__gt=99999999999999999999"),
        ("/admin/support/apikey/", "kind=%00"),
    ],
)
def test_a_list_that_cannot_use_its_address_shows_everything_and_says_so(
    staff_client, app_data, page, query
):
    response, html = fetch(staff_client, f"{page}?{query}")

    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith("?e=1")
    assert response.headers["Content-Type"].startswith("text/html")
    assert "here is the whole list" in html and "Database error" not in html
    assert len(response.context["cl"].result_list) == 1  # the whole list: one row each


@pytest.mark.parametrize(
    "page", ["/admin/support/ticket/", "/admin/support/delivery/", "/admin/support/apikey/"]
)
@pytest.mark.parametrize("number", ["184467440737095516", "-1", "0", "x"])
def test_a_page_number_from_the_address_never_fails(staff_client, app_data, page, number):
    response, _html = fetch(staff_client, f"{page}?p={number}")

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 1


def test_history_past_its_last_page_shows_the_last(staff_client, app_data):
    ticket = app_data[Ticket]
    response, html = fetch(
        staff_client, f"/admin/support/ticket/{ticket.pk}/history/?p=184467440737095516"
    )

    assert response.status_code == 200 and "Replied." in html


def test_export_past_the_last_page_exports_every_row(staff_client, app_data):
    response, csv = fetch(staff_client, "/admin/support/ticket/export/?p=99999")

    assert response.status_code == 200
    assert "Quarterly invoice wrong" in csv


def test_accounts_list_with_an_overflowing_position_shows_the_first_page(staff_client, app_data):
    response = staff_client.get(
        "/admin/support/account/",
        {"after": "9999-12-31T23:59:59.999999-23:59", "after_id": str(uuid.uuid4())},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "could not be found: here are the most recent" in html
    assert f"/admin/support/account/{app_data[Ticket].account_id}/" in html


def test_a_real_date_filter_still_filters(staff_client, app_data):
    ticket = app_data[Ticket]
    before = ticket.created_at.isoformat()

    kept = staff_client.get("/admin/support/ticket/", {"created_at__gte": before})
    dropped = staff_client.get("/admin/support/ticket/", {"created_at__lt": before})

    assert [t.pk for t in kept.context["cl"].result_list] == [ticket.pk]
    assert list(dropped.context["cl"].result_list) == []
