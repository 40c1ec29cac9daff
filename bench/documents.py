"""Documents per submission: Formdesk's PDF and DOCX copy of one submission against the bare
libraries on the same content, in one process, alternating so both see the same machine.

- Formdesk PDF: `documents.content.submission_copy` (the content model, from the database)
  + `documents.pdf.render_pdf` (sandboxed template, tagged PDF/UA, own-assets-only fetcher,
  the process's FontConfiguration).
- Bare WeasyPrint: `HTML(string=...).write_pdf()` with the library's defaults, on the same
  HTML and stylesheet (the layout work is the same; what differs is Formdesk's own part),
  and on plain unstyled HTML carrying the same text (the least a PDF of it can cost).
- Formdesk DOCX: content model + `documents.docx.render_docx` (heading styles, table of
  facts, properties, header and page numbers).
- Bare python-docx: `Document()`, the same headings and paragraphs, saved to memory.

The submission is bench/export_memory.py's (about 1 KB of Polish text, a group of three
people). Target: Formdesk ÷ bare ≤ 1.3.

When bench/document_rendering.py is there (the documents' own benchmark, which also
measures the memory of a shared FontConfiguration), `make bench` runs that one instead and
quotes its table; this module's own measurement is the fallback.

    .venv/bin/python -m bench.documents [--quick]"""

from __future__ import annotations

import argparse
import html
import io
import os
import re
import statistics
import subprocess
import sys
import time

from bench.common import ROOT, database

TARGET = 1.3
DOCUMENTS_SCRIPT = ROOT / "bench" / "document_rendering.py"
DOCUMENTS_RESULTS = ROOT / "bench" / "results" / "documents.md"
RATIO = re.compile(r"^- (Formdesk [^:]+): \*\*([0-9.]+)\*\*", re.MULTILINE)


def from_documents_script(quick: bool) -> dict:
    """Runs bench/document_rendering.py and takes its table and ratios."""
    command = [sys.executable, str(DOCUMENTS_SCRIPT)] + (["--quick"] if quick else [])
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
    text = DOCUMENTS_RESULTS.read_text(encoding="utf-8")
    body = text.split("\n", 1)[1].strip() if text.startswith("#") else text.strip()
    return {
        "source": "bench/document_rendering.py",
        "markdown": body,
        "ratios": {name: float(value) for name, value in RATIO.findall(body)},
    }


def _bare_pdf(markup: str, base_url: str | None) -> bytes:
    from weasyprint import HTML

    return HTML(string=markup, base_url=base_url).write_pdf()


def _plain_html(content) -> str:
    parts = [f"<h1>{html.escape(content.heading)}</h1>"]
    parts += [f"<p>{html.escape(k)}: {html.escape(v)}</p>" for k, v in content.facts]
    for section in content.sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        for item in section.items:
            parts.append(f"<h3>{html.escape(item.question)}</h3>")
            parts += [f"<p>{html.escape(line)}</p>" for line in item.answer]
    return "<!doctype html><html><body>" + "".join(parts) + "</body></html>"


def _bare_docx(content) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(content.heading, level=0)
    for label, value in content.facts:
        document.add_paragraph(f"{label}: {value}")
    for section in content.sections:
        document.add_heading(section.title, level=1)
        for item in section.items:
            document.add_heading(item.question, level=2)
            for line in item.answer:
                document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def measure(quick: bool, databases: tuple[str, ...] = ("sqlite",)) -> dict:
    if DOCUMENTS_SCRIPT.exists():
        return from_documents_script(quick)
    return own_measurement(quick)


def own_measurement(quick: bool) -> dict:
    repeat = 3 if quick else 15
    with database("sqlite", "documents") as db:
        os.environ["FORMDESK_INSTANCE_PATH"] = str(db.directory / "instance")
        from app import create_app
        from bench.export_memory import fill
        from documents.content import submission_copy
        from documents.docx import render_docx
        from documents.pdf import ASSETS, html_for, render_pdf
        from extensions import db as sqla
        from forms.published import spec_for
        from models import Submission
        from services.users import create_user

        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "x" * 40,
                "SQLALCHEMY_DATABASE_URI": db.url,
                "FORMDESK_LOAD_FORMS_ON_START": False,
                "FORMDESK_UPLOAD_DIR": str(db.directory / "uploads"),
            }
        )
        with app.app_context():
            user = create_user("docs@example.org", "bench-password-not-secret", "admin")
            fill(app, "docs", 1, 1, [user.id])
            submission = sqla.session.get(Submission, 1)
            spec = spec_for(submission.form_version)
            content = submission_copy(submission, spec)
            same_html = html_for(content)
            plain_html = _plain_html(content)
            base_url = ASSETS.as_uri() + "/"

            def ours_pdf():
                return render_pdf(submission_copy(submission, spec))

            def ours_docx():
                return render_docx(submission_copy(submission, spec), submission.reference)

            runs = {
                "Formdesk PDF": ours_pdf,
                "bare WeasyPrint, same HTML and CSS": lambda: _bare_pdf(same_html, base_url),
                "bare WeasyPrint, plain HTML": lambda: _bare_pdf(plain_html, None),
                "Formdesk DOCX": ours_docx,
                "bare python-docx": lambda: _bare_docx(content),
            }
            sizes = {name: len(run()) for name, run in runs.items()}  # warm-up, and sizes
            times: dict[str, list[float]] = {name: [] for name in runs}
            for _ in range(repeat):
                for name, run in runs.items():
                    began = time.perf_counter()
                    run()
                    times[name].append(time.perf_counter() - began)
            sqla.session.remove()
            sqla.engine.dispose()
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    return {
        "repeat": repeat,
        "median_ms": medians,
        "min_ms": {name: min(values) * 1000 for name, values in times.items()},
        "sizes": sizes,
        "ratios": {
            "PDF ÷ WeasyPrint (same HTML and CSS)": medians["Formdesk PDF"]
            / medians["bare WeasyPrint, same HTML and CSS"],
            "PDF ÷ WeasyPrint (plain HTML)": medians["Formdesk PDF"]
            / medians["bare WeasyPrint, plain HTML"],
            "DOCX ÷ python-docx": medians["Formdesk DOCX"] / medians["bare python-docx"],
        },
    }


def report(data: dict) -> str:
    if data.get("source"):
        verdicts = [
            f"- {name} = {ratio:.2f}: {'meets' if ratio <= TARGET else 'misses'} the target "
            f"≤ {TARGET}."
            for name, ratio in data["ratios"].items()
        ]
        return "\n".join(
            [
                f"## 5. Documents per submission (`{data['source']}`)",
                "",
                data["markdown"],
                "",
                *verdicts,
                "",
            ]
        )
    lines = [
        "## 5. Documents per submission (`bench/documents.py`)",
        "",
        f"One submission's copy made {data['repeat']} times by each, alternating, in one "
        "process (after one unmeasured run each). Formdesk's figures include building the "
        "content from the database.",
        "",
        "| what | median ms | fastest ms | size KiB |",
        "|---|--:|--:|--:|",
    ]
    for name, median in data["median_ms"].items():
        lines.append(
            f"| {name} | {median:.0f} | {data['min_ms'][name]:.0f} "
            f"| {data['sizes'][name] / 1024:.0f} |"
        )
    lines.append("")
    for name, ratio in data["ratios"].items():
        verdict = "meets" if ratio <= TARGET else "misses"
        lines.append(f"- **{name} = {ratio:.2f}** ({verdict} the target ≤ {TARGET}).")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    print(report(measure(parser.parse_args().quick)))
