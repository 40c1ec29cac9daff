"""What staff send is normalised and bounded at the edge (issue 14, findings 1 and 5), through
the real app, on SQLite and PostgreSQL: a query string or form field holding NUL or another
control character, or beyond its bound, is refused with a message; nothing of it reaches the
database, the audit log or a background duty; text is stored in NFC."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import func, select

from tests.conftest import FormClient, demo_definition
from tests.test_documents import MSAS_ANSWERS, apply, make_documents, move
from tests.test_exports import answers as export_answers
from tests.test_exports import definition, form_id, send, signed_in, staff, tag

SLUG = "export-test"
CONTROL = "holds a control character"
TOO_LONG = "can be at most"

EXPORTED = ("submissions.exported", "documents.exported")


def export_entries(app) -> list:
    from extensions import db
    from models import AuditEntry

    with app.app_context():
        return db.session.scalars(
            select(AuditEntry.data).where(AuditEntry.action.in_(EXPORTED))
        ).all()


def count(app, model) -> int:
    from extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def reviewer(app, create_form):
    create_form(definition())
    email = staff(app, "rita@example.org", forms=(SLUG,))
    first = send(app, export_answers("Biblioteket i Växjö", people=[("Anna Nowak", "vegan")]))
    send(app, export_answers("Filia Bałuty"))
    tag(app, first, "Växjö")
    return email


HOSTILE_LINKS = {
    "csv search NUL": ("/dashboard/exports/{form}.csv?q=%00", CONTROL),
    "xlsx tag NUL": ("/dashboard/exports/{form}.xlsx?tag=a%00", CONTROL),
    "group csv state": ("/dashboard/exports/{form}/participants.csv?state=sub%01mitted", CONTROL),
    "csv date": ("/dashboard/exports/{form}.csv?from=2027-01-01%0A", CONTROL),
    "zip search NUL": ("/dashboard/documents/submissions.zip?q=%00", CONTROL),
    "pdf tag": (f"/dashboard/documents/submissions.pdf?form={SLUG}&tag=%1B[31m", CONTROL),
    "csv long search": ("/dashboard/exports/{form}.csv?q=" + "a" * 201, TOO_LONG),
    "zip long tag": ("/dashboard/documents/submissions.zip?tag=" + "t" * 61, TOO_LONG),
    "xlsx many states": ("/dashboard/exports/{form}.xlsx?" + "&".join(["state=x"] * 21), "at most"),
}


@pytest.mark.parametrize("link, message", HOSTILE_LINKS.values(), ids=HOSTILE_LINKS.keys())
def test_a_hostile_export_or_download_link_is_refused_and_nothing_is_stored(
    app, reviewer, link, message
):
    client = signed_in(app, reviewer)
    response = client.get(link.format(form=form_id(app)))
    assert response.status_code == 400, response.status_code
    assert "attachment" not in response.headers.get("Content-Disposition", "")
    assert message in client.last_html
    assert export_entries(app) == []


def test_the_list_refuses_a_control_character_and_shows_the_rest(app, reviewer):
    client = signed_in(app, reviewer)
    response = client.get("/dashboard/submissions?q=%00&sort=reference")
    assert response.status_code == 400
    assert CONTROL in client.last_html
    assert "Biblioteket i Växjö" in client.last_html and "Filia Bałuty" in client.last_html
    assert client.get("/dashboard/submissions?page=" + "9" * 40).status_code == 200  # ignored
    assert client.get("/dashboard/submissions?" + "&".join(["x=1"] * 200)).status_code == 400


def test_filters_in_another_unicode_form_find_the_same_submissions(app, reviewer):
    """A tag typed as "Va\u0308xjo\u0308" (decomposed, as macOS sends it) is the tag Växjö."""
    decomposed = unicodedata.normalize("NFD", "Växjö")
    client = signed_in(app, reviewer)
    listed = client.get(f"/dashboard/submissions?tag={decomposed}")
    assert listed.status_code == 200
    assert "No submission of yours has this tag" not in client.last_html
    assert "Biblioteket i Växjö" in client.last_html and "Filia Bałuty" not in client.last_html
    exported = client.client.get(f"/dashboard/exports/{form_id(app)}.csv?tag={decomposed}")
    assert exported.status_code == 200
    assert "Biblioteket i Växjö" in exported.get_data(as_text=True)
    assert "Filia Bałuty" not in exported.get_data(as_text=True)
    assert export_entries(app)[-1]["filters"] == {"tag": "växjö"}  # stored as compared


def test_a_nul_link_opened_by_a_reviewer_stops_no_decision_letter(app, create_form):
    """Finding 1, end to end: on PostgreSQL a stored NUL once stopped every letter."""
    from extensions import db
    from models import Document

    create_form(demo_definition("msas"))
    _token, submission_id, _reference = apply(app, "msas", MSAS_ANSWERS, "pl")
    client = signed_in(app, staff(app, "rita@example.org", "call_manager", ("msas",)))
    msas = form_id(app, "msas")
    for link in (
        f"/dashboard/exports/{msas}.csv?q=%00",
        "/dashboard/documents/submissions.zip?q=%00",
        f"/dashboard/exports/{msas}.xlsx?tag=a%00",
    ):
        assert client.client.get(link).status_code == 400, link
    move(app, submission_id, "start_review")
    move(app, submission_id, "accept", comment="Gratulujemy!")
    make_documents(app)
    with app.app_context():
        kinds = db.session.scalars(
            select(Document.kind).where(Document.submission_id == submission_id)
        ).all()
    assert {"letter_pdf", "letter_docx"} <= set(kinds)


# --- staff forms ---------------------------------------------------------------------------


def detail_post(client: FormClient, submission_id: int, action: str, data: dict):
    url = f"/dashboard/submissions/{submission_id}"
    client.get(url)
    return client.post(f"{url}/{action}", data)


def test_staff_forms_refuse_control_characters_and_store_nothing(app, reviewer):
    from models import ConflictOfInterest, InternalComment, Tag

    client = signed_in(app, reviewer)
    submission = 1
    tags = count(app, Tag)
    for action, data, model in (
        ("comments", {"body": "Call\x00back"}, InternalComment),
        ("tags", {"tag": "urgent\x00"}, Tag),
        ("tags", {"tag": "line\nbreak"}, Tag),
        ("conflict", {"reason": "My \x1b[31msister"}, ConflictOfInterest),
    ):
        before = count(app, model)
        response = detail_post(client, submission, action, data)
        assert response.status_code == 400, (action, response.status_code)
        assert CONTROL in client.last_html, action
        assert count(app, model) == before, action
    assert count(app, Tag) == tags
    # Line breaks are what a comment is made of; other text is stored in NFC.
    comment = unicodedata.normalize("NFD", "Zażółć\r\ngęślą jaźń")
    assert detail_post(client, submission, "comments", {"body": comment}).status_code == 302
    from extensions import db

    with app.app_context():
        stored = db.session.scalars(select(InternalComment.body)).all()
    assert stored == ["Zażółć\ngęślą jaźń"]


def test_a_transition_comment_with_a_control_character_moves_nothing(app, reviewer):
    from extensions import db
    from models import Submission

    client = signed_in(app, reviewer)
    response = detail_post(
        client,
        1,
        "transition",
        {"transition": "start_review", "expected_state": "submitted", "comment": "Hi\x00"},
    )
    assert response.status_code == 400
    assert CONTROL in client.last_html
    with app.app_context():
        assert db.session.get(Submission, 1).state == "submitted"


def test_bulk_actions_refuse_a_control_character_in_the_comment(app, reviewer):
    from extensions import db
    from models import Submission

    client = signed_in(app, reviewer)
    client.get("/dashboard/submissions")
    response = client.post(
        "/dashboard/bulk",
        {"action": "start_review", "comment": "Hi\x07", "submission": ["1", "2"]},
    )
    assert response.status_code == 400
    assert CONTROL in client.last_html
    response = client.post(
        "/dashboard/bulk/apply",
        {
            "action": "start_review",
            "comment": "Hi\x07",
            "submission": ["1"],
            "state-1": "submitted",
        },
    )
    assert response.status_code == 400
    with app.app_context():
        assert {s.state for s in db.session.scalars(select(Submission))} == {"submitted"}


def test_the_email_text_editor_refuses_control_characters(app, reviewer):
    from models import EmailTemplate

    client = signed_in(app, staff(app, "bob@example.org", "admin"))
    url = "/dashboard/admin/emails/all/receipt/en"
    client.get(url)
    before = count(app, EmailTemplate)
    for subject, body in (("Hello\x00", "Text {reference}"), ("Hello", "Te\x00xt {reference}")):
        response = client.post(url, {"action": "save", "subject": subject, "body": body})
        assert response.status_code == 400
        assert CONTROL in client.last_html
    assert count(app, EmailTemplate) == before


@pytest.mark.parametrize("email", ["rita\x00@example.org", "rita@example.org\x00", "a" * 400])
def test_a_nul_in_the_sign_in_email_is_refused_with_the_forms_message(app, reviewer, email):
    client = FormClient(app.test_client())
    client.get("/login")
    response = client.post("/login", {"email": email, "password": "whatever-it-is"})
    assert response.status_code in (200, 401), response.status_code
    assert "Enter an email address in the right format" in client.last_html
