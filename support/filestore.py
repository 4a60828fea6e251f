"""Where attachments are kept, and the one way in and out of there.

The storage is private: by default a folder of its own (ATTACHMENT_DIR) that no static or
media URL serves, through a FileSystemStorage that has no URL at all; or any Django
storage named in STORAGES (ATTACHMENT_STORAGE: S3 through django-storages, say), which
must not be public either. Files are stored under a random name (`2026/11/<uuid hex>`);
the name a person gave is only ever shown (support.attachments.safe_name).

- `store()` keeps checked uploads as *pending* attachments: the row first, then the file,
  so that whatever fails (the storage, the process) leaves a pending row, which the
  clean-up removes with whatever part of its file was written; a failure it sees removes
  both at once.
- `link()` gives pending attachments to their message, inside the write path's
  transaction (support.tickets, support.conversation).
- `clean_up()` removes pending attachments older than ATTACHMENT_PENDING_SECONDS: files of
  a form that was never sent. It runs as a task on the worker, scheduled by `store()`
  to run once they are due (`manage.py support_attachments clean` runs it from cron too).
- `keep()` / `kept()`: the signed references a refused form carries to its files, so that
  the next try has them without uploading them again.
"""

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from . import cache as app_cache
from .attachments import Upload
from .conf import get_setting
from .exceptions import TicketInvalid
from .models import Attachment, Message, Ticket

logger = logging.getLogger(__name__)

KEPT_SALT = "support.attachment.kept"
CLEAN_UP_BATCH = 500


class PrivateFileStorage(FileSystemStorage):
    """A FileSystemStorage without URLs: its files are only ever sent by the desk's views
    (support.downloads), after checking who asks, never from MEDIA_URL."""

    def url(self, name):
        raise ValueError("Attachments have no public URL: support.downloads serves them.")


def storage() -> Storage:
    """The attachments' storage: STORAGES[ATTACHMENT_STORAGE], else the private folder
    ATTACHMENT_DIR (relative to the project's BASE_DIR, if it has one)."""
    alias = get_setting("ATTACHMENT_STORAGE")
    if alias:
        return storages[alias]
    return _folder_storage(str(directory()))


def directory() -> Path:
    """ATTACHMENT_DIR as an absolute path."""
    folder = Path(get_setting("ATTACHMENT_DIR"))
    if not folder.is_absolute():
        folder = Path(getattr(settings, "BASE_DIR", None) or Path.cwd()) / folder
    return folder


@cache
def _folder_storage(location: str) -> PrivateFileStorage:
    return PrivateFileStorage(
        location=location, file_permissions_mode=0o640, directory_permissions_mode=0o750
    )


@receiver(setting_changed)
def _forget_storage(setting: str, **kwargs) -> None:
    if setting in ("SUPPORT", "STORAGES"):
        _folder_storage.cache_clear()


def store(uploads: Sequence[Upload], *, ticket: Ticket | None = None) -> list[Attachment]:
    """Keep `uploads` as pending attachments (of `ticket`'s conversation, if given) and
    return them. All or nothing: if one cannot be stored, those stored are removed and
    the storage's error is raised. Schedules the clean-up of pending files."""
    stored: list[Attachment] = []
    try:
        for upload in uploads:
            stored.append(_store(upload, ticket))
    except BaseException:
        discard(stored)
        raise
    if stored:
        _schedule_clean_up()
    return stored


def _store(upload: Upload, ticket: Ticket | None) -> Attachment:
    now = timezone.now()
    path = f"{now:%Y/%m}/{uuid.uuid4().hex}"
    attachment = Attachment.objects.create(
        ticket=ticket, name=upload.name, content_type=upload.content_type, size=upload.size,
        sha256=upload.sha256, path=path, created_at=now,
        thumbnail_path=f"{path}.thumb.webp" if upload.thumbnail else "",
        width=upload.image[0] if upload.image else None,
        height=upload.image[1] if upload.image else None,
    )  # fmt: skip
    try:
        upload.file.seek(0)
        # A file on disk (an upload's temporary file) is moved, not copied, where it can be.
        saved = storage().save(path, upload.file)
        upload.file.close()  # its temporary file, if not moved, goes now rather than later
        if upload.thumbnail:
            thumbnail = storage().save(attachment.thumbnail_path, ContentFile(upload.thumbnail))
        else:
            thumbnail = ""
        if (saved, thumbnail) != (attachment.path, attachment.thumbnail_path):
            # A storage that would not overwrite renamed it (a name taken: not by us).
            attachment.path, attachment.thumbnail_path = saved, thumbnail
            attachment.save(update_fields=["path", "thumbnail_path"])
    except BaseException:
        discard([attachment])
        raise
    return attachment


