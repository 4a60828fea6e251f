"""Files on the requester's pages, through HTTP: the help form (and the widget's), the reply
on a ticket's page, the files shown there and sent only to whoever holds the link."""

import html
import io
import re

import pytest
from django.test import Client
from PIL import Image

from support import conversation
from support.models import Attachment, Message, Ticket
from tests.conftest import checked, make_ticket, png_bytes, upload
from tests.test_form import open_form, send

pytestmark = pytest.mark.django_db

SCRIPTED_HTML = b"<!doctype html><html><body><script>alert(document.domain)</script></body></html>"
SCRIPTED_SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(2)</script></svg>"
)
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200  # a Windows program's header


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def file_links(response) -> list[str]:
    """The links to files on a page, as the browser would follow them."""
    return sorted(set(re.findall(r'(?:href|src)="([^"]*/files/[^"]*)"', response.content.decode())))


def fetch(client: Client, url: str):
    """A file as a browser gets it: status, headers and the whole body."""
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_help_form_files_a_ticket_with_a_screenshot_and_a_log():
    client = Client()
    shot = png_bytes(1280, 720)
    response = send(
        client, open_form(client),
        attachments=[upload("screenshot.png", shot, "image/png"),
                     upload("kernel.log", b"Traceback (most recent call last):\n", "text/x-log")],
    )  # fmt: skip

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    files = list(ticket.first_message.attachments.order_by("name"))
    assert [(f.name, f.content_type, f.size) for f in files] == [
        ("kernel.log", "text/plain", 35),
        ("screenshot.png", "image/png", len(shot)),
    ]
    assert (files[1].width, files[1].height) == (1280, 720)
    assert all(f.message.kind == Message.Kind.REQUESTER and f.ticket == ticket for f in files)

    page = client.get(ticket.requester_path())
    links = file_links(page)
    assert len(links) == 3  # the picture, its thumbnail, the log
    thumbnail = next(link for link in links if link.endswith("/thumbnail/"))
    response, body = fetch(client, thumbnail)
    assert response["Content-Type"] == "image/webp"
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == "WEBP" and max(image.size) == 480
    picture = next(link for link in links if str(files[1].pk) in link and link != thumbnail)
    response, body = fetch(client, picture)
    assert body == shot
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="screenshot.png"'
    log, body = fetch(client, next(link for link in links if str(files[0].pk) in link))
    assert body == b"Traceback (most recent call last):\n"
    assert log["Content-Disposition"] == 'attachment; filename="kernel.log"'
    for response in (log, client.get(picture)):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"].startswith("sandbox;")
        assert "default-src 'none'" in response["Content-Security-Policy"]


def test_embedded_form_takes_files_too():
    client = Client()
    response = send(
        client, open_form(client, "/support/embed/"), path="/support/embed/",
        attachments=[upload("s.png", png_bytes(), "image/png")],
    )  # fmt: skip

    assert response.status_code == 302
    assert Ticket.objects.get().attachments.get().name == "s.png"


def test_form_shows_the_file_field_with_its_limits():
    page = page_text(Client().get("/support/new/"))

    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" name="attachments"' in page and "multiple" in page
    assert "up to 10, of 20.0 MB each" in page
    assert "paste a screenshot (Ctrl+V)" in page


def test_files_are_off_when_no_file_is_allowed(settings):
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_MAX_FILES": 0}

    page = page_text(Client().get("/support/new/"))

    assert 'type="file"' not in page and "multipart" not in page


def test_a_png_that_is_really_html_is_html_and_only_ever_downloaded():
    client = Client()
    send(client, open_form(client), attachments=[upload("cute.png", SCRIPTED_HTML, "image/png")])
    ticket = Ticket.objects.get()
    file = ticket.attachments.get()

    assert (file.content_type, file.is_image, file.thumbnail_path) == ("text/html", False, "")
    page = client.get(ticket.requester_path())
    assert "<img" not in page.content.decode().split('class="attachments"')[1].split("</ul>")[0]
    response, body = fetch(client, file_links(page)[0])
    assert body == SCRIPTED_HTML
    assert response["Content-Disposition"] == 'attachment; filename="cute.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (SCRIPTED_SVG, "image/svg+xml"),
        (b"\n  <HTML><script>x()</script>", "text/html"),
        (b"\xef\xbb\xbf<!DOCTYPE html><p>hi", "text/html"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        (b"PK\x03\x04" + b"\x00" * 40, "application/zip"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
        ("plain text, naïve".encode(), "text/plain"),
        (bytes(range(256)), "application/octet-stream"),
    ],
    ids=["svg", "html-after-space", "html-with-bom", "pdf", "zip", "bad-gif", "text", "binary"],
)
def test_the_type_is_read_from_the_content_not_the_name_or_header(content, expected):
    client = Client()
    send(client, open_form(client), attachments=[upload("photo.jpg", content, "image/jpeg")])

    file = Attachment.objects.get()
    assert file.content_type == expected
    assert not file.is_image  # nothing here is a picture that decodes


