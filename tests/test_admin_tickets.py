"""The ticket list and the ticket page in the admin, as a support agent uses them."""

import csv
import io
import re
import uuid
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from support.models import Message, Ticket
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, followups, make_ticket, run_worker

LIST = "/admin/support/ticket/"
MAX_QUERIES = 10


def page_url(ticket: Ticket) -> str:
    return f"/admin/support/ticket/{ticket.pk}/change/"


class _FormFields(HTMLParser):
    """The fields of the page's form with id `form_id`, as a browser would send them."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields, self._field = form_id, False, {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or "name" not in attrs and tag != "option":
            return
        if tag == "input" and attrs.get("type") not in ("submit", "radio", "checkbox"):
            self.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "input" and "checked" in attrs:
            self.fields[attrs["name"]] = attrs.get("value", "on")
        elif tag in ("select", "textarea"):
            self._field = attrs["name"]
            self.fields[self._field] = ""
        elif tag == "option" and "selected" in attrs and self._field:
            self.fields[self._field] = attrs.get("value", "")

    def handle_data(self, data):
        if self.inside and self._field and self.lasttag == "textarea":
            self.fields[self._field] += data.removeprefix("\n")

    def handle_endtag(self, tag):
        if tag in ("select", "textarea"):
            self._field = None
        if tag == "form":
            self.inside = False


def page_form(client, ticket: Ticket) -> dict[str, str]:
    """What the ticket page's form sends as it is shown."""
    parser = _FormFields("ticket_form")
    parser.feed(client.get(page_url(ticket)).content.decode())
    return parser.fields


def send(client, ticket: Ticket, button: str = "_conversation", **fields):
    """Fill the ticket page's form and press Send (or `button`)."""
    return client.post(page_url(ticket), {**page_form(client, ticket), **fields, button: "x"})


def listed(response) -> list[str]:
    """The subjects in the list, in order."""
    assert response.status_code == 200
    return [str(t.subject) for t in response.context["cl"].result_list]


@pytest.fixture
def queue(db):
    """Tickets in every status, touched at different times."""
    now = timezone.now()
    made = {}
    for minutes, status, subject, extra in [
        (50, "closed", "closed long ago", {}),
        (40, "new", "new and old", {"tags": ["billing"]}),
        (30, "pending", "waiting on them", {}),
        (20, "open", "in progress", {"account_id": str(OTHER_ACCOUNT)}),
        (10, "solved", "just solved", {"account_id": None}),
        (5, "new", "new and fresh", {"tags": ["urgent", "billing"]}),
    ]:
        made[subject] = make_ticket(
            subject=subject, status=status, updated_at=now - timedelta(minutes=minutes), **extra
        )
    return made


def test_list_shows_open_work_first_then_most_recent(staff_client, queue):
    response = staff_client.get(LIST)

    assert listed(response) == [
        "new and fresh", "new and old", "in progress", "waiting on them", "just solved",
        "closed long ago",
    ]  # fmt: skip
    html = response.content.decode()
    for header in ("Subject", "Requester", "Account", "Status", "Tags", "Channel", "Created",
                   "Updated"):  # fmt: skip
        assert f">{header}<" in html or f">{header}</" in html, header
    assert "urgent, billing" not in html and "billing, urgent" in html  # tags, sorted
    assert f'href="/admin/support/account/{OTHER_ACCOUNT}/"' in html


def test_list_filters(staff_client, queue):
    assert listed(staff_client.get(LIST + "?status=new")) == ["new and fresh", "new and old"]
    assert listed(staff_client.get(LIST + "?tag=billing")) == ["new and fresh", "new and old"]
    assert listed(staff_client.get(LIST + "?tag=urgent")) == ["new and fresh"]
    assert listed(staff_client.get(LIST + "?has_account=no")) == ["just solved"]
    assert len(listed(staff_client.get(LIST + "?has_account=yes"))) == 5
    html = staff_client.get(LIST).content.decode()
    assert "?channel__exact=api" in html  # the filter's own links, as followed below
    assert listed(staff_client.get(LIST + "?channel__exact=api")) == []
    assert len(listed(staff_client.get(LIST + "?channel__exact=form"))) == 6
    old = queue["closed long ago"]
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    since = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=7)
    week = staff_client.get(LIST, {"created_at__gte": str(since)})  # as the filter links it
    assert "closed long ago" not in listed(week) and len(listed(week)) == 5


