"""The project as deployed: gunicorn, several processes and threads, on a SQLite file.

SQLite is the embedded default, so serving it concurrently must not fail with
"database is locked", and the rate limit must hold across worker processes.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
RATE = 30  # per key and minute


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serving")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "CACHE_URL": f"filecache://{tmp / 'cache'}",
        "DJANGO_SECRET_KEY": "serving-test",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SUPPORT_API_RATE": f"{RATE}/min",
    }
    manage(env, "migrate", "--noinput")
    keys = [manage(env, "support_keys", "create", "--service").splitlines()[-1] for _ in range(5)]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2", "--threads", "4",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{url}/api/v1/schema/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url, keys, tmp / "db.sqlite3"
    finally:
        process.terminate()
        process.wait(10)


def create(url: str, key: str, subject: str) -> requests.Response:
    payload = {"email_address": "a@example.com", "subject": subject, "body": "help"}
    return requests.post(
        f"{url}/api/v1/create_support_ticket",
        json={**payload, "account_id": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )


def test_concurrent_creates_on_sqlite_all_succeed(server):
    url, keys, database = server
    jobs = [(keys[i % 4], f"parallel {i}") for i in range(100)]  # 25 per key: under the rate
    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda job: create(url, *job), jobs))

    assert sorted({r.status_code for r in responses}) == [200], [
        r.text for r in responses if r.status_code != 200
    ][:3]
    with sqlite3.connect(database) as db:
        count = db.execute(
            "SELECT count(*) FROM support_ticket WHERE subject LIKE 'parallel %'"
        ).fetchone()[0]
    assert count == 100


def test_rate_limit_is_shared_by_worker_processes(server):
    url, keys, _ = server
    statuses = [create(url, keys[4], f"rate {i}").status_code for i in range(RATE + 10)]

    # Two worker processes: with a per-process count, 2 * RATE would pass.
    assert statuses.count(200) == RATE
    assert statuses[RATE:] == [429] * 10
