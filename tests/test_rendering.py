"""What requesters and staff write, as the desk shows it: Markdown (GitHub's) or HTML,
sanitised, links found in text, in time linear in its size whatever its shape."""

import json
import re
import time
from html import unescape

import pytest
from django.test import Client

from support.rendering import render_text
from tests.conftest import ticket_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/create_support_ticket"


def page_body(api, body: str) -> str:
    response = api.post(URL, ticket_payload(body=body), format="json")
    assert response.status_code == 200, response.content
    html = Client().get(response.json()["url"]).content.decode()
    return html.split('<div class="body">', 1)[1].split('<p class="desk-links">', 1)[0]


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_links_in_text_work_as_people_expect(api):
    html = page_body(
        api, "See https://cocalc.com/docs, www.example.org or write to help@example.com."
    )

    assert '<a href="https://cocalc.com/docs" rel="noopener noreferrer nofollow">' in html
    assert '<a href="http://www.example.org" rel="noopener noreferrer nofollow">' in html
    assert '<a href="mailto:help@example.com" rel="noopener noreferrer nofollow">' in html
    assert "docs</a>, " in html  # the comma is not part of the link


def test_github_markdown_tables_and_strikethrough(api):
    html = page_body(api, "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ `x<y`")

    assert "<td>1</td>" in html and "<del>gone</del>" in html and "<code>x&lt;y</code>" in html


def test_nesting_beyond_the_limit_is_cut_with_a_note():
    html = render_text("<div>" * 1000 + "inmost" + "</div>" * 1000)

    assert 200 < html.count("<div>") < 256 and "inmost" not in html  # html, body: 2
    assert "The rest is not shown: it is nested too deeply." in html


@pytest.mark.parametrize(
    "text",
    [
        "x" * 5000 + " & " + "\xa0" * 3000,  # long texts are split for nh3, invisibly
        "<p>" + "&amp;é" * 2000 + "</p>" + "tail " * 500,
        "<pre>" + "a\xa0&lt;" * 1500 + "</pre>",
    ],
)
def test_long_texts_are_shown_whole(text):
    html = str(render_text(text))

    assert "<!--" not in html
    assert unescape(text_of(html)).strip() == unescape(text_of(text)).strip()


def test_raw_text_elements_keep_their_text_and_scripts_go():
    html = render_text("<textarea><b>t</b></textarea><iframe>i</iframe><script>s()</script>x")

    assert "&lt;b&gt;t&lt;/b&gt;" in html and ">i<" in html
    assert "s()" not in html and "<script" not in html and "<iframe" not in html


def test_rendering_is_cached_per_text():
    first = render_text("cached *text*")

    assert render_text("cached *text*") is first
    assert render_text("other *text*") is not first


