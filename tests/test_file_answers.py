"""File answers are recognised by their question's type, never by a key in the stored value:
a question may be called anything (MSAS calls its file question `attachment`, the key a file
answer keeps its id under). Names that would collide with the page's own controls or with the
page form itself are refused when a definition loads.

The calls in forms/definitions/ that ask for a file are sent with one through the real app,
and the file is replaced on the applicant's edit page (run on PostgreSQL too with
FORMDESK_TEST_DATABASE=postgresql)."""

from __future__ import annotations

import io
import re

import pytest
import yaml
from sqlalchemy import select

from forms.schema import DefinitionError, load_file, validate
from forms.spec import FormSpec
from tests.conftest import DEMO_FORMS, FormClient, errors_in
from tests.definitions import base

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def demo_specs() -> dict[str, tuple[dict, FormSpec]]:
    found = {}
    for path in sorted(DEMO_FORMS.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        found[raw["slug"]] = (raw, FormSpec(load_file(path)))
    return found


CALLS_WITH_FILES = [slug for slug, (_raw, spec) in demo_specs().items() if spec.takes_files]


# --- answering any page from its spec ------------------------------------------------------


def _answer(field, name: str, files: dict) -> dict:
    """A valid answer to one question, as a browser posts it."""
    options, kind = field.options, field.type
    example = field.kind.example_post(field)
    if example is not None:  # the type's own valid answer, by input
        return {name + suffix: value for suffix, value in example.items()}
    if kind == "file":
        extension = options["accept"][0]
        return {name: (io.BytesIO(PDF), f"{field.name}-ä.{extension}")} | files
    if kind == "text":
        return {name: "Zażółć gęślą jaźń"}
    if kind == "textarea":
        return {name: "Łódź, Malmö und Stralsund: " + "x" * max(options.get("min_length") or 0, 30)}
    if kind == "email":
        return {name: "ada@example.org"}
    if kind == "phone":
        return {name: "+48 600 100 200"}
    if kind == "number":
        return {name: str(options.get("min", 1))}
    if kind == "date":
        return {name: options.get("min", "2030-01-01")}
    if kind in ("choice", "multichoice"):
        value = options["choices"][0]["value"]
        return {name: [value] if kind == "multichoice" else value}
    if kind == "yesno":
        return {name: "yes"}
    if kind == "consent":
        return {name: "y"}
    return {}


def page_data(page) -> dict:
    """Every question of the page answered (one item in a group); files as uploads."""
    data: dict = {}
    for field in page.inputs:
        if field.type == "group":
            for child in field.children:
                data |= _answer(child, f"{field.name}-0-{child.name}", {})
        else:
            data |= _answer(field, field.name, {})
    return data


def file_questions(spec: FormSpec) -> list:
    return [f for f in spec.inputs if f.type == "file"]


def send(app, slug: str, spec: FormSpec) -> tuple[FormClient, str]:
    client = FormClient(app.test_client())
    for page in spec.pages:
        response = client.fill(
            slug, page.index + 1, page_data(page), content_type="multipart/form-data"
        )
        assert response.status_code == 302, errors_in(client.last_html)
    assert client.get(f"/calls/{slug}/check").status_code == 200
    response = client.post(f"/calls/{slug}/check", {})
    assert response.status_code == 302, client.last_html[-2000:]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    token = re.search(r"https?://[^/\"]+/s/([A-Za-z0-9_-]+)", page).group(1)
    return client, token


# --- the calls that ask for a file ---------------------------------------------------------


def test_some_demo_call_asks_for_a_file():
    assert CALLS_WITH_FILES, "no call in forms/definitions asks for a file: nothing tested here"


@pytest.mark.parametrize("slug", CALLS_WITH_FILES)
def test_a_call_is_sent_with_a_file_and_the_file_replaced_on_the_edit_page(app, create_form, slug):
    from extensions import db
    from models import Attachment, Submission
    from services.submissions import find_submission

    raw, spec = demo_specs()[slug]
    create_form(raw)
    client, token = send(app, slug, spec)

    questions = file_questions(spec)
    with app.app_context():
        submission = find_submission(token)
        answers = submission.answers_by_field()
        kept = {a.field: a for a in submission.attachments}
        assert set(kept) == {q.name for q in questions}
        for question in questions:
            assert answers[question.name]["attachment"] == kept[question.name].id
        submission_id = submission.id
    status = client.get(f"/s/{token}").get_data(as_text=True)
    for question in questions:
        assert f"{question.name}-ä." in status  # listed with a download link
        assert f"/s/{token}/attachments/{kept[question.name].id}" in status

    # The applicant replaces the file on the edit page and saves.
    page = spec.pages[next(p.index for p in spec.pages if any(f.type == "file" for f in p.inputs))]
    url = f"/s/{token}/edit/{page.index + 1}"
    client.get(url)
    data = page_data(page)
    for question in questions:
        if question in page.inputs:
            data[question.name] = (io.BytesIO(PDF + b"%new"), "new.pdf")
    response = client.post(url, {"action": "continue", **data}, content_type="multipart/form-data")
    assert response.status_code == 302, errors_in(client.last_html)
    client.get(f"/s/{token}/edit")
    revision = re.search(r'name="revision" value="(\d+)"', client.last_html).group(1)
    assert client.post(f"/s/{token}/edit", {"revision": revision}).status_code == 302
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        answers = submission.answers_by_field()
        rows = db.session.scalars(
            select(Attachment).where(Attachment.submission_id == submission_id)
        ).all()
        new = {a.original_name: a.id for a in rows}
        for question in page.inputs:
            if question.type == "file":
                assert answers[question.name]["attachment"] == new["new.pdf"]
    status = client.get(f"/s/{token}")
    assert status.status_code == 200
    assert f"/attachments/{new['new.pdf']}" in status.get_data(as_text=True)


def test_a_file_answer_is_found_by_its_type_whatever_the_names(app_context):
    """A group item whose text question is called `attachment` is no file answer; a file
    question called `attachment` is one."""
    team = {
        "name": "team",
        "type": "group",
        "label": "Team",
        "fields": [{"name": "attachment", "type": "text", "label": "Note"}],
    }
    spec = FormSpec(
        validate(
            base(
                "names",
                [
                    {
                        "title": "Only",
                        "fields": [
                            team,
                            {"name": "attachment", "type": "file", "label": "File"},
                        ],
                    }
                ],
            ),
            "test",
        )
    )
    file_value = {"attachment": 7, "name": "a.pdf", "size": 10}
    answers = {"team": [{"attachment": "a note"}], "attachment": file_value}
    assert list(spec.file_answers(answers)) == [("attachment", file_value)]


def test_files_removed_by_the_workflow_keep_their_name_and_other_answers_stay(app, create_form):
    """`remove_files`: the file answer loses its id and is marked removed, found by type."""
    from extensions import db
    from models import Submission
    from services.retention import remove_files_of
    from services.submissions import find_submission

    raw, spec = demo_specs()[CALLS_WITH_FILES[0]]
    create_form(raw)
    _client, token = send(app, raw["slug"], spec)
    with app.app_context():
        submission = find_submission(token)
        before = submission.answers_by_field()
        assert remove_files_of(submission) == len(file_questions(spec))
        db.session.commit()
        after = db.session.get(Submission, submission.id).answers_by_field()
    for name, value in before.items():
        if any(q.name == name for q in file_questions(spec)):
            assert after[name] == {"name": value["name"], "size": value["size"], "removed": True}
        else:
            assert after[name] == value


# --- reserved names ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["errors", "data", "action", "csrf_token", "_secret", "specs"])
@pytest.mark.parametrize("in_group", [False, True])
def test_a_reserved_name_is_refused_naming_the_file_and_field(tmp_path, name, in_group):
    field = {"name": name, "type": "text", "label": "Something"}
    if in_group:
        field = {"name": "team", "type": "group", "label": "Team", "fields": [field]}
    path = tmp_path / "reserved.yaml"
    path.write_text(yaml.safe_dump(base("reserved", [{"title": "A", "fields": [field]}])))
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    message = str(caught.value)
    assert str(path) in message and f"({name})" in message
    assert "reserved" in message


def test_every_reserved_name_would_break_the_page_form():
    """The list is not arbitrary: each name is a control posted with the page or already an
    attribute of the page form (WTForms makes every question one)."""
    from forms.build import CONTROL_NAMES, RESERVED_NAMES, GroupItemForm, PageForm

    for name in RESERVED_NAMES - CONTROL_NAMES:
        assert any(hasattr(cls, name) for cls in (PageForm, GroupItemForm)) or name in (
            "meta",
            "form_errors",
        ), name
    assert {"errors", "data", "csrf_token", "action"} <= RESERVED_NAMES
    assert "attachment" not in RESERVED_NAMES  # file answers are found by type
