"""How long rendering a requester's text (Markdown or HTML) takes, for the worst shapes we
know, at 10, 100 and 1,024 KiB: time must grow about linearly with size (each 10x step in
size at most 15x in time), and the HTML in proportion to the text.

    .venv/bin/python bench/render.py [--shapes bare-urls,nested-divs] [--runs 3]

The shapes include markdown-it's and cmark-gfm's pathological inputs (nested emphasis and
brackets, unclosed links, deep quotes and lists, many backticks), linkify's (bare URLs and
e-mail addresses, fragments of them), HTML that HTML5 tree builders take quadratic time
over (deep nesting, many distinct formatting elements, misnesting), and long texts and
attributes full of characters a sanitiser escapes. Each is timed through the app's own
renderer, uncached: CPU time, the best of --runs (10x as many at 10 KiB).

Reading the ratios: a quadratic term shows as about 100x per 10x step. Between 10 and
100 KiB, and on a loaded machine, a linear C parser can show 15-30x: its data (a cmark
node is ~100 bytes per few characters) leave the CPU's caches there. Doubling the size
above 256 KiB costs about 2x for every shape (1.3-3x as measured on a loaded machine).
The script fails (exit 1) on a step over 50x, which no linear renderer shows. The last
column is the most characters of HTML one character of the shape gave (at any size): what
is shown stays in proportion to what was written.
"""

import argparse
import gc
import itertools
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench")

import django

django.setup()

from support import rendering

KIB = 1024
SIZES = [10 * KIB, 100 * KIB, 1024 * KIB]


def repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def numbered(pattern: str, size: int) -> str:
    """`pattern` with {i} counting up, repeated to `size` characters (distinct elements)."""
    parts, length, i = [], 0, 0
    while length < size:
        part = pattern.format(i=i)
        parts.append(part)
        length += len(part)
        i += 1
    return "".join(parts)[:size]


