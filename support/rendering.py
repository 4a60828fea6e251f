"""Turning what requesters and staff write (Markdown or HTML) into safe HTML, in time
linear in its size, and no larger than in proportion to it.

Three steps, each a library whose time grows linearly with what it is given:

1. cmark-gfm (GitHub's Markdown, through cmarkgfm: tables, strikethrough, bare links and
   e-mail addresses as links) turns Markdown into HTML and passes raw HTML through. It
   pads every table row to the header's width: tables whose rows could be padded with
   more cells than the text has characters are shown as text, with a note.
2. libxml2 (through lxml) reads that HTML, first written again by support.markup in a
   form with only the tags and attributes the sanitiser keeps (libxml2 and nh3 take time
   quadratic in one tag's attributes), into a tree at most MAX_DEPTH elements deep. An
   HTML5 tree builder, html5ever under nh3 included, spends time proportional to the size
   times the nesting depth: 200,000 nested `<div>`s or `>` quotes would take it minutes.
   Nothing a person writes nests that deep; libxml2 stops reading there. The tree is
   written so that an HTML5 parser reads it as it is (support.markup.shaped).
3. nh3 (ammonia) keeps only harmless elements, attributes and URLs.

What a text shows is at most MAX_GROWTH characters per character written (plus
GROWTH_ALLOWANCE); one that would show more is shown as it was sent, with a note.
`shows_nothing(text)` says whether a text, so rendered, shows a reader anything.

The result is one closed `<article>`: nothing a message leaves open (a list, a table, a
code fence) reaches the page around it, and an `<li>` in it cannot close a list item of
the page (an HTML parser stops looking for one at an <article>).
"""

import hashlib
import re
import threading
from collections import OrderedDict
from html import unescape

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import markup
from .markup import ALLOWED_TAGS
from .text import is_blank

ALLOWED_ATTRIBUTES = {tag: set(names) for tag, names in markup.ALLOWED_ATTRIBUTES.items()}
URL_SCHEMES = {"http", "https", "mailto"}
# GitHub's extensions, less `tagfilter` (nh3 removes those tags) and `tasklist` (no forms).
EXTENSIONS = ["table", "strikethrough", "autolink"]
# cmark-gfm pads every row of a table to the header's width: 500 columns and 3,000 rows of
# "x" are 8 KB that make 1.5 million cells. Tables are shown as their text when one is
# wider than this, or when the cells its rows could be padded with (columns times lines)
# would outnumber the characters written.
MAX_TABLE_COLUMNS = 64
# A delimiter row (|---|:-:|...): its cells, separated by pipes. Possessive: each run is
# read once, so finding the widest is linear.
_DELIMITER_CELLS = re.compile(r"(?:\|[ \t\v\f]*+:?-++:?[ \t\v\f]*+)++")
# The empty cells cmark-gfm adds at the end of a row shorter than its header: dropped, so
# that what a table shows is in proportion to what was written (a browser draws a short
# row as well). Read once each: the run, then whether a row's end follows.
_PADDING = re.compile(r'((?:<td(?: align="(?:left|center|right)")?></td>\n)++)(</tr>)?')
# Whatever a text is, what is shown of it is at most this many characters per character
# written (a table of one-character cells, aligned: ~15; links found in text: ~8), plus
# this many; a text that would make more is shown as it was sent, with a note.
MAX_GROWTH = 20
GROWTH_ALLOWANCE = 10_000
_NONCHARACTER_REFERENCE = re.compile(r"&#(?:[xX]0*[fF]{3}[eEfF]|0*6553[45]);")
# Rendered texts kept per process, by content hash and language, up to this many characters
# in all: a ticket's page and its e-mails render the same stored text again and again.
CACHE_CHARS = 8_000_000
_cache: OrderedDict[tuple[str, str], SafeString] = OrderedDict()
_cache_lock = threading.Lock()
_cached_chars = 0


