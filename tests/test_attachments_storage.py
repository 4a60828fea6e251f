"""Where files are kept and how they leave: a private storage, nothing half-stored, the
clean-up of files whose form was never sent, the ways of sending them, start-up checks."""

from datetime import timedelta
from io import StringIO
from urllib.parse import unquote

import pytest
from django.core.checks import run_checks
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from support import filestore
from support.models import Attachment, Ticket
from tests.conftest import checked, make_ticket, png_bytes, run_worker, upload
from tests.test_form import open_form, send

pytestmark = pytest.mark.django_db


def stored_files() -> list[str]:
    """Every file in the attachments' folder."""
    return sorted(
        str(path.relative_to(filestore.directory()))
        for path in filestore.directory().rglob("*")
        if path.is_file()
    )


@pytest.fixture(autouse=True)
def _empty_folder(settings, tmp_path):
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_DIR": str(tmp_path / "attachments")}


def test_files_are_kept_in_a_private_folder_with_no_url():
    ticket = make_ticket(attachments=checked(upload("a.png", png_bytes())))
    file = ticket.attachments.get()

    assert stored_files() == sorted([file.path, file.thumbnail_path])
    assert (filestore.directory() / file.path).read_bytes() == png_bytes()
    with pytest.raises(ValueError, match="no public URL"):
        filestore.storage().url(file.path)


def test_a_relative_folder_is_under_the_projects_base_dir(settings):
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_DIR": "var/files"}

    assert filestore.directory() == settings.BASE_DIR / "var" / "files"


def test_any_django_storage_can_be_named(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "elsewhere")},
        },
    }
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_STORAGE": "private"}

    ticket = make_ticket(attachments=checked(upload("a.txt", b"in the other storage")))

    path = ticket.attachments.get().path
    assert (tmp_path / "elsewhere" / path).read_bytes() == b"in the other storage"
    response = Client().get(f"{ticket.requester_path()}files/{ticket.attachments.get().pk}/")
    assert b"".join(response.streaming_content) == b"in the other storage"


def test_an_upload_the_storage_fails_leaves_nothing_stored(monkeypatch):
    saved = []
    real_save = FileSystemStorage.save

    def failing_save(self, name, content, **kwargs):
        if saved:  # the second file (or thumbnail) fails
            raise OSError("disk full")
        saved.append(real_save(self, name, content, **kwargs))
        return saved[-1]

    monkeypatch.setattr(FileSystemStorage, "save", failing_save)
    client = Client()

    with pytest.raises(OSError, match="disk full"):
        send(client, open_form(client),
             attachments=[upload("a.txt", b"a"), upload("b.txt", b"b")])  # fmt: skip

    assert saved and stored_files() == []
    assert not Attachment.objects.exists() and not Ticket.objects.exists()


def test_clean_up_removes_files_of_forms_never_sent_and_keeps_the_rest(settings):
    filed = make_ticket(attachments=checked(upload("kept.txt", b"k")))
    [old, recent] = [filestore.store(checked(upload(n, b"x")))[0] for n in ("old.txt", "new.txt")]
    day = timedelta(seconds=settings.SUPPORT.get("ATTACHMENT_PENDING_SECONDS", 86400) + 60)
    Attachment.objects.filter(pk=old.pk).update(created_at=timezone.now() - day)
    Attachment.objects.filter(pk=filed.attachments.get().pk).update(
        created_at=timezone.now() - day * 10
    )
    out = StringIO()

    call_command("support_attachments", "clean", stdout=out)

    assert out.getvalue() == "Removed 1 pending attachment(s).\n"
    assert set(Attachment.objects.values_list("name", flat=True)) == {"kept.txt", "new.txt"}
    assert old.path not in stored_files() and recent.path in stored_files()


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_clean_up_when_pending_files_are_due(settings):
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_PENDING_SECONDS": 0}
    client = Client()
    send(client, open_form(client), subject="", attachments=[upload("a.txt", b"a")])
    assert Attachment.objects.filter(message__isnull=True).count() == 1
    task = DBTaskResult.objects.get(task_path="support.filestore.clean_up_attachments")
    assert task.run_after > timezone.now()  # scheduled for when the file is due
    DBTaskResult.objects.filter(pk=task.pk).update(run_after=timezone.now())

    run_worker()

    assert not Attachment.objects.exists() and stored_files() == []


def test_x_accel_redirect_hands_the_sending_to_nginx(settings):
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_SERVE": "x-accel-redirect"}
    ticket = make_ticket(attachments=checked(upload("my report.pdf", b"%PDF-1.4\n")))
    file = ticket.attachments.get()

    response = Client().get(f"{ticket.requester_path()}files/{file.pk}/")

    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/_support_attachments/{file.path}"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="my report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


class SigningStorage(FileSystemStorage):
    """A stand-in for a storage whose URLs are signed (S3 through django-storages)."""

    def url(self, name, parameters=None, expire=None):
        disposition = (parameters or {}).get("ResponseContentDisposition", "")
        return f"https://bucket.example.com/{name}?signature=s1gned&disposition={disposition}"


def test_redirect_sends_the_browser_to_the_storages_signed_url(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "s3ish": {"BACKEND": f"{__name__}.SigningStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    settings.SUPPORT = {**settings.SUPPORT, "ATTACHMENT_STORAGE": "s3ish",
                        "ATTACHMENT_SERVE": "redirect"}  # fmt: skip
    ticket = make_ticket(attachments=checked(upload("a.txt", b"a")))
    file = ticket.attachments.get()

    response = Client().get(f"{ticket.requester_path()}files/{file.pk}/")

    assert response.status_code == 302
    assert unquote(response["Location"]) == (
        f"https://bucket.example.com/{file.path}?signature=s1gned"
        '&disposition=attachment; filename="a.txt"'
    )
    assert not [m for m in run_checks() if m.id.startswith("support.E03")]


@pytest.mark.parametrize(
    ("support", "django", "expected"),
    [
        ({"ATTACHMENT_SERVE": "nginx"}, {}, "support.E031"),
        ({"ATTACHMENT_STORAGE": "missing"}, {}, "support.E032"),
        ({"ATTACHMENT_SERVE": "redirect"}, {}, "support.E033"),
        ({"ATTACHMENT_MAX_BYTES": -1}, {}, "support.E030"),
        ({}, {"DATA_UPLOAD_MAX_NUMBER_FILES": 5}, "support.E034"),
        ({}, {"FILE_UPLOAD_MAX_MEMORY_SIZE": 100 * 1024 * 1024}, "support.W031"),
        ({"ATTACHMENT_DIR": "/srv/media/attachments"}, {"MEDIA_ROOT": "/srv/media"},
         "support.W030"),
    ],
    ids=["serve", "storage", "redirect-without-urls", "negative", "django-files",
         "memory-uploads", "inside-media"],
)  # fmt: skip
def test_start_up_checks_name_what_is_wrong(settings, support, django, expected):
    settings.SUPPORT = {**settings.SUPPORT, **support}
    for name, value in django.items():
        setattr(settings, name, value)

    assert expected in {message.id for message in run_checks()}


def test_the_projects_settings_pass_the_checks():
    assert not [m for m in run_checks() if m.id.startswith(("support.E03", "support.W03"))]
