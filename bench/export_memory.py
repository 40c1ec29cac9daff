"""Memory (and time) of exporting a form's submissions as CSV and XLSX, through the real
endpoints, at N and at N/10 submissions in one run: flat memory means the two peaks are about
the same, not ten times apart.

    .venv/bin/python bench/export_memory.py              # 100 000 submissions (a few minutes)
    .venv/bin/python bench/export_memory.py --rows 2000  # quick check (tests/test_exports.py)

A temporary SQLite database is filled with bulk inserts (answers ~1 KB of Polish text per
submission, a three-person group, rubric scores by two reviewers on a quarter of them, a tag
on a tenth). Each export is made twice: once timed, once under tracemalloc for the peak of
Python allocations while the response is produced and read to the end."""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-not-secret"  # noqa: S105 (a throwaway database)
CHUNK = 5000  # rows per bulk insert

STORY = (
    "Filia prowadzi od lat spotkania sąsiedzkie, warsztaty językowe i klub dyskusyjny; "
    "współpracujemy z fundacją, szkołą i radą osiedla. Zażółć gęślą jaźń — "
)
DEFINITION = {
    "slug": "bench",
    "reference_prefix": "BENCH",
    "default_language": "pl",
    "languages": ["pl", "en"],
    "title": {"pl": "Nabór testowy", "en": "Benchmark call"},
    "description": "Benchmark.",
    "organisation": {"name": "Fundacja Przykładowa"},
    "contact": {"name": "Anna Przykładowa", "email": "bench@example.org"},
    "timezone": "Europe/Warsaw",
    "opens_at": "2026-01-01T00:00",
    "closes_at": "2027-12-31T23:59",
    "workflow": "application-review",
    "rubric": [
        {"key": "residents", "label": "Mieszkańcy", "weight": 1},
        {"key": "foreigners", "label": "Cudzoziemcy", "weight": 1},
        {"key": "motivation", "label": "Motywacja", "weight": 2},
    ],
    "pages": [
        {
            "title": "Filia",
            "fields": [
                {"name": "branch_name", "type": "text", "label": "Nazwa filii", "required": True},
                {"name": "contact_email", "type": "email", "label": "E-mail", "required": True},
                {"name": "phone", "type": "phone", "label": "Telefon"},
                {"name": "experience", "type": "textarea", "label": "Doświadczenie"},
                {"name": "motivation", "type": "textarea", "label": "Motywacja"},
                {
                    "name": "size",
                    "type": "choice",
                    "label": "Wielkość",
                    "choices": [
                        {"value": "s", "label": "Mała"},
                        {"value": "l", "label": "Duża"},
                    ],
                },
                {
                    "name": "participants",
                    "type": "group",
                    "label": "Uczestnicy",
                    "item_label": "Uczestnik",
                    "max": 6,
                    "fields": [
                        {"name": "full_name", "type": "text", "label": "Imię i nazwisko"},
                        {"name": "email", "type": "email", "label": "E-mail"},
                    ],
                },
            ],
        }
    ],
}


def build_app(directory: Path):
    os.environ["FORMDESK_INSTANCE_PATH"] = str(directory / "instance")
    from app import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'bench.db'}",
            "FORMDESK_LOAD_FORMS_ON_START": False,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )


def fill(app, slug: str, rows: int, first_id: int, reviewers: list[int]) -> int:
    """Publish a form and bulk-insert `rows` submissions with ids from `first_id`."""
    from sqlalchemy import insert

    from extensions import db
    from forms.schema import validate
    from models import Answer, Score, Submission, SubmissionTag, Tag
    from services.catalog import LoadReport, publish

    version = publish(validate({**DEFINITION, "slug": slug}, "bench"), LoadReport([], [], []))
    db.session.commit()
    tag = db.session.scalar(db.select(Tag).where(Tag.name == "priority"))
    if tag is None:
        tag = Tag(name="priority")
        db.session.add(tag)
        db.session.commit()
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    for offset in range(0, rows, CHUNK):
        numbers = range(offset, min(offset + CHUNK, rows))
        submissions, answers, scores, tags = [], [], [], []
        for n in numbers:
            sid = first_id + n
            moment = start + timedelta(seconds=30 * n)
            submissions.append(
                {
                    "id": sid,
                    "form_id": version.form_id,
                    "form_version_id": version.id,
                    "reference": f"{slug.upper()}-2026-{n + 1:06d}",
                    "token_hash": secrets.token_hex(32),
                    "state": "submitted" if n % 3 else "in_review",
                    "language": "pl",
                    "applicant_email": f"filia{n}@example.org",
                    "started_at": moment - timedelta(minutes=20),
                    "submitted_at": moment,
                    "updated_at": moment,
                }
            )
            values = {
                "branch_name": f"Filia nr {n} — Łódź-Bałuty",
                "contact_email": f"filia{n}@example.org",
                "phone": "+48 42 123 45 67",
                "experience": STORY * 4 + str(n),
                "motivation": ('=HYPERLINK("http://x")' if n % 50 == 0 else STORY * 3),
                "size": "s" if n % 2 else "l",
                "participants": [
                    {"full_name": f"Osoba {n}-{i} Żółkiewska", "email": f"o{n}{i}@example.org"}
                    for i in range(3)
                ],
            }
            answers += [
                {"submission_id": sid, "field": name, "position": position, "value": value}
                for position, (name, value) in enumerate(values.items())
            ]
            if n % 4 == 0:
                scores += [
                    {
                        "submission_id": sid,
                        "user_id": user,
                        "criterion": key,
                        "value": 1 + (n + i) % 5,
                    }
                    for user in reviewers
                    for i, key in enumerate(("residents", "foreigners", "motivation"))
                ]
            if n % 10 == 0:
                tags.append({"submission_id": sid, "tag_id": tag.id})
        db.session.execute(insert(Submission), submissions)
        db.session.execute(insert(Answer), answers)
        if scores:
            db.session.execute(insert(Score), scores)
        if tags:
            db.session.execute(insert(SubmissionTag), tags)
        db.session.commit()
    return version.form_id


def download(client, url: str, target: Path | None) -> int:
    """Read the response to the end like a browser would; returns its size in bytes."""
    response = client.get(url, buffered=False)
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    size = 0
    with open(target or os.devnull, "wb") as out:
        for piece in response.iter_encoded():
            size += len(piece)
            out.write(piece)
    response.close()
    return size


def measure(client, url: str, target: Path | None) -> tuple[float, int, int]:
    """(seconds, bytes, peak bytes of Python allocations above the start)."""
    began = time.perf_counter()
    size = download(client, url, target)
    seconds = time.perf_counter() - began
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    download(client, url, None)
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    return seconds, size, peak


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="submissions (default 100000)")
    parser.add_argument("--csv-out", type=Path, help="keep the large CSV export here")
    parser.add_argument("--xlsx-out", type=Path, help="keep the large XLSX export here")
    args = parser.parse_args()
    small_rows = max(args.rows // 10, 1)

    directory = Path(tempfile.mkdtemp(prefix="formdesk-bench-"))
    try:
        app = build_app(directory)
        with app.app_context():
            from services.users import create_user

            admin = create_user("admin@example.org", PASSWORD, "admin")
            other = create_user("second@example.org", PASSWORD, "admin")
            began = time.perf_counter()
            ids = {
                "small": fill(app, "small", small_rows, 1, [admin.id, other.id]),
                "large": fill(app, "large", args.rows, small_rows + 1, [admin.id, other.id]),
            }
            print(
                f"filled {small_rows} + {args.rows} submissions in "
                f"{time.perf_counter() - began:.1f} s"
            )

        client = app.test_client()
        signed_in = client.post("/login", data={"email": "admin@example.org", "password": PASSWORD})
        if signed_in.status_code != 302:
            raise SystemExit("could not sign in")
        rss_before = max_rss_mib()
        results = {}
        for kind, out in (("csv", args.csv_out), ("xlsx", args.xlsx_out)):
            for size in ("small", "large"):
                url = f"/dashboard/exports/{ids[size]}.{kind}"
                results[kind, size] = measure(client, url, out if size == "large" else None)
        rss_after = max_rss_mib()

        print(f"{'export':<6} {'rows':>8} {'seconds':>8} {'size MiB':>9} {'peak MiB':>9}")
        for (kind, size), (seconds, nbytes, peak) in results.items():
            rows = small_rows if size == "small" else args.rows
            print(
                f"{kind:<6} {rows:>8} {seconds:>8.1f} {nbytes / 2**20:>9.1f} {peak / 2**20:>9.2f}"
            )
        for kind in ("csv", "xlsx"):
            ratio = results[kind, "large"][2] / max(results[kind, "small"][2], 1)
            print(f"{kind}: peak at {args.rows} rows / peak at {small_rows} rows = {ratio:.2f}")
        print(
            f"process max RSS: {rss_before:.0f} MiB before the exports, "
            f"{rss_after:.0f} MiB after (growth {rss_after - rss_before:.0f} MiB)"
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
