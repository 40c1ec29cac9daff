"""Publishing form definitions and finding the calls people can see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from config import LANGUAGES
from extensions import db
from forms.schema import DefinitionError, read_document
from mail.texts import missing_texts
from models import Form, FormVersion
from models.types import utcnow
from services import call_drafts
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


def load_definitions(directory: str | None = None, *, force: bool = False) -> LoadReport:
    """Publish every definition file in `directory`; a changed file becomes a new version
    and the call's draft. All files are checked first, so one broken file publishes
    nothing; so is a file that would overwrite newer work done in the browser (unpublished
    builder edits, or a version published from the browser), unless `force`."""
    directory = directory or current_app.config["FORMDESK_FORMS_DIR"]
    if not Path(directory).is_dir():  # a mistyped folder must not look like "nothing changed"
        raise DefinitionError(directory, ["no such folder of form definitions"])
    documents, problems = [], []
    for path in sorted(Path(directory).glob("*.y*ml")):
        try:
            document = read_document(path)
        except DefinitionError as exc:
            problems.append(str(exc))
            continue
        found = call_drafts.publish_problems(document)
        if not found and not force:
            refusal = call_drafts.refusal_for_file(document)
            found = [refusal] if refusal else []
        problems += [f"{path}: {problem}" for problem in found]
        documents.append(document)
    problems += _email_text_gaps(known_workflows())
    slugs = [d.get("slug") for d in documents]
    for slug in {s for s in slugs if slugs.count(s) > 1}:
        problems.append(f"{directory}: slug '{slug}' is used by more than one file")
    if problems:
        raise DefinitionError(directory, problems)

    report = LoadReport([], [], [])
    for document in documents:
        publish(document, report)
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


def publish(document: dict, report: LoadReport) -> FormVersion | None:
    """Publish a checked document from a file (see call_drafts.publish_document)."""
    slug = document["slug"]
    existed = db.session.scalar(select(Form.id).where(Form.slug == slug)) is not None
    version = call_drafts.publish_document(document, origin="file")
    if version is None:
        report.unchanged.append(slug)
    elif not existed:
        report.created.append(slug)
    else:
        report.updated.append(f"{slug} (version {version.number})")
    return version


def export_documents(slugs: list[str], *, published: bool = False) -> dict[str, dict]:
    """Each call's draft (or its current version) as the document a file holds."""
    query = select(Form).order_by(Form.slug)
    if slugs:
        query = query.where(Form.slug.in_(slugs))
    documents = {}
    for form in db.session.scalars(query):
        if published:
            if form.current_version is not None:
                documents[form.slug] = form.current_version.definition
        else:
            documents[form.slug] = call_drafts.draft_of(form).document
    return documents


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
