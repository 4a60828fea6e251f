"""Turning what requesters and staff write (Markdown or HTML) into safe HTML, in time
linear in its size.

Three steps, each a library whose time grows linearly with what it is given:

1. cmark-gfm (GitHub's Markdown, through cmarkgfm: tables, strikethrough, bare links and
   e-mail addresses as links) turns Markdown into HTML and passes raw HTML through.
2. libxml2 (through lxml) reads that HTML into a tree at most MAX_DEPTH elements deep. An
   HTML5 tree builder, html5ever under nh3 included, spends time proportional to the size
   times the nesting depth: 200,000 nested `<div>`s or `>` quotes would take it minutes.
   Nothing a person writes nests that deep; libxml2 stops reading there.
3. nh3 (ammonia) keeps only harmless elements, attributes and URLs.

The result is one closed `<article>`: nothing a message leaves open (a list, a table, a
code fence) reaches the page around it, and an `<li>` in it cannot close a list item of
the page (an HTML parser stops looking for one at an <article>).
"""

import hashlib
import re
import threading
from collections import OrderedDict

import cmarkgfm
import lxml.etree
import lxml.html
import nh3
from cmarkgfm.cmark import Options
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
    "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u",
    "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "td": {"align"},
    "th": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# GitHub's extensions, less `tagfilter` (nh3 removes those tags) and `tasklist` (no forms).
EXTENSIONS = ["table", "strikethrough", "autolink"]
# libxml2's own limit for HTML, fixed (short of XML_PARSE_HUGE); browsers stop at 512.
MAX_DEPTH = 256
# nh3's time grows with the square of one text's or attribute's length (see _shaped).
MAX_TEXT = 1000
MAX_ATTRIBUTE = 4096
# Elements whose content HTML reads as text; nh3 removes them and keeps the text.
RAW_TEXT = {"iframe", "noembed", "noframes", "noscript", "plaintext", "template", "textarea",
            "title", "xmp"}  # fmt: skip
# What XML 1.0 (so libxml2's tree) cannot hold: C0 controls but tab, LF and CR; U+FFFE/F.
_UNSHOWABLE = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])
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
    text = text.encode("utf-8", "replace").decode("utf-8").translate(_UNSHOWABLE)
    # cmark-gfm writes a reference to U+FFFE or U+FFFF as bytes that are not UTF-8.
    text = _NONCHARACTER_REFERENCE.sub("\ufffd", text)
    markup = cmarkgfm.markdown_to_html_with_extensions(
        text, options=Options.CMARK_OPT_UNSAFE, extensions=EXTENSIONS
    )
    markup, cut = _shaped(markup)
    clean = nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    note = format_html(
        '<p class="markup-cut">{}</p>', _("[The rest is not shown: it is nested too deeply.]")
    ) if cut else ""  # fmt: skip
    return mark_safe(f'<article class="markup">{clean}{note}</article>')


def _shaped(markup: str) -> tuple[str, bool]:
    """`markup` read into a tree at most MAX_DEPTH deep, shaped so that nh3 takes linear
    time, and written out again; and whether anything was cut to keep it so deep.

    nh3 takes time quadratic in the length of one text or attribute holding many
    characters it escapes (`&`, U+00A0): long texts are split with empty comments (which
    nh3 removes), longer attributes dropped. Raw-text elements, which nh3 removes, go now:
    scripts and styles with their content, the others (<textarea>, <iframe>...) leaving
    their text, as nh3 would.
    """
    if not markup.strip():
        return "", False
    parser = lxml.html.HTMLParser(
        remove_comments=True, remove_pis=True, no_network=True, default_doctype=False
    )
    root = lxml.html.document_fromstring("<html><body>" + markup, parser=parser).find("body")
    cut = any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)
    if root is None:
        return "", cut
    root.tag = "div"
    root.attrib.clear()  # the markup may have given <body> attributes
    lxml.etree.strip_elements(root, "script", "style", with_tail=False)
    for element in root.iter(*RAW_TEXT):
        element.tag = "span"
    # XPath finds the few long values without a Python loop over every element.
    for value in root.xpath("//@*[string-length() > $n]", n=MAX_ATTRIBUTE):
        del value.getparent().attrib[value.attrname]
    for text in root.xpath("//text()[string-length() > $n]", n=MAX_TEXT):
        element = text.getparent()
        first, *rest = _pieces(str(text))
        if text.is_tail:
            element.tail = first
            for piece in reversed(rest):
                element.addnext(_comment(piece))
        else:
            element.text = first
            for index, piece in enumerate(rest):
                element.insert(index, _comment(piece))
    inner = lxml.etree.tostring(root, method="html", encoding="unicode", with_tail=False)
    return inner[len("<div>") : -len("</div>")], cut


def _pieces(text: str) -> list[str]:
    # A character reference (`&#1;`) may have brought back a control character.
    text = text.translate(_UNSHOWABLE)
    return [text[start : start + MAX_TEXT] for start in range(0, len(text), MAX_TEXT)] or [""]


def _comment(tail: str) -> lxml.etree._Comment:
    comment = lxml.etree.Comment()
    comment.tail = tail
    return comment
