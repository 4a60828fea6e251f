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
   `--requests` requests from `--concurrency` threads. With `--rounds N` it alternates
   create and floor N times with a part of the requests each, so that a machine whose
   speed drifts (as virtual machines' do) favours neither.
4. Prints requests/s and latency of both, the ratio create/floor (the aim is >= 0.6) and
   the CPU time per request of gunicorn's workers, PostgreSQL and the loader.
5. Checks that the database holds exactly one row per successful answer.
6. In this process, sends `--sample` creates through django.test.Client and counts the
   SQL queries of each (the aim is at most 3); then sends `--sample` requests to each
   target through Django's WSGI handler, as gunicorn does, and counts the statements
   PostgreSQL ran (its transaction statistics), which also shows what Django sends
   outside its query log.

Exits 1 if the row counts do not match the successful answers.
"""

import argparse
import contextlib
import functools
import io
import json
import os
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # so that `bench.*` and `config.*` import

from bench.load import make_bodies, summarise

PYTHON = str(REPO / ".venv" / "bin" / "python")
GUNICORN = str(REPO / ".venv" / "bin" / "gunicorn")
DB_NAME = "support_bench"
CREATE_PATH = "/api/v1/create_support_ticket"
TARGETS = {"create": CREATE_PATH, "floor": "/bench/floor"}
AIM_RATIO = 0.6
AIM_QUERIES = 3
OTHER_BUSY_WARNING = 0.05  # of the machine's CPU capacity


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
        # WhiteNoise warns that `collectstatic` has not run; the benchmark serves no files.
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
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


def postgres_pids() -> list[int]:
    """PostgreSQL's processes on this machine (none if the server is elsewhere)."""
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == "postgres":
                pids.append(int(comm.parent.name))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time the processes `pids` have used so far."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all cores spent running something (not idle, waiting for I/O or stolen)."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = ticks[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU time of the finished child processes this script has waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_phase(server_pid: int, run) -> dict:
    """Call `run()` (which runs the loader and returns its report); add the CPU time that
    gunicorn's workers, PostgreSQL, the loader and the whole machine used meanwhile."""
    workers = worker_pids(server_pid)

    def sample():
        return (
            cpu_seconds(workers),
            cpu_seconds(postgres_pids()),
            children_cpu_seconds(),
            machine_busy_seconds(),
        )

    before = sample()
    start = time.perf_counter()
    result = run()
    wall = time.perf_counter() - start
    gunicorn, postgres, loader, busy = (b - a for a, b in zip(before, sample(), strict=True))
    result["cpu_s"] = {"gunicorn": gunicorn, "postgres": postgres, "loader": loader}
    result["busy_s"] = busy
    result["capacity_s"] = wall * (os.cpu_count() or 1)
    return result


def combine(parts: list[dict]) -> dict:
    """One target's results over all rounds.

    The CPU figures cover whole loader runs, warm-up included, and are divided by all
    requests sent. "other_busy" is the machine's busy time not used by gunicorn,
    PostgreSQL or the loader: other processes (such as tests someone runs meanwhile) and
    interrupt work; if it is large, the figures are disturbed.
    """
    statuses = Counter()
    for part in parts:
        statuses.update(part["statuses"])
    result = summarise(
        [ms / 1000 for part in parts for ms in part["latencies_ms"]],
        dict(statuses),
        sum(part["elapsed_s"] for part in parts),
    )
    result["warmup"] = parts[0]["warmup"]
    sent = sum(part["requests"] + part["warmup"]["requests"] for part in parts)
    result["cpu_ms_per_request"] = {
        name: sum(part["cpu_s"][name] for part in parts) * 1000 / sent
        for name in ("gunicorn", "postgres", "loader")
    }
    capacity = sum(part["capacity_s"] for part in parts)
    busy = sum(part["busy_s"] for part in parts)
    result["machine_busy"] = busy / capacity
    result["other_busy"] = max(0.0, busy - sum(sum(p["cpu_s"].values()) for p in parts)) / capacity
    result["round_rps"] = [part["rps"] for part in parts]
    return result


def run_loader(port: int, path: str, key: str, seed: int, args, offset: int, count: int) -> dict:
    """Run bench/load.py in its own process: `count` bodies from number `offset` on, after
    the warm-up if `offset` is 0."""
    warmup = args.warmup if offset == 0 else 0
    command = [PYTHON, "-m", "bench.load", "--port", str(port), "--path", path, "--key", key]
    command += ["--seed", str(seed), "--offset", str(offset), "--requests", str(count)]
    command += ["--concurrency", str(args.concurrency), "--warmup", str(warmup)]
    done = subprocess.run(command, check=False, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the loader failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_rounds(port: int, server_pid: int, key: str, args) -> dict[str, dict]:
    """Send `args.requests` requests to each target, in `args.rounds` alternating parts."""
    seed = secrets.randbits(32)
    sizes = [
        args.requests // args.rounds + (i < args.requests % args.rounds) for i in range(args.rounds)
    ]
    parts: dict[str, list[dict]] = {name: [] for name in TARGETS}
    offset = 0
    for size in sizes:
        for name, path in TARGETS.items():
            load = functools.partial(run_loader, port, path, key, seed, args, offset, size)
            parts[name].append(measure_phase(server_pid, load))
        offset += size
    return {name: combine(target_parts) for name, target_parts in parts.items()}


def count_rows(db_url: str, table: str) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def setup_django(env: dict[str, str]) -> None:
    """Configure Django in this process as gunicorn's workers are configured."""
    os.environ.update(env)
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    import django

    django.setup()


def count_queries(key: str, sample: int) -> list[list[str]]:
    """Send `sample` creates through django.test.Client; return the SQL of each."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    statements = []
    for body in make_bodies(secrets.randbits(32), "queries", 0, sample):
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


def committed_transactions(server_url: str) -> int:
    """Transactions committed or rolled back in the bench database, as the statistics say
    (a backend reports its counts at the latest when it exits)."""
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as conn:
        return conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
            [DB_NAME],
        ).fetchone()[0]


def transactions_per_request(server_url: str, path: str, key: str, count: int) -> float:
    """PostgreSQL transactions per request sent through Django's WSGI handler, as gunicorn
    sends them. In autocommit each statement is a transaction, so this counts statements,
    including any the test client does not show, such as the connection health check."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    handler = WSGIHandler()
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    connection.close()
    before = committed_transactions(server_url)
    for body in make_bodies(secrets.randbits(32), "transactions", 0, count):
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Bearer {key}",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
        }
        response = handler(environ, start_response)
        response.close()  # sends request_finished, as a WSGI server does
        if not statuses[-1].startswith("200"):
            raise RuntimeError(f"{path} answered {statuses[-1]}")
    connection.close()  # the backend exits and reports its counts
    after, deadline = before, time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.2)
        latest = committed_transactions(server_url)
        if latest == after and latest - before >= count:
            break
        after = latest
    return (after - before) / count


def code_version() -> str:
    """The commit measured, and which files differ from it (others may be editing)."""
    git = ["git", "-C", str(REPO)]
    try:
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    changed = [line[3:] for line in changed if line.strip()]
    return commit + (f" + uncommitted changes in {', '.join(changed)}" if changed else "")


def print_results(create: dict, floor: dict, args, code: str) -> None:
    rounds = f", in {args.rounds} alternating rounds" if args.rounds > 1 else ""
    print(
        f"\nPOST, {args.requests} requests (+{args.warmup} warm-up) per target{rounds}, "
        f"concurrency {args.concurrency}, gunicorn 2 sync workers, PostgreSQL, "
        f"{os.cpu_count()} cores"
    )
    print(f"code: {code}\n")
    header = (
        f"{'':8}{'requests':>9}{'ok':>7}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, result in (("create", create), ("floor", floor)):
        print(
            f"{name:8}{result['requests']:>9}{result['ok']:>7}{result['failed']:>8}"
            f"{result['rps']:>9.1f}{result['p50_ms']:>9.2f}{result['p99_ms']:>9.2f}"
            f"{result['max_ms']:>9.2f}"
        )
        if result["failed_statuses"]:
            print(f"{'':8}errors by status: {result['failed_statuses']}")
    ratio = create["rps"] / floor["rps"]
    verdict = "OK" if ratio >= AIM_RATIO else "BELOW AIM"
    print(f"\nratio create_rps / floor_rps = {ratio:.2f} (aim >= {AIM_RATIO}): {verdict}")
    if args.rounds > 1:
        ratios = [c / f for c, f in zip(create["round_rps"], floor["round_rps"], strict=True)]
        print(f"ratio in each round: {', '.join(f'{r:.2f}' for r in ratios)}")

    print("\nCPU time per request (ms), and how busy the cores were during the loader run:")
    header = (
        f"{'':8}{'gunicorn':>10}{'postgres':>10}{'loader':>8}{'machine busy':>14}"
        f"{'of which other':>16}"
    )
    print(header)
    print("-" * len(header))
    for name, result in (("create", create), ("floor", floor)):
        cpu = result["cpu_ms_per_request"]
        print(
            f"{name:8}{cpu['gunicorn']:>10.2f}{cpu['postgres']:>10.2f}{cpu['loader']:>8.2f}"
            f"{result['machine_busy']:>14.0%}{result['other_busy']:>16.0%}"
        )
    print(
        "(other: the rest of the machine: other processes, and interrupt work such as"
        " loopback networking)"
    )
    if max(create["other_busy"], floor["other_busy"]) > OTHER_BUSY_WARNING:
        print(
            "WARNING: other processes used the cores meanwhile: the figures are disturbed;"
            " run again on a quiet machine."
        )
    print()


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


def print_transactions(per_request: dict[str, float], sample: int) -> None:
    print(
        f"\nPostgreSQL statements (autocommit transactions, from pg_stat_database) per request "
        f"through Django's WSGI handler, as under gunicorn ({sample} requests each):"
    )
    print("  " + ", ".join(f"{name} {count:.2f}" for name, count in per_request.items()))
    print(
        "  (these include the CONN_HEALTH_CHECKS `SELECT 1` that Django sends before a"
        " request's first query, which the test client above does not show, and once per"
        " run the statements of opening the connection)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per target")
    parser.add_argument("--concurrency", type=int, default=8, help="loader threads")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests first")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="alternate create and floor this many times, each with requests/rounds requests"
        " (evens out a machine whose speed drifts)",
    )
    parser.add_argument("--sample", type=int, default=50, help="creates to count queries of")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` runs

    server_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")
    db_url = database_url(server_url, DB_NAME)
    env = django_env(db_url)
    key = prepare_database(server_url, env)
    code = code_version()

    with tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-", suffix=".log") as log:
        port = free_port()
        server = start_gunicorn(env, port, log)
        try:
            wait_until_up(server, port)
            results = run_rounds(port, server.pid, key, args)
        finally:
            stop(server)
            log.seek(0)
            server_log = log.read().strip()
            if server_log:
                print(
                    f"gunicorn's log (last 3000 characters):\n{server_log[-3000:]}", file=sys.stderr
                )

    print_results(results["create"], results["floor"], args, code)
    rows_ok = check_rows(db_url, results["create"], results["floor"])
    setup_django(env)
    print_queries(count_queries(key, args.sample))
    print_transactions(
        {
            name: transactions_per_request(server_url, path, key, args.sample)
            for name, path in TARGETS.items()
        },
        args.sample,
    )
    return 0 if rows_ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted (gunicorn was stopped)")
