"""Documents as people use them on paper and with assistive technology, for every demo call
in every language it offers: the blank form (room to write in proportion to each answer's
length, where and how to send it, date and signature lines), a group item (one participant)
kept on one page, decision letters with an addressee and a place-and-date line, DOCX text
tagged in the document's language."""

from __future__ import annotations

import io
import re
import zipfile

import docx
import pypdf
import pytest

from tests.conftest import FormClient
from tests.conftest_mail import deliver
from tests.definitions import window
from tests.test_outcome import CALL_LANGUAGES, DEMO_CALLS, send

WRITING_LINE = re.compile(r"_{20,}$")


def blank(app, slug: str, language: str, extension: str) -> bytes:
    client = FormClient(app.test_client())
    response = client.client.get(f"/calls/{slug}/form.{extension}?lang={language}")
    assert response.status_code == 200
    return response.data


def words(app, language: str, *texts: str) -> list[str]:
    from flask_babel import force_locale, gettext

    with app.app_context(), force_locale(language):
        return [gettext(text) for text in texts]


def docx_languages(data: bytes) -> set[str]:
    """Every w:lang value in the DOCX's parts (styles, body, header, footer)."""
    found = set()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            if name.endswith(".xml"):
                xml = package.read(name).decode()
                found |= set(re.findall(r'<w:lang [^>]*w:val="([^"]+)"', xml))
    return found


def pdf_pages(data: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(data)).pages]


