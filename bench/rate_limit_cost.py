"""What counting a rate limit costs per request, by storage: memory:// (per process, the old
default), the SQLite file (rate_limit_storage.py, the default) and Redis, with 1 process and
with 4 processes counting at once (as 4 gunicorn workers do). One "hit" is what Flask-Limiter
does for each limit of a request (fixed window: one increment); a page POST has two limits
(per minute and per hour), so costs two hits.

    .venv/bin/python bench/rate_limit_cost.py [--hits 5000] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _hits(uri: str, hits: int, start, results) -> None:
    from limits import RateLimitItemPerMinute
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    import rate_limit_storage  # noqa: F401  (registers sqlite://)

    limiter = FixedWindowRateLimiter(storage_from_string(uri))
    item = RateLimitItemPerMinute(10**9)
    who = f"bench-{uuid.uuid4()}"  # each process its own address, as different clients
    limiter.hit(item, who)  # the connection is opened outside the measure
    start.wait()
    began = time.perf_counter()
    for _ in range(hits):
        limiter.hit(item, who)
    results.put((time.perf_counter() - began) / hits)


def measure(uri: str, processes: int, hits: int) -> float:
    """Microseconds per hit, the mean over the processes."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_hits, args=(uri, hits, start, results)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    seconds = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    return 1e6 * sum(seconds) / len(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=5000, help="hits per process")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="'' to leave out")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="formdesk-limits-") as directory:
        storages = {
            "memory://": "memory://",
            "sqlite file": f"sqlite:///{Path(directory) / 'rate-limits.sqlite3'}",
        }
        if args.redis:
            storages["redis"] = args.redis
        print(f"{'storage':<12} {'processes':>9} {'µs per hit':>11}")
        for name, uri in storages.items():
            for processes in (1, 4):
                print(f"{name:<12} {processes:>9} {measure(uri, processes, args.hits):>11.1f}")


if __name__ == "__main__":
    main()
