"""Submission throughput: Formdesk's public form against a reference Flask app that does one
SQLAlchemy insert per request (bench/reference_app.py), both under gunicorn with
deploy/gunicorn.conf.py (2 workers × 4 threads), on the same database, over loopback.

One Formdesk submission is the whole sequence a person's browser makes on a one-page form:
GET the page → POST the page → GET "check your answers" → POST "Send" (four requests; a
fresh cookie jar per submission, a distinct email address each time). The ratio compares
requests per second: every Formdesk request (each step) against the reference's inserts.

The two servers run side by side (the idle one sleeps) and are measured in alternating
rounds, so a change in the machine's load during the run touches both alike."""

from __future__ import annotations

from bench import loadgen
from bench.client import Session
from bench.common import (
    Database,
    app_environment,
    command_line,
    database,
    gunicorn,
    open_window,
    serving,
    write_definitions,
)

SLUG = "bench-submit"
STEPS = ("GET page", "POST page", "GET check", "POST send")
MOTIVATION = (
    "Our branch has run neighbourhood evenings, language cafés and a reading club for "
    "years, together with the school and the residents' council. "
)


def definition() -> dict:
    return {
        "slug": SLUG,
        "reference_prefix": "BS",
        "default_language": "en",
        "languages": ["en", "pl"],
        "title": {"en": "Benchmark call", "pl": "Nabór testowy"},
        "description": "A one-page call for the throughput benchmark.",
        "organisation": {"name": "Example Organisation"},
        "contact": {"name": "Ada Example", "email": "calls@example.org"},
        "timezone": "Europe/Warsaw",
        "workflow": "application-review",
        **open_window(),
        "pages": [
            {
                "title": "You",
                "fields": [
                    {"name": "name", "type": "text", "label": "Name", "required": True},
                    {"name": "email", "type": "email", "label": "Email", "required": True},
                    {"name": "organisation", "type": "text", "label": "Organisation"},
                    {"name": "phone", "type": "phone", "label": "Phone"},
                    {
                        "name": "size",
                        "type": "choice",
                        "label": "Size",
                        "required": True,
                        "choices": [
                            {"value": "s", "label": "Small"},
                            {"value": "l", "label": "Large"},
                        ],
                    },
                    {"name": "motivation", "type": "textarea", "label": "Why", "required": True},
                    {
                        "name": "agree",
                        "type": "consent",
                        "text": "I agree to the processing of my data.",
                        "required": True,
                    },
                ],
            }
        ],
    }


def answers(number: int) -> dict:
    return {
        "name": f"Person {number} Żółkiewska",
        "email": f"person{number}@example.org",
        "organisation": "Library branch 7",
        "phone": "+48 42 123 45 67",
        "size": "s" if number % 2 else "l",
        "motivation": MOTIVATION * 3,
        "agree": "y",
    }


def submit_once(session: Session, number: int, slug: str = SLUG) -> dict[str, float]:
    """One person's submission; raises when any step answers other than a browser expects."""
    session.cookies.clear()  # a new visitor
    page = f"/calls/{slug}/page/1"
    steps = {"GET page": session.get(page)}
    steps["POST page"] = session.post(page, {**answers(number), "action": "continue"})
    if session.redirected_path() != f"/calls/{slug}/check":
        raise RuntimeError(f"page 1 went to {session.location!r}, not to check")
    steps["GET check"] = session.get(f"/calls/{slug}/check")
    steps["POST send"] = session.post(f"/calls/{slug}/check", {})
    if session.redirected_path() != f"/calls/{slug}/confirmation":
        raise RuntimeError(f"send went to {session.location!r}, not to the confirmation")
    return steps


def insert_once(session: Session, number: int) -> dict[str, float]:
    form = {k: v for k, v in answers(number).items() if k in ("name", "email")}
    form["message"] = MOTIVATION * 3
    return {"POST insert": session.post("/entries", form, expect=201)}


def formdesk_server(db: Database, embedded_worker: bool = False, **extra: str):
    """Formdesk under gunicorn on `db`, with the benchmark's call published at start. By
    default documents and email are left to workers (Celery's) elsewhere: the web processes
    only queue them. Part 3 (slow SMTP) runs with the embedded worker on."""
    forms = write_definitions(db.directory, definition())
    env = app_environment(
        db,
        FLASK_FORMDESK_FORMS_DIR=str(forms),
        FLASK_FORMDESK_EMBEDDED_WORKER="true" if embedded_worker else "false",
        **extra,
    )
    return gunicorn("app:create_app()", env, db.directory / "formdesk.log")


def reference_server(db: Database):
    env = app_environment(db)
    return gunicorn("bench.reference_app:create_app()", env, db.directory / "reference.log")