def test_tag_filter_offers_recent_tags(staff_client, queue):
    html = staff_client.get(LIST).content.decode()

    assert "?tag=billing" in html and "?tag=urgent" in html


def test_search_by_subject_requester_name_and_email(staff_client, queue):
    make_ticket(subject="Kernel dies", username="Grace Hopper", email_address="gh@navy.example")

    assert listed(staff_client.get(LIST + "?q=kernel")) == ["Kernel dies"]
    assert listed(staff_client.get(LIST + "?q=hopper")) == ["Kernel dies"]
    assert listed(staff_client.get(LIST + "?q=navy.example")) == ["Kernel dies"]
    assert listed(staff_client.get(LIST + "?q=nothing-like-this")) == []


def test_search_by_exact_account_id_or_ticket_id(staff_client, queue):
    assert listed(staff_client.get(f"{LIST}?q={OTHER_ACCOUNT}")) == ["in progress"]
    ticket = queue["waiting on them"]
    assert listed(staff_client.get(f"{LIST}?q=%20{ticket.pk}%20")) == ["waiting on them"]
    assert listed(staff_client.get(f"{LIST}?q={uuid.uuid4()}")) == []


@pytest.mark.parametrize("query", ["", "?status=new", "?q=fresh", "?_facets=True"])
def test_list_never_counts_the_whole_table(staff_client, queue, query):
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(LIST + query)
    assert response.status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "LIMIT" in counts[0].upper()  # facets stay off too


def test_long_list_is_paged_without_a_total(staff_client, db, settings):
    for i in range(12):
        make_ticket(subject=f"ticket {i}")
    from support.admin import pagination

    pagination.PAGES_AHEAD, saved = 1, pagination.PAGES_AHEAD
    try:
        from support.admin.tickets import TicketAdmin

        TicketAdmin.list_per_page, per_page = 5, TicketAdmin.list_per_page
        response = staff_client.get(LIST)
        later = staff_client.get(LIST + "?p=3")
    finally:
        pagination.PAGES_AHEAD = saved
        TicketAdmin.list_per_page = per_page
    html = response.content.decode()
    assert "more than 10 tickets" in html  # counted two pages, then stopped
    assert "more than 10 results" not in html  # no search: the search bar says nothing
    assert "Select all matching tickets" in html
    assert len(listed(later)) == 2 and "12 tickets" in later.content.decode()


def test_list_pages_stay_within_the_query_budget(
    staff_client, queue, django_assert_max_num_queries
):
    for query in ("", "?status=open", f"?q={ACCOUNT}", "?q=fresh", "?tag=billing"):
        with django_assert_max_num_queries(MAX_QUERIES):
            assert staff_client.get(LIST + query).status_code == 200


def test_ticket_page_shows_everything_about_the_ticket(
    staff_client, db, django_assert_max_num_queries
):
    ticket = make_ticket(
        body="Please install **xyz**<script>alert(1)</script>",
        info={"browser": "Firefox", "os": "Linux", "course": "cc8f1243-d573-4562-9aab-c15a3872d683"},
        username="Jane Doe",
    )  # fmt: skip
    Message.objects.create(ticket=ticket, kind="requester", author_name="Jane", body="first")
    Message.objects.create(ticket=ticket, kind="note", author_name="Ada", body="second *note*")

    with django_assert_max_num_queries(MAX_QUERIES):
        response = staff_client.get(page_url(ticket))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please install <strong>xyz</strong>" in html and "<script>alert" not in html
    assert "Jane Doe" in html and 'href="mailto:jane@example.com"' in html
    assert (
        'href="https://cocalc.com/projects/0010abe1-9283-4b42-b403-fa4fc1e3be57/worksheet.sagews"'
        in html
    )
    assert 'href="https://cocalc.com/projects/cc8f1243-d573-4562-9aab-c15a3872d683"' in html
    assert ">browser</th><td>Firefox<" in html and ">os</th><td>Linux<" in html
    assert f'href="/admin/support/account/{ACCOUNT}/"' in html
    assert html.index("first") < html.index("second <em>note</em>")  # in order
    assert ticket.requester_path() in html  # the requester's page
    assert 'name="status"' in html and 'name="tags"' in html


