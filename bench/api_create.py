"""Benchmark of `POST /api/v1/create_support_ticket` against a floor, on PostgreSQL, with
and without the deliveries a ticket causes; then a delivery worker's throughput.

Run from the repository root:

    .venv/bin/python bench/api_create.py [--requests 3000] [--concurrency 8] [--rounds 3]

What it does:

1. Drops and recreates the database `support_bench` (server: BENCH_DATABASE_URL, default
   postgresql://postgres@127.0.0.1:5432), migrates it, creates the floor's table
   `bench_floor` and a service API key. Starts, in this process, a local SMTP server
   (aiosmtpd) and a local webhook receiver (http.server) that count what they receive
   (bench/receivers.py); they stay idle until step 6.
2. Starts two gunicorns (`config.wsgi`, 2 sync workers each) on the same database, with
   DJANGO_SETTINGS_MODULE = bench.floor_settings: the project's settings plus the view
   `bench/floor`, which only parses the JSON body and inserts it as one row (see
   bench/floor_urls.py). The two are configured alike except for the three settings that
   switch deliveries on: the "plain" server has SUPPORT_CONFIRM_TO_REQUESTER=false, no
   SUPPORT_STAFF_EMAILS and no SUPPORT_FORWARD_BACKEND, so a create enqueues nothing; the
   "deliveries" server confirms to the requester, notifies staff@example.com and forwards
   to the local webhook (support.backends.webhook), so a create also writes, in the
   ticket's own INSERT, the kinds it causes (`unplanned_deliveries`, e.g.
   "confirmation,staff_notification,forward"; "" on the plain server) and, on commit,
   wakes the worker (support.deliveries.wake): it enqueues one `plan_and_deliver` task
   through django_tasks_db's DatabaseBackend only if a flag in the (Redis) cache, which
   expires after 10 s, was not already set; so a whole load phase enqueues very few tasks.
   No Delivery row is stored by a create. No worker runs meanwhile: deliveries pile up.
3. Runs the load generator (bench/load.py) in a separate process against three targets:
   `create` (the API on the plain server), `create+deliv` (the API on the deliveries
   server, with bodies of their own, so that no create is a retry of another) and `floor`
   (on the plain server, with the same bodies as `create`): a warm-up that is not timed,
   then `--requests` requests from `--concurrency` threads. With `--rounds N` it runs the
   targets N times with a part of the requests each, in reverse order every other round,
   so that a machine whose speed drifts (as virtual machines' do) favours none.
4. Prints requests/s and latency of each, the ratios create/floor (the aim is >= 0.6) and
   create+deliv/create (the aim is >= 0.9), and the CPU time per request of gunicorn's
   workers, PostgreSQL (the processes serving the bench database, and the server's own)
   and the loader. Checks that the database holds exactly one ticket per successful
   answer, that the deliveries server's tickets have all three kinds unplanned and the
   plain server's none, that there is no Delivery row yet, and that the ready
   `plan_and_deliver` tasks are at least one and at most 1 + (load time)/10 s + 1 (the
   flag lets through at most one per 10 s), with no `deliver` task.
5. In this process, sends `--sample` creates through django.test.Client and counts the
   SQL statements of each (the aim is at most 3), separating transaction control (BEGIN,
   COMMIT, SAVEPOINT...) from data statements; then the same with the deliveries server's
   SUPPORT settings (override_settings), after clearing the wake flag, so that the first
   counted create shows what a wake costs (the test client runs in autocommit, where
   on_commit callbacks run at once, inside the counting): the task INSERT is counted
   apart from the ticket's statements. Then sends `--sample` requests to each target
   through Django's WSGI handler, as gunicorn does, and counts the statements PostgreSQL
   ran (its transaction statistics), which also shows what Django sends outside its query
   log.
6. Runs ONE `manage.py db_worker --batch --interval 0` (the deliveries server's
   environment) over all unplanned deliveries (those of steps 3 and 5: unplanned tickets
   x kinds), timed from its start until it exits; prints deliveries/s and the CPU time per
   delivery of the worker, PostgreSQL and this process (the receivers). Checks that every
   ticket was planned, every delivery was sent (by kind, as many as were unplanned; none
   pending or failed), every task succeeded (no `deliver` retry task), and the receivers
   got exactly one message per e-mail delivery sent and one correctly signed POST per
   forward sent, with no repeated Message-ID or delivery id.

Exits 1 if a check of steps 4 or 6 fails.
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
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # so that `bench.*` and `config.*` import

from bench.load import make_bodies, summarise
from bench.receivers import SmtpReceiver, WebhookReceiver

PYTHON = str(REPO / ".venv" / "bin" / "python")
GUNICORN = str(REPO / ".venv" / "bin" / "gunicorn")
DB_NAME = "support_bench"
CREATE_PATH = "/api/v1/create_support_ticket"
FLOOR_PATH = "/bench/floor"
AIM_RATIO = 0.6
AIM_DELIVERIES_RATIO = 0.9
AIM_QUERIES = 3
OTHER_BUSY_WARNING = 0.05  # of the machine's CPU capacity

# What the deliveries server sends, and through what.
STAFF_EMAIL = "staff@example.com"
WEBHOOK_SECRET = "bench"
FORWARD_BACKEND = "support.backends.webhook.ForwardBackend"
TASKS_BACKEND = "django_tasks_db.DatabaseBackend"
TASKS_TABLE = "django_tasks_database_dbtaskresult"
PLAN_TASK = "support.tasks.plan_and_deliver"
DELIVER_TASK = "support.tasks.deliver"
WAKE_SECONDS = 10  # support.deliveries.WAKE_SECONDS: at most one wake-up task per this
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    server: str  # "plain" (deliveries off) or "deliveries"
    seed: int  # added to the run's seed: targets with the same one send the same bodies


TARGETS = (
    Target("create", CREATE_PATH, "plain", 0),
    Target("create+deliv", CREATE_PATH, "deliveries", 1),
    Target("floor", FLOOR_PATH, "plain", 0),
)
SERVERS = ("plain", "deliveries")


def database_url(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url`."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def recreate_database(server_url: str) -> None:
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


CACHE_DIR = Path(tempfile.gettempdir()) / f"support-bench-cache-{os.getpid()}"


def django_env(db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SECRET_KEY": "bench",
        "DJANGO_DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "bench.floor_settings",
        "SUPPORT_API_RATE": "",  # rate limiting off
        "SUPPORT_SITE_URL": "https://cocalc.com",
        # The project's default, a file cache (one machine, as here); BENCH_CACHE_URL=redis://
        # ... measures the several-machines set-up (a Redis round trip costs 0.3-0.5 ms of
        # CPU per cache call on this kind of VM: the API key lookup and the wake-up).
        "CACHE_URL": os.environ.get("BENCH_CACHE_URL", f"filecache://{CACHE_DIR}"),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # WhiteNoise warns that `collectstatic` has not run; the benchmark serves no files.
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }


def delivery_support(on: bool, public_url: str, webhook_url: str) -> dict:
    """SUPPORT settings with deliveries on or off. Only the three switches differ, so that
    servers configured with either are alike otherwise."""
    return {
        "PUBLIC_URL": public_url,
        "WEBHOOK_URL": webhook_url,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CONFIRM_TO_REQUESTER": on,
        "STAFF_EMAILS": [STAFF_EMAIL] if on else [],
        "FORWARD_BACKEND": FORWARD_BACKEND if on else None,
    }


def expected_kinds(support: dict) -> list[str]:
    """The Delivery kinds a new ticket causes under `support` (support/deliveries.py)."""
    switches = {
        "confirmation": support["CONFIRM_TO_REQUESTER"],
        "staff_notification": support["STAFF_EMAILS"],
        "forward": support["FORWARD_BACKEND"],
    }
    return [kind for kind, on in switches.items() if on]


def configured_env(env: dict[str, str], support: dict, smtp_port: int) -> dict[str, str]:
    """`env` plus the variables config/settings.py reads `support` from, e-mail through
    the SMTP server at 127.0.0.1:`smtp_port`, and django_tasks_db's backend."""
    env = {**env, "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}
    env["SUPPORT_TASKS_BACKEND"] = TASKS_BACKEND
    for name, value in support.items():
        variable = f"SUPPORT_{name}"
        if value is None:
            env.pop(variable, None)
        elif isinstance(value, bool):
            env[variable] = "true" if value else "false"
        elif isinstance(value, list):
            env[variable] = ",".join(value)
        else:
            env[variable] = str(value)
    return env


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
    # No control socket: every gunicorn's default is the same path, ~/.gunicorn/gunicorn.ctl,
    # which two servers (ours, or someone else's) would take from each other.
    command += ["--log-level", "warning", "--no-control-socket"]
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


def stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command: state, ppid, ... (utime is index 11)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time the processes `pids` have used so far."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = stat_fields(pid)
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


class PostgresCpu:
    """CPU time of the PostgreSQL processes that work for the bench database: its
    backends, and the server's own processes (postmaster, WAL writer, checkpointer...).

    Backends of other databases (someone's tests) do not count: their work is "other".
    A thread samples every `interval` seconds, so that a backend that exits meanwhile (a
    connection closed, such as the worker's when it exits) counts up to its last sample.
    All zero if the server runs on another machine.
    """

    def __init__(self, server_url: str, interval: float = 0.25) -> None:
        self._conn = psycopg.connect(database_url(server_url, "postgres"), autocommit=True)
        self._interval = interval
        self._lock = threading.Lock()
        self._seen: dict[tuple[int, str], float] = {}  # (pid, start time) -> CPU seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def seconds(self) -> float:
        """CPU time used so far by every such process seen since the start."""
        self._sample()
        with self._lock:
            return sum(self._seen.values())

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._conn.close()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _sample(self) -> None:
        with self._lock:
            rows = self._conn.execute(
                "SELECT pid, datname IS NULL FROM pg_stat_activity"
                " WHERE datname = %s OR datname IS NULL",
                [DB_NAME],
            ).fetchall()
            pids = {pid for pid, _server in rows}
            for pid, server_process in rows:
                with contextlib.suppress(OSError):
                    if server_process:  # its parent is the postmaster
                        pids.add(int(stat_fields(pid)[1]))
                        break
            for pid in pids:
                with contextlib.suppress(OSError):
                    fields = stat_fields(pid)
                    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                    self._seen[pid, fields[19]] = cpu  # utime + stime; starttime


def machine_busy_seconds() -> float:
    """CPU time all cores spent running something (not idle, waiting for I/O or stolen)."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = ticks[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU time of the finished child processes this script has waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu_seconds() -> float:
    """CPU time of this process, all threads (the receivers')."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_phase(server_pid: int, postgres: PostgresCpu, run) -> dict:
    """Call `run()` (which runs the loader and returns its report); add the CPU time that
    gunicorn's workers, PostgreSQL, the loader and the whole machine used meanwhile."""
    workers = worker_pids(server_pid)

    def sample():
        return (
            cpu_seconds(workers),
            postgres.seconds(),
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


def run_rounds(
    servers: dict[str, tuple[int, int]], postgres: PostgresCpu, key: str, args
) -> dict[str, dict]:
    """Send `args.requests` requests to each target, in `args.rounds` parts; the targets
    take turns, in reverse order every other round. `servers`: name -> (pid, port)."""
    seed = secrets.randbits(32)
    sizes = [
        args.requests // args.rounds + (i < args.requests % args.rounds) for i in range(args.rounds)
    ]
    parts: dict[str, list[dict]] = {target.name: [] for target in TARGETS}
    offset = 0
    for number, size in enumerate(sizes):
        for target in TARGETS if number % 2 == 0 else TARGETS[::-1]:
            pid, port = servers[target.server]
            load = functools.partial(
                run_loader, port, target.path, key, seed + target.seed, args, offset, size
            )
            parts[target.name].append(measure_phase(pid, postgres, load))
        offset += size
    return {name: combine(target_parts) for name, target_parts in parts.items()}


def serve_and_load(
    envs: dict[str, dict], ports: dict[str, int], postgres: PostgresCpu, key: str, args
) -> dict[str, dict]:
    """Start a gunicorn per server (both up throughout), run the rounds, stop them."""
    with tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-", suffix=".log") as log:
        servers: dict[str, tuple[subprocess.Popen, int]] = {}
        try:
            for name in SERVERS:
                servers[name] = (start_gunicorn(envs[name], ports[name], log), ports[name])
            for server, port in servers.values():
                wait_until_up(server, port)
            return run_rounds(
                {name: (server.pid, port) for name, (server, port) in servers.items()},
                postgres,
                key,
                args,
            )
        finally:
            for server, _port in servers.values():
                stop(server)
            log.seek(0)
            server_log = log.read().strip()
            if server_log:
                print(
                    f"gunicorn's log (last 3000 characters):\n{server_log[-3000:]}", file=sys.stderr
                )


def query(db_url: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(sql, params).fetchall()


def count_rows(db_url: str, table: str) -> int:
    return query(db_url, f"SELECT count(*) FROM {table}")[0][0]


def delivery_counts(db_url: str) -> Counter:
    """(kind, status) -> number of Delivery rows."""
    rows = query(db_url, "SELECT kind, status, count(*) FROM support_delivery GROUP BY 1, 2")
    return Counter({(kind, status): count for kind, status, count in rows})


def task_counts(db_url: str) -> dict[tuple[str, str], int]:
    """(task path, status) -> number of tasks."""
    rows = query(db_url, f"SELECT task_path, status, count(*) FROM {TASKS_TABLE} GROUP BY 1, 2")
    return {(path, status): count for path, status, count in sorted(rows)}


def unplanned(db_url: str) -> dict[str, int]:
    """Kind -> tickets that have it among their unplanned deliveries."""
    rows = query(
        db_url,
        "SELECT kind, count(*) FROM support_ticket,"
        " unnest(string_to_array(unplanned_deliveries, ',')) AS kind"
        " WHERE unplanned_deliveries <> '' GROUP BY 1 ORDER BY 1",
    )
    return dict(rows)


def by_kind(counts: Counter, status: str) -> dict[str, int]:
    return {kind: n for (kind, s), n in sorted(counts.items()) if s == status}


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


def verdict(good: bool, bad: str = "MISMATCH") -> str:
    return "OK" if good else bad


def check(good: bool, line: str) -> bool:
    """Print `line` with the verdict; return `good`."""
    print(f"{line}: {verdict(good)}")
    return good


def print_results(results: dict[str, dict], kinds: list[str], args, code: str) -> None:
    rounds = f", in {args.rounds} rounds" if args.rounds > 1 else ""
    print(
        f"\nPOST, {args.requests} requests (+{args.warmup} warm-up) per target{rounds}, "
        f"concurrency {args.concurrency}, 2 gunicorns of 2 sync workers each, PostgreSQL, "
        f"{os.cpu_count()} cores"
    )
    print(f"code: {code}")
    print(f"cache: {django_env('')['CACHE_URL']}")
    print(
        "create: deliveries off; create+deliv: each create also writes the kinds to plan"
        f" ({', '.join(kinds)}) in the ticket's INSERT and wakes the worker (a cache flag;"
        " a task at most once per 10 s; no worker runs); floor: one INSERT\n"
    )
    header = (
        f"{'':14}{'requests':>9}{'ok':>7}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, result in results.items():
        print(
            f"{name:14}{result['requests']:>9}{result['ok']:>7}{result['failed']:>8}"
            f"{result['rps']:>9.1f}{result['p50_ms']:>9.2f}{result['p99_ms']:>9.2f}"
            f"{result['max_ms']:>9.2f}"
        )
        if result["failed_statuses"]:
            print(f"{'':14}errors by status: {result['failed_statuses']}")
    print()
    for over, under, aim in (
        ("create", "floor", AIM_RATIO),
        ("create+deliv", "create", AIM_DELIVERIES_RATIO),
    ):
        ratio = results[over]["rps"] / results[under]["rps"]
        print(
            f"ratio {over}_rps / {under}_rps = {ratio:.2f} (aim >= {aim}): "
            f"{verdict(ratio >= aim, 'BELOW AIM')}"
        )
        if args.rounds > 1:
            ratios = [
                o / u
                for o, u in zip(
                    results[over]["round_rps"], results[under]["round_rps"], strict=True
                )
            ]
            print(f"  in each round: {', '.join(f'{r:.2f}' for r in ratios)}")
    total = {name: sum(result["cpu_ms_per_request"].values()) for name, result in results.items()}
    print(
        f"CPU time per request (gunicorn + postgres + loader): create {total['create']:.2f} ms,"
        f" create+deliv {total['create+deliv']:.2f} ms; create / create+deliv ="
        f" {total['create'] / total['create+deliv']:.2f}, the ratio of req/s if CPU time were"
        " the only limit (it is less disturbed by other load)"
    )

    print("\nCPU time per request (ms), and how busy the cores were during the loader run:")
    header = (
        f"{'':14}{'gunicorn':>10}{'postgres':>10}{'loader':>8}{'machine busy':>14}"
        f"{'of which other':>16}"
    )
    print(header)
    print("-" * len(header))
    for name, result in results.items():
        cpu = result["cpu_ms_per_request"]
        print(
            f"{name:14}{cpu['gunicorn']:>10.2f}{cpu['postgres']:>10.2f}{cpu['loader']:>8.2f}"
            f"{result['machine_busy']:>14.0%}{result['other_busy']:>16.0%}"
        )
    print(
        "(other: the rest of the machine: other processes, and interrupt work such as"
        " loopback networking)"
    )
    if max(result["other_busy"] for result in results.values()) > OTHER_BUSY_WARNING:
        print(
            "WARNING: other processes used the cores meanwhile: the figures are disturbed;"
            " run again on a quiet machine."
        )
    print()


def answered(result: dict) -> int:
    """Successful answers of a target, warm-up included."""
    return result["ok"] + result["warmup"]["ok"]


def check_rows(db_url: str, results: dict[str, dict], kinds: list[str], load_s: float) -> bool:
    """One ticket per successful create; the deliveries server's tickets have all `kinds`
    unplanned, the plain server's none; no Delivery row yet; few wake-up tasks (at most one
    per WAKE_SECONDS of the `load_s` seconds the load phases took, plus one)."""
    plain, deliv, floor = (answered(results[name]) for name in ("create", "create+deliv", "floor"))
    tickets = count_rows(db_url, "support_ticket")
    good = check(
        tickets == plain + deliv,
        f"rows in support_ticket: {tickets}; 200 answers: {plain + deliv} (create"
        f" {results['create']['warmup']['ok']} warm-up + {results['create']['ok']},"
        f" create+deliv {results['create+deliv']['warmup']['ok']} warm-up"
        f" + {results['create+deliv']['ok']})",
    )
    floor_rows = count_rows(db_url, "bench_floor")
    good &= check(
        floor_rows == floor,
        f"rows in bench_floor: {floor_rows}; 200 answers: {floor}"
        f" ({results['floor']['warmup']['ok']} warm-up + {results['floor']['ok']})",
    )
    planned_as = dict(
        query(
            db_url,
            "SELECT unplanned_deliveries, count(*) FROM support_ticket GROUP BY 1 ORDER BY 1",
        )
    )
    expected = {"": plain, ",".join(kinds): deliv}
    good &= check(
        planned_as == expected,
        f"tickets by unplanned_deliveries: {planned_as}; expected {expected} (create and"
        " create+deliv 200 answers)",
    )
    deliveries = count_rows(db_url, "support_delivery")
    good &= check(deliveries == 0, f"Delivery rows: {deliveries}; expected 0 (none planned yet)")
    tasks = task_counts(db_url)
    woken = tasks.get((PLAN_TASK, "READY"), 0)
    bound = 1 + int(load_s // WAKE_SECONDS) + 1
    good &= check(
        1 <= woken <= bound and tasks == {(PLAN_TASK, "READY"): woken},
        f"tasks: {woken} ready plan_and_deliver for {deliv} create+deliv tickets, over"
        f" {load_s:.0f} s of load (all tasks: {tasks or 'none'}); expected 1 to {bound}"
        f" (1 + {load_s:.0f} s / {WAKE_SECONDS} s + 1) and nothing else",
    )
    return good


def run_worker(env: dict[str, str], postgres: PostgresCpu, timeout: float) -> dict:
    """Run one `db_worker --batch` until it exits (it does when no task is ready); return
    its exit status, how long it took and the CPU time it, PostgreSQL, this process (the
    receivers' threads) and the machine used meanwhile."""
    command = [PYTHON, "manage.py", "db_worker", "--batch", "--interval", "0"]
    command += ["--no-startup-delay"]

    def sample():
        return (
            children_cpu_seconds(),
            postgres.seconds(),
            own_cpu_seconds(),
            machine_busy_seconds(),
        )

    with tempfile.NamedTemporaryFile("w+", prefix="bench-worker-", suffix=".log") as log:
        before = sample()
        started_at = time.time()
        start = time.perf_counter()
        worker = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True
        )
        try:
            returncode = worker.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            returncode = f"killed after {timeout:.0f} s"
            worker.wait()
        elapsed = time.perf_counter() - start
        after = sample()
        log.seek(0)
        worker_log = log.read().strip()
    worker_cpu, postgres_cpu, own_cpu, busy = (b - a for a, b in zip(before, after, strict=True))
    return {
        "returncode": returncode,
        "started_at": started_at,
        "elapsed_s": elapsed,
        "cpu_s": {
            "worker (start-up included)": worker_cpu,
            "postgres": postgres_cpu,
            "this process (receivers)": own_cpu,
        },
        "busy_s": busy,
        "capacity_s": elapsed * (os.cpu_count() or 1),
        "log": worker_log,
    }


def measure_worker(
    env: dict[str, str],
    db_url: str,
    postgres: PostgresCpu,
    receivers: tuple[SmtpReceiver, WebhookReceiver],
    timeout: float,
    kinds: list[str],
) -> bool:
    """Step 6: run the worker over the unplanned (and any pending) deliveries, print its
    rate, check the outcome against the database and the receivers. Returns whether all
    checks passed."""
    unplanned_before = unplanned(db_url)
    tickets_before = count_rows(db_url, "support_ticket WHERE unplanned_deliveries <> ''")
    already_pending = by_kind(delivery_counts(db_url), "pending")
    pending_before = dict(sorted((Counter(unplanned_before) + Counter(already_pending)).items()))
    tasks_before = task_counts(db_url)
    plans_before = tasks_before.get((PLAN_TASK, "READY"), 0)
    smtp, hook = receivers
    smtp.reset()
    hook.reset()
    run = run_worker(env, postgres, timeout)
    counts = delivery_counts(db_url)
    sent, failed, pending = (by_kind(counts, s) for s in ("sent", "failed", "pending"))
    total_sent = sum(sent.values())
    first, last = query(
        db_url,
        "SELECT extract(epoch FROM min(sent_at)), extract(epoch FROM max(sent_at))"
        " FROM support_delivery WHERE status = 'sent'",
    )[0]
    tasks = task_counts(db_url)
    tickets_after = count_rows(db_url, "support_ticket WHERE unplanned_deliveries <> ''")

    print(
        "\nWorker: one `manage.py db_worker --batch --interval 0` (the deliveries server's"
        " environment), e-mail to a local SMTP server (aiosmtpd), forwards to a local webhook"
        " receiver (http.server), both in this process"
    )
    print(
        f"to send before: {sum(pending_before.values())} deliveries {pending_before}:"
        f" unplanned in {tickets_before} tickets {unplanned_before}, plus"
        f" {sum(already_pending.values())} pending Delivery rows; ready tasks:"
        f" {tasks_before or 'none'}"
    )
    print(
        f"worker ran {run['elapsed_s']:.2f} s from start to exit (exit status"
        f" {run['returncode']}): {total_sent} sent, {sum(failed.values())} failed,"
        f" {sum(pending.values())} still pending"
    )
    if total_sent:
        print(f"deliveries/s: {total_sent / run['elapsed_s']:.1f} (sent / time from start to exit)")
    if total_sent > 1 and last > first:
        print(
            f"  first sent {float(first) - run['started_at']:.2f} s after the start (Django's"
            f" start-up); from first to last sent: {(total_sent - 1) / float(last - first):.1f}"
            " deliveries/s"
        )
    if total_sent:
        cpu = {name: seconds * 1000 / total_sent for name, seconds in run["cpu_s"].items()}
        other = max(0.0, run["busy_s"] - sum(run["cpu_s"].values())) / run["capacity_s"]
        print(
            "CPU time per delivery (ms): "
            + ", ".join(f"{name} {ms:.2f}" for name, ms in cpu.items())
            + f"; machine busy {run['busy_s'] / run['capacity_s']:.0%}, of which other {other:.0%}"
        )
        if other > OTHER_BUSY_WARNING:
            print("WARNING: other processes used the cores meanwhile: the rate is disturbed.")

    mails_sent = sent.get("confirmation", 0) + sent.get("staff_notification", 0)
    forwards_sent = sent.get("forward", 0)
    duplicated_mail = sum(n - 1 for n in smtp.message_ids.values() if n > 1)
    duplicated_posts = sum(n - 1 for n in hook.delivery_ids.values() if n > 1)
    good = check(run["returncode"] == 0, f"worker exit status {run['returncode']}")
    good &= check(
        unplanned_before == dict.fromkeys(sorted(kinds), tickets_before)
        and not already_pending
        and tickets_after == 0,
        f"tickets with unplanned deliveries: {tickets_before} before (each with"
        f" {', '.join(kinds)}), {tickets_after} after; expected all planned",
    )
    good &= check(
        not pending and not failed and sent == pending_before and total_sent > 0,
        f"deliveries sent by kind: {sent}, failed {failed or 0}, pending {pending or 0};"
        f" expected {pending_before} sent",
    )
    good &= check(
        tasks == {(PLAN_TASK, "SUCCESSFUL"): plans_before},
        f"tasks: {tasks}; expected the {plans_before} plan_and_deliver SUCCESSFUL and no"
        " other (no deliver task: nothing retried)",
    )
    good &= check(
        smtp.messages == mails_sent and not duplicated_mail,
        f"e-mails received: {smtp.messages} ({smtp.recipients} recipients, {duplicated_mail}"
        f" repeated Message-IDs); confirmation + staff_notification sent: {mails_sent}",
    )
    good &= check(
        hook.posts == forwards_sent and not duplicated_posts and not hook.bad_signatures,
        f"webhook POSTs received: {hook.posts} ({duplicated_posts} repeated delivery ids,"
        f" {hook.bad_signatures} bad signatures); forward sent: {forwards_sent}",
    )
    if not good:
        errors = query(
            db_url,
            "SELECT last_error, count(*) FROM support_delivery WHERE last_error <> ''"
            " GROUP BY 1 ORDER BY 2 DESC LIMIT 3",
        )
        for error, count in errors:
            print(f"  {count} deliveries failed with: {error[:300]}")
        if run["log"]:
            print(f"worker's log (last 3000 characters):\n{run['log'][-3000:]}", file=sys.stderr)
    return good


def setup_django(env: dict[str, str]) -> None:
    """Configure Django in this process as gunicorn's workers are configured."""
    os.environ.update(env)
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    import django

    django.setup()
    from django_tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend

    if not isinstance(task_backends["default"], DatabaseBackend):
        raise TypeError(f"TASKS must use {TASKS_BACKEND}, not {task_backends['default']!r}")


def server_settings(server: str, support: dict):
    """A context in which this process is configured as `server`'s workers are: SUPPORT
    settings `support` for the deliveries server (this process runs as the plain one)."""
    if server == "plain":
        return contextlib.nullcontext()
    from django.conf import settings
    from django.test import override_settings

    return override_settings(SUPPORT={**settings.SUPPORT, **support})


def count_queries(key: str, sample: int, clear_wake_flag: bool = False) -> list[list[str]]:
    """Send `sample` creates through django.test.Client; return the SQL of each. One more
    goes first, not counted: it puts the API key in the cache, as it is for most calls.
    The client runs in autocommit, where on_commit callbacks (the wake-up) run at once,
    inside the counting. `clear_wake_flag`: delete the wake flag after the uncounted
    create, so that the first counted one enqueues a plan_and_deliver task."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    statements = []
    for number, body in enumerate(make_bodies(secrets.randbits(32), "queries", 0, sample + 1)):
        if number == 1 and clear_wake_flag:
            from support import cache
            from support.tasks import wake_key

            cache.delete(wake_key())  # the first counted create wakes the worker
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
        if number:
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


def is_transaction_control(sql: str) -> bool:
    return sql.upper().startswith(TRANSACTION_CONTROL)


def is_task_insert(sql: str) -> bool:
    return sql.upper().startswith("INSERT") and TASKS_TABLE in sql


def print_queries(
    title: str,
    statements: list[list[str]],
    aim: int | None = None,
    expected_data: int | None = None,
    wake_cleared: bool = False,
) -> None:
    """Counts of the statements of each create: all, data, transaction control, task
    INSERTs (wake-ups); the aim (if any) applies to all, as it always has."""
    counts = [len(sql) for sql in statements]
    control = [sum(map(is_transaction_control, sql)) for sql in statements]
    enqueued = [sum(map(is_task_insert, sql)) for sql in statements]
    data = [n - c - t for n, c, t in zip(counts, control, enqueued, strict=True)]

    def spread(values: list[int]) -> str:
        return f"min {min(values)}, avg {statistics.mean(values):.2f}, max {max(values)}"

    aimed = ""
    if aim is not None:
        aimed = f" (aim <= {aim}): {verdict(max(counts) <= aim, 'ABOVE AIM')}"
    print(
        f"\nSQL queries per create {title}, {len(counts)} creates via django.test.Client"
        " (after one not counted, which puts the API key in the cache):"
    )
    print(f"  all: {spread(counts)}{aimed}")
    print(f"  data statements (the task INSERT of a wake-up apart): {spread(data)}")
    if expected_data is not None:
        print(
            f"  expected {expected_data} data statement(s) and no transaction control per"
            f" create: {verdict(set(data) == {expected_data} and not any(control))}"
        )
    woke = [number for number, n in enumerate(enqueued, 1) if n]
    print(
        f"  task INSERTs (on-commit wake-up that found the cache flag unset): {sum(enqueued)},"
        f" in create(s) {woke or 'none'} of {len(statements)}"
        + (" (the bench cleared the flag before the first)" if wake_cleared else "")
    )
    kinds = Counter(sql.split()[0].upper() for sql in statements[-1] if is_transaction_control(sql))
    print(
        f"  transaction control: {spread(control)}"
        f" ({', '.join(f'{k} x{n}' for k, n in kinds.items()) or 'none'} in the last)"
    )
    shown = [statements[-1]] + [sql for sql in statements if any(map(is_task_insert, sql))][:1]
    for number, one in enumerate(shown):
        which = "a create that woke the worker" if number else "the last create"
        print(f"  data statements of {which}:")
        for sql in one:
            if not is_transaction_control(sql):
                print(f"    {sql[:120]}")
        print(f"  in order: {', '.join(sql.split()[0] for sql in one)}")


def print_transactions(per_request: dict[str, float], sample: int) -> None:
    print(
        f"\nPostgreSQL statements (autocommit transactions, from pg_stat_database) per request "
        f"through Django's WSGI handler, as under gunicorn ({sample} requests each):"
    )
    print("  " + ", ".join(f"{name} {count:.2f}" for name, count in per_request.items()))
    print(
        "  (these include the CONN_HEALTH_CHECKS `SELECT 1` that Django sends before a"
        " request's first query, which the test client above does not show, and once per"
        " run the statements of opening the connection; a transaction of several"
        " statements counts once; create+deliv's may include a plan_and_deliver task"
        " INSERT if the wake flag had expired)"
    )


def count_statements(
    server_url: str, key: str, support: dict, kinds: list[str], sample: int
) -> None:
    """Step 5: the SQL of creates in this process, without and with deliveries, and the
    statements PostgreSQL ran per request of each target."""
    print_queries("without deliveries", count_queries(key, sample), AIM_QUERIES)
    with server_settings("deliveries", support):
        print_queries(
            f"with deliveries ({', '.join(kinds)})",
            count_queries(key, sample, clear_wake_flag=True),
            expected_data=1,
            wake_cleared=True,
        )
    per_request = {}
    for target in TARGETS:
        with server_settings(target.server, support):
            per_request[target.name] = transactions_per_request(
                server_url, target.path, key, sample
            )
    print_transactions(per_request, sample)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per target")
    parser.add_argument("--concurrency", type=int, default=8, help="loader threads")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests first")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the targets this many times, each with requests/rounds requests"
        " (evens out a machine whose speed drifts)",
    )
    parser.add_argument("--sample", type=int, default=50, help="creates to count queries of")
    parser.add_argument(
        "--worker-timeout", type=float, default=900, help="seconds before the worker is killed"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` runs

    server_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")
    db_url = database_url(server_url, DB_NAME)
    smtp = SmtpReceiver(free_port())
    hook = WebhookReceiver(WEBHOOK_SECRET)
    ports = {name: free_port() for name in SERVERS}
    public_url = f"http://127.0.0.1:{ports['deliveries']}"
    supports = {
        name: delivery_support(name == "deliveries", public_url, hook.url) for name in SERVERS
    }
    envs = {name: configured_env(django_env(db_url), supports[name], smtp.port) for name in SERVERS}
    kinds = expected_kinds(supports["deliveries"])
    key = prepare_database(server_url, envs["plain"])
    code = code_version()

    postgres = PostgresCpu(server_url)
    smtp.start()
    hook.start()
    try:
        load_start = time.monotonic()
        results = serve_and_load(envs, ports, postgres, key, args)
        load_s = time.monotonic() - load_start
        print_results(results, kinds, args, code)
        good = check_rows(db_url, results, kinds, load_s)
        setup_django(envs["plain"])
        count_statements(server_url, key, supports["deliveries"], kinds, args.sample)
        good &= measure_worker(
            envs["deliveries"], db_url, postgres, (smtp, hook), args.worker_timeout, kinds
        )
    finally:
        smtp.stop()
        hook.stop()
        postgres.close()
    return 0 if good else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted (gunicorn was stopped)")
