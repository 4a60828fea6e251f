"""How long rendering a requester's text (Markdown or HTML) takes, for the worst shapes we
know, at 10, 100 and 1,024 KiB: time must grow about linearly with size (each 10x step in
size at most 15x in time).

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
The script fails (exit 1) on a step over 50x, which no linear renderer shows.
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
}


def timed(text: str, runs: int) -> float:
    """CPU seconds of the best of `runs` renders: other processes on the machine (the
    tests, a database) lengthen wall-clock time, not this."""
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(runs):
            start = time.process_time()
            rendering._render(text)  # uncached: render_text answers repeats from a cache
            best = min(best, time.process_time() - start)
    finally:
        gc.enable()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", help="comma-separated names (default: all)")
    parser.add_argument("--runs", type=int, default=3, help="best of this many (default 3)")
    args = parser.parse_args()
    names = args.shapes.split(",") if args.shapes else list(SHAPES)

    header = "".join(f"{f'{size // KIB} KiB':>10}" for size in SIZES)
    print(f"{'shape':22}{header}{'x10':>8}{'x10':>8}")
    worst = {size: (0.0, "") for size in SIZES}
    steepest = 0.0
    for name in names:
        # Small sizes take milliseconds: more runs for a stable best.
        times = [timed(SHAPES[name](size), args.runs * max(1, 100 * KIB // size)) for size in SIZES]
        ratios = [b / max(a, 1e-6) for a, b in itertools.pairwise(times)]
        steepest = max(steepest, *ratios)
        for size, seconds in zip(SIZES, times):
            worst[size] = max(worst[size], (seconds, name))
        cells = "".join(f"{seconds:9.3f}s" for seconds in times)
        print(f"{name:22}{cells}{ratios[0]:7.1f}x{ratios[1]:7.1f}x", flush=True)
    print()
    for size in SIZES:
        seconds, name = worst[size]
        print(f"worst at {size // KIB:>5} KiB: {seconds:.3f} s ({name})")
    print(f"steepest 10x step: {steepest:.1f}x (aim: at most 15x; quadratic: about 100x)")
    if steepest > 50:
        sys.exit(1)


if __name__ == "__main__":
    main()