def render_text(text: str, *, cache: bool = True) -> SafeString:
    """Markdown or HTML as sent (`text`) as safe HTML: one `<article class="markup">` element.

    Takes time linear in len(text). Text nested deeper than MAX_DEPTH is cut there, with a
    note saying so (the stored text is unchanged). Never raises for any str. `cache=False`
    for text shown once (a preview), which would only push stored texts out of the cache.
    """
    if not cache:
        return _render(text)
    key = (hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), get_language())
    with _cache_lock:
        if (html := _cache.get(key)) is not None:
            _cache.move_to_end(key)
            return html
    html = _render(text)
    global _cached_chars
    with _cache_lock:
        if key not in _cache:
            _cache[key] = html
            _cached_chars += len(html)
        while _cached_chars > CACHE_CHARS:
            _cached_chars -= len(_cache.popitem(last=False)[1])  # the least recently used
    return html


def _render(text: str) -> SafeString:
    # cmark-gfm reads UTF-8; a lone surrogate (which no database stores) becomes "?".
    # Control characters (a terminal's colour codes in a pasted log) show as nothing in a
    # browser, and libxml2 holds no text with them: they go.
    text = text.encode("utf-8", "replace").decode("utf-8").translate(markup.UNSHOWABLE)
    # cmark-gfm writes a reference to U+FFFE or U+FFFF as bytes that are not UTF-8.
    text = _NONCHARACTER_REFERENCE.sub("\ufffd", text)
    notes = []
    extensions = EXTENSIONS
    widest = _widest_table(text)
    if widest > MAX_TABLE_COLUMNS or widest * text.count("\n") > len(text) + 1000:
        extensions = [name for name in EXTENSIONS if name != "table"]
        notes.append(_("[The tables are shown as text: one has more columns than its rows fill.]"))
    html = cmarkgfm.markdown_to_html_with_extensions(
        text, options=Options.CMARK_OPT_UNSAFE, extensions=extensions
    )
    html = _PADDING.sub(lambda row: "</tr>" if row.group(2) else row.group(0), html)
    html, cut = markup.shaped(markup.canonical(html))
    if cut:
        notes.append(_("[The rest is not shown: it is nested too deeply.]"))
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    if len(clean) > MAX_GROWTH * len(text) + GROWTH_ALLOWANCE:
        # A shape that no rule above keeps in proportion: the text as it was sent.
        clean = format_html('<pre class="markup-plain">{}</pre>', text)
        notes = [_("[This message is shown as it was sent: formatted, it would be too large.]")]
    shown = "".join(format_html('<p class="markup-cut">{}</p>', note) for note in notes)
    return mark_safe(f'<article class="markup">{clean}{shown}</article>')


# A tag of the renderer's own output (its attribute values always double-quoted), an
# image with a source, and the notes it adds.
_OUTPUT_TAG = re.compile(r'<(?:[^>"]++|"[^"]*+")*+>')
_IMAGE_WITH_SOURCE = re.compile(r'<img\b(?:[^>"]|"[^"]*+")*?\ssrc="[^"]*?[^"\s]')
_NOTE = re.compile(r'<p class="markup-cut">[^<]*+</p>')


# Markdown and HTML hide text only inside a tag, a comment or a raw-text element (`<`), a
# character reference (`&`), a link's destination or a reference definition (`[`, `]`), or
# a code fence's info string (``` or ~~~): a text with none of these shows its letters.
_PLAINLY_SHOWN = re.compile(r"[^\W_]")
_MAY_HIDE = re.compile(r"[<&\[\]]|```|~~~")


def shows_nothing(text: str) -> bool:
    """Whether `text` (Markdown or HTML), as the desk shows it, shows a reader nothing: no
    character they can see (support.text.is_blank of the text rendered and sanitised,
    references such as `&#8203;` read) and no image with a source. `&nbsp;`, `<p></p>`,
    `<!-- -->`, `<br>`, `<script>x</script>`, `[](#)` show nothing; `[a](#)` and
    `<img src=x>` do. Renders `text` (kept in the cache for the page that shows it)."""
    if is_blank(text):
        return True
    if _PLAINLY_SHOWN.search(text) and not _MAY_HIDE.search(text):
        return False  # a letter or digit, and no syntax that could hide it: no render needed
    html = _NOTE.sub("", render_text(text))
    if _IMAGE_WITH_SOURCE.search(html):
        return False
    return is_blank(unescape(_OUTPUT_TAG.sub("", html)))


def _widest_table(text: str) -> int:
    """The most columns a delimiter row in `text` could give a table (an upper bound:
    each run of pipe-separated dashes, wherever it is)."""
    return max((run.group(0).count("|") for run in _DELIMITER_CELLS.finditer(text)), default=0)
