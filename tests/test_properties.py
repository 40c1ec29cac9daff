"""Property-based tests (Hypothesis) of the public side: random values, random files and
random form definitions sent through the real endpoints. Whatever arrives: never a 500,
and never a half-written row — every submission has its answers, its one audit entry and
the files its answers name; every file belongs to a draft or a submission, never both,
and is on disk; nothing is left on disk without a row; no stored answer holds a control
character, and no group more items than its maximum (issue 14)."""

from __future__ import annotations

import io
import json
import re
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from tests.conftest import FormClient
from tests.definitions import all_types, base, multi_page

SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("FORMDESK_HYPOTHESIS_EXAMPLES", 40)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=False,
)

# Text as people and attackers type it: any Unicode (surrogates excluded: browsers cannot
# send them), markup, very long strings, control characters.
CONTROL_TEXT = st.text(
    st.one_of(st.characters(categories=["Cc"]), st.sampled_from("a\r\n\u2028\u0085")),
    min_size=1,
    max_size=20,
)
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=80),
    st.sampled_from(
        ["<script>alert(1)</script>", "' OR 1=1 --", "%00", "../../etc", "\u202e", "a\x00b",
         "e\u0301", "one\ntwo", "\r\n", "\x1b[2J", "\ufeff", "yes\x00", "１２"]
    ),
    CONTROL_TEXT,
    st.builds(lambda a, b, c: a + b + c, st.text(max_size=10), CONTROL_TEXT, st.text(max_size=10)),
    st.text(string.printable, min_size=1000, max_size=5000),
)  # fmt: skip
FIELD_NAMES = [
    "name", "code", "story", "email", "phone", "people", "day", "colour", "country",
    "topics", "member", "agree", "cv", "csrf", "action", "contact-website", "is_admin",
    "participants-0-first_name", "participants-99-diet", "service", "contact_email",
]  # fmt: skip
ACTIONS = st.sampled_from(
    ["continue", "back", "save", "remove-file-cv", "add-participants", "remove-participants-0",
     "remove-participants-x", "", "drop table"]
)  # fmt: skip
FILES = st.tuples(
    st.one_of(
        st.binary(max_size=2000),
        st.builds(lambda b: b"%PDF-" + b, st.binary(max_size=2000)),
        st.builds(lambda b: b"PK\x03\x04" + b, st.binary(max_size=2000)),
    ),
    st.one_of(
        st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
        st.builds(
            lambda stem, ext: stem + "." + ext,
            st.text(
                st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30
            ),
            st.sampled_from(["pdf", "PDF", "docx", "odt", "exe", "pdf.exe", "php", ""]),
        ),
    ),
)


def form_data(values: dict, files: dict) -> dict:
    data = {name: value for name, value in values.items()}
    for name, (content, filename) in files.items():
        data[name] = (io.BytesIO(content), filename)
    return data


def stored_files(app) -> set[str]:
    return {p.name for p in Path(app.config["FORMDESK_UPLOAD_DIR"]).rglob("*") if p.is_file()}


def assert_consistent(app, files_before: set[str]) -> None:
    from extensions import db
    from forms.published import spec_for
    from models import Attachment, AuditEntry, Document, Draft, Submission
    from services.answers import answers_to_keep
    from services.submissions import attachment_ids

    with app.app_context():
        for submission in db.session.scalars(select(Submission)):
            entries = db.session.scalar(
                select(func.count(AuditEntry.id)).where(
                    AuditEntry.submission_id == submission.id,
                    AuditEntry.action == "submission.submitted",
                )
            )
            assert entries == 1, submission.reference
            answers = submission.answers_by_field()
            spec = spec_for(submission.form_version)
            # All its answers: exactly what its draft held for the questions shown.
            [draft] = db.session.scalars(select(Draft).where(Draft.submission_id == submission.id))
            assert answers == answers_to_keep(spec, draft.answers), submission.reference
            own = {a.id for a in submission.attachments}
            assert attachment_ids(spec, answers) <= own, "an answer names a file it lost"
        for draft in db.session.scalars(select(Draft)):
            pages = len(spec_for(draft.form_version).pages)
            assert set(draft.completed_pages or []) <= set(range(pages))
        rows = db.session.scalars(select(Attachment)).all()
        for attachment in rows:
            assert (attachment.draft_id is None) != (attachment.submission_id is None)
        documents = {d.storage_name for d in db.session.scalars(select(Document))}
        expected = {a.storage_name for a in rows} | documents
    on_disk = stored_files(app)
    assert expected <= on_disk, "a row points at a file that is not there"
    assert on_disk - files_before - expected == set(), "a file was left without a row"
    assert_clean_answers(app)


