"""Which browser the browser tests and benches drive: Debian's Chromium, through
Playwright (which is never asked to download a browser of its own)."""

import os

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
