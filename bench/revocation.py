"""How long an API key revoked in SQL keeps working while it is in heavy use.

Run from the repository root:

    .venv/bin/python bench/revocation.py [--cache file|redis] [--timeout 300]

What it does:

1. Deploys the project with its own settings (tests/stack.py: DJANGO_DEBUG=false, a
   SQLite database in a temporary directory, or PostgreSQL with --postgres
   postgresql://postgres@127.0.0.1:5432/postgres), rate limiting off, the default file
   cache (in the temporary directory) or with --cache redis the Redis at --redis-url;
   gunicorn with --workers sync workers (2).
2. Makes one account key; --concurrency client threads (8) send GET
   /api/v1/get_support_tickets with it without pause.
3. After --warmup seconds (5), revokes the key as an operator or another service would,
   with an UPDATE in the database (not through the app), and keeps the load on until the
   key has been refused for --settle seconds (3) in a row, or --timeout seconds passed.
4. Prints the time from the UPDATE to the last answer 200 (the figure: how long the key
   kept working), the first 401, and the request rate.
"""

import argparse
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stack import Stack

REVOKE = "UPDATE support_apikey SET revoked_at = CURRENT_TIMESTAMP"


def execute(stack: Stack, sql: str) -> None:
    if stack.postgres_url:
        with psycopg.connect(stack.database_url) as db:
            db.execute(sql)
    else:
        with sqlite3.connect(stack.database_url.removeprefix("sqlite:///")) as db:
            db.execute(sql)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", choices=["file", "redis"], default="file")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--postgres", help="a PostgreSQL server's URL (default: SQLite)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--settle", type=float, default=3)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        cache_url = f"filecache://{tmp}/cache" if args.cache == "file" else args.redis_url
        stack = Stack(Path(tmp), args.postgres, CACHE_URL=cache_url, SUPPORT_API_RATE="")
        try:
            made = stack.manage(
                "support_keys", "create", "--account-id", f"{'0' * 8}-0000-4000-8000-{'0' * 12}"
            )
            key = made.split()[-1]
            stack.log_file = Path(tmp) / "desk.log"  # each 401 is logged: not on the console
            url = stack.serve(workers=args.workers)
            measure(stack, url, key, args)
        finally:
            stack.close()


def measure(stack: Stack, url: str, key: str, args) -> None:
    answers: list[tuple[float, int]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        session = requests.Session()
        while not stop.is_set():
            status = session.get(
                f"{url}/api/v1/get_support_tickets",
                headers={"Authorization": f"Bearer {key}"},
                timeout=60,
            ).status_code
            with lock:
                answers.append((time.time(), status))

    pool = [threading.Thread(target=client) for _ in range(args.concurrency)]
    for thread in pool:
        thread.start()
    time.sleep(args.warmup)
    revoked_at = time.time()
    execute(stack, REVOKE)
    while time.time() - revoked_at < args.timeout:
        time.sleep(0.2)
        with lock:
            last_ok = max((t for t, status in answers if status == 200), default=0)
        if time.time() - max(last_ok, revoked_at) >= args.settle:
            break
    stop.set()
    for thread in pool:
        thread.join()

    after = [(t, status) for t, status in answers if t >= revoked_at]
    last_ok = max((t for t, status in after if status == 200), default=None)
    first_refused = min((t for t, status in after if status == 401), default=None)
    elapsed = time.time() - revoked_at
    print(f"== a key revoked in SQL under load: {args.concurrency} clients, gunicorn "
          f"{args.workers} workers, {args.cache} cache, "
          f"{'PostgreSQL' if args.postgres else 'SQLite'}")  # fmt: skip
    if last_ok is not None and time.time() - last_ok < args.settle:
        print(f"still working {elapsed:.0f} s after it was revoked: gave up (--timeout)")
    else:
        worked = 0.0 if last_ok is None else last_ok - revoked_at
        print(f"kept working for {worked:.1f} s after it was revoked (its last answer 200)")
    if first_refused is not None:
        print(f"first refused (401) after {first_refused - revoked_at:.1f} s")
    print(f"statuses after the revocation: {dict(Counter(status for _, status in after))}")
    print(f"requests: {len(answers)} in {answers[-1][0] - answers[0][0]:.0f} s "
          f"({len(answers) / (answers[-1][0] - answers[0][0]):.0f}/s)")  # fmt: skip


if __name__ == "__main__":
    main()
