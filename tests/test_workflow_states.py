"""Workflow states declare what they allow, and a state is added by definition alone: the
request-handling workflow's `information_requested` (YAML and its email texts, no code)
walked over HTTP, its email read from a real SMTP server in two languages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select

from tests.conftest import FormClient
from tests.conftest_mail import deliver
from tests.definitions import base
from tests.test_applicant import (
    PAGES,
    apply,
    audit,
    confirm,
    edit,
    move,
    person,
    revision_on,
    state_of,
    text_of,
)
from tests.test_mail import body_of
from tests.test_search import empty_database  # noqa: F401 (a fixture)

REQUEST = "requests"


@pytest.fixture
def requests_form(create_form):
    create_form(
        base(
            REQUEST,
            PAGES,
            workflow="request-handling",
            languages=["en", "sv", "de"],
            title={"en": "Study visits", "sv": "Studiebesök", "de": "Studienbesuche"},
            applicant_name_field="name",
        )
    )
    return REQUEST


@pytest.mark.parametrize(
    ("language", "subject_words", "greeting", "state_label", "question"),
    [
        ("sv", "vi behöver fler uppgifter", "Hej Ada,", "Uppgifter efterfrågade", "Hur många?"),
        (
            "de",
            "Wir brauchen weitere Angaben",
            "Guten Tag Ada,",
            "Rückfrage gestellt",
            "Wie viele?",
        ),
    ],
)
def test_the_organiser_asks_for_information_and_the_applicant_sends_it_after_the_deadline(
    app, requests_form, smtp, language, subject_words, greeting, state_label, question
):
    from extensions import db
    from models import FormVersion
    from models.types import utcnow

    token, submission_id = apply(app, requests_form, person("Ada"), language=language)
    deliver(app)
    smtp.inbox.wait_for(1)  # the receipt
    move(app, submission_id, "request_information", comment=question)
    deliver(app)
    message = smtp.inbox.wait_for(2)[-1]
    assert subject_words in message["Subject"], message["Subject"]
    text = body_of(message)
    assert question in text and greeting in text, text
    assert f"/s/{token}" in text  # the private link, to change the answers

    with app.app_context():  # the call closed meanwhile: the organiser asked, so it may
        db.session.scalars(select(FormVersion)).one().closes_at = utcnow() - timedelta(days=1)
        db.session.commit()
    client = FormClient(app.test_client())
    client.get(f"/?lang={language}")
    page = text_of(client.get(f"/s/{token}").get_data(as_text=True))
    assert state_label in page and question in page
    edit(client, token, person("Ada", plan="Twelve people, in May"))
    client.get(f"/s/{token}/edit")
    response = client.post(f"/s/{token}/edit", {"revision": revision_on(client.last_html)})
    assert response.status_code == 302
    assert state_of(app, submission_id) == "received"
    steps = [(e[0], e[1], e[2].get("transition")) for e in audit(app, submission_id)][-2:]
    assert steps == [
        ("submission.edited", "information_requested", None),
        ("submission.transition", "received", "send_information"),
    ]


def test_the_applicant_confirms_the_workflows_own_question(app, requests_form):
    token, submission_id = apply(app, requests_form, person("Ada"), language="sv")
    move(app, submission_id, "request_information", comment="Vilka veckor passar?")
    client = FormClient(app.test_client())
    client.get("/?lang=sv")
    page = text_of(client.get(f"/s/{token}/actions/send_information").get_data(as_text=True))
    assert "Vill du skicka" in page and "med dina svar till arrangören igen?" in page
    assert confirm(client, token, "send_information").status_code == 302
    assert state_of(app, submission_id) == "received"


def test_a_state_without_applicant_edits_refuses_changes(app, requests_form):
    token, submission_id = apply(app, requests_form, person("Ada"))
    move(app, submission_id, "schedule", scheduled_for=(utcnow_date() + timedelta(days=9)))
    assert FormClient(app.test_client()).get(f"/s/{token}/edit").status_code == 403


def utcnow_date():
    from models.types import utcnow

    return utcnow().date()


# --- declarations checked when a workflow loads ------------------------------------------------


def parse_errors(definition: str) -> str:
    from workflows.engine import WorkflowError, parse

    with pytest.raises(WorkflowError) as refused:
        parse(yaml.safe_load(definition), "test.yaml")
    return str(refused.value)


ASK = """
name: ask
initial: open
states:
  open: {label: Open, applicant_edits: while_open}
  asked: {label: Asked, applicant_edits: always, edit_sends: %s}
  done: {label: Done, final: true}
transitions:
  - {name: ask, from: [open], to: asked, by: [reviewer]}
  - {name: answer, from: [asked], to: open, by: [%s]}
  - {name: finish, from: [open], to: done, by: [reviewer]}
