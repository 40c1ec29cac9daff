"""The file field over HTTP: a real file is kept at once (an error elsewhere on the page never
asks for it again), moves to the submission on submit, and anything that is not what the
field accepts is refused with a message beside the field."""

from __future__ import annotations

import hashlib
import io
import re
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import errors_in
from tests.definitions import VALID_ALL_TYPES, all_types, base
from tests.files import docx

PAGE = "/calls/all-types/page/1"
CHECK = "/calls/all-types/check"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
MB = 1024 * 1024


# --- helpers ---------------------------------------------------------------------------


def upload(content: bytes, filename: str) -> tuple[io.BytesIO, str]:
    return (io.BytesIO(content), filename)


def send_page(client, data: dict, slug: str = "all-types", action: str = "continue"):
    """POST the page as a browser does when the form has a file input."""
    return client.fill(slug, 1, data, action=action, content_type="multipart/form-data")


def send_and_submit(client, data: dict, slug: str = "all-types") -> None:
    response = send_page(client, data, slug)
    assert response.status_code == 302, errors_in(client.last_html)
    assert response.headers["Location"].endswith(f"/calls/{slug}/check")
    assert client.get(f"/calls/{slug}/check").status_code == 200
    response = client.post(f"/calls/{slug}/check", {})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/calls/{slug}/confirmation")


def error_beside(html: str, field_id: str) -> str | None:
    match = re.search(
        rf'id="{re.escape(field_id)}-error">\s*<span class="visually-hidden">[^<]*</span>'
        r"\s*([^<]*?)\s*</p>",
        html,
    )
    return unescape(match.group(1)) if match else None


def uploaded_name(html: str) -> str | None:
    """The file name shown as "Uploaded: <name>" on the page, or None."""
    match = re.search(r"Uploaded:\s*<strong>([^<]*)</strong>", html)
    return unescape(match.group(1)) if match else None


def upload_dir(app) -> Path:
    return Path(app.config["FORMDESK_UPLOAD_DIR"])


def files_on_disk(app) -> set[Path]:
    return {p for p in upload_dir(app).rglob("*") if p.is_file()}


def attachments(app) -> list[dict]:
    from extensions import db
    from models import Attachment

    with app.app_context():
        rows = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
        return [
            {
                "id": a.id,
                "draft_id": a.draft_id,
                "submission_id": a.submission_id,
                "field": a.field,
                "original_name": a.original_name,
                "storage_name": a.storage_name,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
            }
            for a in rows
        ]


def stored_path(app, storage_name: str) -> Path:
    matches = [p for p in files_on_disk(app) if p.name == storage_name]
    assert len(matches) == 1, f"{storage_name} is not in the upload folder"
    return matches[0]


def the_submission(app) -> tuple[int, dict]:
    from extensions import db
    from models import Submission

    with app.app_context():
        submission = db.session.scalars(select(Submission)).one()
        return submission.id, submission.answers_by_field()


# --- accepted files --------------------------------------------------------------------


