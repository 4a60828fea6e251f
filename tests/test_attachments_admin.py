"""Files on the staff side: the ticket page shows each message's files, staff send files
with a reply or a note, and only staff of the group reach them."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from support.models import Attachment, Message, Ticket
from tests.conftest import checked, followups, make_ticket, png_bytes, upload

pytestmark = pytest.mark.django_db


def page(client: Client, ticket: Ticket) -> str:
    response = client.get(f"/admin/support/ticket/{ticket.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def post(client: Client, ticket: Ticket, **data):
    fields = {"status": ticket.status, "tags": ", ".join(ticket.tags), "kind": "reply", **data}
    return client.post(f"/admin/support/ticket/{ticket.pk}/change/", fields)


def test_ticket_page_shows_the_requests_files_with_thumbnails_size_and_type(staff_client):
    ticket = make_ticket(
        attachments=checked(upload("shot.png", png_bytes(800, 500)), upload("log.txt", b"x" * 2048))
    )
    html = page(staff_client, ticket)

    shot, log = (Attachment.objects.get(name=n) for n in ("shot.png", "log.txt"))
    base = f"/admin/support/ticket/{ticket.pk}/files/"
    assert f'<img src="{base}{shot.pk}/thumbnail/" alt="shot.png"' in html
    assert f'href="{base}{log.pk}/" download>log.txt</a>' in html
    assert "2.0\xa0KB · text/plain" in html and "image/png · 800×500" in html
    thumbnail = staff_client.get(f"{base}{shot.pk}/thumbnail/")
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/webp"
    download = staff_client.get(f"{base}{log.pk}/")
    assert b"".join(download.streaming_content) == b"x" * 2048
    assert download["Content-Disposition"] == 'attachment; filename="log.txt"'


def test_the_answer_form_takes_files(staff_client):
    html = page(staff_client, make_ticket())

    assert 'enctype="multipart/form-data"' in html
    assert re.search(r'<input type="file" name="attachments" multiple[^>]*>', html)


def test_staff_reply_with_files_reaches_the_requesters_page(staff_client):
    ticket = make_ticket()
    response = post(
        staff_client, ticket, body="Here is the fix.", _continue="1",
        attachments=[upload("fix.png", png_bytes()), upload("steps.txt", b"1. restart")],
    )  # fmt: skip

    assert response.status_code == 302
    [reply] = followups(ticket)
    assert reply.kind == Message.Kind.REPLY
    assert sorted(reply.attachments.values_list("name", flat=True)) == ["fix.png", "steps.txt"]
    requester = Client().get(ticket.requester_path()).content.decode()
    assert "fix.png" in requester and "steps.txt" in requester


def test_a_notes_files_stay_with_staff(staff_client):
    ticket = make_ticket()
    post(staff_client, ticket, kind="note", body="Internal", attachments=[upload("db.txt", b"x")])

    note_file = Attachment.objects.get()
    assert note_file.message.kind == Message.Kind.NOTE
    assert "db.txt" in page(staff_client, ticket)
    assert "db.txt" not in Client().get(ticket.requester_path()).content.decode()
    url = f"{ticket.requester_path()}files/{note_file.pk}/"
    assert Client().get(url).status_code == 404
    assert (
        staff_client.get(f"/admin/support/ticket/{ticket.pk}/files/{note_file.pk}/").status_code
        == 200
    )


def test_a_refused_file_is_named_the_text_is_kept_and_nothing_is_sent(staff_client):
    ticket = make_ticket()
    response = post(
        staff_client, ticket, body="Try this installer.",
        attachments=[upload("setup.exe", b"MZ\x90\x00" + b"\x00" * 100), upload("ok.txt", b"ok")],
    )  # fmt: skip

    assert response.status_code == 200
    html = response.content.decode()
    assert "“setup.exe” was not taken: files of this type" in html
    assert "Choose the files again (a refused form keeps none): setup.exe, ok.txt." in html
    assert "Try this installer.</textarea>" in html
    assert not followups(ticket).exists() and not Attachment.objects.exists()


def test_files_without_a_message_ask_for_one(staff_client):
    ticket = make_ticket()
    response = post(staff_client, ticket, body="", attachments=[upload("a.txt", b"a")])

    assert response.status_code == 200
    assert "Write a message to go with the files." in response.content.decode()
    assert not Attachment.objects.exists()


def test_files_are_404_for_everyone_but_staff_of_the_group(support_staff):
    ticket = make_ticket(attachments=checked(upload("secret.txt", b"s")))
    other = make_ticket(subject="other")
    file = ticket.attachments.get()
    url = f"/admin/support/ticket/{ticket.pk}/files/{file.pk}/"
    outsider = User.objects.create_user("temp", is_staff=True)
    not_staff = User.objects.create_user("user")
    clients = {"logged out": Client()}
    for name, user in [("staff without the group", outsider), ("not staff", not_staff)]:
        clients[name] = Client()
        clients[name].force_login(user)
    member = Client()
    member.force_login(support_staff)

    for name, client in clients.items():
        assert client.get(url).status_code == 404, name
        assert client.get(url + "thumbnail/").status_code == 404, name
    assert member.get(url).status_code == 200
    # A file through another ticket's address, or an address that is no ticket id.
    assert member.get(f"/admin/support/ticket/{other.pk}/files/{file.pk}/").status_code == 404
    assert member.get(f"/admin/support/ticket/nope/files/{file.pk}/").status_code == 404


def test_the_list_filters_tickets_with_and_without_files(staff_client):
    with_files = make_ticket(subject="Kernel log", attachments=checked(upload("a.txt", b"a")))
    without = make_ticket(subject="Billing question")

    listed = {
        value: staff_client.get(f"/admin/support/ticket/?has_files={value}").content.decode()
        for value in ("yes", "no")
    }

    assert with_files.subject in listed["yes"] and without.subject not in listed["yes"]
    assert without.subject in listed["no"] and with_files.subject not in listed["no"]
