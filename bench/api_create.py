"""Benchmark of `POST /api/v1/create_support_ticket` against a floor, on PostgreSQL.

Run from the repository root:

    .venv/bin/python bench/api_create.py [--requests 3000] [--concurrency 8]

What it does:

1. Drops and recreates the database `support_bench` (server: BENCH_DATABASE_URL, default
   postgresql://postgres@127.0.0.1:5432), migrates it, creates the floor's table
   `bench_floor` and a service API key.
2. Starts gunicorn (`config.wsgi`, 2 sync workers) with DJANGO_SETTINGS_MODULE =
   bench.floor_settings: the project's settings plus the view `bench/floor`, which only
   parses the JSON body and inserts it as one row (see bench/floor_urls.py).
3. Runs the load generator (bench/load.py) in a separate process, first against the real
   API, then against the floor, with the same bodies: a warm-up that is not timed, then
   `--requests` requests from `--concurrency` threads.
4. Prints requests/s and latency of both, and the ratio create/floor (the aim is >= 0.6).
5. Checks that the database holds exactly one row per successful answer.
6. In this process, sends `--sample` creates through django.test.Client and counts the
   SQL queries of each (the aim is at most 3).

Exits 1 if the row counts do not match the successful answers.
"""

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # so that `bench.*` and `config.*` import

from bench.load import make_bodies

PYTHON = str(REPO / ".venv" / "bin" / "python")
GUNICORN = str(REPO / ".venv" / "bin" / "gunicorn")
DB_NAME = "support_bench"
CREATE_PATH = "/api/v1/create_support_ticket"
FLOOR_PATH = "/bench/floor"
AIM_RATIO = 0.6
AIM_QUERIES = 3


def database_url(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url`."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def recreate_database(server_url: str) -> None:
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def django_env(db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SECRET_KEY": "bench",
        "DJANGO_DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "bench.floor_settings",
        "SUPPORT_API_RATE": "",  # rate limiting off
        "CACHE_URL": "redis://127.0.0.1:6379/15",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=REPO, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def prepare_database(server_url: str, env: dict[str, str]) -> str:
    """Recreate and migrate the bench database, add the floor's table; return an API key."""
    recreate_database(server_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor (id uuid PRIMARY KEY, payload jsonb NOT NULL,"
            " created timestamptz NOT NULL DEFAULT now())"
        )
    output = manage(env, "support_keys", "create", "--service", "--name", "bench")
    return output.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, log) -> subprocess.Popen:
    command = [GUNICORN, "config.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning"]
    # A session of its own: Ctrl-C reaches only this script, which then stops gunicorn.
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True
    )


def wait_until_up(server: subprocess.Popen, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                if sock.recv(12).startswith(b"HTTP/"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time the processes `pids` have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def run_loader(port: int, path: str, key: str, args, seed: int) -> dict:
    command = [PYTHON, "-m", "bench.load", "--port", str(port), "--path", path, "--key", key]
    command += ["--requests", str(args.requests), "--concurrency", str(args.concurrency)]
    command += ["--warmup", str(args.warmup), "--seed", str(seed)]
    done = subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def count_rows(db_url: str, table: str) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def count_queries(env: dict[str, str], key: str, sample: int, seed: int) -> list[list[str]]:
    """Send `sample` creates through django.test.Client; return the SQL of each."""
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    statements = []
    for body in make_bodies(seed, sample):
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                CREATE_PATH,
                data=body.decode(),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {key}",
                SERVER_NAME="127.0.0.1",
            )
        if response.status_code != 200:
            raise RuntimeError(f"create answered {response.status_code}: {response.content!r}")
        statements.append([query["sql"] for query in captured.captured_queries])
    return statements


def print_results(create: dict, floor: dict, args) -> None:
    print(
        f"\nPOST, {args.requests} requests (+{args.warmup} warm-up), concurrency "
        f"{args.concurrency}, gunicorn 2 sync workers, PostgreSQL\n"
    )
    header = (
        f"{'':8}{'requests':>9}{'ok':>7}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'server CPU ms/req':>19}"
    )
    print(header)
    print("-" * len(header))
    for name, result in (("create", create), ("floor", floor)):
        print(
            f"{name:8}{result['requests']:>9}{result['ok']:>7}{result['failed']:>8}"
            f"{result['rps']:>9.1f}{result['p50_ms']:>9.2f}{result['p99_ms']:>9.2f}"
            f"{result['max_ms']:>9.2f}{result['server_cpu_ms_per_request']:>19.2f}"
        )
        if result["failed_statuses"]:
            print(f"{'':8}errors by status: {result['failed_statuses']}")
    print(
        f"\nloader CPU: create {create['loader_cpu_s']:.2f} s, floor {floor['loader_cpu_s']:.2f} s"
        " (the loader shares the 2 cores with gunicorn and PostgreSQL)"
    )
    ratio = create["rps"] / floor["rps"]
    verdict = "OK" if ratio >= AIM_RATIO else "BELOW AIM"
    print(f"ratio create_rps / floor_rps = {ratio:.2f} (aim >= {AIM_RATIO}): {verdict}")


def check_rows(db_url: str, create: dict, floor: dict) -> bool:
    good = True
    for name, table, result in (
        ("create", "support_ticket", create),
        ("floor", "bench_floor", floor),
    ):
        expected = result["ok"] + result["warmup"]["ok"]
        rows = count_rows(db_url, table)
        verdict = "OK" if rows == expected else "MISMATCH"
        good &= rows == expected
        print(
            f"rows in {table}: {rows}; 200 answers: {expected} "
            f"({result['warmup']['ok']} warm-up + {result['ok']}): {verdict}"
        )
    return good


def print_queries(statements: list[list[str]]) -> None:
    counts = [len(sql) for sql in statements]
    verdict = "OK" if max(counts) <= AIM_QUERIES else "ABOVE AIM"
    print(
        f"\nSQL queries per create ({len(counts)} creates via django.test.Client): "
        f"min {min(counts)}, avg {statistics.mean(counts):.2f}, max {max(counts)} "
        f"(aim <= {AIM_QUERIES}): {verdict}"
    )
    print("queries of one create:")
    for sql in statements[-1]:
        print(f"  {sql[:120]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per target")
    parser.add_argument("--concurrency", type=int, default=8, help="loader threads")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests first")
    parser.add_argument("--sample", type=int, default=50, help="creates to count queries of")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` runs

    server_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")
    db_url = database_url(server_url, DB_NAME)
    env = django_env(db_url)
    key = prepare_database(server_url, env)
    seed = secrets.randbits(32)

    results = {}
    with tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-", suffix=".log") as log:
        port = free_port()
        server = start_gunicorn(env, port, log)
        try:
            wait_until_up(server, port)
            workers = worker_pids(server.pid)
            for name, path in (("create", CREATE_PATH), ("floor", FLOOR_PATH)):
                cpu_before = cpu_seconds(workers)
                result = run_loader(port, path, key, args, seed)
                server_cpu = cpu_seconds(workers) - cpu_before
                total = result["requests"] + result["warmup"]["requests"]
                result["server_cpu_ms_per_request"] = server_cpu * 1000 / total
                results[name] = result
        finally:
            stop(server)
            log.seek(0)
            server_log = log.read().strip()
    if server_log:
        print(f"gunicorn log:\n{server_log[-3000:]}")

    print_results(results["create"], results["floor"], args)
    rows_ok = check_rows(db_url, results["create"], results["floor"])
    print_queries(count_queries(env, key, args.sample, seed + 1))
    return 0 if rows_ok else 1


if __name__ == "__main__":
    sys.exit(main())