def link(attachments: Sequence[Attachment], message: Message) -> None:
    """Give pending `attachments` to `message` (inside the caller's transaction). Raises
    TicketInvalid({"attachments": [...]}) if one of them is no longer pending (removed by
    the clean-up, or taken by another message), so that the message is not stored
    without the files its sender saw."""
    if not attachments:
        return
    ids = [attachment.pk for attachment in attachments]
    linked = (
        Attachment.objects.filter(pk__in=ids, message__isnull=True)
        .filter(Q(ticket__isnull=True) | Q(ticket=message.ticket_id))
        .update(message=message, ticket=message.ticket_id)
    )
    if linked != len(set(ids)):
        raise TicketInvalid(
            {
                "attachments": [
                    _("The files of your last try are no longer kept: please choose them again.")
                ]
            }
        )
    for attachment in attachments:
        attachment.message, attachment.ticket_id = message, message.ticket_id


def discard(attachments: Iterable[Attachment]) -> None:
    """Remove attachments: their files, then their rows (a file whose removal fails is
    logged and left; its row goes)."""
    attachments = list(attachments)
    for attachment in attachments:
        for path in (attachment.path, attachment.thumbnail_path):
            if not path:
                continue
            try:
                storage().delete(path)
            except Exception:  # the row goes all the same; logged
                logger.exception("Could not remove the attachment file %s", path)
    pks = [attachment.pk for attachment in attachments if attachment.pk]
    if pks:
        Attachment.objects.filter(pk__in=pks).delete()


def clean_up(now=None) -> int:
    """Remove the pending attachments older than ATTACHMENT_PENDING_SECONDS (files of
    forms never sent, or of uploads cut off); returns how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=get_setting("ATTACHMENT_PENDING_SECONDS"))
    removed = 0
    while True:
        batch = list(
            Attachment.objects.filter(message__isnull=True, created_at__lt=cutoff)
            .order_by("created_at")
            .only("pk", "path", "thumbnail_path")[:CLEAN_UP_BATCH]
        )
        if not batch:
            return removed
        discard(batch)
        removed += len(batch)


@task()
def clean_up_attachments() -> None:
    """The clean-up, on the worker (see `_schedule_clean_up`)."""
    removed = clean_up()
    if removed:
        logger.info("Removed %d attachments of forms that were never sent.", removed)


# One clean-up is scheduled per this many seconds in which files are stored pending, each
# to run when all of them are due.
SCHEDULE_SECONDS = 3600


def _schedule_clean_up() -> None:
    """Have a worker clean up once the files just stored are due (at most one task per
    SCHEDULE_SECONDS: a flag in the cache; if the cache fails, a task too many)."""
    flag = app_cache.key("attachments", "clean-up-scheduled")
    if app_cache.add(flag, True, SCHEDULE_SECONDS) is False:
        return
    delay = get_setting("ATTACHMENT_PENDING_SECONDS") + SCHEDULE_SECONDS + 60
    run_after = timezone.now() + timedelta(seconds=delay)

    def enqueue() -> None:
        if clean_up_attachments.get_backend().supports_defer:
            clean_up_attachments.using(run_after=run_after).enqueue()
        # A backend that cannot wait would clean up now, before anything is due: rely on
        # `manage.py support_attachments clean` from cron there.

    transaction.on_commit(enqueue, robust=True)


def keep(attachments: Iterable[Attachment]) -> list[str]:
    """Signed references to pending attachments, for a form shown again after a refusal."""
    return [signing.dumps(str(attachment.pk), salt=KEPT_SALT) for attachment in attachments]


def kept(values: Iterable[str], *, ticket: Ticket | None = None) -> list[Attachment]:
    """The pending attachments that `keep()` references in `values` name, of `ticket` (or
    of no ticket, for the help form); forged, expired or used ones are left out."""
    ids = []
    for value in values:
        try:
            ids.append(
                uuid.UUID(
                    signing.loads(
                        value, salt=KEPT_SALT, max_age=get_setting("ATTACHMENT_PENDING_SECONDS")
                    )
                )
            )
        except (signing.BadSignature, ValueError, TypeError):
            continue
    if not ids:
        return []
    found = {
        attachment.pk: attachment
        for attachment in Attachment.objects.filter(pk__in=ids, message__isnull=True, ticket=ticket)
    }
    return [found[pk] for pk in dict.fromkeys(ids) if pk in found]
