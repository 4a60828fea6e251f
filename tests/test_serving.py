"""The project as deployed: gunicorn, several processes and threads, on a SQLite file.

SQLite is the embedded default, so serving it concurrently must not fail with
"database is locked", and the rate limit must hold across worker processes.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.stack import Stack

RATE = 30  # per key and minute


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("serving"), SUPPORT_API_RATE=f"{RATE}/min")
    try:
        keys = [
            stack.manage("support_keys", "create", "--service").splitlines()[-1] for _ in range(5)
        ]
        yield stack.serve(workers=2, threads=4), keys, stack
    finally:
        stack.close()


def create(url: str, key: str, subject: str) -> requests.Response:
    payload = {"email_address": "a@example.com", "subject": subject, "body": "help"}
    return requests.post(
        f"{url}/api/v1/create_support_ticket",
        json={**payload, "account_id": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )


def test_concurrent_creates_on_sqlite_all_succeed(server):
    url, keys, stack = server
    jobs = [(keys[i % 4], f"parallel {i}") for i in range(100)]  # 25 per key: under the rate
    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda job: create(url, *job), jobs))

    assert sorted({r.status_code for r in responses}) == [200], [
        r.text for r in responses if r.status_code != 200
    ][:3]
    [(count,)] = stack.query("SELECT count(*) FROM support_ticket WHERE subject LIKE 'parallel %'")
    assert count == 100


def test_rate_limit_is_shared_by_worker_processes(server):
    url, keys, _ = server
    statuses = [create(url, keys[4], f"rate {i}").status_code for i in range(RATE + 10)]

    # Two worker processes: with a per-process count, 2 * RATE would pass.
    assert statuses.count(200) == RATE
    assert statuses[RATE:] == [429] * 10