def test_a_real_pdf_is_accepted_shown_and_moved_to_the_submission(app, client, create_form):
    create_form(all_types())
    before = files_on_disk(app)

    response = send_page(client, {**VALID_ALL_TYPES, "cv": upload(PDF, "cv.pdf")})
    assert response.status_code == 302, errors_in(client.last_html)

    # The page shows what was uploaded; the check page lists it with its size.
    assert uploaded_name(client.get(PAGE).get_data(as_text=True)) == "cv.pdf"
    check = client.get(CHECK).get_data(as_text=True)
    assert f"cv.pdf ({len(PDF)} B)" in check

    [draft_file] = attachments(app)
    assert draft_file["draft_id"] is not None and draft_file["submission_id"] is None

    response = client.post(CHECK, {})
    assert response.status_code == 302 and "/confirmation" in response.headers["Location"]

    submission_id, answers = the_submission(app)
    [attachment] = attachments(app)
    assert attachment["id"] == draft_file["id"]
    assert attachment["submission_id"] == submission_id
    assert attachment["draft_id"] is None
    assert attachment["field"] == "cv"
    assert attachment["original_name"] == "cv.pdf"
    assert attachment["content_type"] == "application/pdf"
    assert attachment["size"] == len(PDF)
    assert attachment["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert answers["cv"] == {"attachment": attachment["id"], "name": "cv.pdf", "size": len(PDF)}

    path = stored_path(app, attachment["storage_name"])
    assert path.read_bytes() == PDF
    assert files_on_disk(app) - before == {path}


@pytest.mark.parametrize(
    ("filename", "content", "content_type"),
    [
        ("CV.PDF", PDF, "application/pdf"),
        pytest.param(
            "letter.docx",
            docx(),  # a real package: tests/test_security.py has the ones refused
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            id="letter.docx",
        ),
        ("Życiorys Łukasza.pdf", PDF, "application/pdf"),
    ],
)
def test_accepted_file_kinds_keep_their_name_and_content_type(
    app, client, create_form, filename, content, content_type
):
    create_form(all_types())
    send_and_submit(client, {**VALID_ALL_TYPES, "cv": upload(content, filename)})
    [attachment] = attachments(app)
    assert attachment["original_name"] == filename
    assert attachment["content_type"] == content_type
    assert stored_path(app, attachment["storage_name"]).read_bytes() == content


def test_a_file_at_exactly_the_size_limit_is_accepted(app, client, create_form):
    create_form(all_types())
    content = PDF + b"0" * (MB - len(PDF))
    assert len(content) == MB
    send_and_submit(client, {**VALID_ALL_TYPES, "cv": upload(content, "big.pdf")})
    [attachment] = attachments(app)
    assert attachment["size"] == MB


def test_the_file_is_kept_when_another_field_on_the_page_has_an_error(app, client, create_form):
    create_form(all_types())
    response = send_page(client, {**VALID_ALL_TYPES, "name": "", "cv": upload(PDF, "cv.pdf")})

    assert response.status_code == 200
    assert errors_in(client.last_html) == ["Answer this question."]
    assert error_beside(client.last_html, "cv") is None
    assert uploaded_name(client.last_html) == "cv.pdf"
    assert len(attachments(app)) == 1

    # The person fixes the name and continues without choosing the file again.
    send_and_submit(client, {**VALID_ALL_TYPES, "name": "Ada"})
    submission_id, answers = the_submission(app)
    [attachment] = attachments(app)
    assert attachment["submission_id"] == submission_id
    assert answers["cv"]["name"] == "cv.pdf"
    assert answers["name"] == "Ada"
    assert stored_path(app, attachment["storage_name"]).read_bytes() == PDF


def test_a_new_file_replaces_the_earlier_one(app, client, create_form):
    create_form(all_types())
    assert send_page(client, {**VALID_ALL_TYPES, "cv": upload(PDF, "first.pdf")}).status_code == 302
    [first] = attachments(app)
    first_path = stored_path(app, first["storage_name"])

    second_pdf = PDF + b"% second\n"
    send_and_submit(client, {**VALID_ALL_TYPES, "cv": upload(second_pdf, "second.pdf")})
    [attachment] = attachments(app)
    assert attachment["original_name"] == "second.pdf"
    assert stored_path(app, attachment["storage_name"]).read_bytes() == second_pdf
    assert not first_path.exists()
    _submission_id, answers = the_submission(app)
    assert answers["cv"]["name"] == "second.pdf"


# --- refused files ---------------------------------------------------------------------

REFUSED = [
    pytest.param(
        b"MZ\x90\x00\x03\x00\x00\x00", "setup.exe", "The file must be one of: PDF, DOCX.", id="exe"
    ),
    pytest.param(PDF, "cv", "The file must be one of: PDF, DOCX.", id="no-extension"),
    pytest.param(PDF, "cv.pdf.exe", "The file must be one of: PDF, DOCX.", id="double-extension"),
    pytest.param(
        b"<!doctype html><html><script>alert(1)</script></html>",
        "cv.pdf",
        "The file's content is not a real PDF file.",
        id="html-renamed-pdf",
    ),
    pytest.param(
        PDF, "cv.docx", "The file's content is not a real DOCX file.", id="pdf-renamed-docx"
    ),
    pytest.param(
        PDF + b"0" * MB, "cv.pdf", "The file must be smaller than 1.0 MB.", id="over-1-mb"
    ),
    pytest.param(b"", "cv.pdf", "The selected file is empty.", id="empty"),
]


@pytest.mark.parametrize(("content", "filename", "message"), REFUSED)
def test_a_file_that_is_not_accepted_is_refused_beside_the_field(
    app, client, create_form, content, filename, message
):
    create_form(all_types())
    before = files_on_disk(app)

    response = send_page(client, {**VALID_ALL_TYPES, "cv": upload(content, filename)})

    assert response.status_code == 200
    assert errors_in(client.last_html) == [message]
    assert error_beside(client.last_html, "cv") == message
    assert uploaded_name(client.last_html) is None
    assert 'value="Zażółć Gęślą"' in client.last_html  # the other answers stay
    assert 'value="person@example.org"' in client.last_html
    assert attachments(app) == []
    assert files_on_disk(app) == before  # not a byte kept


def test_a_refused_replacement_keeps_the_file_uploaded_before(app, client, create_form):
    create_form(all_types())
    assert send_page(client, {**VALID_ALL_TYPES, "cv": upload(PDF, "cv.pdf")}).status_code == 302
    [kept] = attachments(app)

    response = send_page(client, {**VALID_ALL_TYPES, "cv": upload(b"MZ", "virus.exe")})
    assert response.status_code == 200
    assert error_beside(client.last_html, "cv") == "The file must be one of: PDF, DOCX."
    assert uploaded_name(client.last_html) == "cv.pdf"
    assert attachments(app) == [kept]
    assert stored_path(app, kept["storage_name"]).read_bytes() == PDF


def test_a_required_file_must_be_uploaded_once(app, client, create_form):
    definition = base(
        "cv-call",
        [
            {
                "title": "CV",
                "fields": [
                    {"name": "applicant", "type": "text", "label": "Name", "required": True},
                    {
                        "name": "cv",
                        "type": "file",
                        "label": "CV",
                        "required": True,
                        "accept": ["pdf"],
                    },
                ],
            }
        ],
    )
    create_form(definition)
    response = send_page(client, {"applicant": "Ada"}, slug="cv-call")
    assert response.status_code == 200
    assert error_beside(client.last_html, "cv") == "Choose a file to upload."

    response = send_page(client, {"applicant": "", "cv": upload(PDF, "cv.pdf")}, slug="cv-call")
    assert response.status_code == 200
    assert errors_in(client.last_html) == ["Answer this question."]
    assert uploaded_name(client.last_html) == "cv.pdf"

    # The file uploaded with the page that had an error answers the required question.
    send_and_submit(client, {"applicant": "Ada"}, slug="cv-call")
    _submission_id, answers = the_submission(app)
    assert answers["cv"]["name"] == "cv.pdf"


# --- names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent_name", "shown_name"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("/var/www/uploads/../../root.pdf", "root.pdf"),
        ("..pdf.pdf", "pdf.pdf"),
    ],
)
def test_a_path_in_the_file_name_is_dropped_and_the_file_stored_under_a_random_name(
    app, client, create_form, sent_name, shown_name
):
    create_form(all_types())
    root = upload_dir(app).resolve()
    response = send_page(client, {**VALID_ALL_TYPES, "name": "", "cv": upload(PDF, sent_name)})
    assert response.status_code == 200
    assert uploaded_name(client.last_html) == shown_name
    assert ".." not in client.last_html.split("Uploaded:")[1].split("</p>")[0]

    send_and_submit(client, {**VALID_ALL_TYPES})
    [attachment] = attachments(app)
    assert attachment["original_name"] == shown_name
    assert re.fullmatch(r"[0-9a-f]{40}", attachment["storage_name"])
    path = stored_path(app, attachment["storage_name"]).resolve()
    assert path.is_relative_to(root)
    assert path.read_bytes() == PDF
    _submission_id, answers = the_submission(app)
    assert answers["cv"]["name"] == shown_name


