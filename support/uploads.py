"""Receiving files: Django's upload handler for the app's views, which keeps memory bounded
and the limits of SUPPORT["ATTACHMENT_*"] as a body streams in.

Each file goes to a temporary file on disk as it arrives (never whole into memory, whatever
the project's FILE_UPLOAD_MAX_MEMORY_SIZE). A file over ATTACHMENT_MAX_BYTES, one past
ATTACHMENT_MAX_FILES, or one that would take the message past ATTACHMENT_MAX_TOTAL_BYTES is
not kept: the rest of its bytes are read and dropped, its temporary file removed, and a
`Refusal` naming it is recorded on the request (`refusals(request)`), so that the view
answers with the form as typed and says which file to choose again, rather than
failing the whole request.
"""

from dataclasses import dataclass

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .conf import get_setting
from .exceptions import RequestRefused

# The file part of the API's multipart body that may carry the ticket's JSON (curl's
# `-F ticket=@ticket.json`): text, bounded like any text of a request.
TICKET_PART = "ticket"


@dataclass(frozen=True)
class Refusal:
    """A file that was not accepted: its name (as shown), why, the HTTP status that says
    so to an API client (413 for a limit of size or number, 400 for the rest), and the
    field of the body it came in."""

    name: str
    message: str
    status: int = 400
    field: str = "attachments"


def refusals(request: HttpRequest) -> list[Refusal]:
    """The files the upload handler refused while reading `request`'s body."""
    return list(getattr(request, "_support_refusals", []))


def limit_text(limit: int) -> str:
    """A size for people: "20.0 MB"."""
    return str(filesizeformat(limit)).replace("\xa0", " ")


class AttachmentUploadHandler(TemporaryFileUploadHandler):
    """Every file of the body to a temporary file on disk, within the attachment limits."""

    def __init__(self, request: HttpRequest):
        super().__init__(request)
        self.max_files = get_setting("ATTACHMENT_MAX_FILES")
        self.max_bytes = get_setting("ATTACHMENT_MAX_BYTES")
        self.max_total = get_setting("ATTACHMENT_MAX_TOTAL_BYTES")
        self.count = 0
        self.total = 0
        self.file = self.refusal = None
        request._support_refusals = self.refused = []

    def new_file(self, field_name, file_name, *args, **kwargs) -> None:
        self.refusal = None
        self.file = None
        self.field_name, self.file_name = field_name, file_name
        self.limit = self.max_bytes
        if field_name == TICKET_PART:
            self.limit = get_setting("MAX_REQUEST_BYTES")
        else:
            if self.count >= self.max_files:
                self.refusal = Refusal(
                    file_name,
                    _("“%(name)s” was not taken: a message may carry %(count)d files at most.")
                    % {"name": file_name, "count": self.max_files},
                    413,
                )
                self.refused.append(self.refusal)
                return
        super().new_file(field_name, file_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.refusal is not None:
            return None  # read and dropped
        size = start + len(raw_data)
        if size > self.limit:
            self._refuse(
                _("“%(name)s” is larger than %(limit)s: send files of %(limit)s at most.")
                % {"name": self.file_name, "limit": limit_text(self.limit)}
            )
            return None
        if self.field_name != TICKET_PART and self.total + size > self.max_total:
            self._refuse(
                _("“%(name)s” was not taken: the files of one message may add up to %(limit)s.")
                % {"name": self.file_name, "limit": limit_text(self.max_total)}
            )
            return None
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int):
        if self.refusal is not None:
            return None
        if self.field_name != TICKET_PART:
            self.count += 1
            self.total += file_size
        return super().file_complete(file_size)

    def upload_interrupted(self) -> None:
        if self.file is not None and not self.file.closed:
            super().upload_interrupted()

    def _refuse(self, message: str) -> None:
        self.refusal = Refusal(self.file_name, message, 413, self.field_name)
        self.refused.append(self.refusal)
        self.upload_interrupted()  # closes and removes the temporary file


def files_limit() -> int:
    """The largest body a view that takes files reads: the text's limit, the files'
    together, and room for each part's headers."""
    parts = get_setting("ATTACHMENT_MAX_FILES") + 2
    return (
        get_setting("MAX_REQUEST_BYTES") + get_setting("ATTACHMENT_MAX_TOTAL_BYTES") + parts * 1024
    )


def takes_files(request: HttpRequest) -> bool:
    """Whether the request's body may carry attachments: multipart, and files allowed."""
    return request.content_type == "multipart/form-data" and get_setting("ATTACHMENT_MAX_FILES") > 0


def parse_files(request: HttpRequest) -> None:
    """Parse a multipart body now, its files to disk within the attachments' limits; what
    Django refuses in it is a RequestRefused, and so is text over MAX_REQUEST_BYTES."""
    request.upload_handlers = [AttachmentUploadHandler(request)]
    try:
        request.POST  # noqa: B018  (parses the body, files included)
    except (RequestDataTooBig, MultiPartParserError, UnreadablePostError) as err:
        request._mark_post_parse_error()
        if isinstance(err, RequestDataTooBig):
            raise text_too_large() from err
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
        raise text_too_large()


def files_too_large() -> RequestRefused:
    """The refusal of a body past the largest a view that takes files reads."""
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


def text_too_large() -> RequestRefused:
    """The refusal of a body whose text, files apart, is past MAX_REQUEST_BYTES."""
    limit = get_setting("MAX_REQUEST_BYTES")
    return RequestRefused(
        _("The text of the request is too large: send at most %d bytes of it (files apart).")
        % limit,
        status=413,
    )


def _cut_off() -> RequestRefused:
    return RequestRefused(_("The request was cut off. Please send it again."), status=400)
