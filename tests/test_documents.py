"""Generated documents over HTTP, on SQLite and PostgreSQL: every document is read back (pypdf
for PDF, python-docx for DOCX) and must hold what the applicant sent, in their language.

Copies of applications, blank forms, decision letters, bulk ZIP and merged PDF, the command
line; hostile answers that must neither break a document nor make it fetch anything; who may
download what; LibreOffice opening every DOCX kind."""

from __future__ import annotations

import copy
import http.server
import io
import re
import shutil
import socket
import subprocess
import threading
import unicodedata
import zipfile
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import pypdf
import pytest
import yaml
from sqlalchemy import func, select

from tests.conftest import FormClient, demo_definition, need
from tests.conftest_mail import deliver
from tests.definitions import base
from tests.test_review_detail import signed_in, staff

LETTERS = "ąćęłńóśźż åäö ü ė"
PDF_UPLOAD = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
WORD_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

PAGES = [
    {
        "title": {"en": "Your branch", "pl": "Twoja filia", "sv": "Din filial"},
        "fields": [
            {
                "name": "contact_name",
                "type": "text",
                "label": {"en": "Name", "pl": "Imię i nazwisko", "sv": "Namn"},
                "required": True,
                "identifying": True,
            },
            {"name": "email", "type": "email", "label": "Email", "required": True},
            {
                "name": "story",
                "type": "textarea",
                "label": {"en": "Your story", "pl": "Twoja historia", "sv": "Din berättelse"},
                "max_length": 20000,
            },
            {
                "name": "format",
                "type": "choice",
                "label": {"en": "Format", "pl": "Forma spotkań", "sv": "Mötesform"},
                "choices": [
                    {
                        "value": "walk",
                        "label": {"en": "Walk", "pl": "Spacer sąsiedzki", "sv": "Grannpromenad"},
                    },
                    {
                        "value": "cafe",
                        "label": {"en": "Café", "pl": "Kawiarenka językowa", "sv": "Språkcafé"},
                    },
                ],
            },
            {
                "name": "partners",
                "type": "group",
                "label": {"en": "Partners", "pl": "Partnerzy", "sv": "Samarbetspartner"},
                "item_label": {"en": "Partner", "pl": "Partner", "sv": "Partner"},
                "max": 3,
                "fields": [
                    {
                        "name": "organisation",
                        "type": "text",
                        "label": {"en": "Organisation", "pl": "Organizacja", "sv": "Organisation"},
                        "required": True,
                    }
                ],
            },
            {
                "name": "budget",
                "type": "file",
                "label": {"en": "Budget", "pl": "Budżet", "sv": "Budget"},
                "accept": ["pdf"],
            },
        ],
    }
]
ORGANISATION = "Fundacja Przykładowa Łódź"
CONTACT = {"name": "Anna Przykładowa", "email": "zone@example.org", "phone": "+48 42 000 00 00"}
# Words of the documents' own layout in each language (translations/*/messages.po).
PAGE_WORD = {"pl": "Strona", "sv": "Sida", "en": "Page"}
REFERENCE_WORD = {"pl": "Numer zgłoszenia", "sv": "Referensnummer", "en": "Reference"}


def zone_call(slug: str = "zone", **extra) -> dict:
    return base(
        slug,
        PAGES,
        reference_prefix=slug.upper(),
        title={"en": "Zone call", "pl": "Nabór do strefy", "sv": "Ansökan om zon"},
        organisation={"name": ORGANISATION},
        contact=CONTACT,
        capacity=2,
        applicant_name_field="contact_name",
        **extra,
    )


def answers(**extra) -> dict:
    return {
        "contact_name": "Zażółć Gęślą Jaźń",
        "email": "branch@example.org",
        "story": f"Åsa & Łukasz {LETTERS}\nDruga linia: Grüße aus Vilnius – ėglė.",
        "format": "cafe",
        "partners-0-organisation": "Bücherei Müller",
        "partners-1-organisation": "Biblioteka Žirmūnų ė",
        **extra,
    }


# --- helpers ---------------------------------------------------------------------------


def apply(app, slug: str, data: dict, language: str = "en") -> tuple[str, int, str]:
    """Send an application like a browser (files as (stream, name)): token, id, reference."""
    client = FormClient(app.test_client())
    client.get(f"/?lang={language}")
    spec_pages = _page_count(app, slug)
    files = any(isinstance(v, tuple) for v in data.values())
    for number in range(1, spec_pages + 1):
        response = client.fill(
            slug, number, dict(data), content_type="multipart/form-data" if files else None
        )
        assert response.status_code == 302, client.last_html[:600]
    client.get(f"/calls/{slug}/check")
    response = client.post(f"/calls/{slug}/check", {})
    assert response.status_code == 302, client.last_html[:600]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    token = re.search(r"/s/([A-Za-z0-9_-]{20,})", page).group(1)
    with app.app_context():
        from services.submissions import find_submission

        submission = find_submission(token)
        return token, submission.id, submission.reference


