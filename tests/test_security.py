"""Security (issue #7) over HTTP on the real app and database: hostile uploads, virus scan
through a real socket, files removed on withdrawal and anonymisation, rate limits (memory
and a real Redis), the honeypot and the time to fill, duplicate applications, security
headers and cookies, CSRF on every POST route, access by guessing, escaping of hostile
answers everywhere they are shown, and secret links kept out of logs.

Covered elsewhere and not repeated: brute force on sign-in (tests/test_auth.py::
test_repeated_wrong_passwords_are_throttled), a reviewer guessing ids of another call
(tests/test_review_detail.py::test_a_reviewer_of_another_form_finds_nothing_by_guessing_ids),
an applicant's link opening another's file (tests/test_applicant.py::
test_files_download_only_through_their_own_submissions_link), file names with paths or
markup (tests/test_uploads.py)."""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import socketserver
import struct
import threading
import time
import urllib.error
import urllib.request
import uuid
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import FormClient, errors_in, need
from tests.definitions import VALID_ALL_TYPES, all_types, base
from tests.files import EICAR, PDF, docx, docx_bomb, lying_docx, odt, package, xlsx
from tests.test_uploads import attachments, error_beside, files_on_disk, send_page, upload

PAGE = "/calls/all-types/page/1"
CHECK = "/calls/all-types/check"
MB = 1024 * 1024
XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
OFFICE_PAGES = [
    {
        "title": "Files",
        "fields": [
            {"name": "name", "type": "text", "label": "Name", "required": True},
            {
                "name": "doc",
                "type": "file",
                "label": "Document",
                "accept": ["pdf", "docx", "xlsx", "odt", "ods", "txt"],
                "max_size_mb": 5,
            },
        ],
    }
]


def office_page(client, content: bytes, filename: str):
    return client.fill(
        "office",
        1,
        {"name": "Ada", "doc": upload(content, filename)},
        content_type="multipart/form-data",
    )


@pytest.fixture
def office(create_form):
    create_form(base("office", OFFICE_PAGES))
    return "office"


# --- uploads: content, not names ---------------------------------------------------------


NOT_A_PDF = "The file's content is not a real PDF file."
NOT_A_DOCX = "The file's content is not a real DOCX file."
UNPACKS = (
    "The file unpacks to far more than its size, which documents never do. "
    "Save it again from your word processor or send it as a PDF."
)


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        pytest.param(b"<!doctype html><script>alert(1)</script>", "cv.pdf", NOT_A_PDF, id="html"),
        pytest.param(b"<?php system($_GET['c']); ?>", "cv.pdf", NOT_A_PDF, id="php"),
        pytest.param(b" %PDF-1.4 late start", "cv.pdf", NOT_A_PDF, id="pdf-not-at-start"),
        pytest.param(b"PK\x03\x04<?php echo 1; ?>", "cv.docx", NOT_A_DOCX, id="zip-header-only"),
        pytest.param(package({"shell.php": b"<?php ?>"}), "cv.docx", NOT_A_DOCX, id="plain-zip"),
        pytest.param(xlsx(), "cv.docx", NOT_A_DOCX, id="xlsx-renamed-docx"),
        pytest.param(lying_docx(), "cv.docx", NOT_A_DOCX, id="sizes-lie"),
        pytest.param(docx_bomb(120), "cv.docx", UNPACKS, id="bomb-over-100-mb"),
        pytest.param(docx_bomb(40), "cv.docx", UNPACKS, id="bomb-ratio"),
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_refused_and_not_kept(
    app, client, create_form, content, filename, message
):
    create_form(all_types())
    before = files_on_disk(app)
    response = send_page(client, {**VALID_ALL_TYPES, "cv": upload(content, filename)})
    assert response.status_code == 200
    assert error_beside(client.last_html, "cv") == message
    assert 'value="Zażółć Gęślą"' in client.last_html  # the other answers stay
    assert attachments(app) == [] and files_on_disk(app) == before


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        pytest.param(docx(), "letter.docx", id="docx"),
        pytest.param(xlsx(), "budget.xlsx", id="xlsx"),
        pytest.param(odt(), "letter.odt", id="odt"),
        pytest.param(odt(b"application/vnd.oasis.opendocument.spreadsheet"), "sheet.ods", id="ods"),
        pytest.param(b"<script>plain text is only text</script>", "notes.txt", id="txt"),
    ],
)
def test_real_office_files_are_accepted(app, client, office, content, filename):
    response = office_page(client, content, filename)
    assert response.status_code == 302, errors_in(client.last_html)
    [kept] = attachments(app)
    assert kept["original_name"] == filename and kept["size"] == len(content)


