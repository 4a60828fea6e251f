"""Benchmark of the staff pages in the admin at a million tickets, on PostgreSQL.

Run from the repository root:

    .venv/bin/python bench/admin_pages.py [--tickets 1000000] [--accounts 50000] [--runs 7]

What it does:

1. Uses the database `support_bench_admin` (server: BENCH_DATABASE_URL, default
   postgresql://postgres@127.0.0.1:5432), creating it if missing, and migrates it. If it
   holds fewer than `--tickets` tickets it adds the rest with
   `manage.py support_fake_tickets` (COPY; seeded), over `--accounts` accounts, so the
   first run takes a few minutes and later runs reuse the data.
2. In this process, as a staff user in the "Support staff" group (not a superuser, so
   the permission checks are measured too), requests each page once to warm up, then
   `--runs` times through django.test.Client, counting the SQL queries of each request
   and timing it (the whole request in Django: middleware, session, queries, rendering).
3. Prints per page: HTTP status, queries, and the median and maximum server time in ms,
   against the aims (at most 10 queries, under 300 ms), and every COUNT query seen, which
   must all be bounded (a COUNT over a LIMITed subquery, or grouped for a few accounts):
   an unbounded COUNT(*) over the ticket table fails the run.
4. Exports the solved tickets (about a third of them) as CSV and prints rows, size,
   rows/s and how much this process's peak memory grew: streamed, it stays small.

Exits 1 if a page misses an aim, answers other than 200, or counts the whole table.
"""

import argparse
import os
import re
import resource
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DB_NAME = "support_bench_admin"
AIM_QUERIES = 10
AIM_MS = 300.0


def database_url() -> str:
    server = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, "/" + DB_NAME, "", ""))


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
            print(f"created database {DB_NAME}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    url = database_url()
    ensure_database(url)
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="bench",
        DJANGO_DEBUG="false",
        CACHE_URL="locmemcache://",
        SUPPORT_SITE_URL="https://cocalc.com",
        SUPPORT_PUBLIC_URL="http://127.0.0.1",
    )
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from support.models import Message, Ticket

    setup_test_environment()  # lets the test client's host in; keeps mail in memory
    call_command("migrate", verbosity=0)
    have = Ticket.objects.count()
    if have < args.tickets:
        print(f"filling: {have} tickets, adding {args.tickets - have} (a few minutes)...")
        call_command(
            "support_fake_tickets", tickets=args.tickets - have, accounts=args.accounts, seed=4
        )
    print(f"database {DB_NAME}: {Ticket.objects.count()} tickets, "
          f"{Ticket.objects.exclude(account_id=None).values('account_id').distinct().count()}"
          f" accounts, {Message.objects.count()} messages")  # fmt: skip

    user, _ = User.objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Support staff"))
    client = Client()
    client.force_login(user)

    # An account active lately, and the ticket of the newest message (a conversation).
    busy = (
        Ticket.objects.exclude(account_id=None)
        .filter(created_at__gte=Ticket.objects.order_by("-created_at")[10_000].created_at)
        .values_list("account_id", flat=True)
        .first()
    )
    ticket_id = Message.objects.order_by("-id").values_list("ticket_id", flat=True).first()
    accounts_page_10 = "/admin/support/account/"
    for _page in range(9):  # follow "Next page" as staff would
        next_url = client.get(accounts_page_10).context["next_url"]
        accounts_page_10 = "/admin/support/account/" + next_url
    pages = [
        ("ticket list", "/admin/support/ticket/"),
        ("ticket list, page 5", "/admin/support/ticket/?p=5"),
        ("ticket list, status=open", "/admin/support/ticket/?status=open"),
        ("ticket list, status=closed", "/admin/support/ticket/?status=closed"),
        ("ticket list, search account id", f"/admin/support/ticket/?q={busy}"),
        ("ticket list, search ticket id", f"/admin/support/ticket/?q={ticket_id}"),
        ("ticket list, search text 'numpy'", "/admin/support/ticket/?q=numpy"),
        ("ticket list, tag=billing", "/admin/support/ticket/?tag=billing"),
        ("accounts list", "/admin/support/account/"),
        ("accounts list, page 10", accounts_page_10),
        ("account page", f"/admin/support/account/{busy}/"),
        ("ticket page (with messages)", f"/admin/support/ticket/{ticket_id}/change/"),
    ]
    failed = False
    counts_seen: list[tuple[str, str]] = []
    print(f"\n{'page':<34} {'HTTP':>4} {'queries':>7} {'median ms':>10} {'max ms':>8}")
    for name, path in pages:
        client.get(path)  # warm up caches (templates, connection)
        times, queries, status = [], 0, 0
        for _run in range(args.runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path)
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()
                times.append((time.perf_counter() - started) * 1000)
            status = response.status_code
            queries = len(captured.captured_queries)
        for query in captured.captured_queries:
            if re.search(r"\bCOUNT\(", query["sql"], re.IGNORECASE):
                counts_seen.append((name, query["sql"]))
        median, worst = statistics.median(times), max(times)
        miss = status != 200 or queries > AIM_QUERIES or median >= AIM_MS
        failed |= miss
        print(f"{name:<34} {status:>4} {queries:>7} {median:>10.1f} {worst:>8.1f}"
              f"{'   MISSES THE AIM' if miss else ''}")  # fmt: skip
    print(f"\naims: at most {AIM_QUERIES} queries, median under {AIM_MS:.0f} ms")

    # The CSV export of a large filter, streamed: its memory must not grow with the rows.
    export = "/admin/support/ticket/export/?status=solved"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.get(export)
    rows = size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    print(f"\nexport {export}: {rows - 1} rows, {size / 1e6:.0f} MB in {seconds:.1f} s "
          f"({(rows - 1) / seconds:.0f} rows/s); peak memory grew by {grown:.0f} MB")  # fmt: skip
    print("\nCOUNT queries seen (each must be bounded by a LIMIT or an account):")
    for name, sql in counts_seen:
        bounded = " LIMIT " in sql or '"account_id" IN' in sql or '"account_id" =' in sql
        failed |= not bounded
        print(f"  [{name}] {'bounded' if bounded else 'UNBOUNDED'}: {sql[:160]}...")
    if not counts_seen:
        print("  none")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