def test_markup_in_a_file_name_is_shown_as_text(app, client, create_form):
    create_form(all_types())
    name = "<img src=x onerror=alert(1)>.pdf"
    response = send_page(client, {**VALID_ALL_TYPES, "name": "", "cv": upload(PDF, name)})
    assert response.status_code == 200
    assert "<img src=x" not in client.last_html
    assert uploaded_name(client.last_html) == name
    assert "<img src=x" not in client.get(PAGE).get_data(as_text=True)
    send_and_submit(client, VALID_ALL_TYPES)
    [attachment] = attachments(app)
    assert attachment["original_name"] == name


@pytest.mark.parametrize(
    ("sent_name", "shown_name"),
    [
        ("..\\..\\Windows\\system.pdf", "system.pdf"),
        ("C:\\Users\\ada\\cv.pdf", "cv.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("cv\x00.pdf", "cv.pdf"),
        ("\u202ecod.pdf", "cod.pdf"),  # right-to-left override
        ("...", "file"),
        ("x" * 200 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_display_name_keeps_only_a_safe_last_component(sent_name, shown_name):
    # Old browsers send the whole Windows path; the HTTP layer may mangle backslashes, so
    # the rule is checked on the name as the service receives it.
    from services.uploads import display_name

    assert display_name(sent_name) == shown_name


# --- removing --------------------------------------------------------------------------


def test_remove_file_removes_it_from_the_page_the_database_and_the_disk(app, client, create_form):
    create_form(all_types())
    assert send_page(client, {**VALID_ALL_TYPES, "cv": upload(PDF, "cv.pdf")}).status_code == 302
    [attachment] = attachments(app)
    path = stored_path(app, attachment["storage_name"])

    page = client.get(PAGE).get_data(as_text=True)
    assert 'name="action" value="remove-file-cv"' in page
    response = client.post(PAGE, {**VALID_ALL_TYPES, "action": "remove-file-cv"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(PAGE)

    page = client.get(PAGE).get_data(as_text=True)
    assert uploaded_name(page) is None
    assert "remove-file-cv" not in page
    assert 'value="Zażółć Gęślą"' in page  # the rest of the page is kept
    assert attachments(app) == []
    assert not path.exists()

    send_and_submit(client, VALID_ALL_TYPES)
    _submission_id, answers = the_submission(app)
    assert "cv" not in answers


def test_a_file_for_a_question_that_became_hidden_is_not_kept(app, client, create_form):
    definition = base(
        "maybe-cv",
        [
            {
                "title": "CV",
                "fields": [
                    {
                        "name": "has_cv",
                        "type": "yesno",
                        "label": "Do you have a CV?",
                        "required": True,
                    },
                    {"name": "cv", "type": "file", "label": "CV", "show_if": {"has_cv": True}},
                ],
            }
        ],
    )
    create_form(definition)
    before = files_on_disk(app)
    response = send_page(client, {"has_cv": "yes", "cv": upload(PDF, "cv.pdf")}, slug="maybe-cv")
    assert response.status_code == 302
    [attachment] = attachments(app)

    send_and_submit(client, {"has_cv": "no"}, slug="maybe-cv")
    _submission_id, answers = the_submission(app)
    assert answers == {"has_cv": False}
    assert attachments(app) == []
    assert files_on_disk(app) == before
    assert attachment["storage_name"] not in {p.name for p in files_on_disk(app)}
