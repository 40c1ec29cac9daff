"""Publishing form definitions and finding the calls people can see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from config import LANGUAGES
from extensions import db
from forms.schema import DefinitionError, checksum, language_gaps, load_file
from mail.texts import missing_texts
from models import Form, FormVersion
from models.types import utcnow
from workflows.engine import WorkflowError, get_workflow, known_workflows


@dataclass
class LoadReport:
    created: list[str]
    updated: list[str]
    unchanged: list[str]

    def lines(self) -> list[str]:
        return (
            [f"created {slug} (version 1)" for slug in self.created]
            + [f"updated {slug}" for slug in self.updated]
            + [f"unchanged {slug}" for slug in self.unchanged]
        )


def load_definitions(directory: str | None = None) -> LoadReport:
    """Publish every definition file in `directory`; a changed file becomes a new version.
    All files are validated first, so one broken file publishes nothing."""
    directory = directory or current_app.config["FORMDESK_FORMS_DIR"]
    if not Path(directory).is_dir():  # a mistyped folder must not look like "nothing changed"
        raise DefinitionError(directory, ["no such folder of form definitions"])
    definitions, problems = [], []
    workflows = known_workflows()
    for path in sorted(Path(directory).glob("*.y*ml")):
        try:
            definition = load_file(path)
        except DefinitionError as exc:
            problems.append(str(exc))
            continue
        if definition["workflow"] not in workflows:
            problems.append(f"{path}: workflow: no workflow named '{definition['workflow']}'")
        else:
            workflow = get_workflow(definition["workflow"])
            for state in sorted(set(definition.get("letters") or {}) - set(workflow.states)):
                problems.append(f"{path}: letters.{state}: not a state of {definition['workflow']}")
            problems += [f"{path}: {gap}" for gap in _language_gaps(definition, workflow)]
        definitions.append(definition)
    problems += _email_text_gaps(workflows)
    slugs = [d["slug"] for d in definitions]
    for slug in {s for s in slugs if slugs.count(s) > 1}:
        problems.append(f"{directory}: slug '{slug}' is used by more than one file")
    if problems:
        raise DefinitionError(directory, problems)

    report = LoadReport([], [], [])
    for definition in definitions:
        publish(definition, report)
    _fill_missing_snapshots()
    db.session.commit()
    return report


def _fill_missing_snapshots() -> None:
    """Versions published before workflow snapshots existed take their workflow's file as
    it is now (the migration fills them too, when it can read the files)."""
    names = known_workflows()
    for version in db.session.scalars(
        select(FormVersion).where(FormVersion.workflow_snapshot.is_(None))
    ):
        if version.definition.get("workflow") in names:  # else the file is read by name
            version.workflow_snapshot = get_workflow(version.definition["workflow"]).source


def _email_text_gaps(names: set[str]) -> list[str]:
    """Every workflow in the folder is checked (a broken one is named, not only those in
    use), and so are their email events' default texts in every installation language."""
    problems, workflows = [], []
    for name in sorted(names):
        try:
            workflows.append(get_workflow(name))
        except WorkflowError as exc:
            problems.append(str(exc))
    return problems + missing_texts(workflows, LANGUAGES)


def _language_gaps(definition: dict, workflow) -> list[str]:
    from documents.letters import DEFAULTS_FILE as LETTERS_FILE
    from mail.texts import default_texts

    letters = yaml.safe_load(LETTERS_FILE.read_text(encoding="utf-8"))
    return language_gaps(definition, workflow, default_texts(), letters)


def publish(definition: dict, report: LoadReport) -> FormVersion | None:
    """A new version when the definition or its workflow changed since the current one:
    the version keeps a snapshot of the workflow, which its submissions follow."""
    digest = checksum(definition)
    workflow = get_workflow(definition["workflow"]).source
    form = db.session.scalar(select(Form).where(Form.slug == definition["slug"]))
    current = form.current_version if form is not None else None
    if form is None:
        form = Form(slug=definition["slug"])
        db.session.add(form)
        db.session.flush()
        report.created.append(form.slug)
    elif (
        current is not None
        and current.checksum == digest
        and current.workflow_snapshot in (None, workflow)
    ):
        if current.workflow_snapshot is None:
            current.workflow_snapshot = workflow  # published before snapshots existed
        report.unchanged.append(form.slug)
        return None
    else:
        report.updated.append(f"{form.slug} (version {len(form.versions) + 1})")
    version = FormVersion(
        form=form,
        number=len(form.versions) + 1,
        definition=definition,
        checksum=digest,
        opens_at=datetime.fromisoformat(definition["opens_at"]),
        closes_at=datetime.fromisoformat(definition["closes_at"]),
        workflow_snapshot=workflow,
    )
    db.session.add(version)
    db.session.flush()
    form.current_version = version
    return version


def find_form(slug: str) -> Form | None:
    """The call and its current version, in one query (every public request needs both)."""
    return db.session.scalar(
        select(Form).where(Form.slug == slug).options(joinedload(Form.current_version))
    )


def visible_calls(now: datetime | None = None) -> list[FormVersion]:
    """Current versions of calls that are upcoming, open, or closed within the last days;
    archived calls are not among them."""
    now = now or utcnow()
    recent = now - timedelta(days=current_app.config["FORMDESK_RECENTLY_CLOSED_DAYS"])
    query = (
        select(FormVersion)
        .join(Form, Form.current_version_id == FormVersion.id)
        .where(FormVersion.closes_at >= recent, Form.archived_at.is_(None))
        .order_by(FormVersion.closes_at)
    )
    return list(db.session.scalars(query))
