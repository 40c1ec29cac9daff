"""CPU per request in one process, without a server or a network: each step of a Formdesk
submission (the four requests of bench/submit.py) and the reference app's insert, called
through their WSGI apps with Flask's test client. CPU time (time.process_time: this process,
user and system, which on PostgreSQL includes the client's side of every round trip), the
lowest mean of a few rounds; and the SQL statements each step sends.

These are the figures behind part 1's ratio: a server that is not waiting on anything can
answer at most cores ÷ CPU per request. CPU time is also steadier than throughput on a
shared machine, so a change is compared here first (bench/NOTES.md).

    .venv/bin/python -m bench.cpu_per_request --database sqlite --database postgresql"""

from __future__ import annotations

import os
import time
from collections import Counter
from contextlib import contextmanager

from bench import submit
from bench.client import CSRF
from bench.common import Database, app_environment, command_line, database, write_definitions

STEPS = submit.STEPS


@contextmanager
def _environment(values: dict):
    """create_app reads its settings from the environment: set them for one app only."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class StatementCounter:
    """SQL statements sent through an engine (an executemany counts once)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        self.count += 1


def _formdesk_client(db: Database):
    forms = write_definitions(db.directory, submit.definition())
    env = app_environment(
        db, FLASK_FORMDESK_FORMS_DIR=str(forms), FLASK_FORMDESK_EMBEDDED_WORKER="false"
    )
    with _environment(env):
        from app import create_app
        from extensions import db as formdesk_db

        app = create_app()
        with app.app_context():
            counter = StatementCounter(formdesk_db.engine)
    return app, counter


def _submission(app, number: int, cpu: Counter, statements: Counter, counter) -> None:
    """One submission as bench/submit.py makes it, each step timed and counted."""
    client = app.test_client()  # a new visitor: no cookies
    slug = submit.SLUG
    page, check = f"/calls/{slug}/page/1", f"/calls/{slug}/check"
    token = {}

    def step(name: str, method: str, path: str, form: dict | None, expect: tuple) -> None:
        before_sql, began = counter.count, time.process_time()
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={**(form or {}), "csrf_token": token["value"]})
        cpu[name] += time.process_time() - began
        statements[name] += counter.count - before_sql
        if response.status_code not in expect:
            raise RuntimeError(f"{name}: HTTP {response.status_code}")
        found = CSRF.search(response.get_data())
        if found:
            token["value"] = (found.group(1) or found.group(2)).decode()

    step("GET page", "GET", page, None, (200,))
    step("POST page", "POST", page, {**submit.answers(number), "action": "continue"}, (302,))
    step("GET check", "GET", check, None, (200,))
    step("POST send", "POST", check, {}, (302,))


def _reference_client(db: Database):
    with _environment(app_environment(db)):
        from bench.reference_app import create_app
        from bench.reference_app import db as reference_db

        app = create_app()
        with app.app_context():
            counter = StatementCounter(reference_db.engine)
    return app.test_client(), counter


def _lowest_means(run_round, rounds: int, count: int) -> tuple[dict, dict]:
    """The lowest mean CPU of `rounds` rounds of `count` (what the code costs when the
    machine's other work did not get in the way), and the statements per request."""
    best, statements = {}, Counter()
    for _ in range(rounds):
        cpu, sql = Counter(), Counter()
        run_round(cpu, sql)
        for step, seconds in cpu.items():
            best[step] = min(best.get(step, float("inf")), seconds / count * 1000)
        statements = sql
    return best, {step: n / count for step, n in statements.items()}


def measure_on(kind: str, rounds: int, count: int, warm_up: int) -> dict:
    with database(kind, "cpu") as db:
        app, counter = _formdesk_client(db)
        numbers = iter(range(10**9))

        def formdesk_round(cpu: Counter, sql: Counter, n: int = count) -> None:
            for _ in range(n):
                _submission(app, next(numbers), cpu, sql, counter)

        formdesk_round(Counter(), Counter(), warm_up)
        formdesk_ms, formdesk_sql = _lowest_means(formdesk_round, rounds, count)

        reference, reference_counter = _reference_client(db)

        def reference_round(cpu: Counter, sql: Counter, n: int = count) -> None:
            for _ in range(n):
                form = {"name": "Ada", "email": "ada@example.org", "message": submit.MOTIVATION}
                before_sql, began = reference_counter.count, time.process_time()
                response = reference.post("/entries", data=form)
                cpu["POST insert"] += time.process_time() - began
                sql["POST insert"] += reference_counter.count - before_sql
                if response.status_code != 201:
                    raise RuntimeError(f"reference: HTTP {response.status_code}")

        reference_round(Counter(), Counter(), warm_up)
        reference_ms, reference_sql = _lowest_means(reference_round, rounds, count)
    mean = sum(formdesk_ms.values()) / len(formdesk_ms)
    return {
        "database": kind,
        "formdesk_ms": formdesk_ms,
        "formdesk_statements": formdesk_sql,
        "formdesk_mean_ms": mean,
        "reference_ms": reference_ms["POST insert"],
        "reference_statements": reference_sql["POST insert"],
        "ratio": reference_ms["POST insert"] / mean,
    }


def measure(quick: bool, databases: tuple[str, ...]) -> dict:
    rounds, count, warm_up = (2, 10, 5) if quick else (5, 100, 30)
    return {
        "rounds": rounds,
        "count": count,
        "results": [measure_on(kind, rounds, count, warm_up) for kind in databases],
    }


def report(data: dict) -> str:
    lines = [
        f"CPU per request in one process (Flask's test client, no server or network; "
        f"`bench/cpu_per_request.py`): lowest mean of {data['rounds']} rounds of "
        f"{data['count']} submissions, and SQL statements per request. A server that waits "
        "on nothing answers at most cores ÷ CPU per request, so the last column is the "
        "ratio the CPU alone allows.",
        "",
        "| database | GET page | POST page | GET check | POST send | Formdesk mean "
        "| reference insert | reference ÷ Formdesk |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in data["results"]:
        cells = [
            f"{r['formdesk_ms'][step]:.2f} ms ({r['formdesk_statements'][step]:.0f})"
            for step in STEPS
        ]
        lines.append(
            f"| {r['database']} | {' | '.join(cells)} | {r['formdesk_mean_ms']:.2f} ms "
            f"| {r['reference_ms']:.2f} ms ({r['reference_statements']:.0f}) "
            f"| {r['ratio']:.2f} |"
        )
    lines += ["", "(In brackets: SQL statements sent per request.)"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    command_line(__doc__, measure, report)
