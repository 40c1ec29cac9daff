"""What a PDF and a DOCX copy of a realistic application cost, against the bare libraries,
and what one shared FontConfiguration saves in memory.

    .venv/bin/python bench/document_rendering.py            # 20 timings each, 200 PDFs
    .venv/bin/python bench/document_rendering.py --quick    # 5 timings, 50 PDFs

The application is the MSAS demo form (forms/definitions/msas.yaml) filled in through the
real pages by a Polish library branch: about 2 500 characters in each of the three long
answers. In one process, alternating so that all see the same machine, after one unmeasured
run each:

- Formdesk PDF: `submission_copy` (the content model, read from the database) and
  `render_pdf` (sandboxed template, tagged PDF/UA, own-assets-only fetcher, the process's
  FontConfiguration);
- bare WeasyPrint: `HTML(string=html_for(content), base_url=static/documents/).write_pdf()`
  with the library's defaults — the same HTML and stylesheet;
- Formdesk DOCX: `submission_copy` and `render_docx` (styles, a table of facts, properties,
  header and page-number fields);
- bare python-docx: `Document()`, the same headings and paragraphs, saved to memory.

Memory: two fresh processes render the same copy N times after 10 warm-up renders, one with
the shared FontConfiguration (what `render_pdf` does), one with a new FontConfiguration per
PDF; the growth of the resident set (RSS, /proc/self/statm) over the N renders is reported.
The leak is in fontconfig and Pango (C), which tracemalloc does not see.

The table is printed and written to bench/results/documents.md (bench/results/ is not
committed; BENCHMARKS.md quotes a run)."""

from __future__ import annotations

import argparse
import io
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "documents.md"

EXPERIENCE = (
    "Od 2019 roku filia prowadzi co miesiąc śniadania sąsiedzkie, na które przychodzi "
    "kilkadziesiąt osób z okolicznych bloków; razem z radą osiedla i szkołą podstawową nr 5 "
    "organizujemy spacery po okolicy, warsztaty naprawiania rowerów i wymianę roślin. "
    "Mieszkańcy i mieszkanki sami zgłaszają tematy spotkań, a seniorki z klubu czytelniczego "
    "prowadzą zajęcia dla dzieci. Zażółć gęślą jaźń — ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ. "
)
FOREIGNERS = (
    "Co tydzień w filii spotyka się klub rozmów po polsku dla osób z Ukrainy, Białorusi, "
    "Gruzji i Wietnamu; mamy półkę z książkami po ukraińsku, rosyjsku i angielsku, a dwa razy "
    "w roku z fundacją migrancką przygotowujemy dzień kuchni sąsiedzkich. Współpracujemy z "
    "tłumaczką, która pomaga przy ogłoszeniach. "
)
MOTIVATION = (
    "Strefa pozwoliłaby nam połączyć te dwie grupy: sąsiedzi i sąsiadki, którzy mieszkają tu "
    "od lat, i osoby, które przyjechały niedawno, rzadko się spotykają. Chcemy zaprosić "
    "rodziców z przedszkola obok, młodzież z domu kultury i klub seniora, a program planować "
    "razem z nimi na otwartych spotkaniach. "
)


def _long(text: str, size: int = 2500) -> str:
    return (text * (size // len(text) + 1))[:size].rsplit(" ", 1)[0] + "."


ANSWERS = {
    "branch_name": "Filia nr 12 Biblioteki Miejskiej w Łodzi",
    "branch_address": "ul. Przykładowa 5, 90-001 Łódź",
    "contact_name": "Żaneta Wójcik-Ślęzak",
    "contact_email": "filia12@example.org",
    "contact_phone": "+48 42 111 22 33",
    "experience_residents": _long(EXPERIENCE),
    "experience_foreigners": _long(FOREIGNERS),
    "motivation": _long(MOTIVATION),
    "consent": "y",
}


# --- a realistic submission -------------------------------------------------------------------


def make_app(directory: Path):
    os.environ["FORMDESK_INSTANCE_PATH"] = str(directory / "instance")
    from app import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'bench.db'}",
            "FORMDESK_UPLOAD_DIR": str(directory / "uploads"),
            "FORMDESK_LOAD_FORMS_ON_START": False,
            "WTF_CSRF_ENABLED": False,
            "FORMDESK_MIN_FILL_SECONDS": 0,  # the robot check, where the version has one
        }
    )


def msas_submission(app) -> int:
    """Publish the MSAS demo form and send it through its pages, as a browser would."""
    from extensions import db
    from forms.schema import load_file
    from services.catalog import LoadReport, publish

    with app.app_context():
        publish(load_file(ROOT / "forms" / "definitions" / "msas.yaml"), LoadReport([], [], []))
        db.session.commit()
    client = app.test_client()
    client.get("/?lang=pl")
    steps = [(f"/calls/msas/page/{n}", {**ANSWERS, "action": "continue"}) for n in (1, 2, 3)]
    for url, data in [*steps, ("/calls/msas/check", {})]:
        response = client.post(url, data=data)
        if response.status_code != 302:
            raise SystemExit(f"{url} answered {response.status_code}: {response.text[:500]}")
    with app.app_context():
        from models import Submission

        return db.session.query(Submission.id).scalar()


# --- the bare libraries -------------------------------------------------------------------------


