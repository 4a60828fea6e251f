"""How much a browser downloads to show the help form, and how small the widget is.

Run from the repository root:

    .venv/bin/python bench/form_size.py

What it does:

1. Prints the widget's size (support/static/support/widget.js): raw, and gzipped at level
   9, as `collectstatic` stores it for WhiteNoise (CompressedStaticFilesStorage). The aim
   is under 5 KB gzipped.
2. Serves the project as the README deploys it: `collectstatic` (gzipped copies made),
   gunicorn, DJANGO_DEBUG=false, a SQLite database in a temporary directory, WhiteNoise
   serving the collected static files (compressed for a browser that accepts gzip).
3. In Debian's Chromium (Playwright, a fresh profile, so nothing is cached) it opens
   - the form's own page, /support/new/, and
   - a page of another site (a local http.server on 127.0.0.1) with the widget's script
     tag, clicks the help button and waits for the form in its iframe;
   and sums, for every response the browser received from the desk, the bytes on the wire:
   the body as transferred (compressed if the server compressed it) plus the headers, as
   Chromium reports them (Request.sizes()). Each resource is listed.
4. Django sends HTML uncompressed (no GZipMiddleware: compressing pages that hold secrets,
   such as CSRF tokens and ticket links, next to text an attacker chose invites BREACH).
   So it also prints each response's body gzipped (level 6, as a reverse proxy would) and
   the total with compression: what a deployment behind a compressing proxy transfers.
"""

import gzip
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.receivers import HostSite
from tests.stack import Stack

WIDGET = ROOT / "support" / "static" / "support" / "widget.js"


def widget_size() -> None:
    raw = WIDGET.read_bytes()
    print("== widget.js")
    print(f"raw:            {len(raw):6,d} bytes")
    print(f"gzipped (-9):   {len(gzip.compress(raw, 9)):6,d} bytes   (aim: < 5,120)")


def transfer(page, desk: str, action) -> list[tuple[str, str, str, int, int, int]]:
    """Run `action` in `page`; return each response from the desk: path, type, encoding,
    body bytes on the wire, header bytes, body bytes gzipped."""
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    action()
    page.wait_for_load_state("networkidle")
    rows = []
    for request in finished:
        if not request.url.startswith(desk):
            continue
        response = request.response()
        sizes = request.sizes()
        headers = response.all_headers()
        rows.append(
            (
                request.url.removeprefix(desk).split("?")[0],
                headers.get("content-type", "").split(";")[0],
                headers.get("content-encoding", "-"),
                sizes["responseBodySize"],
                sizes["responseHeadersSize"],
                len(gzip.compress(response.body(), 6)),
            )
        )
    return rows


def report(title: str, rows) -> None:
    print(f"\n== {title}")
    print(f"{'resource':30} {'type':16} {'enc':5} {'body':>7} {'headers':>8} {'body.gz':>8}")
    for path, kind, encoding, body, headers, gzipped in rows:
        print(f"{path:30} {kind:16} {encoding:5} {body:7,d} {headers:8,d} {gzipped:8,d}")
    wire = sum(r[3] + r[4] for r in rows)
    compressed = sum(r[5] + r[4] for r in rows)
    print(f"total on the wire, as served:   {wire:7,d} bytes in {len(rows)} responses")
    print(f"total with gzip on every body:  {compressed:7,d} bytes")


def main() -> None:
    widget_size()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        site = HostSite().start()
        stack = Stack(
            Path(tmp),
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            SUPPORT_FRAME_ANCESTORS=site.origin,
            SUPPORT_FORM_RATE="",
            DJANGO_STATIC_ROOT=str(Path(tmp) / "static"),
        )
        try:
            stack.manage("collectstatic", "--noinput")
            # Threads: a sync worker would sit on a browser's idle pre-opened connection.
            served = stack.serve(workers=1, threads=4)
            desk = served.replace("127.0.0.1", "localhost")  # another site than the host
            site.pages["/notebook"] = (
                "<!doctype html><title>Notebook</title><h1>A notebook</h1>"
                f'<script src="{desk}/static/support/widget.js" defer></script>'
            )
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_context().new_page()
                rows = transfer(page, desk, lambda: page.goto(f"{desk}/support/new/"))
                report("the form's page, /support/new/ (fresh profile)", rows)
                page = browser.new_context().new_page()

                def open_widget():
                    page.goto(f"{site.origin}/notebook")
                    page.get_by_role("button", name="Help").click()
                    page.frame_locator("iframe").get_by_label("Subject").wait_for()

                rows = transfer(page, desk, open_widget)
                report("the widget on another site, opened (the desk's responses)", rows)
                browser.close()
        finally:
            stack.close()
            site.stop()


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
