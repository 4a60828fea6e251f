"""A request's body, read whole however it was framed, before anything parses it.

Django reads exactly CONTENT_LENGTH bytes of a body, and takes a request without that
header for a request without a body. A chunked body (`Transfer-Encoding: chunked`, what
many HTTP clients send for a streamed body) has no Content-Length: Django would read
nothing, and every field would look missing. A server that has already taken the framing
off says so: gunicorn (and any WSGI server that ends the input at the end of the body)
sets `wsgi.input_terminated`, and Django's ASGI handler has the whole body in hand. There
`prepare()` reads the body itself, up to SUPPORT["MAX_REQUEST_BYTES"]; where the server
cannot (Django's development server) a body without a length is answered with 411, never
taken for an empty one. The size limit holds for what is read, not only for what a
Content-Length announces.

Every view of the app that takes a body calls `prepare()` first: the API in its views'
`initial()`, the requester's pages through `reads_body`.

A view that takes files (`prepare(request, files=True)`, `reads_body(files=True)`) takes a
multipart body of up to MAX_REQUEST_BYTES of text plus the attachments' limits; its files
stream to disk through support.uploads (never whole into memory, chunked bodies neither),
and its text is still held to MAX_REQUEST_BYTES.
"""

import codecs
import io
import tempfile
from collections.abc import Callable
from functools import wraps
from typing import IO

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from .conf import get_setting
from .exceptions import RequestRefused
from .uploads import AttachmentUploadHandler, limit_text

CHUNK = 64 * 1024
# What a declared charset may be: UTF-8, as WHATWG's form encoding and RFC 8259's JSON
# require (Django itself refuses a form body in any other); JSON's older UTF-16 and UTF-32
# too, as the original's body parser took them. Codecs such as UTF-7 could smuggle in text
# that no database stores; "rot13" or "zlib" are no text encodings at all.
FORM_CHARSETS = {"utf-8"}
JSON_CHARSETS = {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}


def prepare(request: HttpRequest, *, files: bool = False) -> None:
    """Make `request`'s body readable by Django and DRF as if it had come with a
    Content-Length: check the declared length and charset, and read a body that has
    none (chunked) into memory. Call it before anything reads the body.

    With `files` (a view that takes attachments) a multipart body may be larger, by the
    attachments' limits; it is parsed here, its files to disk within those limits
    (support.uploads), and its text must stay within MAX_REQUEST_BYTES.

    Raises RequestRefused: 400 for a malformed Content-Length or a body cut off, 411 for
    a body this server cannot delimit, 413 for one over MAX_REQUEST_BYTES, 415 for a
    charset other than UTF-8 (or UTF-16/32 for JSON). Called again on the same request
    (a throttle before the view, then the view), it answers as it did the first time.
    """
    refused = getattr(request, "_support_body_refused", None)
    if refused is not None:
        raise refused  # the body may be half read: it cannot be judged again
    if getattr(request, "_support_body_prepared", False):
        return
    try:
        _prepare(request, files=files and _takes_files(request))
    except RequestRefused as err:
        request._support_body_refused = err
        raise
    request._support_body_prepared = True


def _prepare(request: HttpRequest, *, files: bool) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        # There is no body; a query string is UTF-8 whatever a Content-Type may say.
        if request.encoding is not None:
            request.encoding = None
        return
    _check_charset(request)
    limit = files_limit() if files else get_setting("MAX_REQUEST_BYTES")
    declared = request.META.get("CONTENT_LENGTH")
    if declared not in (None, ""):
        if not (declared.isascii() and declared.isdigit()):
            raise RequestRefused(_("The Content-Length header is not a number."), status=400)
        if int(declared) > limit:
            raise _files_too_large() if files else _too_large(limit)
        if files:
            _parse_files(request)
        return
    stream = _delimited_input(request)
    if stream is None:
        if request.META.get("HTTP_TRANSFER_ENCODING"):
            raise RequestRefused(
                _("Send the body with a Content-Length: this server cannot read it without."),
                status=411,
            )
        return  # no Content-Length and no Transfer-Encoding: there is no body
    if files:
        # Files go to disk, however the body is framed.
        spooled, size = _spool_at_most(stream, limit)
        request._stream, request._read_started = spooled, False
        request.META["CONTENT_LENGTH"] = str(size)
        _parse_files(request)
        return
    body = _read_at_most(stream, limit)
    # What Django reads the body from, and what it and DRF size it by.
    request._stream = io.BytesIO(body)
    request._read_started = False
    request.META["CONTENT_LENGTH"] = str(len(body))


