"""Blank means blank to a reader of what is shown: a message (Markdown or HTML) that renders
to nothing visible, written as references or markup, is refused at every entry point, as
one of invisible characters is; an image with a source or a link with text is something."""

import pytest
from django.test import Client

from support.models import Ticket
from tests.conftest import followups, make_ticket, ticket_payload
from tests.test_admin_tickets import _no_inlines, page_url
from tests.test_form import open_form, send

CREATE = "/api/v1/create_support_ticket"
pytestmark = pytest.mark.django_db

# Each renders as nothing a reader sees; the examples first.
SHOWS_NOTHING = [
    "&#8203;", "&#x200B;&#x2800;", "&nbsp;", "<p></p>", "<!-- -->", "<br>", "<img>",
    "<script>x</script>", "<style>a{}</style>", "[](#)", "&#x3164;&#12644;", "** **",
    "<div>&nbsp;<span>\u200b</span></div>", '<img src="">', '<a href="https://x.org"></a>',
    "<textarea></textarea>", "| |\n|-|\n| |", "<table><tr><td>&#8203;</td></tr></table>",
    "---", "<!-- a comment -->\n\n<br><br>", "[a]: https://x.org", "&#x1b;&#1;",
    "```python\n```", "~~~ruby\n~~~",
]  # fmt: skip
BLANK = pytest.mark.parametrize("body", SHOWS_NOTHING)
# Each shows something.
SHOWS_SOMETHING = [
    '<img src="https://cocalc.com/logo.png">', "![](https://cocalc.com/logo.png)", "[a](#)",
    "&lt;", "<b>x</b>", "x <!-- -->", "`&nbsp;x`", "&amp;", "<span title='t'>.</span>",
]  # fmt: skip


@BLANK
def test_api_refuses_a_body_that_shows_nothing(api, body):
    response = api.post(CREATE, ticket_payload(body=body), format="json")

    assert response.status_code == 400, response.content
    assert response.json()["fields"]["body"] == ["This field may not be blank."]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("body", SHOWS_SOMETHING)
def test_api_takes_a_body_that_shows_something(api, body):
    response = api.post(CREATE, ticket_payload(body=body), format="json")

    assert response.status_code == 200, response.content
    assert Ticket.objects.get().first_message.body == body


@BLANK
def test_help_form_shows_an_error_on_a_body_that_shows_nothing(client, body):
    response = send(client, open_form(client), body=body)

    assert response.status_code == 200
    assert response.context["form"].errors["body"] == ["This field may not be blank."]
    assert not Ticket.objects.exists()


@BLANK
def test_requester_reply_that_shows_nothing_is_refused(body):
    ticket = make_ticket()

    response = Client().post(ticket.requester_path(), {"body": body})

    assert response.status_code == 200
    assert "Write a message." in response.content.decode()
    assert not followups().exists()


@pytest.mark.parametrize("kind", ["reply", "note"])
@pytest.mark.parametrize("body", ["&nbsp;", "<p></p>", "[](#)", "<script>x</script>"])
def test_staff_reply_or_note_that_shows_nothing_is_refused(staff_client, kind, body):
    ticket = make_ticket(status="open")

    response = staff_client.post(
        page_url(ticket), {"_conversation": "1", "kind": kind, "body": body}
    )

    assert response.status_code == 200
    assert "Write a message." in response.content.decode()
    assert not followups().exists()


@pytest.mark.parametrize("kind", ["reply", "note"])
def test_staff_reply_with_only_an_image_is_sent(staff_client, kind):
    ticket = make_ticket(status="open")

    response = staff_client.post(
        page_url(ticket),
        {"_conversation": "1", "kind": kind, "body": "![](https://cocalc.com/a.png)",
         "status": "open", "tags": ""} | _no_inlines(),
    )  # fmt: skip

    assert response.status_code == 302
    assert followups().get().body == "![](https://cocalc.com/a.png)"
