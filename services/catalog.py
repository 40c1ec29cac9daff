"""Publishing form definitions and finding the calls people can see."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    # With --force: what each file overwrote that was done in the browser.
    overwritten: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return (
            [f"overwrote (--force) {what}" for what in self.overwritten]
            + [f"created {slug} (version 1)" for slug in self.created]
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
    documents, problems, overwritten, seen = [], [], [], {}
    for path in sorted(Path(directory).glob("*.y*ml")):
        try:
            document = read_document(path)
        except DefinitionError as exc:
            problems.append(str(exc))
            continue
        seen[document.get("slug")] = call_drafts.draft_revision(document.get("slug"))
        found = call_drafts.publish_problems(document)
        refusal = None if found else call_drafts.refusal_for_file(document)
        if refusal is not None and force:
            overwritten.append(refusal.english())
        elif refusal is not None:
            found = [refusal]
        problems += [f"{path}: {problem}" for problem in found]
        documents.append(document)
    problems += _email_text_gaps(known_workflows())
    slugs = [d.get("slug") for d in documents]
    for slug in {s for s in slugs if slugs.count(s) > 1}:
        problems.append(f"{directory}: slug '{slug}' is used by more than one file")
    if problems:
        raise DefinitionError(directory, problems)

    report = LoadReport([], [], [], overwritten)
    try:
        for document in documents:
            publish(document, report, force=force, draft_revision=seen[document["slug"]])
    except call_drafts.DraftConflict as conflict:  # saved in the browser while loading
        db.session.rollback()
        slug = conflict.draft.form.slug
        raise DefinitionError(
            directory,
            [
                f"{slug} was saved in the browser while the files were loaded (draft revision "
                f"{conflict.draft.revision}); nothing was published: run the load again"
            ],
        ) from conflict
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


def publish(
    document: dict, report: LoadReport, *, force: bool = False, draft_revision: int | None = None
) -> FormVersion | None:
    """Publish a checked document from a file (see call_drafts.publish_document)."""
    slug = document["slug"]
    existed = db.session.scalar(select(Form.id).where(Form.slug == slug)) is not None
    version = call_drafts.publish_document(
        document, origin="file", force=force, draft_revision=draft_revision
    )
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