def repeated(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


LIMIT = 1024 * 1024  # SUPPORT["MAX_REQUEST_BYTES"]'s default
# The worst shapes bench/render.py found (its names), each filling a request at the API's
# size limit, with the CPU seconds bench/render.py measured to render it at 1 MiB on the
# CI machine, and what its page must show.
WORST = {
    "urls-in-emphasis": (lambda n: repeated("www.a.co *x* ", n), 1.7, b'href="http://www.a.co"'),
    "formatting-replay": (
        lambda n: "<b><i><u><s><em><strong><code>" * 10 + repeated("<p>x", n),
        1.4,
        b"<p>x</p>",
    ),
    "attribute-many": (
        lambda n: ("<span " + " ".join(f"a{i}=b" for i in range(n // 6)))[: n - 2] + ">x",
        0.1,
        b">x<",
    ),
    "table-wide": (
        lambda n: "|a" * 500 + "|\n" + "|-" * 500 + "|\n" + repeated("x\n", n - 2004),
        0.3,
        b"shown as text",
    ),
}


@pytest.mark.parametrize("shape", WORST)
def test_worst_case_at_the_api_size_limit_renders_in_linear_time(api, shape):
    # A guard against a quadratic algorithm, not a speed test: a worst shape at the API's
    # size limit (1 MiB), filed (its body rendered to judge it blank or not) and shown,
    # against ten times the time it was measured to take (a quadratic renderer takes
    # minutes), and against ten times the size its page may grow to.
    make, seconds, shown = WORST[shape]
    body = make(LIMIT - 1000)
    body = make(int(len(body) * (LIMIT - 1000) / len(json.dumps(ticket_payload(body=body)))))
    start = time.process_time()
    response = api.post(URL, ticket_payload(body=body), format="json")
    assert response.status_code == 200, response.content
    page = Client().get(response.json()["url"])
    elapsed = time.process_time() - start

    assert page.status_code == 200 and shown in page.content
    print(f"{shape}, 1 MiB: filed and shown in {elapsed:.2f} s of CPU")
    assert elapsed < 10 * max(seconds, 0.5)
    assert len(page.content) < 20 * len(body) + 100_000  # rendering.MAX_GROWTH and some


def test_a_tag_keeps_the_attributes_the_sanitiser_keeps_and_no_more():
    attributes = " ".join(f"a{i}=b" for i in range(20_000))
    html = render_text(f'<a href="https://x.org" {attributes} href="https://y.org" title=t>x</a>')

    assert '<a href="https://x.org" title="t" rel="noopener noreferrer nofollow">x</a>' in html
    assert len(html) < 200


@pytest.mark.parametrize(
    "hiding",
    ['<!-- <a title=" -->', '<textarea><a title="</textarea>', "<script>'</script>",
     '<?x "?>', "<![CDATA[ ' ]]>"],
    ids=["comment", "textarea", "script", "instruction", "cdata"],
)  # fmt: skip
def test_tags_after_comments_and_raw_text_are_read_as_a_browser_reads_them(hiding):
    html = str(render_text(f'{hiding}<b class="{"x " * 10_000}">bold</b> after'))

    assert "<b>bold</b> after" in html and "x x" not in html


def test_a_table_wider_than_its_rows_fill_is_shown_as_text():
    text = "|a" * 500 + "|\n" + "|-" * 500 + "|\n" + "x\n" * 3000
    html = render_text(text)

    assert "<table" not in html and "|a|a|a|" in html
    assert "The tables are shown as text: one has more columns than its rows fill." in html
    assert len(html) < 2 * len(text)


def test_a_table_rows_shorter_than_its_header_are_not_padded():
    html = render_text("| a | b | c |\n|---|---|---|\n| 1 |\n| 2 | 3 |")

    assert "<td>1</td>\n</tr>" in html and "<td>2</td>\n<td>3</td>\n</tr>" in html
    assert "<td></td>" not in html


@pytest.mark.parametrize(
    "text",
    ["<b><i><u><s><em><strong><code>" * 10 + "<p>x" * 3000,
     "".join(f'<a title="{i}">' for i in range(200)) + "<p>x" * 3000,
     "<ul><li>" + "<b><i><u><s>" * 5 + "<li>x" * 3000],
    ids=["paragraphs", "distinct", "list-items"],
)  # fmt: skip
def test_formatting_is_never_opened_again_for_each_block(text):
    html = render_text(text)

    assert html.count("x") >= 3000  # every block shown
    assert len(html) < 3 * len(text)  # each once, not inside 21 formatting elements again


def test_a_render_out_of_proportion_is_shown_as_it_was_sent(monkeypatch):
    monkeypatch.setattr("support.rendering.MAX_GROWTH", 1)
    monkeypatch.setattr("support.rendering.GROWTH_ALLOWANCE", 0)

    html = render_text("see www.a.co, *now* <script>x</script>", cache=False)

    assert (
        '<pre class="markup-plain">see www.a.co, *now* &lt;script&gt;x&lt;/script&gt;</pre>' in html
    )
    assert "shown as it was sent: formatted, it would be too large." in html


@pytest.mark.parametrize(
    "body",
    [
        "\x1b[31mFAILED\x1b[0m test_x " * 200,  # a pasted terminal log, colour codes and all
        "x" * 1500 + "&#1;&#x1b;" + "y" * 1500,  # references to control characters
        "&#xfffe; &#65535; &#xFFFF;",  # which cmark-gfm would write as bytes not UTF-8
        "<p title='\x0b'>" + "z" * 3000,
    ],
)
def test_control_characters_never_break_the_page(api, body):
    html = page_body(api, body)

    assert "FAILED" in html or "x" * 100 in html or "\ufffd" in html or "z" * 100 in html
    assert "\x1b" not in html and "\x01" not in html
