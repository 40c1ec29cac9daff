"""The builder's preview of a draft page (web/builder/questions.py `preview`), for a call of
40 questions of every field type on one page: the draft validated whole, its spec built and
the page rendered as applicants see it, through the app in one process (no server), signed
in as an administrator. Target: under 100 ms per preview (issue #16). Measured, never
asserted in a test.

    .venv/bin/python -m bench.builder_preview [--quick]
    .venv/bin/python -m bench.run --part builder_preview"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

PASSWORD = "correct horse battery staple"  # noqa: S105 (a throwaway database's)
ADMIN = "bench-admin@example.org"
SLUG = "bench-preview"
QUESTIONS = 40


def forty_questions() -> list[dict]:
    """40 questions cycling through the typed field types, with conditions on choices."""
    both = lambda words: {"en": words, "pl": words + " (pl)"}  # noqa: E731
    choices = [{"value": f"c{i}", "label": both(f"Choice {i}")} for i in range(6)]
    kinds = [
        ("text", {"max_length": 80}),
        ("textarea", {"max_length": 2000}),
        ("email", {}),
        ("phone", {}),
        ("url", {}),
        ("number", {"min": 0, "max": 100}),
        ("date", {}),
        ("time", {}),
        ("choice", {"choices": choices}),
        ("multichoice", {"choices": choices}),
        ("yesno", {}),
        ("country", {}),
        ("address", {}),
    ]
    fields, last_choice = [], None
    for index in range(QUESTIONS):
        type_, settings = kinds[index % len(kinds)]
        field = {"name": f"q{index}", "type": type_, "label": both(f"Question {index}"), **settings}
        field["help"] = both("Some help for this question.")
        if last_choice and type_ == "textarea":
            field["show_if"] = {last_choice: ["c1", "c2"]}
        if type_ == "choice":
            last_choice = field["name"]
        fields.append(field)
    return fields


def _app(directory: Path):
    os.environ["FORMDESK_INSTANCE_PATH"] = str(directory / "instance")
    from app import create_app

    return create_app(
        {
            "SECRET_KEY": "x" * 40,
            "FORMDESK_PUBLIC_URL": "http://127.0.0.1",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'formdesk.db'}",
            "FORMDESK_LOAD_FORMS_ON_START": False,
            "FORMDESK_UPLOAD_DIR": str(directory / "uploads"),
            "FORMDESK_EMBEDDED_WORKER": False,
            "FORMDESK_AUTO_MIGRATE": True,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )


def _prepare(app) -> None:
    from extensions import db
    from models import User
    from services import call_drafts
    from tests.definitions import base

    result = app.test_cli_runner().invoke(
        args=["users", "create", ADMIN, "--role", "admin"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    _expect(result.exit_code == 0, result.output)
    with app.app_context():
        user = db.session.query(User).filter_by(email=ADMIN).one()
        form = call_drafts.create_call(
            slug=SLUG, user=user, source="blank", copy_from=None, title="Bench", language="en"
        )
        page = {"title": {"en": "All", "pl": "Wszystko"}, "fields": forty_questions()}
        document = base(SLUG, [page])
        document["languages"] = ["en", "pl"]
        call_drafts.save_draft(form, document, revision=1, user=user, summary="bench")


def _expect(holds: bool, what: object) -> None:
    if not holds:
        raise RuntimeError(f"the preview bench went wrong: {what}")


def measure(quick: bool = False, databases: tuple[str, ...] = ()) -> dict:
    repeat = 10 if quick else 50
    with tempfile.TemporaryDirectory() as folder:
        app = _app(Path(folder))
        _prepare(app)
        client = app.test_client()
        signed = client.post("/login", data={"email": ADMIN, "password": PASSWORD})
        _expect(signed.status_code == 302, signed.status_code)
        results = {}
        for language in ("en", "pl"):
            url = f"/dashboard/build/{SLUG}/preview/1?language={language}"
            first = client.get(url)
            _expect(first.status_code == 200, first.status_code)
            _expect("Question 39" in first.get_data(as_text=True), "")
            wall, cpu = [], []
            for _ in range(repeat):
                began, began_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                wall.append((time.perf_counter() - began) * 1000)
                cpu.append((time.process_time() - began_cpu) * 1000)
                _expect(response.status_code == 200, "")
            results[language] = {
                "median_ms": statistics.median(wall),
                "p95_ms": sorted(wall)[int(len(wall) * 0.95) - 1],
                "cpu_median_ms": statistics.median(cpu),
                "repeat": repeat,
            }
    return {"questions": QUESTIONS, "results": results}


def report(data: dict) -> str:
    lines = [
        "## Builder preview",
        "",
        f"The preview of a draft page with {data['questions']} questions (validated whole, "
        "spec built, page rendered), in one process through the app, signed in. Target: "
        "under 100 ms.",
        "",
        "| language | median ms | p95 ms | CPU median ms | requests |",
        "|---|---|---|---|---|",
    ]
    for language, r in data["results"].items():
        lines.append(
            f"| {language} | {r['median_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{r['cpu_median_ms']:.1f} | {r['repeat']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(report(measure(args.quick)))


if __name__ == "__main__":
    main()