# What no stored answer may hold (forms.validators.CONTROL; "\n" is a line break in long text).
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def assert_clean_answers(app) -> None:
    """Nothing unchecked reached storage: no control character in any draft or answer, no
    group with more items than its maximum."""
    from extensions import db
    from forms.published import spec_for
    from models import Answer, Draft

    with app.app_context():
        for draft in db.session.scalars(select(Draft)):
            assert not CONTROL.search(json.dumps(draft.answers, ensure_ascii=False))
            for field in spec_for(draft.form_version).inputs:
                if field.type == "group":
                    items = draft.answers.get(field.name) or []
                    assert len(items) <= field.options["max"], (field.name, len(items))
                elif field.type == "multichoice":
                    chosen = draft.answers.get(field.name) or []
                    assert len(chosen) <= len(field.options["choices"])
        for answer in db.session.scalars(select(Answer)):
            assert not CONTROL.search(json.dumps(answer.value, ensure_ascii=False))


def status_ok(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]


# --- random values and files to a fixed form ----------------------------------------------


@pytest.fixture
def forms(create_form):
    create_form(all_types())
    create_form(multi_page())


@SETTINGS
@given(
    values=st.dictionaries(
        st.sampled_from(FIELD_NAMES), st.one_of(TEXT, st.lists(TEXT, max_size=3))
    ),
    files=st.dictionaries(st.sampled_from(["cv", "name", "other"]), FILES, max_size=2),
    action=ACTIONS,
    slug=st.sampled_from(["all-types", "multi"]),
    number=st.integers(min_value=-1, max_value=5),
    send=st.booleans(),
    fresh_browser=st.booleans(),
)
def test_random_values_and_files_never_500_and_never_half_write(
    app, forms, values, files, action, slug, number, send, fresh_browser
):
    before = stored_files(app)
    client = FormClient(app.test_client())
    url = f"/calls/{slug}/page/{number}"
    page = client.get(url)
    status_ok(page)
    if page.status_code == 200:
        data = form_data({**values, "action": action}, files)
        status_ok(client.post(url, data, content_type="multipart/form-data"))
    if send:
        status_ok(client.get(f"/calls/{slug}/check"))
        if "csrf_token" in client.last_html:
            status_ok(client.post(f"/calls/{slug}/check", {"confirm_duplicate": "yes"}))
    assert_consistent(app, before)


@SETTINGS
@given(
    values=st.dictionaries(st.sampled_from(FIELD_NAMES), TEXT, max_size=6),
    path=st.sampled_from(
        [
            "/calls/{slug}/page/1",
            "/calls/{slug}/check",
            "/resume/{junk}",
            "/s/{junk}",
            "/s/{junk}/edit",
            "/s/{junk}/actions/withdraw",
            "/login",
            "/calls/{junk}/page/1",
        ]
    ),  # fmt: skip
    junk=st.text(string.ascii_letters + string.digits + "-_%.~", min_size=1, max_size=60),
    with_token=st.booleans(),
)
def test_any_post_anywhere_public_is_never_a_500(app, forms, values, path, junk, with_token):
    before = stored_files(app)
    client = FormClient(app.test_client())
    url = path.format(slug="all-types", junk=junk)
    client.get("/calls/all-types/page/1")
    data = dict(values)
    if with_token:
        data["csrf_token"] = client.csrf_token()
    status_ok(client.client.post(url, data=data))
    status_ok(client.client.get(url))
    assert_consistent(app, before)


# --- huge counts in urlencoded bodies ------------------------------------------------------


@SETTINGS
@given(
    items=st.integers(0, 3000),
    item_value=TEXT,
    repeats=st.integers(0, 3000),
    topic=st.one_of(st.sampled_from(["a", "b", "c"]), TEXT),
    page=st.sampled_from([("multi", 3), ("all-types", 1)]),
    action=ACTIONS,
    send=st.booleans(),
)
@pytest.mark.slow  # many generated bodies
def test_huge_counts_and_control_characters_are_refused_not_stored(
    app, forms, items, item_value, repeats, topic, page, action, send
):
    """Group items by the thousand, a choice repeated by the thousand, control characters
    anywhere, sent urlencoded (Werkzeug bounds only multipart bodies by itself)."""
    slug, number = page
    before = stored_files(app)
    client = FormClient(app.test_client())
    url = f"/calls/{slug}/page/{number}"
    client.get(url)
    data = [("csrf_token", client.csrf_token()), ("action", action)]
    data += [(f"participants-{i}-first_name", item_value) for i in range(items)]
    data += [("topics", topic)] * repeats + [("name", item_value), ("notes", item_value)]
    response = client.client.post(url, data=MultiDict(data))
    status_ok(response)
    if len(data) > app.config["MAX_FORM_PARTS"]:
        assert response.status_code == 413
    if send:
        status_ok(client.get(f"/calls/{slug}/check"))
        if "csrf_token" in client.last_html:
            status_ok(client.post(f"/calls/{slug}/check", {"confirm_duplicate": "yes"}))
    assert_consistent(app, before)