def test_ticket_page_links_only_a_real_course_id(staff_client, db):
    ticket = make_ticket(info={"course": "../../billing?x=1"})

    html = staff_client.get(page_url(ticket)).content.decode()

    assert "../../billing?x=1" in html and "/projects/../../billing" not in html


@pytest.mark.django_db(transaction=True)
def test_ticket_page_shows_helpdesk_link_and_deliveries(staff_client):
    ticket = make_ticket(external_id="4711", external_url="https://help.example.com/t/4711")
    run_worker()  # stores and sends the confirmation

    html = staff_client.get(page_url(ticket)).content.decode()

    assert 'href="https://help.example.com/t/4711"' in html
    assert "Confirmation to the requester" in html and "Sent" in html


@pytest.mark.django_db(transaction=True)
def test_reply_is_mailed_to_the_requester_and_shown_on_their_page(staff_client):
    ticket = make_ticket(status="open")
    run_worker()
    mail.outbox.clear()

    response = send(staff_client, ticket, body="Installed **xyz**.")

    assert response.status_code == 302 and response.url == page_url(ticket)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING
    message = followups().get()
    assert (message.kind, message.author.username) == ("reply", "agent")
    [entry] = LogEntry.objects.filter(object_id=str(ticket.pk))  # in the ticket's history
    assert entry.user.username == "agent" and "Reply to the requester" in str(entry)
    run_worker()
    [sent] = mail.outbox
    assert sent.to == ["jane@example.com"] and "Installed" in sent.body
    requester_page = Client().get(ticket.requester_path()).content.decode()
    assert "Installed <strong>xyz</strong>" in requester_page
    html = staff_client.get(page_url(ticket)).content.decode()
    assert "Reply sent to jane@example.com." in html and "Installed <strong>xyz</strong>" in html


@pytest.mark.django_db(transaction=True)
def test_reply_may_set_another_status(staff_client):
    ticket = make_ticket(status="open")

    send(staff_client, ticket, body="Done.", status="solved")

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED


@pytest.mark.django_db(transaction=True)
def test_internal_note_stays_in_the_admin(staff_client):
    ticket = make_ticket(status="open")
    run_worker()
    mail.outbox.clear()

    send(staff_client, ticket, kind="note", body="Old plan; refund?")
    run_worker()

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN  # a note changes nothing for the requester
    assert followups().get().kind == Message.Kind.NOTE
    assert mail.outbox == []
    assert "Old plan" not in Client().get(ticket.requester_path()).content.decode()
    assert "Old plan" in staff_client.get(page_url(ticket)).content.decode()


def test_blank_reply_is_refused_with_a_form_error(staff_client, db):
    ticket = make_ticket(status="open")

    response = send(staff_client, ticket, body="   ", status="solved")

    assert response.status_code == 200
    assert "Write a message." in response.content.decode()
    assert not followups().exists()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


@pytest.mark.django_db(transaction=True)
def test_save_sends_a_typed_reply_with_the_status_chosen(staff_client):
    ticket = make_ticket(status="open")

    response = send(staff_client, ticket, "_save", body="Fixed it.", status="solved", tags="x")

    assert response.status_code == 302 and response.url == LIST  # Save: back to the list
    ticket.refresh_from_db()
    assert (ticket.status, ticket.tags) == (Ticket.Status.SOLVED, ["x"])
    reply = followups().get()
    assert (reply.kind, reply.body, reply.author.username) == ("reply", "Fixed it.", "agent")
    [entry] = LogEntry.objects.filter(object_id=str(ticket.pk))
    assert "Status" in entry.get_change_message() and "Reply to the requester" in str(entry)
    html = staff_client.get(LIST).content.decode()
    assert "Reply sent to jane@example.com." in html
    run_worker()
    assert [m.to for m in mail.outbox if "Fixed it." in m.body] == [["jane@example.com"]]


