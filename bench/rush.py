"""Deadline rush: N people register at the same moment for an event with S seats
(event-registration workflow: first come, first served, then the waiting list), against
gunicorn (deploy/gunicorn.conf.py, 2 workers × 4 threads).

Every person first fills in the one-page form and reaches "check your answers" on their own
connection; then all of them press "Send" together (a barrier). Correct means: exactly S
confirmed, N − S waitlisted, N stored, and every person got the confirmation page. The
latency of "Send" is measured from the moment everyone is released.

    .venv/bin/python -m bench.rush                 # 1 000 people, 30 seats, SQLite and PostgreSQL
    .venv/bin/python -m bench.rush --people 50 --seats 5 --database sqlite"""

from __future__ import annotations

import argparse
import threading
import time

from bench.client import Session
from bench.common import (
    app_environment,
    database,
    distribution,
    gunicorn,
    open_window,
    serving,
    write_definitions,
)

SLUG = "bench-rush"


def definition(seats: int) -> dict:
    return {
        "slug": SLUG,
        "reference_prefix": "RUSH",
        "default_language": "en",
        "languages": ["en"],
        "title": {"en": "Study visit registration"},
        "description": "A registration for the deadline-rush benchmark.",
        "organisation": {"name": "Example Organisation"},
        "contact": {"name": "Ada Example", "email": "calls@example.org"},
        "timezone": "Europe/Berlin",
        "workflow": "event-registration",
        "capacity": seats,
        **open_window(),
        "pages": [
            {
                "title": "You",
                "fields": [
                    {"name": "name", "type": "text", "label": "Name", "required": True},
                    {"name": "email", "type": "email", "label": "Email", "required": True},
                ],
            }
        ],
    }


def rush(kind: str, people: int, seats: int, preparing: int = 16) -> dict:
    threading.stack_size(512 * 1024)  # a thousand threads, small stacks
    with database(kind, "rush") as db:
        forms = write_definitions(db.directory, definition(seats))
        env = app_environment(
            db, FLASK_FORMDESK_FORMS_DIR=str(forms), FLASK_FORMDESK_EMBEDDED_WORKER="false"
        )
        server = gunicorn("app:create_app()", env, db.directory / "gunicorn.log")
        with serving(server):
            ready = threading.Semaphore(preparing)  # fill in the form a few at a time
            barrier = threading.Barrier(people + 1)
            latencies: list[float] = []
            outcomes: list[str] = []
            errors: list[str] = []
            lock = threading.Lock()

            def person(index: int) -> None:
                session = Session(server.url, timeout=300)
                prepared = False
                try:
                    with ready:
                        page = f"/calls/{SLUG}/page/1"
                        session.get(page)
                        form = {
                            "name": f"Person {index}",
                            "email": f"rush{index}@example.org",
                            "action": "continue",
                        }
                        session.post(page, form)
                        session.get(f"/calls/{SLUG}/check")
                        session.close()  # a new connection for "Send", as after a pause
                        prepared = True
                finally:
                    if not prepared:
                        with lock:
                            errors.append(f"person {index} could not reach the check page")
                    barrier.wait(timeout=900)
                if not prepared:
                    return
                began = time.perf_counter()
                try:
                    session.post(f"/calls/{SLUG}/check", {})
                except Exception as exc:  # noqa: BLE001  (a lost registration is reported)
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    return
                elapsed = time.perf_counter() - began
                with lock:
                    latencies.append(elapsed)
                    outcomes.append(session.redirected_path())
                session.close()

            threads = [threading.Thread(target=person, args=(i,)) for i in range(people)]
            prepared_at = time.perf_counter()
            for thread in threads:
                thread.start()
            barrier.wait(timeout=900)
            released = time.perf_counter()
            for thread in threads:
                thread.join(timeout=900)
            finished = time.perf_counter()
        states = dict(db.query("SELECT state, count(*) FROM submissions GROUP BY state"))
        stored = sum(states.values())
        server_errors = _server_errors(server.log) if errors else []
    confirmed_pages = sum(1 for o in outcomes if o == f"/calls/{SLUG}/confirmation")
    return {
        "database": kind,
        "people": people,
        "seats": seats,
        "states": states,
        "stored": stored,
        "confirmation_pages": confirmed_pages,
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "correct": (
            states.get("confirmed", 0) == seats
            and states.get("waitlisted", 0) == people - seats
            and stored == people
            and confirmed_pages == people
        ),
        "server_errors": server_errors,
        "send": distribution(latencies),
        "rush_seconds": finished - released,
        "preparation_seconds": released - prepared_at,
    }


def _server_errors(log, most: int = 3) -> list[str]:
    """The last lines of the tracebacks in the server's log (what made a request fail)."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    found = [line.strip()[:300] for line in lines if "Error:" in line or "Exception:" in line]
    return found[-most:]


def measure(quick: bool, databases: tuple[str, ...]) -> dict:
    people, seats = (50, 5) if quick else (1000, 30)
    return {"results": [rush(kind, people, seats) for kind in databases]}


def report(data: dict) -> str:
    lines = [
        "## 2. Deadline rush (`bench/rush.py`)",
        "",
        "Every person fills in a one-page registration (event-registration workflow) and "
        "reaches *check your answers*; then all press *Send* at once. gunicorn 2 workers × "
        "4 threads; latency of *Send* from the common start.",
        "",
        "| database | people | seats | confirmed | waitlisted | stored | confirmation pages "
        "| errors | p50 ms | p99 ms | max ms | all answered in |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in data["results"]:
        lines.append(
            f"| {r['database']} | {r['people']} | {r['seats']} | "
            f"{r['states'].get('confirmed', 0)} | {r['states'].get('waitlisted', 0)} | "
            f"{r['stored']} | {r['confirmation_pages']} | {r['errors']} | "
            f"{r['send']['p50']:.0f} | {r['send']['p99']:.0f} | {r['send']['max']:.0f} | "
            f"{r['rush_seconds']:.1f} s |"
        )
    lines.append("")
    for r in data["results"]:
        verdict = "correct" if r["correct"] else "**WRONG**"
        lines.append(
            f"- {r['database']}: {verdict} — exactly {r['seats']} confirmed and "
            f"{r['people'] - r['seats']} waitlisted expected, none lost"
            + (f" (first error: {r['first_error'][:120]}…)" if r["first_error"] else "")
            + "."
        )
        for line in r.get("server_errors", []):
            lines.append(f"  - in the server's log: `{line}`")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--seats", type=int, default=30)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), action="append")
    args = parser.parse_args()
    results = [rush(k, args.people, args.seats) for k in args.database or ("sqlite", "postgresql")]
    print(report({"results": results}))