def test_programs_are_refused_by_content_and_by_name_and_the_text_is_kept():
    client = Client()
    response = send(
        client, open_form(client), subject="Installer crashes", body="See the files.",
        attachments=[upload("setup.png", PROGRAM), upload("fix.bat", b"@echo off\r\n"),
                     upload("ok.png", png_bytes(), "image/png")],
    )  # fmt: skip

    assert response.status_code == 200
    assert not Ticket.objects.exists()
    page = page_text(response)
    assert "“setup.png” was not taken: files of this type (application/" in page
    assert "“fix.bat” was not taken: files of this type (text/plain) are not accepted." in page
    assert 'value="Installer crashes"' in page and "See the files.</textarea>" in page
    # The file that passed is kept for the next try, ticked.
    assert "Kept from your last try" in page and "ok.png" in page
    kept = re.findall(r'<input type="checkbox" name="kept" value="([^"]+)" checked>', page)
    assert len(kept) == 1

    response = send(client, {**open_form(client), "kept": kept[0]}, subject="Installer crashes")

    assert response.status_code == 302
    assert list(Ticket.objects.get().attachments.values_list("name", flat=True)) == ["ok.png"]


def test_a_form_refused_for_its_text_keeps_its_files_and_a_file_left_out_is_not_sent():
    client = Client()
    fields = open_form(client)
    response = send(
        client, fields, subject="",
        attachments=[upload("a.png", png_bytes(), "image/png"), upload("b.txt", b"b")],
    )  # fmt: skip

    assert response.status_code == 200
    page = page_text(response)
    kept = re.findall(r'name="kept" value="([^"]+)" checked> ([^ ]+)', page)
    assert [name for _token, name in kept] == ["a.png", "b.txt"]
    assert Attachment.objects.filter(message__isnull=True).count() == 2  # pending

    # Sent again with b.txt unticked, and a new file chosen.
    response = send(
        client, {**fields, "kept": kept[0][0]},
        attachments=[upload("c.txt", b"c")],
    )  # fmt: skip

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert sorted(ticket.attachments.values_list("name", flat=True)) == ["a.png", "c.txt"]
    # b.txt stays pending until the clean-up removes it.
    assert list(Attachment.objects.filter(message__isnull=True).values_list("name", flat=True)) == [
        "b.txt"
    ]


def test_kept_files_cannot_be_taken_by_a_forged_or_another_pages_reference():
    client = Client()
    other = make_ticket()
    pending = conversation.filestore.store(checked(upload("x.txt", b"x")), ticket=other)
    forged = "eyJ0eXAi.forged"
    token_of_other = conversation.filestore.keep(pending)[0]  # a reply's file on another page

    response = send(client, open_form(client), kept=[forged, token_of_other])

    assert response.status_code == 302
    assert not Ticket.objects.exclude(pk=other.pk).get().attachments.exists()
    assert Attachment.objects.get().message is None


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\jane\\Desktop\\report.pdf", "report.pdf"),
        ('say "hi".txt', 'say "hi".txt'),
        ("Ünïcødé 截图 2026.png", "Ünïcødé 截图 2026.png"),
        ("evil\u202egnp.exe.txt", "evilgnp.exe.txt"),
        ("..hidden", "hidden"),
        ("x" * 300 + ".txt", "x" * 251 + ".txt"),
    ],
    ids=["dots", "windows-path", "quotes", "non-ascii", "rtl-override", "leading-dots", "long"],
)
def test_names_are_kept_safe_for_pages_headers_and_file_systems(sent, kept):
    client = Client()
    send(client, open_form(client), attachments=[upload(sent, b"some text")])

    file = Attachment.objects.get()
    assert file.name == kept
    assert "/" not in file.path.split("/", 2)[-1] and kept not in file.path  # stored by id
    ticket = Ticket.objects.get()
    response = client.get(f"{ticket.requester_path()}files/{file.pk}/")
    disposition = response["Content-Disposition"]
    assert "\n" not in disposition and "/" not in disposition.split("filename")[1]
    if kept.isascii():
        assert disposition == 'attachment; filename="{}"'.format(kept.replace('"', '\\"'))
    else:
        assert disposition.startswith("attachment; filename*=utf-8''")


def test_files_over_the_limits_are_named_and_the_rest_filed(settings):
    settings.SUPPORT = {
        **settings.SUPPORT, "ATTACHMENT_MAX_BYTES": 1000, "ATTACHMENT_MAX_FILES": 2,
        "ATTACHMENT_MAX_TOTAL_BYTES": 1500,
    }  # fmt: skip
    client = Client()
    response = send(
        client, open_form(client), body="Three files.",
        attachments=[upload("big.bin", b"x" * 1001), upload("a.txt", b"a" * 800),
                     upload("b.txt", b"b" * 800), upload("c.txt", b"c")],
    )  # fmt: skip

    assert response.status_code == 200
    page = page_text(response)
    assert "“big.bin” is larger than 1000 bytes: send files of 1000 bytes at most." in page
    assert "“b.txt” was not taken: the files of one message may add up to 1.5 KB." in page
    assert "Three files.</textarea>" in page
    kept = re.findall(r'name="kept" value="([^"]+)" checked> ([^ ]+)', page)
    assert [name for _t, name in kept] == ["a.txt", "c.txt"]

    response = send(client, {**open_form(client), "kept": [t for t, _n in kept]},
                    attachments=[upload("d.txt", b"d")])  # fmt: skip

    assert "“d.txt” was not taken: a message may carry 2 files at most." in page_text(response)