def _page_count(app, slug: str) -> int:
    with app.app_context():
        from forms.published import spec_for
        from services.catalog import find_form

        return len(spec_for(find_form(slug).current_version).pages)


def make_documents(app) -> None:
    """What the background worker does before delivering email."""
    from documents.letters import make_missing_letters
    from documents.store import make_missing

    with app.app_context():
        while make_missing():
            pass
        while make_missing_letters():
            pass


def move(app, submission_id: int, name: str, comment: str | None = None) -> None:
    from services.transitions import Actor, transition

    with app.app_context():
        transition(submission_id, name, Actor("reviewer"), comment=comment)


def download(client, url: str, status: int = 200):
    raw = client.client if isinstance(client, FormClient) else client
    response = raw.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    """Text with every run of white space as one space (PDF lines wrap anywhere)."""
    return " ".join(text.split())


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def documents_of(app, submission_id: int) -> list[tuple[str, int, str]]:
    from extensions import db
    from models import Document

    with app.app_context():
        rows = db.session.scalars(
            select(Document).where(Document.submission_id == submission_id).order_by(Document.id)
        )
        return [(d.kind, d.revision, d.language) for d in rows]


def bookmarks(reader: pypdf.PdfReader) -> list[str]:
    """The top level of the outline: one per submission (each copy's own headings nest)."""
    return [item.title for item in reader.outline if not isinstance(item, list)]