# --- random form definitions ---------------------------------------------------------------

# Mostly sound definitions (so that forms get published and used), some broken on purpose.
VALID_NAMES = st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "email", "file1", "x_1"])
NAMES = st.one_of(*[VALID_NAMES] * 7, st.sampled_from(["Bad-Name", "1x", ""]))
TYPES = st.sampled_from(
    ["text", "textarea", "email", "phone", "number", "date", "choice", "multichoice",
     "yesno", "consent", "file", "heading", "paragraph", "group", "nonsense"]
)  # fmt: skip
LABEL = st.one_of(TEXT, st.fixed_dictionaries({"en": TEXT}), TEXT, st.just({"xx": "?"}), st.none())


@st.composite
def field_definition(draw, depth: int = 0) -> dict:
    kind = draw(TYPES)
    field: dict = {"name": draw(NAMES), "type": kind, "label": draw(LABEL)}
    if kind in ("heading", "paragraph", "consent"):
        field["text"] = draw(LABEL)
    if draw(st.booleans()):
        field["required"] = draw(st.one_of(st.booleans(), st.booleans(), st.just("maybe")))
    if kind in ("choice", "multichoice"):
        field["choices"] = draw(
            st.lists(
                st.fixed_dictionaries({"value": NAMES, "label": LABEL}),
                min_size=draw(st.sampled_from([0, 1, 1, 1])),
                max_size=4,
                unique_by=lambda choice: choice["value"],
            )
        )
    if kind in ("text", "textarea") and draw(st.booleans()):
        field["max_length"] = draw(st.one_of(st.integers(-5, 500), st.just("ten")))
    if kind == "number" and draw(st.booleans()):
        field["min"], field["max"] = draw(st.integers(-10, 10)), draw(st.integers(-10, 10))
    if kind == "file":
        field["accept"] = draw(st.lists(st.sampled_from(["pdf", "docx", "odt", "exe"]), max_size=3))
        field["max_size_mb"] = draw(st.one_of(st.integers(-1, 5), st.just(0.001)))
    if kind == "group" and depth == 0:
        field["fields"] = draw(
            st.lists(field_definition(depth + 1), max_size=3, unique_by=lambda f: f["name"])
        )
        field["max"] = draw(st.integers(0, 4))
    if draw(st.integers(0, 3)) == 0:
        field["show_if"] = {
            draw(NAMES): draw(st.lists(st.one_of(NAMES, st.booleans()), max_size=2))
        }
    if draw(st.integers(0, 19)) == 0:
        field["unexpected"] = draw(TEXT)
    return field


DEFINITION = st.builds(
    lambda pages, languages: base(
        "random",
        [{"title": title, "fields": fields} for title, fields in pages],
        languages=languages,
    ),
    st.lists(
        st.tuples(LABEL, st.lists(field_definition(), max_size=5, unique_by=lambda f: f["name"])),
        min_size=0,
        max_size=3,
    ),
    st.sampled_from([["en"], ["en", "pl", "sv"], ["en", "pl"]]),
)


@SETTINGS
@given(
    definition=DEFINITION,
    values=st.dictionaries(st.sampled_from(["a", "b", "c", "email", "grp-0-a", "x_1"]), TEXT),
    files=st.dictionaries(st.sampled_from(["file1", "a"]), FILES, max_size=1),
    action=ACTIONS,
)
def test_random_form_definitions_are_refused_cleanly_or_work(
    app, create_form, definition, values, files, action
):
    from extensions import db
    from forms.schema import DefinitionError
    from models import Form

    with app.app_context():  # each example publishes its own call
        form = db.session.scalar(select(Form).where(Form.slug == "random"))
        if form is not None:
            form.slug = f"old-{form.id}"
            db.session.commit()
    before = stored_files(app)
    try:
        create_form(definition)
    except DefinitionError:
        return  # refused with a message: fine
    client = FormClient(app.test_client())
    for number in (1, 2):
        url = f"/calls/random/page/{number}"
        page = client.get(url)
        status_ok(page)
        if page.status_code == 200 and "csrf_token" in client.last_html:
            data = form_data({**values, "action": action}, files)
            status_ok(client.post(url, data, content_type="multipart/form-data"))
    status_ok(client.get("/calls/random/check"))
    if "csrf_token" in client.last_html:
        status_ok(client.post("/calls/random/check", {}))
    status_ok(client.get("/"))
    status_ok(client.get("/calls/random"))
    assert_consistent(app, before)