def bare_weasyprint(markup: str) -> bytes:
    from weasyprint import HTML

    from documents.pdf import ASSETS

    return HTML(string=markup, base_url=ASSETS.as_uri() + "/").write_pdf()


def bare_python_docx(content) -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph(content.title)
    document.add_heading(content.heading, level=1)
    for label, value in content.facts:
        document.add_paragraph(f"{label}: {value}")
    for section in content.sections:
        document.add_heading(section.title, level=2)
        for item in section.items:
            document.add_heading(item.question, level=3)
            for line in item.answer:
                document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- time ---------------------------------------------------------------------------------------


def timings(app, submission_id: int, repeat: int) -> tuple[dict, dict, object]:
    from documents.content import submission_copy
    from documents.docx import render_docx
    from documents.pdf import html_for, render_pdf
    from extensions import db
    from forms.published import spec_for
    from models import Submission

    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        spec = spec_for(submission.form_version)
        content = submission_copy(submission, spec)
        markup = html_for(content)
        runs = {
            "Formdesk PDF": lambda: render_pdf(submission_copy(submission, spec)),
            "bare WeasyPrint, same HTML": lambda: bare_weasyprint(markup),
            "Formdesk DOCX": lambda: render_docx(
                submission_copy(submission, spec), submission.reference
            ),
            "bare python-docx, same paragraphs": lambda: bare_python_docx(content),
        }
        sizes = {name: len(run()) for name, run in runs.items()}  # warm-up
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(repeat):
            for name, run in runs.items():
                began = time.perf_counter()
                run()
                seconds[name].append(time.perf_counter() - began)
    medians = {name: statistics.median(values) * 1000 for name, values in seconds.items()}
    return medians, sizes, content


# --- memory -------------------------------------------------------------------------------------


def rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def memory_child(content_file: str, mode: str, count: int) -> None:
    """Runs in its own process: render, print the RSS growth in KiB."""
    from weasyprint.text.fonts import FontConfiguration

    from documents import pdf

    with open(content_file, "rb") as source:
        content = pickle.load(source)  # noqa: S301 (our own file, written a moment ago)
    if mode == "new":
        # render_pdf exactly, except that each PDF gets a FontConfiguration of its own.
        pdf.font_configuration = FontConfiguration

    def render() -> bytes:
        return pdf.render_pdf(content)

    for _ in range(10):
        render()
    before = rss_kib()
    began = time.perf_counter()
    for _ in range(count):
        render()
    print(f"{rss_kib() - before} {time.perf_counter() - began:.3f}")


def memory(content, count: int, directory: Path) -> dict[str, tuple[int, float]]:
    content_file = directory / "content.pickle"
    content_file.write_bytes(pickle.dumps(content))
    found = {}
    for mode in ("shared", "new"):
        result = subprocess.run(  # noqa: S603 (this script, our arguments)
            [sys.executable, __file__, "--memory-child", mode, str(content_file), str(count)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        growth, seconds = result.stdout.strip().splitlines()[-1].split()
        found[mode] = (int(growth), float(seconds))
    return found


# --- report -------------------------------------------------------------------------------------


def report(medians: dict, sizes: dict, growth: dict, repeat: int, count: int) -> str:
    pdf_ratio = medians["Formdesk PDF"] / medians["bare WeasyPrint, same HTML"]
    docx_ratio = medians["Formdesk DOCX"] / medians["bare python-docx, same paragraphs"]
    shared, new = growth["shared"], growth["new"]
    lines = [
        f"Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, load "
        f"{os.getloadavg()[0]:.1f}; the MSAS demo form filled in (Polish, ~7 500 characters).",
        "",
        f"| document | median ms ({repeat} runs) | size KiB |",
        "|---|--:|--:|",
    ]
    for name, median in medians.items():
        lines.append(f"| {name} | {median:.0f} | {sizes[name] / 1024:.0f} |")
    lines += [
        "",
        f"- Formdesk PDF ÷ bare WeasyPrint (same HTML): **{pdf_ratio:.2f}**",
        f"- Formdesk DOCX ÷ bare python-docx (same paragraphs): **{docx_ratio:.2f}**",
        "",
        f"| {count} PDFs | RSS growth | per PDF | seconds |",
        "|---|--:|--:|--:|",
        f"| one shared FontConfiguration | {shared[0] / 1024:.1f} MiB "
        f"| {shared[0] / count:.0f} KiB | {shared[1]:.1f} |",
        f"| a new FontConfiguration each | {new[0] / 1024:.1f} MiB "
        f"| {new[0] / count:.0f} KiB | {new[1]:.1f} |",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 timings, 50 PDFs")
    parser.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        mode, content_file, count = args.memory_child
        memory_child(content_file, mode, int(count))
        return
    repeat, count = (5, 50) if args.quick else (20, 200)
    with tempfile.TemporaryDirectory(prefix="formdesk-bench-documents-") as tmp:
        directory = Path(tmp)
        app = make_app(directory)
        submission_id = msas_submission(app)
        medians, sizes, content = timings(app, submission_id, repeat)
        growth = memory(content, count, directory)
    table = report(medians, sizes, growth, repeat, count)
    print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("# Documents (`bench/document_rendering.py`)\n\n" + table, encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
