"""Property-based tests (Hypothesis) of the staff side: random query strings and form values,
with control characters, NUL, decomposed letters and huge values, sent by a signed-in
reviewer and admin to the dashboard list, the exports, the bulk documents, the bulk actions,
the submission page's forms, the email-text editor and the sign-in form. Whatever arrives:
never a 500, and nothing stored holds a control character (a line break only in multi-line
text) or text that is not NFC — so no background duty ever reads one back."""

from __future__ import annotations

import json
import string
import unicodedata
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import FormClient
from tests.test_exports import answers, definition, form_id, send, signed_in, staff
from tests.test_properties import SETTINGS, status_ok

SLUG = "export-test"
CONTROL = st.characters(categories=["Cc"])
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    st.text(st.one_of(CONTROL, st.sampled_from("aą\u0301é\n\r\t ")), min_size=1, max_size=10),
    st.sampled_from(["%00", "\x00", "a\x00", "Va\u0308xjo\u0308", "2027-01-01\x00", "submitted"]),
    st.text(string.printable, min_size=190, max_size=6000),
)
FILTER_NAMES = ["form", "state", "from", "to", "tag", "q", "sort", "order", "page", "lang", "x"]
QUERY = st.lists(st.tuples(st.sampled_from(FILTER_NAMES), TEXT), max_size=8)


@pytest.fixture
def desk(app, create_form):
    create_form(definition())
    email = staff(app, "rita@example.org", forms=(SLUG,))
    for branch in ("Biblioteket i Växjö", "Filia Bałuty"):
        send(app, answers(branch, people=[("Anna Nowak", "vegan")]))
    admin = signed_in(app, staff(app, "bob@example.org", "admin"))
    return signed_in(app, email), admin


def stored_texts(app) -> list[tuple[str, str, bool]]:
    """(where, text, may hold line breaks) for every staff text the database keeps."""
    from extensions import db
    from models import AuditEntry, ConflictOfInterest, EmailTemplate, InternalComment, Tag

    with app.app_context():
        found = [("tag", name, False) for name in db.session.scalars(select(Tag.name))]
        found += [("comment", b, True) for b in db.session.scalars(select(InternalComment.body))]
        found += [
            ("conflict", r, True) for r in db.session.scalars(select(ConflictOfInterest.reason))
        ]
        for subject, body in db.session.execute(select(EmailTemplate.subject, EmailTemplate.body)):
            found += [("subject", subject, False), ("body", body, True)]
        for entry in db.session.scalars(select(AuditEntry)):
            # JSON text itself escapes control characters: look at the values inside it.
            found += [("audit data", value, False) for value in strings_in(entry.data)]
            found += [("audit comment", entry.comment or "", True)]
    return found


def strings_in(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in strings_in(key) + strings_in(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []


def assert_clean(app) -> None:
    for where, text, multiline in stored_texts(app):
        allowed = "\n" if multiline else ""
        bad = [ch for ch in text if unicodedata.category(ch) == "Cc" and ch not in allowed]
        assert not bad, (where, json.dumps(text)[:200])
        assert unicodedata.is_normalized("NFC", text), (where, json.dumps(text)[:200])


@SETTINGS
@given(
    query=QUERY,
    path=st.sampled_from(
        [
            "/dashboard/submissions",
            "/dashboard/exports/{form}.csv",
            "/dashboard/exports/{form}.xlsx",
            "/dashboard/exports/{form}/participants.csv",
            "/dashboard/documents/submissions.zip",
            "/dashboard/admin/outbox",
        ]
    ),
    as_admin=st.booleans(),
)
def test_any_query_string_on_a_staff_page_is_never_a_500_and_stores_nothing_unchecked(
    app, desk, query, path, as_admin
):
    reviewer, admin = desk
    client = admin if as_admin or "admin" in path else reviewer
    url = path.format(form=form_id(app)) + "?" + urlencode(query)
    status_ok(client.client.get(url))
    assert_clean(app)


@SETTINGS
@given(
    action=st.sampled_from(["comments", "tags", "conflict", "transition", "scores"]),
    values=st.dictionaries(
        st.sampled_from(
            [
                "body",
                "tag",
                "reason",
                "comment",
                "transition",
                "expected_state",
                "date",
                "score-fit",
                "score-idea",
                "decision",
            ]
        ),
        TEXT,
    ),  # fmt: skip
)
def test_any_value_in_a_submissions_forms_is_never_a_500_and_stores_nothing_unchecked(
    app, desk, action, values
):
    reviewer, _admin = desk
    url = "/dashboard/submissions/1"
    reviewer.get(url)
    status_ok(reviewer.post(f"{url}/{action}", values))
    assert_clean(app)


@SETTINGS
@given(
    values=st.dictionaries(
        st.sampled_from(["action", "comment", "submission", "state-1", "state-2", "back"]),
        st.one_of(TEXT, st.lists(TEXT, max_size=3)),
    ),
    step=st.sampled_from(["/dashboard/bulk", "/dashboard/bulk/apply"]),
)
def test_any_bulk_action_is_never_a_500_and_stores_nothing_unchecked(app, desk, values, step):
    reviewer, _admin = desk
    reviewer.get("/dashboard/submissions")
    values = {"action": "start_review", "submission": ["1", "2"], **values}
    status_ok(reviewer.post(step, values))
    assert_clean(app)


@SETTINGS
@given(subject=TEXT, body=TEXT, action=st.sampled_from(["save", "preview", "reset", "x"]))
def test_any_email_text_is_never_a_500_and_stores_nothing_unchecked(
    app, desk, subject, body, action
):
    _reviewer, admin = desk
    url = "/dashboard/admin/emails/all/receipt/en"
    admin.get(url)
    status_ok(admin.post(url, {"action": action, "subject": subject, "body": body}))
    assert_clean(app)


@SETTINGS
@given(email=TEXT, password=TEXT)
def test_any_sign_in_is_never_a_500(app, desk, email, password):
    client = FormClient(app.test_client())
    client.get("/login")
    status_ok(client.post("/login", {"email": email, "password": password}))
