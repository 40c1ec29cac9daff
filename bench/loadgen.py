"""A bounded, closed-loop load generator: `users` threads, each with its own kept-alive
connection, repeat one iteration (a scenario) until the time is up. Bounded: at most `users`
requests are in flight, so an overloaded server shows as latency, not as a growing queue.

Only iterations that end inside the window (after the warm-up, before the deadline) count. The
generator's own CPU is measured over the same window, to show it was not the bottleneck."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.client import Session
from bench.common import CpuMeter, distribution

# A scenario runs one iteration on a session and returns {step: seconds}; iteration is a
# number unique in the run (for distinct email addresses).
Scenario = Callable[[Session, int], dict[str, float]]


@dataclass
class LoadResult:
    users: int
    seconds: float
    iterations: int
    errors: int
    steps: dict[str, list[float]] = field(default_factory=dict)
    totals: list[float] = field(default_factory=list)  # whole iteration
    generator_cores: float = 0.0
    server_cores: float = 0.0
    first_error: str = ""

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.steps.values())

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def iterations_per_second(self) -> float:
        return self.iterations / self.seconds

    def all_requests(self) -> list[float]:
        return [s for values in self.steps.values() for s in values]

    def summary(self) -> dict:
        return {
            "users": self.users,
            "seconds": round(self.seconds, 2),
            "iterations": self.iterations,
            "errors": self.errors,
            "first_error": self.first_error,
            "requests_per_second": self.requests_per_second,
            "iterations_per_second": self.iterations_per_second,
            "requests": distribution(self.all_requests()),
            "iteration": distribution(self.totals),
            "steps": {name: distribution(values) for name, values in self.steps.items()},
            "generator_cores": self.generator_cores,
            "server_cores": self.server_cores,
        }


class Counter:
    """Numbers unique within a run (distinct email addresses)."""

    def __init__(self):
        self.value = 0
        self.lock = threading.Lock()

    def next(self) -> int:
        with self.lock:
            self.value += 1
            return self.value


def run(
    base_url: str,
    scenario: Scenario,
    users: int,
    seconds: float,
    warmup: float = 2.0,
    server_pid: int | None = None,
    numbers: Counter | None = None,
    pause: float = 0.0,
) -> LoadResult:
    """`pause`: seconds each user waits after an iteration (a person reading the page),
    not counted in its latency."""
    numbers = numbers or Counter()
    lock = threading.Lock()
    result = LoadResult(users=users, seconds=seconds, iterations=0, errors=0)
    began = time.perf_counter()
    measure_from = began + warmup
    deadline = measure_from + seconds

    def user() -> None:
        session = Session(base_url)
        while True:
            start = time.perf_counter()
            if start >= deadline:
                break
            try:
                steps = scenario(session, numbers.next())
            except Exception as exc:  # noqa: BLE001  (counted and reported, the run goes on)
                session.close()
                session = Session(base_url)
                with lock:
                    if start >= measure_from:
                        result.errors += 1
                    result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
                continue
            end = time.perf_counter()
            if pause:
                time.sleep(pause)
            if end < measure_from or end > deadline:
                continue  # rates count iterations completed inside the window
            with lock:
                result.iterations += 1
                result.totals.append(end - start)
                for name, elapsed in steps.items():
                    result.steps.setdefault(name, []).append(elapsed)
        session.close()

    threads = [threading.Thread(target=user, daemon=True) for _ in range(users)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    with CpuMeter(server_pid) as meter:
        time.sleep(max(0.0, deadline - time.perf_counter()))
    for thread in threads:
        thread.join(timeout=180)
    result.generator_cores = meter.generator_cores
    result.server_cores = meter.server_cores
    return result


def merge(results: list[LoadResult]) -> LoadResult:
    """Rounds of the same measurement as one (rates over the summed time)."""
    merged = LoadResult(
        users=results[0].users,
        seconds=sum(r.seconds for r in results),
        iterations=sum(r.iterations for r in results),
        errors=sum(r.errors for r in results),
        first_error=next((r.first_error for r in results if r.first_error), ""),
    )
    for r in results:
        merged.totals += r.totals
        for name, values in r.steps.items():
            merged.steps.setdefault(name, []).extend(values)
    merged.generator_cores = sum(r.generator_cores * r.seconds for r in results) / merged.seconds
    merged.server_cores = sum(r.server_cores * r.seconds for r in results) / merged.seconds
    return merged