"""


def test_a_new_workflow_keeps_applicant_editing_by_declaring_it():
    from workflows.engine import parse

    workflow = parse(yaml.safe_load(ASK % ("answer", "applicant")), "ask.yaml")
    assert workflow.applicant_edits("open") == "while_open"
    assert workflow.applicant_edits("asked") == "always"
    assert workflow.edit_sends("asked").name == "answer"
    assert workflow.applicant_edits("done") is None and workflow.edit_sends("open") is None


def asking(edit_sends: str = "answer", answered_by: str = "applicant", **replace) -> str:
    definition = ASK % (edit_sends, answered_by)
    for old, new in replace.items():
        definition = definition.replace(old, new)
    return definition


OFFER = "label: Asked, offer_clock: {hours: %d, on_expiry: answer},"
WRONG = [
    (asking("nothing"), "states.asked: 'edit_sends': no transition named 'nothing'"),
    (asking(answered_by="reviewer"), "'answer' must go from 'asked' and be 'by: [applicant]'"),
    (asking(while_open="sometimes"), "'applicant_edits' must be one of ['while_open', 'always']"),
    (asking(**{"final: true": "final: true, holds: yes"}), "unknown declaration(s) ['holds']"),
    (asking(**{"label: Asked,": OFFER % 0}), "'offer_clock' needs 'hours'"),
    (asking(**{"label: Asked,": OFFER % 2}), "'answer' must go from 'asked' and be 'by: [system]'"),
    (
        asking(**{"{name: ask,": "{name: ask, question: {en: Sure},"}),
        "'question' is what the applicant confirms",
    ),
    (asking(**{"label: Done,": "label: Done, waiting_list: {promote: finish},"}), "needs states"),
    (
        asking(**{"label: Open,": "label: Open, holds_place: true, waiting_list: {promote: ask},"}),
        "'waiting_list.promote': 'ask' must go from 'open' and be 'by: [system]'",
    ),
    (asking(**{"initial: open": "initial: open\noffer_hours: 4"}), "offer_hours: is declared"),
    (
        asking(**{"initial: open": "initial: open\ncapacity: {holds: [open]}"}),
        "test.yaml: capacity: is declared by the states now: `holds_place: true`",
    ),
]


@pytest.mark.parametrize(("definition", "message"), WRONG)
def test_a_wrong_declaration_is_refused_naming_the_file_and_the_place(definition, message):
    errors = parse_errors(definition)
    assert "test.yaml" in errors and message in errors, errors


def test_an_email_event_without_texts_in_every_language_is_refused_at_load(app, tmp_path):
    from forms.schema import DefinitionError
    from services.catalog import load_definitions
    from workflows.engine import _load

    workflows = tmp_path / "workflows"
    workflows.mkdir()
    source = app.config["FORMDESK_WORKFLOWS_DIR"] + "/request-handling.yaml"
    raw = yaml.safe_load(open(source, encoding="utf-8"))
    raw["transitions"][0]["effects"] = ["email:visit_planned"]  # no default texts
    (workflows / "request-handling.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    forms = tmp_path / "forms"
    forms.mkdir()
    before = app.config["FORMDESK_WORKFLOWS_DIR"]
    app.config["FORMDESK_WORKFLOWS_DIR"] = str(workflows)
    try:
        with app.app_context(), pytest.raises(DefinitionError) as refused:
            load_definitions(str(forms))
    finally:
        app.config["FORMDESK_WORKFLOWS_DIR"] = before
        _load.cache_clear()
    assert (
        "no texts for the email event 'visit_planned' (sent by workflow request-handling)"
        in str(refused.value)
    )


# --- each form version keeps its workflow ------------------------------------------------------


@pytest.fixture
def own_workflows(app, tmp_path):
    """A copy of the workflow files the test may change; the shipped ones come back after."""
    import shutil

    from workflows.engine import _load

    folder = tmp_path / "workflows"
    shutil.copytree(app.config["FORMDESK_WORKFLOWS_DIR"], folder)
    before = app.config["FORMDESK_WORKFLOWS_DIR"]
    app.config["FORMDESK_WORKFLOWS_DIR"] = str(folder)
    _load.cache_clear()
    yield folder
    app.config["FORMDESK_WORKFLOWS_DIR"] = before
    _load.cache_clear()


def test_a_submission_follows_its_versions_workflow_after_the_file_loses_its_state(
    app, own_workflows, tmp_path
):
    from extensions import db
    from models import Form, FormVersion
    from services.catalog import load_definitions
    from workflows.engine import _load

    forms = tmp_path / "forms"
    forms.mkdir()
    definition = base(REQUEST, PAGES, workflow="request-handling")
    (forms / "requests.yaml").write_text(yaml.safe_dump(definition), encoding="utf-8")
    with app.app_context():
        load_definitions(str(forms))
    token, submission_id = apply(app, REQUEST, person("Ada"))
    move(app, submission_id, "request_information", comment="Which weeks suit you?")

    # The organiser removes the state (and what leads in and out of it) from the file.
    path = own_workflows / "request-handling.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    del raw["states"]["information_requested"]
    gone = "information_requested"
    raw["transitions"] = [
        {**t, "from": [s for s in t["from"] if s != gone]}
        for t in raw["transitions"]
        if t["to"] != gone and t["from"] != [gone]
    ]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    _load.cache_clear()
    with app.app_context():
        report = load_definitions(str(forms))
        assert report.updated == [f"{REQUEST} (version 2)"]  # new submissions: the new file
        form = db.session.scalar(select(Form).where(Form.slug == REQUEST))
        current = db.session.get(FormVersion, form.current_version_id)
        assert "information_requested" not in current.workflow_snapshot["states"]

    # The submission still shows its state and moves on, by its own version's workflow.
    from tests.test_review_detail import page as staff_page
    from tests.test_review_detail import signed_in, staff

    reviewer = signed_in(app, staff(app, "rita@example.org", "admin"))
    assert "Information requested" in staff_page(reviewer, submission_id)
    listed = reviewer.get("/dashboard/submissions").get_data(as_text=True)
    assert f"/dashboard/submissions/{submission_id}" in listed
    client = FormClient(app.test_client())
    page = text_of(client.get(f"/s/{token}").get_data(as_text=True))
    assert "Information requested" in page and "Which weeks suit you?" in page
    assert confirm(client, token, "send_information").status_code == 302
    assert state_of(app, submission_id) == "received"
    move(app, submission_id, "decline")
    assert state_of(app, submission_id) == "declined"
    # A new submission follows the new file: the organiser can no longer ask.
    _token, newer = apply(app, REQUEST, person("Bo"))
    from services.transitions import TransitionRefused

    with pytest.raises(TransitionRefused):
        move(app, newer, "request_information", comment="Which weeks?")


def test_the_migration_gives_existing_versions_their_workflow_and_goes_back(
    app,
    empty_database,  # noqa: F811 (the fixture imported above)
    tmp_path,
):
    import json
    from datetime import UTC, datetime

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import create_engine, text

    from app import create_app

    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "FORMDESK_AUTO_MIGRATE": False,
            "FORMDESK_UPLOAD_DIR": str(tmp_path),
        }
    )
    definition = base(REQUEST, PAGES, workflow="request-handling")
    with other.app_context():
        upgrade(revision="c3d9e2f41a07")  # the schema before snapshots
        engine = create_engine(empty_database)
        with engine.begin() as connection:
            now = datetime(2027, 1, 5, tzinfo=UTC)
            connection.execute(
                text("INSERT INTO forms (id, slug, created_at) VALUES (1, 'requests', :now)"),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO form_versions (id, form_id, number, checksum, definition,"
                    " opens_at, closes_at, published_at) VALUES (1, 1, 1, 'x', :d, :now, :now,"
                    " :now)"
                ),
                {"d": json.dumps(definition), "now": now},
            )
        upgrade()
        with engine.begin() as connection:
            snapshot = connection.execute(
                text("SELECT workflow_snapshot FROM form_versions WHERE id = 1")
            ).scalar_one()
        snapshot = json.loads(snapshot) if isinstance(snapshot, str) else snapshot
        shipped = other.config["FORMDESK_WORKFLOWS_DIR"] + "/request-handling.yaml"
        assert snapshot == yaml.safe_load(open(shipped, encoding="utf-8"))
        downgrade(revision="c3d9e2f41a07")
        with engine.begin() as connection:
            columns = connection.execute(text("SELECT * FROM form_versions")).keys()
            assert "workflow_snapshot" not in columns
        engine.dispose()


def test_the_docs_tables_are_made_from_the_registries():
    """docs/workflows.md lists every state declaration, email event and placeholder as the
    code has them (`.venv/bin/python docs/make_tables.py` rewrites the tables)."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("make_tables", root / "docs" / "make_tables.py")
    make_tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_tables)
    written = make_tables.DOC.read_text(encoding="utf-8")
    assert make_tables.rendered(written) == written, "run docs/make_tables.py"
    assert "`information_requested` | request-handling: request_information" in written


def test_a_call_is_refused_when_an_applicant_question_lacks_one_of_its_languages(app, tmp_path):
    from forms.schema import language_gaps
    from mail.texts import default_texts
    from workflows.engine import parse

    raw = yaml.safe_load(
        open(app.config["FORMDESK_WORKFLOWS_DIR"] + "/request-handling.yaml", encoding="utf-8")
    )
    asking = next(t for t in raw["transitions"] if t["name"] == "send_information")
    del asking["question"]["sv"]
    workflow = parse(raw, "request-handling.yaml")
    definition = base(REQUEST, PAGES, workflow="request-handling", languages=["en", "sv"])
    definition["title"] = {"en": "Visits", "sv": "Besök"}
    with app.app_context():
        gaps = language_gaps(definition, workflow, default_texts(), {"decision": {"*": "x"}})
    assert [str(gap) for gap in gaps] == [
        "workflow: 'sv' is offered but the question of action 'send_information' has no text "
        "in it (workflows/definitions/request-handling.yaml)"
    ]
    assert [(gap.path, gap.code) for gap in gaps] == [
        (("workflow",), "language.action_question_missing")
    ]