def reads_body(view: Callable[..., HttpResponse] | None = None, *, framed=None, files=False):
    """Decorate a view of the requester's pages: `prepare()` the body before anything
    reads it, and answer a refused body with a page of the refusal's status. `files`:
    the view takes attachments (see `prepare`); the mark `support_reads_files` tells a
    throttle in front of it (support.throttling), which prepares the body first.

    Django's CSRF middleware reads a form's body before the view runs: the view is
    therefore exempt from the middleware and checked by `csrf_protect` itself, once the
    body is read. `framed` (e.g. support.framing.frameable) is applied to the refusal
    page too, for views shown in a frame.
    """
    if view is None:
        return lambda view: reads_body(view, framed=framed, files=files)
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            prepare(request, files=files)
            return protected(request, *args, **kwargs)
        except UnreadablePostError:
            refusal = RequestRefused(
                _("The request was cut off. Please send it again."), status=400
            )
        except RequestRefused as err:
            refusal = err

        def page(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            return render(
                request, "support/refused.html", {"message": refusal.message}, status=refusal.status
            )

        return (framed(page) if framed else page)(request, *args, **kwargs)

    wrapper.support_reads_files = files
    return wrapper


def reads_files(view: Callable[..., HttpResponse]) -> bool:
    """Whether `view` takes attachments (made by `reads_body(files=True)`)."""
    return getattr(view, "support_reads_files", False)


def files_limit() -> int:
    """The largest body a view that takes files reads: the text's limit, the files'
    together, and room for each part's headers."""
    parts = get_setting("ATTACHMENT_MAX_FILES") + 2
    return (
        get_setting("MAX_REQUEST_BYTES") + get_setting("ATTACHMENT_MAX_TOTAL_BYTES") + parts * 1024
    )


def _takes_files(request: HttpRequest) -> bool:
    return request.content_type == "multipart/form-data" and get_setting("ATTACHMENT_MAX_FILES") > 0


def _parse_files(request: HttpRequest) -> None:
    """Parse a multipart body now, its files to disk within the attachments' limits; what
    Django refuses in it is a RequestRefused, and so is text over MAX_REQUEST_BYTES."""
    request.upload_handlers = [AttachmentUploadHandler(request)]
    try:
        request.POST  # noqa: B018  (parses the body, files included)
    except (RequestDataTooBig, MultiPartParserError, UnreadablePostError) as err:
        request._mark_post_parse_error()
        if isinstance(err, RequestDataTooBig):
            raise _text_too_large() from err
        raise RequestRefused(
            _("The request was cut off or is not valid multipart."), status=400
        ) from err
    except (TooManyFieldsSent, TooManyFilesSent) as err:
        request._mark_post_parse_error()
        raise RequestRefused(_("The request has too many fields or files."), status=400) from err
    text = sum(
        len(key.encode()) + len(value.encode())
        for key, values in request.POST.lists()
        for value in values
    )
    if text > get_setting("MAX_REQUEST_BYTES"):
        raise _text_too_large()


def _check_charset(request: HttpRequest) -> None:
    charset = (request.content_params or {}).get("charset")
    if charset is None:
        return
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        name = charset.lower()
    allowed = JSON_CHARSETS if request.content_type == "application/json" else FORM_CHARSETS
    if name not in allowed:
        raise RequestRefused(
            _("Send the body in UTF-8 (the Content-Type says charset=%s).") % charset[:40],
            status=415,
        )


def _delimited_input(request: HttpRequest) -> IO[bytes] | None:
    """The body as a stream that ends where the body ends, if the server provides one."""
    if isinstance(request, ASGIRequest):
        return request._stream  # the ASGI handler has read the whole body into a file
    if request.META.get("wsgi.input_terminated"):
        return request.META["wsgi.input"]
    return None


def _read_at_most(stream: IO[bytes], limit: int) -> bytes:
    parts, size = [], 0
    while True:
        try:
            part = stream.read(CHUNK)
        except OSError as err:  # the client went away, or sent a broken chunk
            raise RequestRefused(
                _("The request was cut off. Please send it again."), status=400
            ) from err
        if not part:
            return b"".join(parts)
        size += len(part)
        if size > limit:
            raise _too_large(limit)
        parts.append(part)


def _spool_at_most(stream: IO[bytes], limit: int) -> tuple[IO[bytes], int]:
    """The body in a temporary file (in memory up to a megabyte, then on disk), and its size."""
    spooled = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (the request holds it)
    size = 0
    while True:
        try:
            part = stream.read(CHUNK)
        except OSError as err:
            spooled.close()
            raise RequestRefused(
                _("The request was cut off. Please send it again."), status=400
            ) from err
        if not part:
            spooled.seek(0)
            return spooled, size
        size += len(part)
        if size > limit:
            spooled.close()
            raise _files_too_large()
        spooled.write(part)


def _files_too_large() -> RequestRefused:
    return RequestRefused(
        _(
            "The request is too large: send files of %(file)s at most, %(total)s in all, "
            "with at most %(text)s of text."
        )
        % {
            "file": limit_text(get_setting("ATTACHMENT_MAX_BYTES")),
            "total": limit_text(get_setting("ATTACHMENT_MAX_TOTAL_BYTES")),
            "text": limit_text(get_setting("MAX_REQUEST_BYTES")),
        },
        status=413,
    )


def _text_too_large() -> RequestRefused:
    limit = get_setting("MAX_REQUEST_BYTES")
    return RequestRefused(
        _("The text of the request is too large: send at most %d bytes of it (files apart).")
        % limit,
        status=413,
    )


def _too_large(limit: int) -> RequestRefused:
    return RequestRefused(_("The request is too large: send at most %d bytes.") % limit, status=413)
