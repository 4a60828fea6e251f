"""A rate limit the settings promise holds with the project's own configuration: its
default file cache, or Redis; with many keys in use, many requests at once, several
worker processes."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.stack import Stack

pytestmark = pytest.mark.django_db

LIMIT = 10  # per key and minute
OTHER_KEYS = 1000
MAKE_KEYS = (
    "import uuid\n"
    "from support import keys\n"
    "for i in range({n}):\n"
    "    print(keys.create_key(account_id=uuid.uuid4(), name=f'k{{i}}')[1])\n"
)


@pytest.fixture(params=["file", "redis"])
def cache_url(request, tmp_path) -> str:
    if request.param == "file":
        return f"filecache://{tmp_path / 'cache'}"  # the project's default, elsewhere
    return request.getfixturevalue("redis_url")


def test_key_limit_holds_with_a_thousand_keys_in_use(tmp_path, postgres_url, cache_url):
    stack = Stack(tmp_path, postgres_url, CACHE_URL=cache_url, SUPPORT_API_RATE=f"{LIMIT}/min")
    try:
        made = stack.manage("shell", "-c", MAKE_KEYS.format(n=OTHER_KEYS + 1))
        target, *others = [word for word in made.split() if word.startswith("sk_")]
        url = stack.serve(workers=2, threads=4)
        # Each other key once and, after every 72 of them, the target key 8 times in a
        # row, which the 8 clients send at about the same moment.
        jobs = []
        for i, key in enumerate(others):
            jobs += [key, *[target] * 8] if i % 72 == 0 else [key]

        def call(key: str) -> tuple[str, int]:
            response = requests.get(
                f"{url}/api/v1/get_support_tickets",
                headers={"Authorization": f"Bearer {key}"},
                timeout=60,
            )
            return key, response.status_code

        started = time.time()
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(call, jobs))
        windows = int(time.time() // 60) - int(started // 60) + 1
    finally:
        stack.close()

    assert sorted({status for key, status in answers if key != target}) == [200]
    target_statuses = [status for key, status in answers if key == target]
    assert 429 in target_statuses
    # The issue asks for at most the limit plus one per worker process in each window;
    # counted atomically in a cache that keeps its counters, not one more gets through.
    assert target_statuses.count(200) <= LIMIT * windows