@pytest.mark.parametrize(("slug", "language"), CALL_LANGUAGES)
def test_the_blank_form_can_be_filled_in_signed_and_sent_on_paper(app, create_form, slug, language):
    create_form(DEMO_CALLS[slug], **window())
    from forms.published import spec_for
    from services.catalog import find_form

    with app.app_context():
        spec = spec_for(find_form(slug).current_version)
        questions = {
            f.label(language): f
            for page in spec.pages
            for f in page.fields
            if f.type in ("text", "textarea")
        }
    document = docx.Document(io.BytesIO(blank(app, slug, language, "docx")))
    paragraphs = document.paragraphs
    lines_under = {}
    for index, paragraph in enumerate(paragraphs):
        if paragraph.style.name == "Heading 3" and paragraph.text in questions:
            following = []
            for later in paragraphs[index + 1 :]:
                if later.style.name.startswith("Heading"):
                    break
                following.append(later)
            lines_under[paragraph.text] = sum(1 for p in following if WRITING_LINE.search(p.text))
    assert set(lines_under) == set(questions)
    # Room in proportion to the longest answer allowed: never less for a longer answer.
    by_length = sorted(
        (f.options.get("max_length") or 0, f.type == "textarea", lines_under[label])
        for label, f in questions.items()
    )
    assert [lines for *_, lines in by_length] == sorted(lines for *_, lines in by_length)
    for label, field in questions.items():
        longest = field.options.get("max_length")
        if field.type == "textarea" and longest:
            assert lines_under[label] >= min(longest // 80, 40), label

    send_title, place_date, signature = words(
        app, language, "How to send this form", "Place and date", "Signature"
    )
    email = DEMO_CALLS[slug]["contact"]["email"]
    text = "\n".join(p.text for p in paragraphs)
    for expected in (send_title, place_date, signature, email):
        assert expected in text, expected
    pages = pdf_pages(blank(app, slug, language, "pdf"))
    last = pages[-1]
    assert place_date in last and signature in last
    assert any(send_title in page for page in pages)
    assert email in " ".join(pages)


# What Word calls each language, with its region (British English, as the service writes).
WORD_TAGS = {"en": "en-GB", "pl": "pl-PL", "sv": "sv-SE", "de": "de-DE", "lt": "lt-LT"}


@pytest.mark.parametrize(("slug", "language"), CALL_LANGUAGES)
def test_docx_text_is_tagged_in_the_documents_language(app, create_form, smtp, slug, language):
    """python-docx's template tags every run en-US: Word would check a Polish form's
    spelling as English and a screen reader would read it with an English voice."""
    create_form(DEMO_CALLS[slug], **window())
    send(app, slug, language)
    deliver(app)
    from documents.store import read
    from extensions import db
    from models import Document

    with app.app_context():
        copy = read(db.session.query(Document).filter_by(kind="copy_docx").one())
    for data in (blank(app, slug, language, "docx"), copy):
        assert docx_languages(data) == {WORD_TAGS[language]}


def test_each_participant_is_kept_on_one_page(app, create_form, smtp):
    """Six participants of a delegation fill several pages; none is split between two."""
    create_form(DEMO_CALLS["study-visit-stralsund"], **window())
    import tests.test_outcome as journey

    original = journey.field_answer

    def six_items(field, language):  # the generic answers give two items; six here
        if field.type != "group":
            return original(field, language)
        data = {}
        for index in range(6):
            for child in field.children:
                if child.is_input:
                    for key, value in original(child, language).items():
                        data[f"{field.name}-{index}-{key}"] = value
        return data

    journey.field_answer = six_items
    try:
        send(app, "study-visit-stralsund", "en")
    finally:
        journey.field_answer = original
    deliver(app)
    from documents.store import read
    from extensions import db
    from models import Document

    with app.app_context():
        pdf = read(db.session.query(Document).filter_by(kind="copy_pdf").one())
        word = read(db.session.query(Document).filter_by(kind="copy_docx").one())
    # DOCX: each participant is one paragraph that Word and LibreOffice keep on one page.
    blocks = [p for p in docx.Document(io.BytesIO(word)).paragraphs if "First name:" in p.text]
    assert len(blocks) == 6
    assert all(
        "Accommodation needed:" in b.text and b.paragraph_format.keep_together for b in blocks
    )
    pages = pdf_pages(pdf)
    assert len(pages) >= 2
    first_label, last_label = "First name:", "Accommodation needed:"
    for page in pages:
        items = re.findall(r"Participant (\d)", page)
        assert page.count(first_label) == page.count(last_label) == len(items), page
    assert sum(len(re.findall(r"Participant \d", page)) for page in pages) == 6


def test_a_decision_letter_has_an_addressee_and_is_dated_from_the_organisations_place(
    app, create_form, smtp
):
    from datetime import UTC, datetime

    create_form(DEMO_CALLS["msas"])
    send(app, "msas", "pl")
    from extensions import db
    from models import AuditEntry, Document, Submission
    from services.transitions import Actor, transition

    with app.app_context():
        submission = db.session.query(Submission).one()
        transition(submission.id, "start_review", Actor("reviewer"))
        transition(submission.id, "accept", Actor("reviewer"))
        # Decided late in the evening (UTC): already the next day in Łódź.
        entry = db.session.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
        entry.created_at = datetime(2030, 1, 21, 23, 30, tzinfo=UTC)
        db.session.commit()
        email = submission.applicant_email
    deliver(app)
    day = "22 stycznia 2030"
    from documents.store import read

    with app.app_context():
        letters = {
            d.kind: read(d)
            for d in db.session.query(Document).filter(Document.kind.like("letter_%"))
        }
    (page,) = pdf_pages(letters["letter_pdf"])
    heading = page.index("Decyzja w sprawie zgłoszenia")
    head = page[:heading]
    assert "Anna Przykładowa-Müller" in head and email in head
    assert f"Łódź, {day}" in head
    word = docx.Document(io.BytesIO(letters["letter_docx"]))
    texts = [p.text for p in word.paragraphs]
    dated = texts.index(f"Łódź, {day}")
    assert texts[dated - 1] == f"Anna Przykładowa-Müller\n{email}"
    assert word.paragraphs[dated].alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.RIGHT
    assert word.paragraphs[dated + 1].style.name == "Heading 1"


# --- PDF/UA: running headers and footers are artifacts ---------------------------------------

TEXT_SHOWING = {b"Tj", b"TJ", b"'", b'"'}


def tagged_content(reader: pypdf.PdfReader) -> set[tuple[int, int]]:
    """(page object number, MCID) of every piece of content the structure tree reaches."""
    found, seen = set(), set()
    pending = [reader.trailer["/Root"]["/StructTreeRoot"].get("/K")]
    while pending:
        item = pending.pop()
        if isinstance(item, pypdf.generic.IndirectObject):
            if item.idnum in seen:
                continue
            seen.add(item.idnum)
            item = item.get_object()
        if isinstance(item, list):
            pending += list(item)
        elif isinstance(item, dict):
            page = item.get("/Pg")
            children = item.get("/K")
            if item.get("/Type") == "/MCR":
                found.add((page.idnum, int(item["/MCID"])))
                continue
            for child in children if isinstance(children, list) else [children]:
                if isinstance(child, int) and page is not None:
                    found.add((page.idnum, int(child)))
                elif child is not None:
                    pending.append(child)
    return found


def text_outside_tree_and_artifacts(data: bytes) -> tuple[int, list[int]]:
    """Text shown neither in tagged content nor in an artifact (PDF/UA 7.1-3), and how many
    text runs each page has as artifacts (its running header and footer)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    tagged = tagged_content(reader)
    stray, artifacts = 0, []
    for page in reader.pages:
        number = page.indirect_reference.idnum
        marks, in_artifact = [], 0
        for operands, operator in pypdf.generic.ContentStream(
            page.get_contents(), reader
        ).operations:
            if operator in (b"BDC", b"BMC"):
                tag, properties = operands[0], operands[1] if len(operands) > 1 else {}
                marks.append(
                    "artifact"
                    if tag == "/Artifact"
                    else ("tagged" if (number, properties.get("/MCID")) in tagged else "stray")
                    if isinstance(properties, dict) and "/MCID" in properties
                    else "other"
                )
            elif operator == b"EMC" and marks:
                marks.pop()
            elif operator in TEXT_SHOWING:
                if "artifact" in marks:
                    in_artifact += 1
                elif "tagged" not in marks:
                    stray += 1
        artifacts.append(in_artifact)
    return stray, artifacts


def test_running_headers_and_footers_of_pdfs_are_artifacts(app, create_form, smtp):
    """Copy, blank form and decision letter: the running header (call and organisation)
    and footer (page x / y) are artifacts on every page, and every other text is tagged."""
    create_form(DEMO_CALLS["msas"])
    send(app, "msas", "pl")
    from documents.store import read
    from extensions import db
    from models import Document, Submission
    from services.transitions import Actor, transition

    with app.app_context():
        submission = db.session.query(Submission).one()
        transition(submission.id, "start_review", Actor("reviewer"))
        transition(submission.id, "reject", Actor("reviewer"))
    deliver(app)
    with app.app_context():
        pdfs = [read(d) for d in db.session.query(Document).filter(Document.kind.like("%_pdf"))]
    pdfs.append(blank(app, "msas", "pl", "pdf"))
    assert len(pdfs) == 3
    for data in pdfs:
        stray, artifacts = text_outside_tree_and_artifacts(data)
        assert stray == 0
        assert all(count >= 2 for count in artifacts), artifacts  # header and footer
        text = pdf_pages(data)[0]
        assert "Strona 1 /" in text  # still printed for the eye
