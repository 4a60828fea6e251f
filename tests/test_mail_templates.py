"""Every e-mail the desk sends, with quotes, ampersands and angle brackets in what people
wrote: subjects and text parts are text (never HTML-escaped), HTML parts stay escaped;
also when a project overrides a template."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from support import conversation
from support.models import Ticket
from tests.conftest import run_worker, ticket_payload

pytestmark = pytest.mark.django_db(transaction=True)  # mail goes out after commit

SUBJECT = 'Tom\'s & "q" <b>bold</b>'
NAME = "O'Brien & <Co>"
BODY = 'x < y & "z" isn\'t <i>it</i>'
ESCAPES = ("&#x27;", "&amp;", "&quot;", "&lt;", "&gt;", "&#39;", "&#34;")


@pytest.fixture
def everything_mailed(api, settings):
    """A ticket with a staff reply and a requester's reply: all four kinds of mail."""
    settings.SUPPORT = {**settings.SUPPORT, "STAFF_EMAILS": ["help@example.com"]}
    response = api.post(
        "/api/v1/create_support_ticket",
        ticket_payload(subject=SUBJECT, username=NAME, body=BODY),
        format="json",
    )
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    agent = get_user_model().objects.create_user("a", "a@example.com", first_name=NAME)
    conversation.reply(ticket, author=agent, body=BODY)
    conversation.reply_as_requester(ticket, body=BODY + " again")
    run_worker()
    return mail.outbox


def test_subjects_and_text_parts_are_text_and_html_parts_escaped(everything_mailed):
    subjects = sorted(message.subject for message in everything_mailed)

    assert subjects == sorted([
        f"[Support] {SUBJECT}",                       # confirmation
        f"New ticket from {NAME}: {SUBJECT}",         # to staff
        f"Re: [Support] {SUBJECT}",                   # staff's reply
        f"New reply from {NAME}: {SUBJECT}",          # the requester's reply, to staff
    ])  # fmt: skip
    for message in everything_mailed:
        assert BODY in message.body, message.subject
        assert not any(escape in message.body for escape in ESCAPES), message.body
        html = message.alternatives[0][0]
        assert "x &lt; y &amp;" in html  # the body, rendered and sanitised
        assert "<i>it</i>" in html
        assert "<b>bold</b>" not in html and "<Co>" not in html  # subject, name: escaped


def test_a_projects_own_subject_template_is_text_too(api, settings, tmp_path):
    override = tmp_path / "support" / "email"
    override.mkdir(parents=True)
    (override / "confirmation_subject.txt").write_text(
        "Re {{ ticket.subject }} for {{ ticket.requester_name }}"
    )
    (override / "confirmation.txt").write_text(
        "{{ ticket.subject }}\n{{ ticket.first_message.body }}"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    api.post(
        "/api/v1/create_support_ticket",
        ticket_payload(subject=SUBJECT, username=NAME, body=BODY),
        format="json",
    )
    run_worker()

    [sent] = mail.outbox
    assert sent.subject == f"Re {SUBJECT} for {NAME}"
    assert sent.body == f"{SUBJECT}\n{BODY}"
    assert "&lt;b&gt;bold&lt;/b&gt;" in sent.alternatives[0][0]  # the stock HTML part