def test_a_docx_made_by_python_docx_passes_the_package_check(app, client, office):
    from docx import Document

    buffer = io.BytesIO()
    document = Document()
    document.add_paragraph("Wniosek – Åsa")
    document.save(buffer)
    assert office_page(client, buffer.getvalue(), "wniosek.docx").status_code == 302


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        pytest.param(odt(b"text/html"), "letter.odt", "not a real ODT", id="wrong-mimetype"),
        pytest.param(docx(), "letter.odt", "not a real ODT", id="docx-renamed-odt"),
        pytest.param(
            package({"content.xml": b"<x/>", "mimetype": b"x"}),
            "s.ods",
            "not a real ODS",
            id="mimetype-not-first",
        ),
    ],
)
def test_an_opendocument_file_must_name_its_type_first(
    app, client, office, content, filename, message
):
    assert office_page(client, content, filename).status_code == 200
    assert message in (error_beside(client.last_html, "doc") or "")
    assert attachments(app) == []


def test_an_oversized_file_is_refused_beside_its_field_and_a_huge_request_gets_a_page(
    app, client, create_form
):
    create_form(all_types())  # cv: at most 1 MB
    response = send_page(client, {**VALID_ALL_TYPES, "cv": upload(PDF + bytes(MB), "cv.pdf")})
    assert response.status_code == 200
    assert error_beside(client.last_html, "cv") == "The file must be smaller than 1.0 MB."
    too_big = PDF + bytes(app.config["MAX_CONTENT_LENGTH"])
    response = send_page(client, {**VALID_ALL_TYPES, "cv": upload(too_big, "cv.pdf")})
    assert response.status_code == 413
    assert "What you sent was too large" in client.last_html
    assert attachments(app) == []


def test_a_path_in_the_name_never_reaches_the_disk(app, client, create_form):
    create_form(all_types())
    root = Path(app.config["FORMDESK_UPLOAD_DIR"]).resolve()
    response = send_page(client, {**VALID_ALL_TYPES, "cv": upload(PDF, "../../../../app.py.pdf")})
    assert response.status_code == 302
    [kept] = attachments(app)
    assert kept["original_name"] == "app.py.pdf"
    assert re.fullmatch(r"[0-9a-f]{40}", kept["storage_name"])
    [path] = [p for p in files_on_disk(app) if p.name == kept["storage_name"]]
    assert path.resolve().is_relative_to(root)


# --- virus scan through a real socket ----------------------------------------------------