SHAPES = {
    # Links found in text (GFM autolinks): the shape that was quadratic with markdown-it.
    "bare-urls": lambda n: repeat("http://a.", n),
    "scheme-fragments": lambda n: repeat("a://", n),
    "urls-in-emphasis": lambda n: repeat("www.a.co *x* ", n),
    "emails": lambda n: repeat("a@b.co ", n),
    "emails-in-emphasis": lambda n: repeat("a@b.co *x* ", n),
    # Markdown's own pathological inputs.
    "nested-emphasis": lambda n: "*a **a " * (n // 14) + " a** a*" * (n // 14),
    "emphasis-closers": lambda n: repeat("a_ ", n),
    "nested-brackets": lambda n: "[" * (n // 2) + "a" + "]" * (n // 2),
    "unclosed-links": lambda n: repeat("[a](<b", n),
    "reference-links": lambda n: "[a]: http://x\n\n" + repeat("[a] ", n),
    "deep-quotes": lambda n: "> " * (n // 2) + "a",
    "deep-lists": lambda n: "".join("  " * i + "- a\n" for i in range(int(n**0.5))),
    "long-table": lambda n: "| a | b |\n|---|---|\n" + repeat("| c | d |\n", n),
    "headings": lambda n: repeat("# a\n", n),
    "autolinks-unclosed": lambda n: repeat("<http://a", n),
    # HTML that HTML5 tree builders (html5ever under nh3) handle in quadratic time.
    "nested-divs": lambda n: repeat("<div>", n),
    "distinct-formatting": lambda n: numbered("<b id={i}>", n // 2) + repeat("<p>x", n // 2),
    "misnested-formatting": lambda n: (
        numbered("<b {i}>", n // 3) + numbered("<i {i}>", n // 3) + repeat("x</b>", n // 3)
    ),
    "html-comments": lambda n: repeat("a <!-- ", n),
    # Long texts and attributes full of what a sanitiser escapes.
    "entities": lambda n: repeat("&a", n),
    "nbsp-text": lambda n: repeat("\xa0a", n),
    "long-attribute": lambda n: '<a href="http://x" title="' + repeat("\xa0&", n) + '">x</a>',
    # One tag with many attributes: libxml2 and html5ever check each against every other.
    "attribute-many": lambda n: "<span " + " ".join(f"a{i}=b" for i in range(n // 8)) + ">x",
    "attribute-same": lambda n: "<span " + repeat("a=b ", n) + ">x",
    "attribute-quoted-gt": lambda n: "<span " + repeat('a=">" ', n) + ">x",
    # The same, hidden from a tokenizer that does not read comments or raw text as HTML5.
    "attribute-after-comment": lambda n: (
        '<!-- <a title=" -->' + "<span " + " ".join(f"a{i}" for i in range(n // 7)) + '>"'
    ),
    "attribute-after-textarea": lambda n: (
        '<textarea><a title="</textarea>' + "<span " + " ".join(f"a{i}" for i in range(n // 7))
    ),
    # Tables: cmark-gfm pads each row to the header's width.
    "table-wide": lambda n: "|a" * 500 + "|\n" + "|-" * 500 + "|\n" + repeat("x\n", n - 2004),
    "table-wide-at-cap": lambda n: "|a" * 64 + "|\n" + "|-" * 64 + "|\n" + repeat("x\n", n - 258),
    "table-few-columns": lambda n: "|a|b|c|\n|-|:-:|-:|\n" + repeat("x\n", n),
    "table-short-rows": lambda n: "|a" * 2000 + "|\n" + "|-" * 2000 + "|\n" + repeat("x\n", n),
    # Formatting an HTML5 parser closes and opens again for every block after it.
    "formatting-replay": lambda n: "<b><i><u><s><em><strong><code>" * 10 + repeat("<p>x", n),
    "formatting-replay-distinct": lambda n: (
        "".join(f'<a title="{i}">' for i in range(200)) + repeat("<p>x", n)
    ),
    "list-item-replay": lambda n: "<ul><li>" + "<b><i><u><s>" * 5 + repeat("<li>x", n),
    "definition-replay": lambda n: "<dl><dd>" + "<b><i><u><s>" * 5 + repeat("<dt>x", n),
    "heading-replay": lambda n: "<b><i>" * 10 + repeat("<h1>x", n),
    "paragraph-chain": lambda n: "<p><b>" * 120 + repeat("<p>x", n),
    "table-foster": lambda n: "<table>" + repeat("x<b>", n),
    "table-nest": lambda n: repeat("<table><tr><td>", n),
    "anchors-nested": lambda n: repeat('<a href="http://x">', n),
    "close-tags": lambda n: repeat("</b>", n),
    "tags-distinct": lambda n: "".join(f"<x{i}>" for i in range(n // 8)),
    "select-options": lambda n: "<select>" + repeat("<option>", n),
    "svg-nest": lambda n: "<svg>" + repeat("<g>", n),
    # More of Markdown's and HTML's odd corners.
    "list-markers-line": lambda n: repeat("- ", n) + "a",
    "quote-list-mix": lambda n: repeat("> - ", n) + "a",
    "www-parens": lambda n: "www.a" + "(" * n,
    "url-parens": lambda n: "http://a.b/" + "(" * (n // 2) + ")" * (n // 2),
    "unclosed-declarations": lambda n: repeat("<!A ", n),
    "unclosed-instructions": lambda n: repeat("<?", n),
    "unclosed-cdata": lambda n: repeat("<![CDATA[", n),
    "tag-attributes-unclosed": lambda n: repeat("<a b ", n),
    "tag-names-run": lambda n: repeat("<b", n),
    "backticks-varied": lambda n: "".join("`" * (i % 50 + 1) + "a" for i in range(n // 27))[:n],
    "strike-nested": lambda n: "~~a " * (n // 8) + " a~~" * (n // 8),
    "entity-numeric": lambda n: repeat("&#9999999;", n),
    "emails-many-at": lambda n: repeat("a@", n),
    "www-dots": lambda n: "www." + repeat("a.", n),
    "lazy-continuation": lambda n: "> a\n" + repeat("b\n", n),
    "reference-long-url": lambda n: "[a]: http://x/" + "a" * 4000 + "\n\n" + repeat("[a]", n),
    "nbsp-entities": lambda n: repeat("&nbsp;", n),
}


def timed(text: str, runs: int) -> tuple[float, float]:
    """CPU seconds of the best of `runs` renders (other processes on the machine, the
    tests, a database, lengthen wall-clock time, not this), and how many characters the
    render gave per character of `text`."""
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(runs):
            start = time.process_time()
            html = rendering._render(text)  # uncached: render_text answers repeats from a cache
            best = min(best, time.process_time() - start)
    finally:
        gc.enable()
    return best, len(html) / len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", help="comma-separated names (default: all)")
    parser.add_argument("--runs", type=int, default=3, help="best of this many (default 3)")
    args = parser.parse_args()
    names = args.shapes.split(",") if args.shapes else list(SHAPES)

    header = "".join(f"{f'{size // KIB} KiB':>10}" for size in SIZES)
    print(f"{'shape':28}{header}{'x10':>8}{'x10':>8}{'out/in':>8}")
    worst = {size: (0.0, "") for size in SIZES}
    steepest, largest = 0.0, (0.0, "")
    for name in names:
        # Small sizes take milliseconds: more runs for a stable best.
        measured = [
            timed(SHAPES[name](size), args.runs * max(1, 100 * KIB // size)) for size in SIZES
        ]
        times = [seconds for seconds, _growth in measured]
        growth = max(growth for _seconds, growth in measured)
        ratios = [b / max(a, 1e-6) for a, b in itertools.pairwise(times)]
        steepest = max(steepest, *ratios)
        largest = max(largest, (growth, name))
        for size, seconds in zip(SIZES, times):
            worst[size] = max(worst[size], (seconds, name))
        cells = "".join(f"{seconds:9.3f}s" for seconds in times)
        print(f"{name:28}{cells}{ratios[0]:7.1f}x{ratios[1]:7.1f}x{growth:7.1f}x", flush=True)
    print()
    for size in SIZES:
        seconds, name = worst[size]
        print(f"worst at {size // KIB:>5} KiB: {seconds:.3f} s ({name})")
    print(f"steepest 10x step: {steepest:.1f}x (aim: at most 15x; quadratic: about 100x)")
    print(
        f"most output per character: {largest[0]:.1f} ({largest[1]}; at most "
        f"{rendering.MAX_GROWTH} past {rendering.GROWTH_ALLOWANCE:,} characters)"
    )
    if steepest > 50:
        sys.exit(1)


if __name__ == "__main__":
    main()
