"""How many requests one API key gets past a 10/min limit while 1,000 other keys are in use.

Run from the repository root:

    .venv/bin/python bench/rate_limit.py [--cache file|redis] [--seconds 60]

What it does:

1. Deploys the project with its own settings (tests/stack.py: DJANGO_DEBUG=false, a
   SQLite database in a temporary directory, or PostgreSQL with --postgres
   postgresql://postgres@127.0.0.1:5432/postgres) and SUPPORT_API_RATE=10/min. The cache
   is the project's default, a file cache (CACHE_URL=filecache://<temporary directory>,
   the same configuration as CACHE_URL unset), or with --cache redis the Redis at
   --redis-url (default redis://127.0.0.1:6379/12; the desk's keys carry its namespace,
   nothing is cleared).
2. Makes --keys + 1 account keys and serves the project with gunicorn (--workers sync
   workers, 2 by default).
3. --concurrency client threads (8) send GET /api/v1/get_support_tickets for --seconds:
   every tenth request with the target key, the others with the other keys in turn.
4. Prints, for each minute of the clock (the limit's windows), how many of the target
   key's requests were answered 200, and the sum of what got past the limit (the figure:
   0 means the limit held); then the statuses of all requests and the request rate.
"""

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stack import Stack

MAKE_KEYS = (
    "import uuid\n"
    "from support import keys\n"
    "for i in range({n}):\n"
    "    print(keys.create_key(account_id=uuid.uuid4(), name=f'bench {{i}}')[1])\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", choices=["file", "redis"], default="file")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--postgres", help="a PostgreSQL server's URL (default: SQLite)")
    parser.add_argument("--limit", type=int, default=10, help="requests per key and minute")
    parser.add_argument("--keys", type=int, default=1000, help="other keys in use")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        cache_url = f"filecache://{tmp}/cache" if args.cache == "file" else args.redis_url
        stack = Stack(
            Path(tmp), args.postgres, CACHE_URL=cache_url, SUPPORT_API_RATE=f"{args.limit}/min"
        )
        try:
            made = stack.manage("shell", "-c", MAKE_KEYS.format(n=args.keys + 1))
            target, *others = [word for word in made.split() if word.startswith("sk_")]
            stack.log_file = Path(tmp) / "desk.log"  # a 429 is logged: not on the console
            url = stack.serve(workers=args.workers)
            results = load(url, target, others, args.seconds, args.concurrency)
        finally:
            stack.close()
    report(results, args)


def load(url: str, target: str, others: list[str], seconds: float, threads: int) -> list:
    """(is the target key, status, time answered) of every request sent for `seconds`."""
    lock = threading.Lock()
    counter = iter(range(10**9))
    results = []
    deadline = time.time() + seconds

    def client() -> None:
        session = requests.Session()
        mine = []
        while time.time() < deadline:
            with lock:
                n = next(counter)
            key = target if n % 10 == 0 else others[n % len(others)]
            response = session.get(
                f"{url}/api/v1/get_support_tickets",
                headers={"Authorization": f"Bearer {key}"},
                timeout=60,
            )
            mine.append((key == target, response.status_code, time.time()))
        with lock:
            results.extend(mine)

    pool = [threading.Thread(target=client) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def report(results: list, args) -> None:
    admitted = Counter(
        int(at // 60) for is_target, status, at in results if is_target and status == 200
    )
    windows = sorted({int(at // 60) for _, _, at in results})
    print(f"== {args.limit}/min per key, {args.keys} other keys in use, {args.concurrency} "
          f"clients, gunicorn {args.workers} workers, {args.cache} cache, "
          f"{'PostgreSQL' if args.postgres else 'SQLite'}")  # fmt: skip
    for window in windows:
        print(f"minute {time.strftime('%H:%M', time.gmtime(window * 60))} UTC: "
              f"target key answered 200 {admitted[window]} times")  # fmt: skip
    past = sum(max(0, admitted[w] - args.limit) for w in windows)
    print(f"admitted past the limit: {past}")
    statuses = Counter((is_target, status) for is_target, status, _ in results)
    print(f"target key: {dict(sorted((s, n) for (t, s), n in statuses.items() if t))}")
    print(f"other keys: {dict(sorted((s, n) for (t, s), n in statuses.items() if not t))}")
    print(f"requests: {len(results)} in {args.seconds:.0f} s ({len(results) / args.seconds:.0f}/s)")


if __name__ == "__main__":
    main()