def measure_on(kind: str, rounds: int, seconds: float, users: int) -> dict:
    with database(kind, "submit") as db:
        with serving(formdesk_server(db)) as formdesk, serving(reference_server(db)) as reference:
            numbers = loadgen.Counter()  # distinct emails across rounds
            ours, theirs = [], []
            for _ in range(rounds):
                theirs.append(
                    loadgen.run(
                        reference.url,
                        insert_once,
                        users,
                        seconds,
                        server_pid=reference.process.pid,
                        numbers=numbers,
                    )
                )
                ours.append(
                    loadgen.run(
                        formdesk.url,
                        submit_once,
                        users,
                        seconds,
                        server_pid=formdesk.process.pid,
                        numbers=numbers,
                    )
                )
        stored = db.query("SELECT count(*) FROM submissions")[0][0]
        inserted = db.query("SELECT count(*) FROM bench_reference_entries")[0][0]
    formdesk_result, reference_result = loadgen.merge(ours), loadgen.merge(theirs)
    return {
        "database": kind,
        "formdesk": formdesk_result.summary(),
        "reference": reference_result.summary(),
        "rounds": {
            "formdesk_rps": [r.requests_per_second for r in ours],
            "reference_rps": [r.requests_per_second for r in theirs],
        },
        "ratio": formdesk_result.requests_per_second / reference_result.requests_per_second,
        "stored_submissions": stored,
        "stored_reference_rows": inserted,
    }


def measure(quick: bool, databases: tuple[str, ...]) -> dict:
    from bench import cpu_per_request

    rounds, seconds, users = (1, 3.0, 4) if quick else (3, 8.0, 8)
    return {
        "rounds": rounds,
        "seconds_per_round": seconds,
        "users": users,
        "results": [measure_on(kind, rounds, seconds, users) for kind in databases],
        # What each request costs, measured without the servers (after them: same machine).
        "cpu": cpu_per_request.measure(quick, databases),
    }


def report(data: dict) -> str:
    lines = [
        "## 1. Submission throughput against a reference app (`bench/submit.py`)",
        "",
        f"{data['users']} concurrent users (threads with kept-alive connections), "
        f"{data['rounds']} alternating rounds of {data['seconds_per_round']:.0f} s per server. "
        "A Formdesk submission is GET page → POST page → GET check → POST send, on a "
        "one-page form with seven questions; the reference does one insert per POST. "
        "The ratio is Formdesk's requests per second ÷ the reference's. Embedded worker off "
        "(documents and email queued for workers, not made in the web processes).",
        "",
        "| database | server | req/s | submissions/s | p50 ms | p99 ms | errors "
        "| server CPU (cores) | generator CPU (cores) |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for result in data["results"]:
        for name in ("formdesk", "reference"):
            r = result[name]
            per_submission = f"{r['iterations_per_second']:.1f}" if name == "formdesk" else "—"
            lines.append(
                f"| {result['database']} | {name} | {r['requests_per_second']:.0f} "
                f"| {per_submission} | {r['requests']['p50']:.1f} | {r['requests']['p99']:.1f} "
                f"| {r['errors']} | {r['server_cores']:.2f} | {r['generator_cores']:.2f} |"
            )
    lines += ["", "Formdesk per step (ms) and the whole submission:", ""]
    lines += ["| database | step | p50 | p95 | p99 |", "|---|---|--:|--:|--:|"]
    for result in data["results"]:
        for step, d in result["formdesk"]["steps"].items():
            lines.append(
                f"| {result['database']} | {step} | {d['p50']:.1f} | {d['p95']:.1f} "
                f"| {d['p99']:.1f} |"
            )
        d = result["formdesk"]["iteration"]
        lines.append(
            f"| {result['database']} | whole submission | {d['p50']:.1f} | {d['p95']:.1f} "
            f"| {d['p99']:.1f} |"
        )
    lines.append("")
    for result in data["results"]:
        verdict = "meets" if result["ratio"] >= 0.6 else "misses"
        rounds = ", ".join(
            f"{a:.0f}/{b:.0f}"
            for a, b in zip(
                result["rounds"]["formdesk_rps"], result["rounds"]["reference_rps"], strict=True
            )
        )
        lines.append(
            f"- **{result['database']}: ratio {result['ratio']:.2f}** ({verdict} the target "
            f"≥ 0.6); per round Formdesk/reference req/s: {rounds}; "
            f"{result['stored_submissions']} submissions stored."
        )
    if "cpu" in data:
        from bench import cpu_per_request

        lines += ["", cpu_per_request.report(data["cpu"]).rstrip()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    command_line(__doc__, measure, report)
