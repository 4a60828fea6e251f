"""Checking files before they become attachments: the name, the type (read from the
content, never from the name or the header the client sent), the size, and for pictures
that they really are pictures, with a thumbnail made on the way.

`check()` takes the files a request brought and returns the `Upload`s that passed and
the `Refusal`s of those that did not; support.filestore stores the uploads. What counts
against the limits of a message (ATTACHMENT_MAX_FILES, ATTACHMENT_MAX_TOTAL_BYTES)
includes files kept from an earlier try of the same form (`kept`).

Types are read with puremagic (pure Python: nothing to install beside the wheel), which
matches the content's first and last bytes against its table of signatures; among types
the content matches equally, the name's ending picks one (a ZIP named .docx is a Word
file). Where no signature matches, text is told apart from binary, and markup from text,
the way a browser would sniff it: a `.png` that holds HTML is `text/html`. Pictures are
checked by Pillow, which decodes them to make the thumbnail: only a PNG, JPEG, GIF or WebP
that decodes is ever shown inline (support.downloads).
"""

import hashlib
import io
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import puremagic
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from .conf import get_setting
from .uploads import Refusal, limit_text

# Pictures shown in pages (as thumbnails, and full size when clicked), by the format
# Pillow must find in them. Any other type, SVG included (it can hold script), is only
# ever downloaded.
INLINE_IMAGES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
# Larger pictures are kept as files, not decoded: decoding costs 3 to 4 bytes a pixel
# (a 5K screen is 15 megapixels); a JPEG is decoded at an eighth of its size at most.
MAX_IMAGE_PIXELS = 25_000_000
MAX_JPEG_PIXELS = 150_000_000
ORIENTATION = 0x0112  # the EXIF tag
THUMBNAIL_BOX = (480, 480)  # shown at up to 240 px, sharp on high-density screens
MAX_NAME = 255
CHUNK = 64 * 1024
# Signatures puremagic knows without a MIME type, by the start of its description.
UNNAMED_TYPES = {
    "ELF": "application/x-executable",
    "OS X ABI Mach-O": "application/x-mach-binary",
    "Mach-O": "application/x-mach-binary",
}
# Containers whose many formats share one signature: without a name that picks one, the
# container's own type rather than the first format puremagic lists.
CONTAINERS = {b"PK\x03\x04": "application/zip", b"\xd0\xcf\x11\xe0": "application/x-ole-storage"}


@dataclass
class Upload:
    """A file that passed the checks, not stored yet. `image` is (width, height) of a
    picture that decoded, with its thumbnail (WebP bytes), else None."""

    file: UploadedFile
    name: str
    content_type: str
    size: int
    sha256: str
    image: tuple[int, int] | None = None
    thumbnail: bytes = b""


def enabled() -> bool:
    """Whether messages may carry files at all (ATTACHMENT_MAX_FILES above 0)."""
    return get_setting("ATTACHMENT_MAX_FILES") > 0


def check(
    files: Iterable[UploadedFile], *, kept: Iterable = (), refused: Iterable[Refusal] = ()
) -> tuple[list[Upload], list[Refusal]]:
    """Check `files` against the type rules and the limits of one message, counting the
    files `kept` from an earlier try (anything with `size`) against them. `refused` are
    refusals made while the body was read (support.uploads), returned with the others.

    Returns the uploads that passed, in order, and the refusals, each naming its file.
    """
    uploads, refusals = [], list(refused)
    kept = list(kept)
    count = len(kept)
    total = sum(item.size for item in kept)
    for file in files:
        name = safe_name(file.name or "")
        count += 1
        if count > get_setting("ATTACHMENT_MAX_FILES"):
            message = _("“%(name)s” was not taken: a message may carry %(count)d files at most.")
            refusals.append(
                Refusal(
                    name,
                    message % {"name": name, "count": get_setting("ATTACHMENT_MAX_FILES")},
                    413,
                )
            )
            continue
        if file.size > get_setting("ATTACHMENT_MAX_BYTES"):
            limit = limit_text(get_setting("ATTACHMENT_MAX_BYTES"))
            message = _("“%(name)s” is larger than %(limit)s: send files of %(limit)s at most.")
            refusals.append(Refusal(name, message % {"name": name, "limit": limit}, 413))
            continue
        if total + file.size > get_setting("ATTACHMENT_MAX_TOTAL_BYTES"):
            limit = limit_text(get_setting("ATTACHMENT_MAX_TOTAL_BYTES"))
            message = _(
                "“%(name)s” was not taken: the files of one message may add up to %(limit)s."
            )
            refusals.append(Refusal(name, message % {"name": name, "limit": limit}, 413))
            continue
        upload, refusal = _check_one(file, name)
        if refusal:
            refusals.append(refusal)
            count -= 1
        else:
            uploads.append(upload)
            total += upload.size
    return uploads, refusals


def _check_one(file: UploadedFile, name: str) -> tuple[Upload | None, Refusal | None]:
    if not file.size:
        return None, Refusal(name, _("“%(name)s” is empty.") % {"name": name})
    content_type = sniff(file, name)
    if not accepted(content_type, name):
        return None, Refusal(
            name,
            _("“%(name)s” was not taken: files of this type (%(type)s) are not accepted.")
            % {"name": name, "type": content_type},
        )
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(CHUNK), b""):
        digest.update(chunk)
    upload = Upload(file, name, content_type, file.size, digest.hexdigest())
    if content_type in INLINE_IMAGES:
        upload.image, upload.thumbnail = _picture(file, INLINE_IMAGES[content_type])
    file.seek(0)
    return upload, None