def test_save_and_continue_adds_a_typed_note_and_stays(staff_client, db):
    ticket = make_ticket(status="open")

    response = send(staff_client, ticket, "_continue", kind="note", body="Call them Monday.")

    assert response.status_code == 302 and response.url == page_url(ticket)
    note = followups().get()
    assert (note.kind, note.body) == ("note", "Call them Monday.")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN  # a note leaves it as it is
    assert "Note added." in staff_client.get(page_url(ticket)).content.decode()


@pytest.mark.parametrize("button", ["_save", "_continue", "_conversation"])
def test_a_refused_reply_keeps_its_text_and_saves_nothing(staff_client, db, button):
    ticket = make_ticket(status="open")
    too_long = "Here is why. " * 8000  # over 100,000 characters

    response = send(staff_client, ticket, button, body=too_long, status="solved", tags="y")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Keep the message under 100000 characters." in html
    assert f">\n{too_long}</textarea>" in html  # shown again, to fix and send
    ticket.refresh_from_db()
    assert (ticket.status, ticket.tags) == (Ticket.Status.OPEN, ["member"])  # as they were
    assert not followups().exists()


def test_the_page_has_one_form_one_status_menu_and_no_id_twice(staff_client, db):
    ticket = make_ticket()

    html = staff_client.get(page_url(ticket)).content.decode()

    assert html.count("<form") == 1 + html.count('id="logout-form"')  # the admin's log-out
    assert html.count('name="status"') == 1
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    fields = page_form(staff_client, ticket)
    assert {"status", "tags", "kind", "body"} <= fields.keys()


def test_status_and_tags_are_edited_on_the_page(staff_client, db):
    ticket = make_ticket(status="new")
    before = ticket.updated_at

    response = staff_client.post(
        page_url(ticket), {"status": "open", "tags": " Billing, urgent ,billing"} | _no_inlines()
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and ticket.updated_at > before
    assert ticket.tags == ["billing", "urgent"]


def test_invalid_tags_are_a_form_error(staff_client, db):
    ticket = make_ticket()

    response = staff_client.post(
        page_url(ticket), {"status": "new", "tags": "x" * 70} | _no_inlines()
    )

    assert response.status_code == 200
    assert "Keep each tag under 64 characters" in response.content.decode()


def test_bulk_actions_solve_and_close(staff_client, queue):
    chosen = [queue["new and old"].pk, queue["in progress"].pk]

    response = staff_client.post(
        LIST, {"action": "mark_solved", "_selected_action": [str(pk) for pk in chosen]}
    )
    assert response.status_code == 302
    assert set(Ticket.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {"solved"}

    staff_client.post(LIST, {"action": "mark_closed", "select_across": "1", "index": "0",
                             "_selected_action": [str(chosen[0])]})  # fmt: skip
    assert set(Ticket.objects.values_list("status", flat=True)) == {"closed"}


def test_csv_export_streams_the_filtered_list(staff_client, queue):
    make_ticket(subject="=HYPERLINK(evil)", status="new")

    response = staff_client.get("/admin/support/ticket/export/?status=new")

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "subject", "requester name"]
    subjects = [row[1] for row in rows[1:]]
    assert subjects == ["'=HYPERLINK(evil)", "new and fresh", "new and old"]
    fresh = rows[2]
    assert "billing, urgent" in fresh and str(ACCOUNT) in fresh


def test_list_links_to_the_export_of_the_same_filter(staff_client, queue):
    html = staff_client.get(LIST + "?status=new&q=fresh").content.decode()

    assert 'href="/admin/support/ticket/export/?status=new&amp;q=fresh"' in html


def _no_inlines() -> dict:
    """The management form of the deliveries inline, as the page posts it."""
    prefix = "deliveries"
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}  # fmt: skip


def test_ticket_page_shows_deliveries_only_when_there_are_some(staff_client, db):
    ticket = make_ticket()  # its deliveries are not planned until a worker runs

    html = staff_client.get(page_url(ticket)).content.decode()

    assert "Deliveries (e-mail and forwarding)" not in html
