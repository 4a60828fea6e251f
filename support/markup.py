"""The HTML that Markdown made (with whatever raw HTML the writer put in it), shaped so that
every step after it takes time linear in its size and gives output in proportion to it.

`canonical(markup)` reads the markup's tags as an HTML5 tokenizer does (comments, raw-text
elements, attributes quoted or not) and writes it again in a form no parser can read two
ways: only the tags and attributes the sanitiser keeps (so at most a few attributes per
tag: libxml2 and html5ever both take time quadratic in one tag's attribute count), every
other `<` escaped, comments dropped, scripts and styles dropped with their content, the
text of the other raw-text elements (<textarea>, <iframe>...) kept as text.

`shaped(markup)` reads the canonical markup into a tree at most MAX_DEPTH deep (libxml2,
which builds it in linear time whatever the nesting, where an HTML5 tree builder does not)
and writes it again so that an HTML5 parser (the sanitiser's, then the browser's) reads
the same tree: libxml2 nests a <p> in a <p> (inside formatting elements), an HTML5 parser
closes the outer one and re-opens every formatting element around it, for each <p>, so
that `<b><i><u>` * 10 + `<p>x` * 300,000 grows 50-fold. Elements that an HTML5 parser
would close early become <div>s instead, which it leaves as they are.
"""

import re
from functools import lru_cache
from html import escape

import lxml.etree
import lxml.html

# What the sanitiser keeps (support.rendering passes the same to nh3).
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
    "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u",
    "ul",
})  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": ("href", "title"),
    "abbr": ("title",),
    "img": ("src", "alt", "title"),
    "td": ("align",),
    "th": ("align",),
}
# libxml2's own limit for HTML, fixed (short of XML_PARSE_HUGE); browsers stop at 512.
MAX_DEPTH = 256
# nh3's time grows with the square of one text's or attribute's length.
MAX_TEXT = 1000
MAX_ATTRIBUTE = 4096

# The HTML5 tokenizer's attribute: a name (which may start with "="), then perhaps "=" and
# a value, quoted (to the closing quote, or the end) or not. Possessive throughout: a tag
# is read once, never again from a later position.
_SPACE = r"[\t\n\f\r ]"
_ATTRIBUTE = (
    rf"[\t\n\f\r /]*+[^\t\n\f\r />][^\t\n\f\r />=]*+"
    rf"(?:{_SPACE}*+={_SPACE}*+(?:\"[^\"]*+(?:\"|\Z)|'[^']*+(?:'|\Z)|[^\t\n\f\r >]*+))?+"
)
_TAG_REST = rf"(?:{_ATTRIBUTE})*+[\t\n\f\r /]*+(?:>|\Z)"
_RAW = r"script|style|xmp|iframe|noembed|noframes|noscript|textarea|title"
_TOKEN = re.compile(
    rf"""
      <!--(?:-?>|.*?(?:--!?>|\Z))                   # a comment, <!--> and <!---> too
    | <[!?][^>]*+>?                                 # a bogus comment: <!DOCTYPE, <![CDATA[, <?
    | </[A-Za-z][^\t\n\f\r />]*+{_TAG_REST}         # an end tag
    | </>|</(?!\Z)[^>]*+>?                          # </> (nothing); </ then no letter: a comment
    | <(?P<raw>{_RAW})(?![^\t\n\f\r />]){_TAG_REST} # a raw-text element, to its end tag
        (?P<content>.*?)(?:</(?P=raw)(?![^\t\n\f\r />]){_TAG_REST}|\Z)
    | <plaintext(?![^\t\n\f\r />]){_TAG_REST}(?P<plain>.*)
    | <[A-Za-z][^\t\n\f\r />]*+{_TAG_REST}          # a start tag
    | <                                             # a "<" that starts nothing: text
    """,
    re.DOTALL | re.IGNORECASE | re.VERBOSE,
)
_TAG = re.compile(rf"</?([A-Za-z][^\t\n\f\r />]*+)((?:{_ATTRIBUTE})*+)")
_ATTRIBUTE_PARTS = re.compile(
    r"[\t\n\f\r /]*+([^\t\n\f\r />][^\t\n\f\r />=]*+)"
    r"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:\"([^\"]*+)\"?|'([^']*+)'?|([^\t\n\f\r >]*+)))?+"
)


