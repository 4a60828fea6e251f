"""Sending attachments, to those who may see them and in a way that can never run script
on the desk's origin.

Who may see a file is decided by the views (the ticket's private link, staff with the
permission in the admin, a signed link that expires); `response()` then sends it:

- a picture that was checked (PNG, JPEG, GIF, WebP that Pillow decoded) inline, as what
  it is; everything else, SVG and HTML included, as a download
  (`Content-Disposition: attachment`);
- always with `X-Content-Type-Options: nosniff` and a Content-Security-Policy that
  sandboxes the document and allows nothing to load, so that even a file opened in a tab
  of its own is an inert document of a unique origin;
- by the way ATTACHMENT_SERVE says: `django` streams it from the storage in chunks (never
  whole into memory); `x-accel-redirect` answers with headers only and lets nginx send
  the file from an `internal` location (ATTACHMENT_ACCEL_LOCATION); `redirect` sends the
  browser to the storage's own URL, which a private storage signs (S3's presigned URLs).
"""

from urllib.parse import quote

from django.core import signing
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods

from .conf import get_setting, public_url
from .filestore import storage
from .models import Attachment, Message

CHUNK = 64 * 1024
SANDBOX = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
# How long a browser keeps a file it was sent (files never change; only its own cache).
CACHE_CONTROL = "private, max-age=3600"
LINK_SALT = "support.attachment.link"


def response(attachment: Attachment, *, thumbnail: bool = False) -> HttpResponse:
    """The HTTP response that sends `attachment` (or its thumbnail) to someone allowed to
    see it. Raises Http404 if the file is missing from the storage."""
    if thumbnail:
        if not attachment.thumbnail_path:
            raise Http404
        path, content_type, inline = attachment.thumbnail_path, "image/webp", True
    else:
        path, content_type, inline = attachment.path, attachment.content_type, attachment.is_image
    mode = get_setting("ATTACHMENT_SERVE")
    if mode == "redirect":
        response = HttpResponseRedirect(_storage_url(attachment, path, content_type, inline))
    elif mode == "x-accel-redirect":
        response = HttpResponse(content_type=content_type)
        location = get_setting("ATTACHMENT_ACCEL_LOCATION").rstrip("/") + "/"
        response["X-Accel-Redirect"] = quote(location + path)
    else:
        try:
            file = storage().open(path, "rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(file, content_type=content_type)
        response.block_size = CHUNK
    filename = attachment.name if not thumbnail else f"{attachment.name}.webp"
    response["Content-Disposition"] = content_disposition_header(not inline, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX
    response["Cache-Control"] = CACHE_CONTROL
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _storage_url(attachment: Attachment, path: str, content_type: str, inline: bool) -> str:
    """The storage's own (signed) URL of the file, asking it, where it can (S3), to send
    the file with the desk's type and disposition."""
    disposition = content_disposition_header(not inline, attachment.name)
    try:
        return storage().url(
            path,
            parameters={
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
            },
        )
    except TypeError:  # a storage whose url() takes no parameters
        return storage().url(path)


def signed_path(attachment: Attachment) -> str:
    """The path of a link to `attachment` that works for ATTACHMENT_LINK_SECONDS without
    any other credential (for a helpdesk that fetches the files of a forwarded ticket)."""
    token = signing.dumps(str(attachment.pk), salt=LINK_SALT, compress=False)
    return reverse("support:signed_file", kwargs={"token": token})


def signed_url(attachment: Attachment) -> str:
    """`signed_path` as an absolute URL on PUBLIC_URL."""
    return public_url(signed_path(attachment))


def from_signed(token: str) -> Attachment:
    """The attachment a signed link names, if its signature holds and it has not expired;
    Http404 otherwise."""
    try:
        pk = signing.loads(token, salt=LINK_SALT, max_age=get_setting("ATTACHMENT_LINK_SECONDS"))
        return Attachment.objects.get(pk=pk, message__isnull=False)
    except (signing.BadSignature, Attachment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- the views


@require_http_methods(["GET", "HEAD"])
def ticket_file(request: HttpRequest, pk, key: str, file, thumbnail: bool = False) -> HttpResponse:
    """A file of a ticket's conversation, to whoever holds the ticket's private link;
    404 for a file of another ticket, of an internal note, or not yet sent."""
    from .views import ticket_from_link  # the requester's pages, which link here

    ticket = ticket_from_link(pk, key)
    attachment = (
        Attachment.objects.filter(pk=file, ticket=ticket, message__isnull=False)
        .exclude(message__kind=Message.Kind.NOTE)
        .first()
    )
    if attachment is None:
        raise Http404
    return response(attachment, thumbnail=thumbnail)


@require_http_methods(["GET", "HEAD"])
def signed_file(request: HttpRequest, token: str) -> HttpResponse:
    """A file through a signed link that expires (sent with a forwarded ticket)."""
    return response(from_signed(token))
