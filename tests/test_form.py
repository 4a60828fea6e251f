"""The help form through the test client: what a person sees, and the ticket it files."""

import gzip
import re
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from support.models import Ticket
from tests.conftest import run_worker

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)


def form_fields(html: str) -> dict[str, str]:
    """The values of the form's inputs, as a browser would send them."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def open_form(client: Client, path: str = "/support/new/") -> dict[str, str]:
    response = client.get(path)
    assert response.status_code == 200
    return form_fields(response.content.decode())


def send(client: Client, fields: dict, path: str = "/support/new/", headers=None, **overrides):
    data = {
        **fields,
        "email_address": "jane@example.com",
        "username": "Jane Doe",
        "subject": "Kernel died",
        "body": "My **kernel** died.",
        "send": "1",
        **overrides,
    }
    return client.post(path, data, headers={"User-Agent": CHROME, **(headers or {})})


def test_form_asks_for_email_name_subject_and_message_with_labels():
    html = Client().get("/support/new/").content.decode()

    for field, label in [
        ("email_address", "Your e-mail address"),
        ("username", "Your name"),
        ("subject", "Subject"),
        ("body", "How can we help?"),
    ]:
        assert f'<label for="id_{field}">{label}' in html
        assert f'id="id_{field}"' in html
    assert 'aria-describedby="id_body_helptext"' in html  # "You can use Markdown"


def test_sending_files_a_ticket_and_shows_its_link():
    client = Client()
    fields = open_form(client, "/support/new/?location=/projects/abc/x.ipynb")
    fields.update(language="de-CH", screen="1920x1080")

    response = send(client, fields)

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/support/new/sent/{ticket.pk}/{ticket.access_key}/"
    page = client.get(response["Location"]).content.decode()
    assert f"http://testserver{ticket.requester_path()}" in page
    assert "Keep this link" in page
    assert (ticket.requester_email, ticket.requester_name) == ("jane@example.com", "Jane Doe")
    assert (ticket.subject, ticket.first_message.body) == ("Kernel died", "My **kernel** died.")
    assert ticket.channel == Ticket.Channel.FORM
    assert ticket.location == "/projects/abc/x.ipynb"
    assert ticket.info == {
        "browser": "Chrome 156",
        "os": "Linux",
        "mobile": False,
        "language": "de-CH",
        "screen": "1920x1080",
        "user_agent": CHROME,
    }
    assert ticket.account_id is None and ticket.api_key is None


@pytest.mark.django_db(transaction=True)  # the delivery is enqueued on commit
def test_filed_ticket_is_confirmed_by_email_with_its_link():
    client = Client()
    send(client, open_form(client))
    ticket = Ticket.objects.get()

    run_worker()

    assert [m.to for m in mail.outbox] == [["jane@example.com"]]
    assert f"http://testserver{ticket.requester_path()}" in mail.outbox[0].body


def test_tags_come_from_the_setting(settings):
    settings.SUPPORT = {**settings.SUPPORT, "FORM_TAGS": ["web-form", "Member"]}
    client = Client()

    send(client, open_form(client), tags="admin")  # not a field: ignored

    assert Ticket.objects.get().tags == ["member", "web-form"]


def test_name_is_optional():
    client = Client()
    send(client, open_form(client), username="")

    assert Ticket.objects.get().requester_name == "jane@example.com"


def test_missing_and_invalid_fields_are_announced_and_nothing_is_filed():
    client = Client()
    response = send(client, open_form(client), email_address="not-an-address", subject="")

    html = response.content.decode()
    assert response.status_code == 200
    assert not Ticket.objects.exists()
    assert 'role="alert"' in html
    assert "Enter a valid email address." in html
    assert "This field is required." in html
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="id_email_address"', html)
    assert 'aria-describedby="id_email_address_helptext id_email_address_error"' in html
    assert 'value="not-an-address"' in html  # what they wrote is kept


def test_context_the_normaliser_refuses_is_explained_not_a_500():
    client = Client()
    fields = open_form(client, "/support/new/?location=https://evil.example/x")

    response = send(client, fields)

    assert response.status_code == 200
    assert "The location must be a path on cocalc.com" in response.content.decode()
    assert not Ticket.objects.exists()


def test_preview_renders_markdown_sanitised_and_files_nothing():
    client = Client()
    fields = open_form(client)

    response = client.post(
        "/support/new/",
        {**fields, "body": "**bold** <script>alert(1)</script><img src=x onerror=alert(1)>",
         "preview": "1"},
    )  # fmt: skip

    html = response.content.decode()
    preview = html.split('class="support-message">')[1].split("</div>")[0]
    assert "<strong>bold</strong>" in preview
    assert "<script" not in preview and "onerror" not in preview
    assert 'role="alert"' not in html  # an unfinished form shows no errors yet
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # kept in the textarea, escaped
    assert not Ticket.objects.exists()
    # The preview keeps the form's token: sending it now files the ticket.
    assert send(client, form_fields(html)).status_code == 302
    assert Ticket.objects.count() == 1


def test_double_click_files_one_ticket():
    client = Client()
    fields = open_form(client)

    first, second = send(client, fields), send(client, fields)

    assert Ticket.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]


def test_form_is_protected_against_csrf():
    client = Client(enforce_csrf_checks=True)
    fields = open_form(client)
    client.cookies.clear()

    assert send(client, fields).status_code == 403
    assert not Ticket.objects.exists()


def test_form_page_may_not_be_framed():
    response = Client().get("/support/new/")

    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" not in response


def test_embedded_form_may_be_framed_by_allowed_sites_only(settings):
    settings.SUPPORT = {**settings.SUPPORT, "FRAME_ANCESTORS": ["https://cocalc.com"]}
    response = Client().get("/support/embed/")

    assert response["Content-Security-Policy"] == "frame-ancestors 'self' https://cocalc.com"
    assert "X-Frame-Options" not in response


def test_embedded_form_csrf_cookie_works_in_a_third_party_iframe():
    response = Client().get("/support/embed/")

    cookie = response.cookies["csrftoken"].OutputString()
    assert "SameSite=None; Partitioned" in cookie
    assert "Secure" in cookie


def test_embedded_form_files_through_the_same_path_and_confirms_inside_the_frame():
    client = Client(enforce_csrf_checks=True)
    fields = open_form(
        client, "/support/embed/?location=/projects/p/a.md&language=fr&screen=390x844"
    )

    response = send(client, fields, path="/support/embed/")

    ticket = Ticket.objects.get()
    assert response["Location"] == f"/support/embed/sent/{ticket.pk}/{ticket.access_key}/"
    assert (ticket.location, ticket.info["language"], ticket.info["screen"]) == (
        "/projects/p/a.md",
        "fr",
        "390x844",
    )
    page = client.get(response["Location"])
    assert "frame-ancestors" in page["Content-Security-Policy"]
    assert 'target="_blank"' in page.content.decode()  # the ticket page opens outside


def test_embedded_form_has_no_site_chrome():
    html = Client().get("/support/embed/").content.decode()

    assert "max-width: 46rem" not in html  # the desk's card layout (support/base.html)
    assert '<form class="support-form"' in html


def test_confirmation_page_needs_the_right_key():
    client = Client()
    send(client, open_form(client))
    ticket = Ticket.objects.get()

    assert client.get(f"/support/new/sent/{ticket.pk}/{'x' * 24}/").status_code == 404
    assert client.get(f"/support/new/sent/{uuid.uuid4()}/{ticket.access_key}/").status_code == 404


def test_home_page_carries_the_form_and_the_button():
    client = Client()
    html = client.get("/?tab=help").content.decode()

    assert (
        '<form class="support-form" method="post" action="/support/new/" '
        'enctype="multipart/form-data">' in html
    )
    assert form_fields(html)["location"] == "/?tab=help"
    assert 'class="support-button" href="/support/new/?location=%2F%3Ftab%3Dhelp"' in html
    assert send(client, form_fields(html)).status_code == 302
    assert Ticket.objects.get().location == "/?tab=help"


def test_widget_script_is_served_and_small():
    response = Client().get("/static/support/widget.js")
    body = b"".join(response.streaming_content)

    assert response.status_code == 200
    assert b"support:close" in body
    assert len(gzip.compress(body)) < 5 * 1024
    assert body == Path("support/static/support/widget.js").read_bytes()


# Logged in to the host site: who they are comes from the account.


@pytest.fixture
def user():
    return get_user_model().objects.create_user(
        "jdoe", email="jdoe@example.com", password="pw", first_name="Jane", last_name="Doe"
    )


def test_logged_in_person_is_not_asked_for_email_or_name(user):
    client = Client()
    client.force_login(user)

    html = client.get("/support/new/").content.decode()

    assert 'name="email_address"' not in html and 'name="username"' not in html
    assert "You are writing as Jane Doe (jdoe@example.com)" in html


def test_logged_in_person_cannot_file_as_someone_else(user):
    client = Client()
    client.force_login(user)

    send(client, open_form(client), email_address="boss@example.com", username="The Boss")

    ticket = Ticket.objects.get()
    assert (ticket.requester_email, ticket.requester_name) == ("jdoe@example.com", "Jane Doe")
    assert ticket.account_id is None  # Django's user model has no account id


def test_user_without_a_full_name_is_named_by_username():
    user = get_user_model().objects.create_user("jdoe", email="jdoe@example.com")
    client = Client()
    client.force_login(user)

    send(client, open_form(client))

    assert Ticket.objects.get().requester_name == "jdoe"


def test_user_without_email_is_asked_for_it():
    client = Client()
    client.force_login(get_user_model().objects.create_user("noemail"))

    assert 'name="email_address"' in client.get("/support/new/").content.decode()


ACCOUNT = uuid.UUID("291f43c1-deae-431c-b763-712307fa6859")


def platform_user(request):
    """A FORM_USER as a platform writes it: the account comes from its own session."""
    if request.COOKIES.get("platform_session") != "s3cret":
        return None
    return {"email": "ada@example.com", "name": "Ada", "account_id": ACCOUNT}


def test_form_user_setting_supplies_identity_and_account(settings):
    settings.SUPPORT = {**settings.SUPPORT, "FORM_USER": "tests.test_form.platform_user"}
    client = Client()
    client.cookies["platform_session"] = "s3cret"

    send(client, open_form(client), email_address="eve@example.com", account_id=str(uuid.uuid4()))

    ticket = Ticket.objects.get()
    assert (ticket.requester_email, ticket.requester_name) == ("ada@example.com", "Ada")
    assert ticket.account_id == ACCOUNT


def test_form_user_none_asks_everyone(settings, user):
    settings.SUPPORT = {**settings.SUPPORT, "FORM_USER": None}
    client = Client()
    client.force_login(user)

    assert 'name="email_address"' in client.get("/support/new/").content.decode()


@pytest.mark.parametrize(
    ("user_agent", "browser", "os", "mobile"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0",
            "Firefox 140",
            "Windows",
            False,
        ),
        (
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
                "(KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
            ),
            "Safari 18",
            "iOS",
            True,
        ),
        (
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
                "Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0"
            ),
            "Edge 140",
            "macOS",
            False,
        ),
        (
            (
                "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/140.0.0.0 Mobile Safari/537.36"
            ),
            "Chrome 140",
            "Android",
            True,
        ),
    ],
)
def test_browser_and_system_are_read_from_the_user_agent(user_agent, browser, os, mobile):
    client = Client()
    send(client, open_form(client), headers={"User-Agent": user_agent})

    info = Ticket.objects.get().info
    assert (info["browser"], info["os"], info["mobile"]) == (browser, os, mobile)
    assert info["user_agent"] == user_agent


def test_unknown_user_agent_is_kept_without_guesses():
    client = Client()
    send(client, open_form(client), headers={"User-Agent": "curl/8.5"})

    assert Ticket.objects.get().info == {"mobile": False, "user_agent": "curl/8.5"}


def test_message_keeps_its_leading_spaces_and_blank_message_is_refused():
    client = Client()
    blank = send(client, open_form(client), body="   \n  ")
    assert "This field may not be blank." in blank.content.decode()

    send(client, open_form(client), body="    indented code\ntext")
    assert Ticket.objects.get().first_message.body == "    indented code\ntext"
