"""Load generator: POST JSON tickets to one path of a running server, print one JSON line.

    python -m bench.load --port 8000 --path /api/v1/create_support_ticket \
        --key sk_... --requests 3000 --concurrency 8 --warmup 100 --seed 42

Each of `--concurrency` threads has its own http.client.HTTPConnection and reconnects
whenever the server closes it (gunicorn's sync workers close after every response).

Body number i is made from `--seed` and i alone, before the clock starts: runs with the
same seed send the same bodies, and `--offset` sends bodies offset..offset+requests-1
(so that a run split in parts sends each body once). Warm-up bodies are numbered apart
and have other ids; the warm-up is not timed.
"""

import argparse
import http.client
import json
import random
import sys
import threading
import time
import uuid
from collections import Counter

ACCOUNTS = 100


def make_bodies(seed: int, label: str, start: int, count: int) -> list[bytes]:
    """Request bodies number start..start+count-1 of the series (`seed`, `label`)."""
    accounts = random.Random(f"{seed}-accounts")
    account_ids = [
        str(uuid.UUID(int=accounts.getrandbits(128), version=4)) for _ in range(ACCOUNTS)
    ]
    bodies = []
    for i in range(start, start + count):
        rng = random.Random(f"{seed}-{label}-{i}")
        body = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "email_address": f"user{i}@example.com",
            "subject": f"bench {label} {i}",
            "body": "some text about what went wrong, and what I tried.\n\n" * 4,
            "account_id": rng.choice(account_ids),
            "tags": ["member"],
            "location": f"/projects/{uuid.UUID(int=rng.getrandbits(128), version=4)}/files/a.ipynb",
            "info": {"user_agent": "bench"},
        }
        bodies.append(json.dumps(body).encode())
    return bodies


def run(
    host: str, port: int, path: str, headers: dict[str, str], bodies: list[bytes], threads: int
) -> dict:
    """Send every body once from `threads` threads; return statuses, latencies, elapsed."""
    lock = threading.Lock()
    next_index = iter(range(len(bodies)))
    latencies: list[float] = []
    statuses: Counter = Counter()

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        mine_lat, mine_status = [], Counter()
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                break
            start = time.perf_counter()
            try:
                conn.request("POST", path, body=bodies[i], headers=headers)
                response = conn.getresponse()
                response.read()
                status = str(response.status)
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as err:
                status = type(err).__name__
                conn.close()
            mine_lat.append(time.perf_counter() - start)
            mine_status[status] += 1
        conn.close()
        with lock:
            latencies.extend(mine_lat)
            statuses.update(mine_status)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return {"elapsed": time.perf_counter() - start, "latencies": latencies, "statuses": statuses}


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarise(latencies_s: list[float], statuses: dict[str, int], elapsed_s: float) -> dict:
    """Counts, rate and latency percentiles of a run (statuses: answer or error -> count)."""
    latencies = sorted(latencies_s)
    ok = statuses.get("200", 0)
    return {
        "requests": len(latencies),
        "ok": ok,
        "failed": len(latencies) - ok,
        "failed_statuses": {code: n for code, n in sorted(statuses.items()) if code != "200"},
        "elapsed_s": round(elapsed_s, 4),
        "rps": round(len(latencies) / elapsed_s, 1) if elapsed_s else None,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--key", default="")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--offset", type=int, default=0, help="number of the first body")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    headers = {"Content-Type": "application/json"}
    if args.key:
        headers["Authorization"] = f"Bearer {args.key}"
    warmup_bodies = make_bodies(args.seed, "warmup", args.offset, args.warmup)
    bodies = make_bodies(args.seed, "timed", args.offset, args.requests)
    warmup = run(args.host, args.port, args.path, headers, warmup_bodies, args.concurrency)
    timed = run(args.host, args.port, args.path, headers, bodies, args.concurrency)
    report = {
        "path": args.path,
        "concurrency": args.concurrency,
        "warmup": summarise(warmup["latencies"], warmup["statuses"], warmup["elapsed"]),
        **summarise(timed["latencies"], timed["statuses"], timed["elapsed"]),
        "statuses": dict(timed["statuses"]),
        "latencies_ms": [round(seconds * 1000, 3) for seconds in timed["latencies"]],
    }
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