def safe_name(name: str) -> str:
    """`name` as it is kept, shown and sent in headers and e-mail: its last path part
    (no folder, no `..`), without control or formatting characters (line breaks,
    right-to-left overrides that disguise an ending), in NFC, at most 255 characters
    (keeping its ending), never empty. Quotes and non-ASCII letters stay: headers escape
    or encode them (RFC 6266)."""
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch if ch.isprintable() else " " for ch in name)
    name = " ".join(name.split()).lstrip(".").strip()
    if len(name) > MAX_NAME:
        stem, dot, ending = name.rpartition(".")
        if dot and 0 < len(ending) < 16:
            name = stem[: MAX_NAME - len(ending) - 1].rstrip() + "." + ending
        else:
            name = name[:MAX_NAME]
    return name or _("file")


def sniff(file, name: str = "") -> str:
    """The MIME type of `file`'s content (an open binary file; read from its start and
    end, then rewound). `name` only chooses among types the content matches equally."""
    file.seek(0)
    try:
        matches = puremagic.magic_stream(file, name or None)
    except (puremagic.PureError, ValueError):
        matches = []
    file.seek(0)
    # Only signatures count: puremagic also "matches" a bare name ending, with no bytes.
    matches = [m for m in matches if m.byte_match]
    for best in matches:
        tied = {m.mime_type for m in matches if m.confidence == best.confidence}
        for signature, container in CONTAINERS.items():
            if best.byte_match.startswith(signature) and len(tied) > 1:
                return container
        if best.mime_type:
            return best.mime_type
        for description, content_type in UNNAMED_TYPES.items():
            if best.name.startswith(description):
                return content_type
        # A signature without a type (a plug-in format, "UTF8 file"): the next one.
    return _text_type(file.read(4096))


def _text_type(head: bytes) -> str:
    """Text, markup that a browser would run (HTML, SVG, XML), or binary."""
    if b"\x00" in head:
        return "application/octet-stream"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:  # not merely a character cut at the end
            return "application/octet-stream"
        text = head[: err.start].decode("utf-8")
    start = text.lstrip("\ufeff \t\r\n").lower()
    if start.startswith(("<!doctype html", "<html", "<head", "<body", "<script", "<iframe")):
        return "text/html"
    if start.startswith("<") and "<svg" in start:
        return "image/svg+xml"
    if start.startswith("<?xml"):
        return "application/xml"
    if "<script" in start or "<html" in start:
        return "text/html"
    return "text/plain"


def accepted(content_type: str, name: str) -> bool:
    """Whether ATTACHMENT_ALLOWED_TYPES (if any) admit the file and
    ATTACHMENT_DENIED_TYPES do not refuse it."""
    allowed = get_setting("ATTACHMENT_ALLOWED_TYPES")
    if allowed and not matches(allowed, content_type, name):
        return False
    return not matches(get_setting("ATTACHMENT_DENIED_TYPES"), content_type, name)


def matches(patterns: Iterable[str], content_type: str, name: str) -> bool:
    """Whether a type (`image/png`), a family (`image/*`) or an ending (`.log`) of
    `patterns` fits the file, as in an <input accept> attribute."""
    name, content_type = name.lower(), content_type.lower()
    for pattern in patterns:
        pattern = str(pattern).strip().lower()
        if pattern.startswith("."):
            if name.endswith(pattern):
                return True
        elif pattern.endswith("/*"):
            if content_type.startswith(pattern[:-1]):
                return True
        elif pattern and pattern == content_type:
            return True
    return False


def _picture(file, expected: str) -> tuple[tuple[int, int] | None, bytes]:
    """(width, height) and a WebP thumbnail of a picture that decodes as the format its
    signature says; (None, b"") for anything else, which is then only downloaded."""
    file.seek(0)
    try:
        with warnings.catch_warnings():
            # The decompression-bomb check is ours (MAX_IMAGE_PIXELS), before decoding.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                limit = MAX_JPEG_PIXELS if expected == "JPEG" else MAX_IMAGE_PIXELS
                if image.format != expected or image.width * image.height > limit:
                    return None, b""
                image.verify()
            file.seek(0)
            with Image.open(file) as image:
                width, height = image.size
                orientation = image.getexif().get(ORIENTATION, 1)
                if orientation in (5, 6, 7, 8):  # turned a quarter
                    width, height = height, width
                # Decoded once, made small in place (a JPEG is even decoded small), and
                # only then turned upright: no copy of the whole picture.
                image.draft("RGB", THUMBNAIL_BOX)
                image.thumbnail(THUMBNAIL_BOX)
                picture = ImageOps.exif_transpose(image) if orientation != 1 else image
                if picture.mode not in ("RGB", "RGBA"):
                    picture = picture.convert("RGBA")
                out = io.BytesIO()
                picture.save(out, "WEBP", quality=80)
    except (OSError, SyntaxError, ValueError, RuntimeError, EOFError, Image.DecompressionBombError):
        return None, b""
    finally:
        file.seek(0)
    return (width, height), out.getvalue()