class FakeClamd(socketserver.BaseRequestHandler):
    """Speaks clamd's INSTREAM protocol: finds the EICAR test string, else OK."""

    received: list[bytes]

    def handle(self):
        command = b""
        while not command.endswith(b"\0"):
            command += self.request.recv(1)
        assert command == b"zINSTREAM\0"
        data = b""
        while True:
            size = struct.unpack("!L", self._exactly(4))[0]
            if size == 0:
                break
            data += self._exactly(size)
        self.server.received.append(data)
        found = EICAR in data
        self.request.sendall(b"stream: Eicar-Test-Signature FOUND\0" if found else b"stream: OK\0")

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.request.recv(count - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data


class TcpClamd(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class UnixClamd(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


@pytest.fixture(params=["tcp", "unix"])
def clamd(request, app, monkeypatch, tmp_path):
    if request.param == "tcp":
        server = TcpClamd(("127.0.0.1", 0), FakeClamd)
        monkeypatch.setitem(app.config, "FORMDESK_CLAMD_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "FORMDESK_CLAMD_PORT", server.server_address[1])
    else:
        path = str(tmp_path / "clamd.sock")
        server = UnixClamd(path, FakeClamd)
        monkeypatch.setitem(app.config, "FORMDESK_CLAMD_SOCKET", path)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_clean_file_passes_the_virus_scan_whole(app, client, create_form, clamd):
    create_form(all_types())
    content = PDF + os.urandom(200_000)  # several INSTREAM chunks
    assert (
        send_page(client, {**VALID_ALL_TYPES, "cv": upload(content, "cv.pdf")}).status_code == 302
    )
    assert clamd.received == [content]
    assert len(attachments(app)) == 1


def test_a_file_clamd_finds_infected_is_refused_with_a_clear_message(
    app, client, create_form, clamd
):
    create_form(all_types())
    before = files_on_disk(app)
    response = send_page(client, {**VALID_ALL_TYPES, "cv": upload(PDF + EICAR, "cv.pdf")})
    assert response.status_code == 200
    message = error_beside(client.last_html, "cv")
    assert message.startswith("The virus check found something harmful in this file")
    assert "Eicar-Test-Signature" in message
    assert attachments(app) == [] and files_on_disk(app) == before


def test_no_answer_from_clamd_refuses_the_file_and_asks_to_try_later(
    app, client, create_form, monkeypatch
):
    from tests.browser import free_port

    create_form(all_types())
    monkeypatch.setitem(app.config, "FORMDESK_CLAMD_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "FORMDESK_CLAMD_PORT", free_port())  # nobody listens
    response = send_page(client, {**VALID_ALL_TYPES, "cv": upload(PDF, "cv.pdf")})
    assert response.status_code == 200
    assert error_beside(client.last_html, "cv") == (
        "The file could not be checked for viruses just now. Try again in a few minutes."
    )
    assert attachments(app) == []


def test_clamd_replies_are_read_strictly():
    from services.virus_scan import ScanUnavailable, verdict

    assert verdict("stream: OK") is None
    assert verdict("stream: Win.Test.EICAR_HDB-1 FOUND") == "Win.Test.EICAR_HDB-1"
    for reply in ("INSTREAM size limit exceeded. ERROR", "", "stream: ERROR"):
        with pytest.raises(ScanUnavailable):
            verdict(reply)


# --- files removed: withdrawal and anonymisation -----------------------------------------

APPLICANT_PAGES = [
    {
        "title": "You",
        "fields": [
            {
                "name": "name",
                "type": "text",
                "label": "Name",
                "required": True,
                "identifying": True,
            },
            {"name": "email", "type": "email", "label": "Email", "required": True},
            {"name": "plan", "type": "textarea", "label": "Plan"},
            {"name": "cv", "type": "file", "label": "CV", "accept": ["pdf"]},
            {
                "name": "people",
                "type": "group",
                "label": "People",
                "max": 3,
                "fields": [
                    {"name": "who", "type": "text", "label": "Who", "identifying": True},
                    {"name": "role", "type": "text", "label": "Role"},
                ],
            },
        ],
    }
]


def applicant_answers(**extra) -> dict:
    return {
        "name": "Zofia Żółtowska",
        "email": "zofia@example.org",
        "plan": "Language café",
        "cv": (io.BytesIO(PDF), "cv-zofia.pdf"),
        "people-0-who": "Jan Kowalski",
        "people-0-role": "Librarian",
        **extra,
    }


def send_application(app, slug: str, data: dict) -> tuple[str, int]:
    from tests.test_applicant import apply

    return apply(app, slug, data)


def test_withdrawing_removes_the_files_and_keeps_their_names(app, create_form):
    from tests.test_applicant import audit, confirm

    create_form(base("keep", APPLICANT_PAGES))
    token, submission_id = send_application(app, "keep", applicant_answers())
    [kept] = attachments(app)
    [path] = [p for p in files_on_disk(app) if p.name == kept["storage_name"]]
    client = FormClient(app.test_client())
    response = confirm(client, token, "withdraw")
    assert response.status_code == 302
    assert not path.exists() and attachments(app) == []
    assert client.get(f"/s/{token}/attachments/{kept['id']}").status_code == 404
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "cv-zofia.pdf" in page and f"/attachments/{kept['id']}" not in page
    actions = [(action, data) for action, _state, data in audit(app, submission_id)]
    assert ("submission.files_removed", {"files": 1}) in actions


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_anonymise_blanks_identifying_answers_removes_files_documents_and_emails(app, create_form):
    from documents.store import make_missing
    from extensions import db
    from models import AuditEntry, Document, OutboxMessage, Submission

    create_form(base("anon", APPLICANT_PAGES))
    _token, submission_id = send_application(app, "anon", applicant_answers())
    send_application(app, "anon", applicant_answers(name="Other Person", email="o@example.org"))
    with app.app_context():
        make_missing()  # the PDF and DOCX copies
        reference = db.session.get(Submission, submission_id).reference
        assert db.session.scalar(
            select(func.count(Document.id)).where(Document.submission_id == submission_id)
        )
    before = files_on_disk(app)

    result = run_cli(app, "submissions", "anonymise", reference)
    assert result.exit_code == 0, result.output
    assert f"anonymised {reference}: 4 answer(s) blanked" in result.output

    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        answers = submission.answers_by_field()
        assert answers["name"] is None and answers["email"] is None and answers["cv"] is None
        assert answers["people"] == [{"who": None, "role": "Librarian"}]
        assert answers["plan"] == "Language café"  # what is not identifying stays
        assert submission.applicant_email is None
        assert not db.session.scalar(
            select(func.count(Document.id)).where(Document.submission_id == submission_id)
        )
        for message in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.submission_id == submission_id)
        ):
            assert message.recipient == "" and "Zofia" not in message.text_body
            assert message.status in ("failed", "sent")
        [entry] = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.submission_id == submission_id,
                AuditEntry.action == "submission.anonymised",
            )
        )
        assert entry.data["fields"] == ["name", "email", "cv", "people.who"]
        other = db.session.scalars(select(Submission).where(Submission.id != submission_id)).one()
        assert other.answers_by_field()["name"] == "Other Person"  # nobody else is touched
    removed = before - files_on_disk(app)
    assert len(removed) >= 3  # the CV, the PDF and the DOCX copy
    assert [a["submission_id"] for a in attachments(app)] == [other.id]

    again = run_cli(app, "submissions", "anonymise", reference)
    assert again.exit_code != 0 and "already anonymised" in again.output
    unknown = run_cli(app, "submissions", "anonymise", "NOPE-2027-0001")
    assert unknown.exit_code != 0 and "no submission" in unknown.output


def test_a_failed_transaction_keeps_the_files(app, create_form):
    from extensions import db
    from models import Submission
    from services.retention import remove_files_of

    create_form(base("keep", APPLICANT_PAGES))
    _token, submission_id = send_application(app, "keep", applicant_answers())
    before = files_on_disk(app)
    with app.app_context():
        remove_files_of(db.session.get(Submission, submission_id))
        db.session.rollback()
    assert files_on_disk(app) == before and len(attachments(app)) == 1


# --- rate limits -------------------------------------------------------------------------


def test_page_posts_are_throttled_per_address(app, client, create_form, monkeypatch):
    create_form(all_types())
    monkeypatch.setitem(app.config, "FORMDESK_PAGE_LIMIT", "3 per minute")
    codes = [client.fill("all-types", 1, VALID_ALL_TYPES).status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]
    assert "Too many attempts. Wait a minute and try again." in client.last_html
    elsewhere = FormClient(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert elsewhere.fill("all-types", 1, VALID_ALL_TYPES).status_code == 302


def test_sending_applications_is_throttled_per_address(app, create_form, monkeypatch):
    create_form(all_types())
    monkeypatch.setitem(app.config, "FORMDESK_SUBMIT_LIMIT", "2 per minute")
    codes = []
    for _ in range(3):
        person = FormClient(app.test_client())
        person.fill("all-types", 1, VALID_ALL_TYPES)
        person.get(CHECK)
        codes.append(person.post(CHECK, {}).status_code)
    assert codes == [302, 302, 429]
    with app.app_context():
        from models import Submission

        assert Submission.query.count() == 2


def test_guessing_secret_links_is_throttled_across_resume_and_applicant_pages(
    app, client, create_form, monkeypatch
):
    monkeypatch.setitem(app.config, "FORMDESK_TOKEN_MISS_LIMIT", "3 per minute")
    create_form(all_types())
    codes = [client.get(f"/resume/guess-{i}").status_code for i in range(2)]
    codes += [client.get("/s/guess-3").status_code, client.get("/s/guess-4/edit").status_code]
    assert codes == [404, 404, 404, 429]
    assert client.get("/resume/guess-5").status_code == 429  # one count for every link page


def test_a_real_applicant_link_is_throttled_only_by_the_generous_limit(
    app, create_form, monkeypatch
):
    from tests.test_applicant import apply

    create_form(base("keep", APPLICANT_PAGES))
    token, _submission_id = apply(app, "keep", applicant_answers(cv=(io.BytesIO(PDF), "cv.pdf")))
    monkeypatch.setitem(app.config, "FORMDESK_TOKEN_MISS_LIMIT", "1 per minute")
    monkeypatch.setitem(app.config, "FORMDESK_TOKEN_LIMIT", "5 per minute")
    client = FormClient(app.test_client())
    codes = [client.get(f"/s/{token}").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.mark.service
def test_limits_are_shared_through_redis_by_every_process(app, database_url, tmp_path, create_form):
    """Two app instances (two processes in production) share one count in Redis."""
    need(redis_reachable(), "Redis is not running at 127.0.0.1:6379")
    from app import create_app
    from extensions import limiter

    saved = (limiter._storage, limiter._limiter, limiter._key_prefix)  # noqa: SLF001
    settings = {
        "TESTING": True,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": database_url,
        "FORMDESK_UPLOAD_DIR": str(tmp_path),
        "FORMDESK_LOAD_FORMS_ON_START": False,
        "FORMDESK_AUTO_MIGRATE": False,
        "SERVER_NAME": "formdesk.test",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"formdesk-test-{uuid.uuid4().hex}",
        "FORMDESK_TOKEN_MISS_LIMIT": "3 per minute",
    }
    try:
        first, second = create_app(settings), create_app(settings)
        assert type(limiter._storage).__name__ == "RedisStorage"  # noqa: SLF001
        codes = [first.test_client().get(f"/resume/guess-{i}").status_code for i in range(2)]
        codes += [second.test_client().get(f"/resume/guess-{i}").status_code for i in range(2)]
        assert codes == [404, 404, 404, 429]
    finally:
        limiter._storage.reset()  # noqa: SLF001  (only this test's prefixed keys)
        limiter._storage, limiter._limiter, limiter._key_prefix = saved  # noqa: SLF001


# --- robots: honeypot and time to fill ---------------------------------------------------


def drafts_stored(app) -> int:
    from models import Draft

    with app.app_context():
        return Draft.query.count()


def test_the_honeypot_is_hidden_from_people_and_assistive_technology(client, create_form):
    create_form(all_types())
    html = client.get(PAGE).get_data(as_text=True)
    box = re.search(r'<div class="hp-field" aria-hidden="true">(.*?)</div>', html, re.S)
    assert box, "no honeypot on the page"
    field = re.search(r"<input[^>]*contact-website[^>]*>", box.group(1)).group(0)
    for attribute in ('tabindex="-1"', 'autocomplete="off"', 'value=""', 'type="text"'):
        assert attribute in field
    css = (Path(__file__).parent.parent / "static/css/formdesk.css").read_text()
    assert re.search(r"\.hp-field \{[^}]*left: -10000px", css)


def test_a_filled_honeypot_stores_nothing_and_asks_politely(app, client, create_form):
    create_form(all_types())
    response = client.fill("all-types", 1, {**VALID_ALL_TYPES, "contact-website": "http://spam"})
    assert response.status_code == 400
    assert "Please send this page again" in client.last_html
    assert 'value="Zażółć Gęślą"' in client.last_html
    assert drafts_stored(app) == 0


def test_the_honeypot_on_the_check_page_stores_no_submission(app, client, create_form):
    create_form(all_types())
    client.fill("all-types", 1, VALID_ALL_TYPES)
    client.get(CHECK)
    response = client.post(CHECK, {"contact-website": "x"})
    assert response.status_code == 400 and "Please send this page again" in client.last_html
    with app.app_context():
        from models import Submission

        assert Submission.query.count() == 0


def test_a_page_sent_too_soon_is_refused_in_the_persons_language_then_accepted(
    app, client, create_form, monkeypatch
):
    monkeypatch.setitem(app.config, "FORMDESK_MIN_FILL_SECONDS", 3)
    create_form(all_types())
    client.get("/?lang=pl")
    response = client.fill("all-types", 1, VALID_ALL_TYPES)  # GET then POST at once
    assert response.status_code == 400
    assert "Wyślij tę stronę ponownie" in client.last_html
    assert drafts_stored(app) == 0
    # The moment the page was first shown lives in the signed session: a person who took
    # their time (as if 10 s had passed) gets through.
    with client.client.session_transaction() as session:
        served = dict(session["form_served"])
        served["all-types"] -= 10
        session["form_served"] = served
    response = client.post(PAGE, {**VALID_ALL_TYPES, "action": "continue"})
    assert response.status_code == 302 and drafts_stored(app) == 1


def test_a_post_without_the_page_ever_shown_is_refused(app, create_form, monkeypatch):
    monkeypatch.setitem(app.config, "FORMDESK_MIN_FILL_SECONDS", 3)
    create_form(all_types())
    robot = FormClient(app.test_client())
    robot.get("/login")  # a session and a CSRF token, but the form page was never shown
    response = robot.post(PAGE, {**VALID_ALL_TYPES, "action": "continue"})
    assert response.status_code == 400 and drafts_stored(app) == 0


# --- duplicates --------------------------------------------------------------------------


def fill_and_check(client, data=None):
    client.fill("all-types", 1, data or VALID_ALL_TYPES)
    return client.get(CHECK).get_data(as_text=True)


def test_a_second_application_with_the_same_email_needs_a_confirmation(
    app, client, create_form, monkeypatch
):
    monkeypatch.setitem(app.config, "FORMDESK_DUPLICATE_WINDOW_HOURS", 24)
    create_form(all_types())
    assert "already sent" not in fill_and_check(client)
    client.post(CHECK, {})
    first = re.search(
        r"TEST-\d{4}-\d{4}", client.get("/calls/all-types/confirmation").get_data(as_text=True)
    ).group(0)

    html = unescape(fill_and_check(client, {**VALID_ALL_TYPES, "email": "Person@Example.org "}))
    assert "You already sent an application with this email address on" in html
    assert f"(reference {first})" in html
    response = client.post(CHECK, {})
    assert response.status_code == 409
    assert "Confirm that you want to send another application." in errors_in(client.last_html)
    with app.app_context():
        from models import Submission

        assert Submission.query.count() == 1
    response = client.post(CHECK, {"confirm_duplicate": "yes"})
    assert response.status_code == 302
    with app.app_context():
        from models import AuditEntry, Submission

        assert Submission.query.count() == 2
        entries = AuditEntry.query.filter_by(action="submission.submitted").all()
        assert [e.data.get("duplicate_of") for e in entries] == [None, first]


def test_another_browser_is_told_without_the_date_or_reference(app, create_form, monkeypatch):
    monkeypatch.setitem(app.config, "FORMDESK_DUPLICATE_WINDOW_HOURS", 24)
    create_form(all_types())
    first = FormClient(app.test_client())
    fill_and_check(first)
    first.post(CHECK, {})
    stranger = FormClient(app.test_client())
    html = unescape(fill_and_check(stranger))
    assert "An application with this email address was already sent to this call recently." in html
    assert "TEST-" not in html


def test_the_window_is_configurable_and_other_emails_are_not_duplicates(
    app, client, create_form, monkeypatch
):
    from datetime import timedelta

    from services.duplicates import earlier_submission

    monkeypatch.setitem(app.config, "FORMDESK_DUPLICATE_WINDOW_HOURS", 2)
    create_form(all_types())
    fill_and_check(client)
    client.post(CHECK, {})
    assert "already sent" not in fill_and_check(
        client, {**VALID_ALL_TYPES, "email": "b@example.org"}
    )
    with app.app_context():
        from models import Submission

        [submission] = Submission.query.all()
        later = submission.submitted_at + timedelta(hours=2, seconds=1)
        assert earlier_submission(submission.form_id, "person@example.org", later) is None
        assert earlier_submission(submission.form_id, "person@example.org") is not None


# --- headers and cookies -----------------------------------------------------------------


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def test_every_response_carries_the_security_headers(app, client, create_form):
    create_form(all_types())
    client.get(PAGE)
    responses = {
        "page": client.get(PAGE),
        "list": client.get("/"),
        "404": client.get("/nowhere"),
        "login": client.get("/login"),
        "static": client.get("/static/css/formdesk.css"),
        "csrf 400": client.post(PAGE, {"action": "continue"}, csrf=False),
        "405": client.client.delete("/"),
    }
    for name, response in responses.items():
        headers = response.headers
        assert headers["Content-Security-Policy"] == CSP, name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["X-Frame-Options"] == "DENY", name
        assert headers["Referrer-Policy"] == "same-origin", name
        assert "camera=()" in headers["Permissions-Policy"], name
        assert "Strict-Transport-Security" not in headers, name  # plain HTTP here


def test_downloads_keep_their_own_sandbox_policy(app, create_form):
    from tests.test_applicant import apply

    create_form(base("keep", APPLICANT_PAGES))
    token, _id = apply(app, "keep", applicant_answers())
    [kept] = attachments(app)
    response = app.test_client().get(f"/s/{token}/attachments/{kept['id']}")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def session_cookie(response) -> str:
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_over_https_cookies_are_secure_and_hsts_is_sent(database_url, tmp_path):
    from app import create_app

    https = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "FORMDESK_UPLOAD_DIR": str(tmp_path),
            "FORMDESK_LOAD_FORMS_ON_START": False,
            "FORMDESK_AUTO_MIGRATE": False,
            "FORMDESK_HTTPS": True,
        }
    )
    client = https.test_client()
    response = client.get("/login", base_url="https://formdesk.test")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    cookie = session_cookie(response)
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie
    # Forms posted over HTTPS need a same-site Referer (Flask-WTF): no page may forbid it.
    assert response.headers["Referrer-Policy"] == "same-origin"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    sent = client.post(
        "/login",
        data={"csrf_token": token.group(1), "email": "a@example.org", "password": "x"},
        base_url="https://formdesk.test",
        headers={"Referer": "https://formdesk.test/login"},
    )
    assert sent.status_code == 401  # past CSRF: a wrong password, not an expired page


def test_cookies_are_httponly_and_lax_over_http(client, create_form):
    create_form(all_types())
    cookie = session_cookie(client.get(PAGE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_templates_have_no_inline_scripts_styles_or_handlers():
    """The policy forbids them; this finds them before a browser does."""
    root = Path(__file__).parent.parent / "templates"
    problems = []
    for path in sorted(root.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (
            r"\sstyle\s*=",
            r"<style\b",
            r"<script(?![^>]*\bsrc=)[^>]*>",
            r"\son[a-z]+\s*=",
            r"javascript:",
        ):
            problems += [
                f"{path.relative_to(root)}: {m.group(0)}" for m in re.finditer(pattern, text)
            ]
    assert problems == []


def test_signing_in_starts_a_new_session(app):
    from tests.test_review_detail import PASSWORD, staff

    staff(app, "rita@example.org")
    client = FormClient(app.test_client())
    client.get("/login")
    with client.client.session_transaction() as session:
        session["planted"] = "by an attacker"
    response = client.post("/login", {"email": "rita@example.org", "password": PASSWORD})
    assert response.status_code == 302
    with client.client.session_transaction() as session:
        assert "planted" not in session and "_user_id" in session


# --- CSRF on every state change ----------------------------------------------------------


def post_routes(app) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        values = {}
        for argument in rule.arguments:
            converter = rule._converters[argument]  # noqa: SLF001
            values[argument] = 1 if type(converter).__name__ == "IntegerConverter" else "all-types"
        urls.append(rule.build(values, append_unknown=False)[1])
    return sorted(set(urls))


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(app, create_form, who):
    from tests.test_review_detail import signed_in, staff

    create_form(all_types())
    client = FormClient(app.test_client())
    if who == "admin":
        client = signed_in(app, staff(app, "admin@example.org", "admin"))
    urls = post_routes(app)
    assert "/logout" in urls and "/calls/all-types/check" in urls and len(urls) >= 15
    for url in urls:
        for data in ({"action": "continue"}, {"action": "continue", "csrf_token": "forged"}):
            response = client.client.post(url, data=data)
            assert response.status_code == 400, (url, data, response.status_code)
    if who == "admin":  # still signed in: logout without a token did nothing
        assert client.get("/dashboard/").status_code == 200


def test_a_csrf_failure_on_an_unknown_form_or_page_is_a_404_not_a_500(client, create_form):
    create_form(all_types())
    for url in ("/calls/nope/page/1", "/calls/all-types/page/99"):
        response = client.client.post(url, data={"action": "continue"})
        assert response.status_code == 404, url


# --- access by guessing ------------------------------------------------------------------


def test_documents_and_files_are_found_only_through_their_own_link(app, create_form):
    from tests.test_applicant import apply

    create_form(base("keep", APPLICANT_PAGES))
    token_a, _a = apply(app, "keep", applicant_answers(email="a@example.org"))
    token_b, _b = apply(app, "keep", applicant_answers(email="b@example.org"))
    ids = sorted(a["id"] for a in attachments(app))
    client = FormClient(app.test_client())
    assert client.get(f"/s/{token_a}/attachments/{ids[0]}").status_code == 200
    for url in (
        f"/s/{token_a}/attachments/{ids[1]}",  # B's file through A's link
        f"/s/{token_a[:-1]}x/attachments/{ids[0]}",  # a link one character off
        f"/s/{token_a}/documents/letter_pdf",  # a kind that is not a copy
        f"/s/{token_a}/documents/..%2F..%2Fapp.py",
        "/dashboard/submissions/1",  # not signed in
        "/dashboard/exports/1.csv",
    ):
        response = client.get(url)
        assert response.status_code in (302, 404), url
        assert PDF not in response.data


# --- hostile answers are text everywhere ---------------------------------------------------


def test_markup_in_answers_is_escaped_in_every_place_it_is_shown(app, create_form, smtp):
    from documents.content import submission_copy
    from documents.docx import render_docx
    from documents.pdf import html_for
    from extensions import db
    from forms.published import spec_for
    from models import Submission
    from tests.conftest_mail import deliver
    from tests.test_review_detail import signed_in, staff

    create_form(base("keep", APPLICANT_PAGES))
    data = applicant_answers(
        name=XSS,
        plan=XSS,
        cv=(io.BytesIO(PDF), "<img src=x onerror=alert(3)>.pdf"),
        **{"people-0-who": XSS},
    )
    token, submission_id = send_application(app, "keep", data)
    raw = ("<script>alert(1)</script>", "<img src=x onerror")
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"

    admin = signed_in(app, staff(app, "admin@example.org", "admin"))
    pages = {
        "dashboard list": admin.get("/dashboard/submissions").get_data(as_text=True),
        "dashboard detail": admin.get(f"/dashboard/submissions/{submission_id}").get_data(
            as_text=True
        ),
        "applicant page": FormClient(app.test_client()).get(f"/s/{token}").get_data(as_text=True),
    }
    deliver(app)
    [receipt] = smtp.inbox.wait_for(1)
    pages["email html"] = receipt.get_body(("html",)).get_content()
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        content = submission_copy(submission, spec_for(submission.form_version))
        pages["pdf html"] = html_for(content)
        docx_bytes = render_docx(content)
    for name, html in pages.items():
        for fragment in raw:
            assert fragment not in html, name
    assert escaped in pages["dashboard detail"] and escaped in pages["applicant page"]
    assert escaped in pages["pdf html"]

    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(docx_bytes)).paragraphs)
    tables = "\n".join(
        cell.text
        for table in Document(io.BytesIO(docx_bytes)).tables
        for row in table.rows
        for cell in row.cells
    )
    assert XSS in text + tables  # literal text in a Word run, never markup


# --- secret links never in logs ----------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ('127.0.0.1 - - "GET /s/AbC_-123/edit HTTP/1.1" 200', '"GET /s/[secret]/edit HTTP/1.1"'),
        ("GET /resume/tok3n?lang=pl", "GET /resume/[secret]?lang=pl"),
        ("link https://formdesk.example/s/abcdef", "https://formdesk.example/s/[secret]"),
        ("Exception on /s/abc/actions/withdraw [POST]", "/s/[secret]/actions/withdraw"),
    ],
)
def test_secret_links_are_masked_in_log_lines(line, masked):
    from web.security import mask_secret_links

    assert masked in mask_secret_links(line)
    assert "/calls/s/x" in mask_secret_links("GET /calls/s/x")  # only real link paths