def test_a_body_past_every_limit_is_a_413_page_that_says_what_is_allowed(settings):
    settings.SUPPORT = {
        **settings.SUPPORT,
        "ATTACHMENT_MAX_TOTAL_BYTES": 5000,
        "MAX_REQUEST_BYTES": 2000,
    }
    client = Client()

    response = send(client, open_form(client), attachments=[upload("big.bin", b"x" * 50_000)])

    assert response.status_code == 413
    assert "send files of 20.0 MB at most, 4.9 KB in all, with at most 2.0 KB of text" in (
        page_text(response)
    )
    assert not Attachment.objects.exists()


def test_text_is_still_held_to_its_limit_when_files_come_with_it(settings):
    settings.SUPPORT = {**settings.SUPPORT, "MAX_REQUEST_BYTES": 2000}
    client = Client()

    response = send(
        client, open_form(client), body="x" * 3000, attachments=[upload("a.txt", b"a" * 5000)]
    )

    assert response.status_code == 413
    assert "The text of the request is too large" in page_text(response)
    ok = send(client, open_form(client), body="short", attachments=[upload("a.txt", b"a" * 5000)])
    assert ok.status_code == 302  # the file is not counted as text


# --- the ticket page


def test_requester_replies_with_a_file_and_sees_it(settings):
    ticket = make_ticket()
    client = Client()

    response = client.post(
        ticket.requester_path(),
        {"body": "Here it is.", "attachments": [upload("trace.txt", b"Traceback\n")]},
    )

    assert response.status_code == 302
    reply = ticket.messages.last()
    assert reply.kind == Message.Kind.REQUESTER
    assert list(reply.attachments.values_list("name", "content_type")) == [
        ("trace.txt", "text/plain")
    ]
    page = client.get(ticket.requester_path())
    [link] = file_links(page)
    assert fetch(client, link)[1] == b"Traceback\n"


def test_a_refused_reply_keeps_its_text_and_its_good_files():
    ticket = make_ticket()
    client = Client()
    response = client.post(
        ticket.requester_path(),
        {"body": "Two files", "attachments": [upload("x.exe", PROGRAM), upload("ok.txt", b"ok")]},
    )

    assert response.status_code == 200
    page = page_text(response)
    assert "“x.exe” was not taken" in page and "Two files</textarea>" in page
    [token] = re.findall(r'name="kept" value="([^"]+)" checked> ok.txt', page)

    response = client.post(ticket.requester_path(), {"body": "Two files", "kept": token})

    assert response.status_code == 302
    assert list(ticket.messages.last().attachments.values_list("name", flat=True)) == ["ok.txt"]


def test_a_reply_sent_twice_with_its_file_is_stored_once():
    ticket = make_ticket()
    client = Client()
    for _ in range(2):
        client.post(
            ticket.requester_path(), {"body": "Again", "attachments": [upload("a.txt", b"a")]}
        )

    assert ticket.messages.count() == 2
    assert Attachment.objects.filter(message__isnull=False).count() == 1


def test_files_are_sent_to_the_link_holder_only(support_staff):
    ticket = make_ticket(attachments=checked(upload("request.txt", b"mine")))
    conversation.add_note(
        ticket, author=support_staff, body="internal", attachments=checked(upload("n.txt", b"n"))
    )
    other = make_ticket(subject="Another", attachments=checked(upload("o.txt", b"o")))
    mine = ticket.first_message.attachments.get()
    note_file = Attachment.objects.get(name="n.txt")
    pending = conversation.filestore.store(checked(upload("p.txt", b"p")), ticket=ticket)[0]
    client = Client()
    base = ticket.requester_path()

    assert fetch(client, f"{base}files/{mine.pk}/")[1] == b"mine"
    for url in [
        f"{base}files/{note_file.pk}/",  # an internal note's file
        f"{base}files/{pending.pk}/",  # not sent yet
        f"{base}files/{other.attachments.get().pk}/",  # another ticket's, through this link
        f"{other.requester_path()}files/{mine.pk}/",  # this one, through another's link
        f"/support/tickets/{ticket.pk}/{'x' * len(ticket.access_key)}/files/{mine.pk}/",
        f"{base}files/{mine.pk}/thumbnail/",  # a text file has no thumbnail
    ]:
        assert client.get(url).status_code == 404, url
    assert "n.txt" not in client.get(base).content.decode()


def test_a_missing_file_in_the_storage_is_a_404_not_an_error():
    ticket = make_ticket(attachments=checked(upload("gone.txt", b"x")))
    file = ticket.attachments.get()
    conversation.filestore.storage().delete(file.path)

    assert Client().get(f"{ticket.requester_path()}files/{file.pk}/").status_code == 404