def poppler_text(data: bytes, tmp_path: Path) -> str:
    """Text as Poppler reads it. pypdf misreads the encoding WeasyPrint writes when a font
    holds glyphs past the first 64K (emoji), and garbles the whole page; PDF viewers and
    Poppler read it right."""
    pdftotext = shutil.which("pdftotext")
    need(pdftotext is not None, "pdftotext (poppler-utils) is not installed")
    path = tmp_path / "read.pdf"
    path.write_bytes(data)
    result = subprocess.run(  # noqa: S603 (our own arguments)
        [pdftotext, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return result.stdout.decode()


def letter_links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+/letters/\d+/letter_(?:pdf|docx))"', html)


# --- the copy of an application -----------------------------------------------------------


@pytest.mark.parametrize("language", ["pl", "sv"])
def test_the_copy_holds_every_answer_in_the_applicants_language(app, create_form, language):
    from documents.store import read
    from extensions import db
    from forms.fields import format_size
    from models import Document, Submission
    from moments import local_time_in

    create_form(zone_call())
    data = answers(budget=(io.BytesIO(PDF_UPLOAD), "budżet – Łódź 2027.pdf"))
    token, submission_id, reference = apply(app, "zone", data, language)
    make_documents(app)
    applicant = FormClient(app.test_client())
    page = applicant.get(f"/s/{token}").get_data(as_text=True)
    pdf_url, docx_url = f"/s/{token}/documents/copy_pdf", f"/s/{token}/documents/copy_docx"
    assert pdf_url in page and docx_url in page
    pdf = download(applicant, pdf_url)
    word = download(applicant, docx_url)
    assert pdf.mimetype == "application/pdf" and word.mimetype == WORD_TYPE
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"

    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        zone = ZoneInfo("Europe/Warsaw")
        submitted = local_time_in(submission.submitted_at, zone, language)
        size = format_size(submission.attachments[0].size)
        stored = db.session.scalar(
            select(Document).where(
                Document.submission_id == submission_id, Document.kind == "copy_pdf"
            )
        )
        assert read(stored) == pdf.data

    every_answer = [
        "Zażółć Gęślą Jaźń",
        "branch@example.org",
        f"Åsa & Łukasz {LETTERS}",
        "Druga linia: Grüße aus Vilnius – ėglė.",
        "Bücherei Müller",
        "Biblioteka Žirmūnų ė",
    ]
    questions = {
        "pl": ["Imię i nazwisko", "Twoja historia", "Forma spotkań", "Kawiarenka językowa"],
        "sv": ["Namn", "Din berättelse", "Mötesform", "Språkcafé"],
    }[language]
    zone = {"pl": "czas środkowoeuropejski", "sv": "centraleuropeisk tid"}[language]
    facts = [reference, submitted, zone, ORGANISATION, REFERENCE_WORD[language]]
    attachment = f"budżet – Łódź 2027.pdf ({size})"

    text = flat(pdf_text(pdf.data))
    for expected in every_answer + questions + facts + [attachment]:
        assert flat(expected) in text, expected
    assert "Your story" not in text  # the question in the applicant's language only
    assert f"{PAGE_WORD[language]} 1 / 1" in text  # page numbers

    reader = pypdf.PdfReader(io.BytesIO(pdf.data))
    catalog = reader.trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"].value is True  # a tagged PDF …
    assert "/StructTreeRoot" in catalog  # … with its structure
    assert catalog["/Lang"] == language
    assert reader.metadata.title and reference in reader.metadata.title

    document = docx.Document(io.BytesIO(word.data))
    text = docx_text(word.data)
    for expected in every_answer + questions + facts + [attachment]:
        assert expected in text, expected
    styles = {p.text: p.style.name for p in document.paragraphs}
    assert styles[questions[1]].startswith("Heading")  # real headings, not bold text
    assert any(name.startswith("Heading") for name in styles.values())
    properties = document.core_properties
    assert reference in properties.title and properties.author == ORGANISATION
    assert properties.language == language and properties.keywords == reference
    footer = document.sections[0].footer._element.xml
    assert "PAGE" in footer and "NUMPAGES" in footer  # page numbers Word computes
    assert PAGE_WORD[language] in footer


def test_a_document_not_made_yet_answers_202_with_the_being_prepared_page(app, create_form):
    create_form(zone_call())
    token, submission_id, _reference = apply(app, "zone", answers())
    response = download(app.test_client(), f"/s/{token}/documents/copy_pdf", 202)
    assert "being prepared" in response.get_data(as_text=True)
    admin = signed_in(app, staff(app, "admin@example.org", "admin"))
    response = download(admin, f"/dashboard/submissions/{submission_id}/documents/copy_docx", 202)
    assert "being prepared" in response.get_data(as_text=True)
    make_documents(app)
    download(app.test_client(), f"/s/{token}/documents/copy_pdf", 200)


def test_a_changed_submission_gets_new_documents_and_the_old_ones_stay(app, create_form):
    from documents.store import read
    from extensions import db
    from models import Document

    create_form(zone_call())
    token, submission_id, _reference = apply(app, "zone", answers(story="First plan"))
    make_documents(app)
    assert documents_of(app, submission_id) == [("copy_pdf", 1, "en"), ("copy_docx", 1, "en")]

    editor = FormClient(app.test_client())
    editor.get(f"/s/{token}/edit/1")
    response = editor.post(
        f"/s/{token}/edit/1", {**answers(story="Second plan, with ė"), "action": "continue"}
    )
    assert response.status_code == 302, editor.last_html[:400]
    editor.get(f"/s/{token}/edit")
    revision = re.search(r'name="revision" value="(\d+)"', editor.last_html).group(1)
    assert editor.post(f"/s/{token}/edit", {"revision": revision}).status_code == 302

    download(editor, f"/s/{token}/documents/copy_pdf", 202)  # the new one is being made
    make_documents(app)
    assert documents_of(app, submission_id) == [
        ("copy_pdf", 1, "en"),
        ("copy_docx", 1, "en"),
        ("copy_pdf", 2, "en"),
        ("copy_docx", 2, "en"),
    ]
    current = pdf_text(download(editor, f"/s/{token}/documents/copy_pdf").data)
    assert "Second plan, with ė" in current and "First plan" not in current
    assert "Second plan, with ė" in docx_text(
        download(editor, f"/s/{token}/documents/copy_docx").data
    )
    with app.app_context():
        first = db.session.scalar(
            select(Document).where(
                Document.submission_id == submission_id,
                Document.kind == "copy_pdf",
                Document.revision == 1,
            )
        )
        assert "First plan" in pdf_text(read(first))  # as it was sent, kept


# --- hostile answers ------------------------------------------------------------------------


@contextmanager
def listening_server():
    """An HTTP server on localhost that counts every request it gets."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { background: red }")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def no_connections():
    """Records every outbound socket connection attempted meanwhile (and refuses it)."""
    attempts: list[object] = []
    original = socket.socket.connect

    def connect(self, address):
        attempts.append(address)
        raise OSError("no connections while rendering")

    socket.socket.connect = connect
    try:
        yield attempts
    finally:
        socket.socket.connect = original


def hostile(url: str) -> list[str]:
    return [
        f'<img src="{url}/img.png"> <b>bold?</b> <script>alert(1)</script>',
        '<link rel=stylesheet href="file:///etc/passwd"><link rel=stylesheet href="'
        + url
        + '/x.css">',
        f"<style>@import url({url}/import.css); body {{ background: url({url}/bg.png) }}</style>",
        "{{ config }} {% for x in range(9) %}x{% endfor %} ${7*7}",
        "W" * 10_000,
        "مرحبا بالجيران — שלום שכנים — abc",
        "Emoji 👋🏽 🏳️‍🌈 🧑‍🤝‍🧑",
        "bell\x07 escape\x1b vertical\x0b form\x0c end",
    ]


@pytest.mark.slow
def test_hostile_answers_render_and_fetch_nothing(app, create_form, tmp_path):
    from documents.content import DocumentContent, QuestionAnswer, Section, clean
    from documents.docx import render_docx
    from documents.pdf import OwnAssetsOnly, render_pdf

    create_form(zone_call())
    with listening_server() as (url, requests):
        texts = hostile(url)
        # What the form lets through (control characters and over-long answers are refused
        # at the edge, tests/test_public_edge.py); the renderers get the rest directly below.
        typed = [t for t in texts if not any(unicodedata.category(c) == "Cc" for c in t)]
        token, submission_id, _reference = apply(
            app, "zone", answers(contact_name=texts[0][:200], story="\n".join(typed))
        )
        make_documents(app)  # the worker's own path, both formats
        pdf = download(app.test_client(), f"/s/{token}/documents/copy_pdf").data
        word = download(app.test_client(), f"/s/{token}/documents/copy_docx").data

        # The renderers themselves, with control characters the form might not let through.
        content = DocumentContent(
            language="pl",
            title=clean("Nabór\x00 <i>testowy</i>"),
            organisation=clean(ORGANISATION + "\x1f"),
            heading="Hostile",
            facts=[("Ref", clean("\x08TEST"))],
            sections=[
                Section("Answers", [QuestionAnswer(clean(t[:80]), [clean(t)]) for t in texts])
            ],
            labels={"page": "Strona", "of": "z", "attachments": "Załączniki", "not_answered": "-"},
        )
        fetcher = OwnAssetsOnly()
        with no_connections() as attempts:
            direct_pdf = render_pdf(content, fetcher)
            direct_docx = render_docx(content)
        assert attempts == []
        assert fetcher.refused == []  # not even asked: answers are text, never markup
        assert requests == [], requests  # the server on localhost heard nothing

    for data in (pdf, direct_pdf):
        text = poppler_text(data, tmp_path)
        assert "<img src=" in text and "bold?" in text  # shown as typed, not interpreted
        assert "{{ config }}" in text and "${7*7}" in text
        assert "/etc/passwd" in text
        assert "root:" not in text
        assert "W" * 30 in text  # the 10 000-character word wraps instead of overflowing
        assert "Emoji 👋" in text
    for data in (word, direct_docx):
        text = docx_text(data)
        assert "<script>alert(1)</script>" in text and "W" * 10_000 in text.replace("\n", "")
        assert "\x07" not in text and "\x1b" not in text


def test_the_fetcher_reaches_only_the_document_stylesheet():
    from documents.pdf import ASSETS, BlockedURL, OwnAssetsOnly

    fetcher = OwnAssetsOnly()
    stylesheet = fetcher.fetch((ASSETS / "document.css").as_uri())
    assert stylesheet is not None
    for url in (
        "http://127.0.0.1:9/x.css",
        "https://example.org/logo.png",
        "file:///etc/passwd",
        (ASSETS / ".." / ".." / "config.py").as_uri(),
        "data:text/css,body{}",
    ):
        with pytest.raises(BlockedURL):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 5


# --- who may download what -----------------------------------------------------------------


def test_a_token_opens_only_its_own_documents(app, create_form):
    create_form(zone_call())
    token_a, id_a, _ = apply(app, "zone", answers())
    token_b, id_b, _ = apply(app, "zone", answers(email="other@example.org"))
    move(app, id_a, "start_review")
    move(app, id_a, "accept")
    make_documents(app)
    client = FormClient(app.test_client())
    [letter_pdf, letter_docx] = letter_links(client.get(f"/s/{token_a}").get_data(as_text=True))
    download(client, letter_pdf)
    download(client, letter_docx)
    entry = re.search(r"/letters/(\d+)/", letter_pdf).group(1)
    download(client, f"/s/{token_b}/letters/{entry}/letter_pdf", 404)  # A's letter, B's link
    download(client, f"/s/{token_b}/letters/999999/letter_pdf", 404)
    download(client, f"/s/{token_a}/letters/{entry}/copy_pdf", 404)  # not a letter kind
    download(client, f"/s/{token_a}/documents/letter_pdf", 404)
    download(client, f"/s/{token_a}/documents/blank_pdf", 404)
    download(client, "/s/" + "x" * 43 + "/documents/copy_pdf", 404)
    assert letter_links(client.get(f"/s/{token_b}").get_data(as_text=True)) == []


def test_reviewers_see_documents_of_their_own_forms_only(app, create_form):
    create_form(zone_call())
    create_form(zone_call("other"))
    create_form(zone_call("blind", blind_review=True))
    _, submission_id, _ = apply(app, "zone", answers())
    _, blind_id, _ = apply(app, "blind", answers())
    for sid in (submission_id, blind_id):
        move(app, sid, "start_review")
        move(app, sid, "reject", comment="Maybe next year.")
    make_documents(app)
    copy_url = f"/dashboard/submissions/{submission_id}/documents/copy_pdf"

    anonymous = app.test_client().get(copy_url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    mine = signed_in(app, staff(app, "zone@example.org", "call_manager", "zone", "blind"))
    page = mine.get(f"/dashboard/submissions/{submission_id}").get_data(as_text=True)
    assert copy_url in page and "Application as PDF" in page
    links = letter_links(page)
    assert len(links) == 2
    for url in [copy_url, copy_url.replace("pdf", "docx"), *links]:
        download(mine, url)
    # Blind review: copies and letters show the applicant's name; for admins only.
    blind_page = mine.get(f"/dashboard/submissions/{blind_id}").get_data(as_text=True)
    assert "documents/copy_pdf" not in blind_page and letter_links(blind_page) == []
    download(mine, f"/dashboard/submissions/{blind_id}/documents/copy_pdf", 404)

    other = signed_in(app, staff(app, "other@example.org", "call_manager", "other"))
    for url in [copy_url, *links]:
        download(other, url, 404)

    admin = signed_in(app, staff(app, "admin@example.org", "admin"))
    download(admin, f"/dashboard/submissions/{blind_id}/documents/copy_pdf")
    assert len(letter_links(admin.get(f"/dashboard/submissions/{blind_id}").get_data(True))) == 2


# --- blank forms ---------------------------------------------------------------------------


def test_the_blank_form_has_every_question_the_deadline_and_the_contact(app, create_form):
    from extensions import db
    from forms.published import spec_for
    from models import Document
    from moments import local_time_in
    from services.catalog import find_form

    create_form(zone_call())
    client = FormClient(app.test_client())
    page = client.get("/calls/zone?lang=pl").get_data(as_text=True)
    assert "/calls/zone/form.pdf?lang=pl" in page and "/calls/zone/form.docx?lang=pl" in page
    pdf = download(client, "/calls/zone/form.pdf?lang=pl")
    word = download(client, "/calls/zone/form.docx?lang=pl")
    assert pdf.mimetype == "application/pdf" and word.mimetype == WORD_TYPE
    with app.app_context():
        spec = spec_for(find_form("zone").current_version)
        deadline = local_time_in(spec.closes_at, spec.timezone, "pl")
    expected = [
        "Nabór do strefy",
        "Twoja filia",
        "Imię i nazwisko",
        "Email",
        "Twoja historia",
        "Forma spotkań",
        "☐ Spacer sąsiedzki",
        "☐ Kawiarenka językowa",
        "Partnerzy",
        "Organizacja:",
        "Budżet",
        deadline,
        "czas środkowoeuropejski",
        "Anna Przykładowa",
        "zone@example.org",
        "+48 42 000 00 00",
        ORGANISATION,
    ]
    pdf_words, docx_words = flat(pdf_text(pdf.data)), docx_text(word.data)
    for text in expected:
        assert flat(text) in pdf_words, text
        assert text in docx_words, text
    # Room to write by hand: the form runs over several pages, each numbered.
    assert re.search(r"Strona 1 / [2-9]", pdf_words)
    assert docx.Document(io.BytesIO(word.data)).core_properties.language == "pl"

    # Made once per version and language, then served from storage.
    download(client, "/calls/zone/form.pdf?lang=pl")
    english = pdf_text(download(client, "/calls/zone/form.pdf?lang=en").data)
    assert "Your story" in english and "Twoja historia" not in english
    download(client, "/calls/zone/form.pdf?lang=lt")  # not offered: the default language
    with app.app_context():
        made = db.session.execute(
            select(Document.kind, Document.language, func.count())
            .where(Document.submission_id.is_(None))
            .group_by(Document.kind, Document.language)
            .order_by(Document.kind, Document.language)
        ).all()
    assert made == [("blank_docx", "pl", 1), ("blank_pdf", "en", 1), ("blank_pdf", "pl", 1)]
    download(client, "/calls/nosuchcall/form.pdf", 404)
    download(client, "/calls/zone/form.odt", 404)


# --- decision letters ----------------------------------------------------------------------

MSAS_ANSWERS = {
    "branch_name": "Filia nr 12 Biblioteki Miejskiej",
    "branch_address-street": "ul. Przykładowa 5",
    "branch_address-postcode": "90001",  # written 90-001: the Polish way
    "branch_address-town": "Łódź",
    "branch_address-country": "PL",
    "contact_name": "Żaneta Wójcik-Ślęzak",
    "contact_email": "filia12@example.org",
    "contact_phone": "+48 42 111 22 33",
    "experience_residents": "Śniadania sąsiedzkie, warsztaty i spacery po okolicy — od 2019 r. "
    + LETTERS,
    "experience_foreigners": "Klub rozmów po polsku dla osób z Ukrainy i z Białorusi, co tydzień.",
    "motivation": "Chcemy, żeby sąsiedzi i sąsiadki spotykali się częściej: ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ.",
    "consent": "y",
}


def test_an_accepted_msas_branch_gets_the_forms_own_letter_with_the_email(app, create_form, smtp):
    create_form(demo_definition("msas"))
    token, submission_id, reference = apply(app, "msas", MSAS_ANSWERS, "pl")
    move(app, submission_id, "start_review")
    move(app, submission_id, "accept", comment="Gratulujemy! Prosimy o zabranie planu filii.")
    client = FormClient(app.test_client())
    [pdf_url, docx_url] = letter_links(client.get(f"/s/{token}").get_data(as_text=True))
    assert "Pismo z decyzją (Przyjęte," in client.last_html
    download(client, pdf_url, 202)  # asked for in the transaction, made by the worker
    deliver(app)  # makes the copies and the letter, then sends the receipt and the decision

    letter = flat(pdf_text(download(client, pdf_url).data))
    word = docx_text(download(client, docx_url).data)
    for text in (
        f"Decyzja w sprawie zgłoszenia {reference}",
        "Dzień dobry, Żaneta Wójcik-Ślęzak,",
        "Międzynarodowej Strefy Aktywności Sąsiedzkiej (MSAS)",
        "4 lutego 2030 r. o godz. 10:00",
        "od 18 lutego do 29 marca 2030 r.",
        "18 kwietnia 2030 r.",
        "do 28 stycznia 2030 r.",
        "Anna Przykładowa, msas@example.org",
        "Gratulujemy! Prosimy o zabranie planu filii.",
        "Fundacja Przykładowa Łódź",
        "Przyjęte",
    ):
        assert flat(text) in letter, text
        assert text in word, text
    assert "{" not in letter and "{" not in word  # every placeholder filled
    word_document = docx.Document(io.BytesIO(download(client, docx_url).data))
    assert word_document.core_properties.language == "pl"
    assert any(p.style.name.startswith("Heading") for p in word_document.paragraphs)

    messages = smtp.inbox.wait_for(2)
    decision = next(m for m in messages if "Przyjęte" in m["Subject"])
    [attached] = [part for part in decision.iter_attachments()]
    assert attached.get_filename() == f"{reference}-accepted.pdf"
    assert "4 lutego 2030" in flat(pdf_text(attached.get_content()))


def write_workflow(directory: Path) -> None:
    """A workflow whose decisions can be revised, each with a letter."""
    directory.mkdir()
    for path in Path("workflows/definitions").glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    (directory / "revisable.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "revisable",
                "initial": "submitted",
                "states": {
                    "submitted": {"label": {"en": "Submitted", "sv": "Inskickad"}},
                    "accepted": {"label": {"en": "Accepted", "sv": "Antagen"}},
                    "rejected": {"label": {"en": "Not accepted", "sv": "Ej antagen"}},
                },
                "transitions": [
                    {
                        "name": "accept",
                        "from": ["submitted", "rejected"],
                        "to": "accepted",
                        "by": ["reviewer", "admin"],
                        "effects": ["document:decision_letter"],
                    },
                    {
                        "name": "reject",
                        "from": ["submitted", "accepted"],
                        "to": "rejected",
                        "by": ["reviewer", "admin"],
                        "effects": ["document:decision_letter"],
                    },
                ],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )


def test_each_decision_gets_its_own_default_letter_and_earlier_ones_stay(
    app, create_form, tmp_path, monkeypatch
):
    from extensions import db
    from models import AuditEntry

    write_workflow(tmp_path / "workflows")
    monkeypatch.setitem(app.config, "FORMDESK_WORKFLOWS_DIR", str(tmp_path / "workflows"))
    create_form(zone_call(workflow="revisable"))
    token, submission_id, reference = apply(app, "zone", answers(), "sv")
    move(app, submission_id, "accept")
    move(app, submission_id, "reject", comment="Platserna räckte inte.")
    make_documents(app)

    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry.id)
            .where(AuditEntry.submission_id == submission_id, AuditEntry.to_state.is_not(None))
            .where(AuditEntry.action == "submission.transition")
            .order_by(AuditEntry.id)
        ).all()
    assert sorted(documents_of(app, submission_id)) == sorted(
        [("copy_pdf", 1, "sv"), ("copy_docx", 1, "sv")]
        + [(kind, entry, "sv") for entry in entries for kind in ("letter_pdf", "letter_docx")]
    )
    client = FormClient(app.test_client())
    links = letter_links(client.get(f"/s/{token}").get_data(as_text=True))
    assert len(links) == 4
    first, second = (flat(pdf_text(download(client, url).data)) for url in links[::2])
    assert "Hej Zażółć Gęślą Jaźń," in first and "har antagits" in first  # default sv text
    assert "Tyvärr kunde vi inte anta den" in second and "Platserna räckte inte." in second
    assert f"Beslut om ansökan {reference}" in second and "Ej antagen" in second
    assert "Platserna" not in first


def test_letter_texts_are_checked_when_the_definition_is_loaded(app, tmp_path):
    from forms.schema import DefinitionError, validate
    from services.catalog import load_definitions

    with pytest.raises(DefinitionError) as refused:
        validate(
            zone_call(
                letters={
                    "accepted": {"en": "Hello {name}, {secret_key} {reference.__class__}"},
                    "rejected": {"en": "A stray { brace"},
                    "Not A State": "x",
                    "waitlisted": {"en": "  "},
                }
            ),
            "zone.yaml",
        )
    message = str(refused.value)
    assert "letters.accepted.en: unknown placeholder(s): {secret_key}" in message
    assert "letters.rejected.en: a brace that is not part of a {placeholder}" in message
    assert "letters.Not A State: must be a workflow state" in message
    assert "letters.waitlisted.en: is empty" in message
    assert validate(zone_call(letters={"accepted": "Hej {name}, {date}"}), "zone.yaml")[
        "letters"
    ] == {"accepted": {"*": "Hej {name}, {date}"}}
    assert "letters" not in validate(zone_call(), "zone.yaml")  # others keep their checksum

    directory = tmp_path / "forms"
    directory.mkdir()
    definition = copy.deepcopy(zone_call(letters={"approved": "Hello {name}"}))
    (directory / "zone.yaml").write_text(yaml.safe_dump(definition, allow_unicode=True))
    with app.app_context(), pytest.raises(DefinitionError) as refused:
        load_definitions(str(directory))
    assert "letters.approved: not a state of application-review" in str(refused.value)


# --- many at once --------------------------------------------------------------------------


NAMES = ("Ąda Łęcka", "Örjan Åström", "Jūratė Ėglė")


def three_submissions(app, create_form) -> list[str]:
    create_form(zone_call())
    references = []
    for name in NAMES:
        _, submission_id, reference = apply(app, "zone", answers(contact_name=name))
        references.append(reference)
    move(app, submission_id, "start_review")  # the last one is in review
    return references


def test_the_list_downloads_a_zip_and_a_merged_pdf_of_what_it_shows(app, create_form):
    from extensions import db
    from models import AuditEntry

    references = three_submissions(app, create_form)  # no worker ran: made on the way
    reviewer = signed_in(app, staff(app, "zone@example.org", "call_manager", "zone"))
    page = reviewer.get("/dashboard/submissions?form=zone&sort=reference&order=asc")
    html = page.get_data(as_text=True).replace("&amp;", "&")
    zip_url = "/dashboard/documents/submissions.zip?form=zone&sort=reference&order=asc"
    pdf_url = zip_url.replace(".zip", ".pdf")
    assert zip_url in html and pdf_url in html

    response = download(reviewer, zip_url)
    assert response.mimetype == "application/zip"
    assert "filename=zone-documents.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert archive.namelist() == [f"{r}.pdf" for r in references]
        for reference, name in zip(references, NAMES, strict=True):
            text = pdf_text(archive.read(f"{reference}.pdf"))
            assert reference in text and name in text

    merged = pypdf.PdfReader(io.BytesIO(download(reviewer, pdf_url).data))
    text = "\n".join(p.extract_text() for p in merged.pages)
    assert len(merged.pages) >= 3 and all(r in text for r in references)
    assert bookmarks(merged) == references

    # Filters as on the list: the one in review only.
    in_review = download(reviewer, "/dashboard/documents/submissions.zip?form=zone&state=in_review")
    with zipfile.ZipFile(io.BytesIO(in_review.data)) as archive:
        assert archive.namelist() == [f"{references[-1]}.pdf"]
    with app.app_context():
        logged = db.session.scalars(
            select(AuditEntry.data).where(AuditEntry.action == "documents.exported")
        ).all()
    assert [(d["format"], d["count"]) for d in logged] == [("zip", 3), ("pdf", 3), ("zip", 1)]


@pytest.mark.slow  # renders many PDFs
def test_bulk_documents_are_for_reviewers_of_the_form_only(app, create_form):
    three_submissions(app, create_form)
    create_form(zone_call("other"))
    create_form(zone_call("blind", blind_review=True))
    apply(app, "blind", answers())
    url = "/dashboard/documents/submissions.zip?form=zone"

    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    other = signed_in(app, staff(app, "other@example.org", "call_manager", "other"))
    download(other, url, 404)  # not theirs: as if it did not exist
    download(other, "/dashboard/documents/submissions.pdf?form=nosuchcall", 404)
    nothing = download(other, "/dashboard/documents/submissions.zip", 400)  # none of theirs
    assert "No submission matches" in nothing.get_data(as_text=True)

    blind = signed_in(app, staff(app, "blind@example.org", "call_manager", "blind"))
    refused = download(blind, "/dashboard/documents/submissions.pdf?form=blind", 400)
    assert "Blind review" in refused.get_data(as_text=True)
    bad = download(blind, "/dashboard/documents/submissions.zip?form=blind&from=yesterday", 400)
    assert "2027-01-21" in bad.get_data(as_text=True)
    admin = signed_in(app, staff(app, "admin@example.org", "admin"))
    with zipfile.ZipFile(
        io.BytesIO(download(admin, "/dashboard/documents/submissions.zip").data)
    ) as z:
        assert len(z.namelist()) == 4  # every form's, for an admin


def test_the_command_line_exports_a_zip_and_a_merged_pdf(app, create_form, tmp_path):
    references = three_submissions(app, create_form)
    runner = app.test_cli_runner()
    out_zip, out_pdf = tmp_path / "out.zip", tmp_path / "out.pdf"
    result = runner.invoke(
        args=["documents", "export", "zone", "--zip", str(out_zip), "--merged", str(out_pdf)]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote 3 submission(s) to {out_zip}" in result.output
    with zipfile.ZipFile(out_zip) as archive:
        assert sorted(archive.namelist()) == sorted(f"{r}.pdf" for r in references)
    merged = pypdf.PdfReader(out_pdf)
    assert bookmarks(merged) == references  # oldest first
    assert merged.metadata.title == "Zone call"

    result = runner.invoke(
        args=["documents", "export", "zone", "--state", "in_review", "--zip", str(out_zip)]
    )
    assert result.exit_code == 0, result.output
    assert zipfile.ZipFile(out_zip).namelist() == [f"{references[-1]}.pdf"]
    assert runner.invoke(args=["documents", "export", "zone"]).exit_code == 2
    result = runner.invoke(args=["documents", "export", "nosuch", "--zip", str(out_zip)])
    assert result.exit_code == 1 and "no form named 'nosuch'" in result.output


# --- LibreOffice ---------------------------------------------------------------------------


@pytest.mark.slow  # LibreOffice converts each kind
def test_libreoffice_opens_every_docx_kind(app, create_form, tmp_path):
    soffice = shutil.which("soffice")
    need(soffice is not None, "LibreOffice (soffice) is not installed")
    create_form(zone_call())
    token, submission_id, reference = apply(app, "zone", answers(), "pl")
    move(app, submission_id, "start_review")
    move(app, submission_id, "accept", comment="Do zobaczenia w lutym.")
    make_documents(app)
    client = FormClient(app.test_client())
    [_pdf, letter_docx] = letter_links(client.get(f"/s/{token}").get_data(as_text=True))
    files = {
        "copy": download(client, f"/s/{token}/documents/copy_docx").data,
        "blank": download(client, "/calls/zone/form.docx?lang=pl").data,
        "letter": download(client, letter_docx).data,
    }
    for name, data in files.items():
        (tmp_path / f"{name}.docx").write_bytes(data)
    out = tmp_path / "pdf"
    result = subprocess.run(  # noqa: S603 (our own arguments)
        [
            soffice,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *(str(tmp_path / f"{name}.docx") for name in files),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    expected = {
        "copy": [reference, "Zażółć Gęślą Jaźń", f"Åsa & Łukasz {LETTERS}", "Biblioteka Žirmūnų ė"],
        "blank": [
            "Twoja historia",
            "Kawiarenka językowa",
            "Anna Przykładowa",
            "czas środkowoeuropejski",
        ],
        "letter": [reference, "Dzień dobry, Zażółć Gęślą Jaźń,", "Do zobaczenia w lutym."],
    }
    for name, texts in expected.items():
        text = flat(pdf_text((out / f"{name}.pdf").read_bytes()))
        for wanted in texts:
            assert flat(wanted) in text, (name, wanted)
        assert "Strona 1" in text  # the page number field, computed by LibreOffice


def test_copies_and_letters_are_headed_by_what_the_workflow_calls_its_submissions():
    """A registrant's copy said "Application": the heading follows the workflow's
    `submissions_are`, a whole sentence in each language."""
    from flask_babel import force_locale

    from app import create_app
    from documents.content import _blank_heading, _copy_heading, _decision_heading
    from workflows.engine import get_workflow

    with create_app({"TESTING": True}).test_request_context():
        kinds = {
            name: get_workflow(name).submissions_are
            for name in ("application-review", "event-registration", "request-handling")
        }
        assert kinds == {
            "application-review": "application",
            "event-registration": "registration",
            "request-handling": "request",
        }
        with force_locale("pl"):
            assert _copy_heading("registration", "STR-1") == "Rejestracja STR-1"
            assert _decision_heading("request", "TOL-2") == "Decyzja w sprawie prośby TOL-2"
        with force_locale("de"):
            assert _blank_heading("registration") == "Anmeldeformular"
            assert _copy_heading("application", "MSAS-3") == "Antrag MSAS-3"


def test_a_workflow_calling_its_submissions_something_unknown_is_refused():
    from workflows.engine import WorkflowError, parse

    with pytest.raises(WorkflowError, match="submissions_are: must be one of"):
        parse(
            {"name": "w", "submissions_are": "petition", "initial": "a", "states": {"a": {}}},
            "w.yaml",
        )
