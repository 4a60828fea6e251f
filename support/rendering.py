"""Turning what requesters and staff write (Markdown or HTML) into safe HTML."""

from functools import cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

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


@cache
def _markdown() -> MarkdownIt:
    # CommonMark with raw HTML allowed (bodies may be HTML; nh3 cleans it afterwards),
    # tables and bare URLs turned into links.
    return MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(
        ["linkify", "table", "strikethrough"]
    )


def render_text(text: str) -> SafeString:
    """Render Markdown (HTML inside it is allowed) and keep only harmless HTML."""
    return mark_safe(
        nh3.clean(
            _markdown().render(text),
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
        )
    )