def test_werkzeug_gunicorn_and_flask_log_records_are_masked(app):
    """Each logger's own filter: records are masked even where a logger does not propagate
    (JSON logs) and whichever handler writes them."""
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    loggers = [logging.getLogger(n) for n in ("werkzeug", "gunicorn.access")] + [app.logger]
    keep = Keep(level=logging.DEBUG)
    for logger in loggers:
        logger.addHandler(keep)
    try:
        loggers[0].warning('%s - - "%s" %s', "127.0.0.1", "GET /s/SeCrEt1 HTTP/1.1", 200)
        loggers[1].warning("%(r)s", {"r": "GET /s/SeCrEt3/edit"})
        app.logger.error("Exception on %s [%s]", "/resume/SeCrEt2", "GET")
    finally:
        for logger in loggers:
            logger.removeHandler(keep)
    assert len(seen) == 3 and "SeCrEt" not in "\n".join(seen)
    assert all("[secret]" in line for line in seen)


def test_the_memory_rate_limit_storage_is_safe_with_threads():
    """limits 5.8.0's memory storage could start its expiry timer twice (a 500 under
    gunicorn threads); `memory://` is our locked subclass (extensions.py)."""
    from limits.storage import storage_from_string

    from extensions import ThreadSafeMemoryStorage

    storage = storage_from_string("memory://")
    assert isinstance(storage, ThreadSafeMemoryStorage)
    errors = []

    def hit():
        try:
            for i in range(200):
                storage.incr(f"key-{i % 3}", 60)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=hit) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and storage.get("key-0") == 32 * 67


def test_the_development_server_log_never_shows_a_secret_link(live_server):
    for path in ("/resume/TopSecretDraftToken", "/s/TopSecretApplicantToken/edit"):
        try:
            urllib.request.urlopen(live_server.url + path, timeout=10)  # noqa: S310
        except urllib.error.HTTPError as error:
            assert error.code == 404
    time.sleep(0.3)
    log = Path(live_server.log).read_text(errors="replace")
    assert "/resume/[secret]" in log and "/s/[secret]/edit" in log
    assert "TopSecret" not in log