def canonical(markup: str) -> str:
    """`markup` with every tag, comment and raw-text element read as an HTML5 tokenizer
    reads them and written again in canonical form (see the module's docstring)."""
    return _TOKEN.sub(_rewritten, markup)


def _rewritten(match: re.Match) -> str:
    token = match.group(0)
    if match.group("raw"):
        name = match.group("raw").lower()
        if name in ("script", "style"):
            return ""
        content = match.group("content")
        # RCDATA (<textarea>, <title>) has its character references read; raw text not.
        if name in ("textarea", "title"):
            return f"<span>{content.replace('<', '&lt;')}</span>"
        return f"<span>{escape(content, quote=False)}</span>"
    if match.group("plain") is not None:
        return f"<span>{escape(match.group('plain'), quote=False)}</span>"
    if len(token) <= 80:
        return _tag(token)  # cached: the same short tags again and again
    return _tag.__wrapped__(token)


@lru_cache(maxsize=4096)
def _tag(token: str) -> str:
    if token == "<":
        return "&lt;"
    if not token.endswith(">") or token.startswith(("<!", "<?")):
        return ""  # a comment, or a tag the text ended in (HTML5 drops it)
    tag = _TAG.match(token)
    if tag is None:
        return ""  # </> or a bogus comment
    name = tag.group(1).lower()
    if name not in ALLOWED_TAGS:
        return ""  # the sanitiser would drop it, keeping what is inside
    if token.startswith("</"):
        return f"</{name}>"
    allowed = ALLOWED_ATTRIBUTES.get(name, ())
    attributes: dict[str, str] = {}
    if allowed:
        for part in _ATTRIBUTE_PARTS.finditer(tag.group(2)):
            key = part.group(1).lower()
            if key in allowed and key not in attributes:  # the first of the same name
                value = next((v for v in part.groups()[1:] if v is not None), "")
                attributes[key] = value.replace('"', "&quot;").replace("<", "&lt;")
    written = "".join(f' {key}="{value}"' for key, value in attributes.items())
    return f"<{name}{written}>"


# Start tags before which an HTML5 parser closes an open <p> (in button scope), or an open
# <li>, <dd>, <dt>; the ones the sanitiser keeps.
_CLOSES_P = ("blockquote", "dd", "div", "dl", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
             "li", "ol", "p", "pre", "table", "ul")  # fmt: skip
_P_HOLDING_BLOCKS = "//p[descendant::*[{}]]".format(" or ".join(f"self::{t}" for t in _CLOSES_P))
_STRAY_ITEMS = "//li[not(parent::ul or parent::ol)] | //dd[not(parent::dl)] | //dt[not(parent::dl)]"


def shaped(markup: str) -> tuple[str, bool]:
    """Canonical `markup` read into a tree at most MAX_DEPTH deep and written so that an
    HTML5 parser reads the same tree, and so that nh3 takes linear time (its time grows
    with the square of one long text or attribute holding many characters it escapes:
    long texts are split with empty comments, which nh3 removes; longer attributes are
    dropped); and whether anything was cut to keep it so deep."""
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
    root.attrib.clear()
    # List items outside a list close the item around them in HTML5, and every block in a
    # paragraph closes it (and the formatting elements open in it, which come back for
    # each block): blocks of their own instead. Items first: they become blocks.
    for element in root.xpath(_STRAY_ITEMS):
        element.tag = "div"
    for element in root.xpath(_P_HOLDING_BLOCKS):
        element.tag = "div"
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


# What XML 1.0 (so libxml2's tree) cannot hold: C0 controls but tab, LF and CR; U+FFFE/F.
UNSHOWABLE = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])


def _pieces(text: str) -> list[str]:
    # A character reference (`&#1;`) may have brought back a control character.
    text = text.translate(UNSHOWABLE)
    return [text[start : start + MAX_TEXT] for start in range(0, len(text), MAX_TEXT)] or [""]


def _comment(tail: str) -> lxml.etree._Comment:
    comment = lxml.etree.Comment()
    comment.tail = tail
    return comment
