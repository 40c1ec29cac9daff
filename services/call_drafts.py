"""A call's definition as data: one editable draft per call, published as immutable
versions. The builder (web/builder) and `flask forms load` both come through here, so both
check a definition with the same rules (`publish_problems`) and both leave an audit entry.

Each change is checked, made in one transaction and logged (who, when, what), the way
pretix's services do it. A save names the draft revision it was made from; a save from an
older revision is refused (`DraftConflict`), so two editors never overwrite each other
unseen."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path

import yaml
from flask import current_app
from sqlalchemy import func, select, update

from config import LANGUAGES
from extensions import db
from forms.problems import Problem
from forms.schema import SLUG, DefinitionError, checksum, language_gaps, read_document, validate
from models import AuditEntry, Form, FormDraft, FormVersion, ReviewerAssignment, User
from models.types import utcnow
from services.access import actor_kind, reviews_every_form
from services.capacity import lock_form
from workflows.engine import WorkflowError, get_workflow, known_workflows


class DraftConflict(Exception):
    """The draft changed since the editor opened it: their save is refused, not lost."""

    def __init__(self, draft: FormDraft, seen_revision: int):
        self.draft, self.seen_revision = draft, seen_revision
        super().__init__(
            f"draft is at revision {draft.revision}, the edit was made on {seen_revision}"
        )


class NotPublishable(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --- reading ------------------------------------------------------------------------------


def draft_of(form: Form) -> FormDraft:
    """The call's draft; a call published before drafts existed gets one from its current
    version's document."""
    if form.draft is None:
        document = copy.deepcopy(form.current_version.definition) if form.current_version else {}
        form.draft = FormDraft(form=form, document=document, revision=1, published_revision=1)
        db.session.add(form.draft)
        db.session.flush()
    return form.draft


def publish_problems(document: object) -> list[Problem]:
    """Everything that stops a document from being published: the schema's problems, an
    unknown workflow, a letter for a state the workflow lacks, a language it offers without
    every text. The one check for the YAML files and the builder."""
    try:
        definition = validate(document, "")
    except DefinitionError as exc:
        return [_as_problem(p) for p in exc.problems]
    name = definition["workflow"]
    if name not in known_workflows():
        return [Problem(("workflow",), "workflow.unknown", {"workflow": name})]
    try:
        workflow = get_workflow(name)
    except WorkflowError as exc:
        return [Problem(("workflow",), "workflow.broken", {"workflow": name, "error": str(exc)})]
    problems = [
        Problem(("letters", state), "letters.not_a_state", {"workflow": name})
        for state in sorted(set(definition.get("letters") or {}) - set(workflow.states))
    ]
    return problems + [_as_problem(gap) for gap in _language_gaps(definition, workflow)]


def _as_problem(found) -> Problem:
    return found if isinstance(found, Problem) else Problem((), "invalid", {"message": str(found)})


def _language_gaps(definition: dict, workflow) -> list:
    from documents.letters import DEFAULTS_FILE as LETTERS_FILE  # noqa: PLC0415 (read per check)
    from mail.texts import default_texts  # noqa: PLC0415

    letters = yaml.safe_load(LETTERS_FILE.read_text(encoding="utf-8"))
    return language_gaps(definition, workflow, default_texts(), letters)


def demo_documents() -> dict[str, dict]:
    """The demo calls' documents, by slug: a new call may start from one."""
    folder = Path(current_app.config["FORMDESK_FORMS_DIR"])
    found = {}
    for path in sorted(folder.glob("*.y*ml")):
        try:
            document = read_document(path)
        except DefinitionError:
            continue
        if isinstance(document, dict) and isinstance(document.get("slug"), str):
            found[document["slug"]] = document
    return found


# --- changing -----------------------------------------------------------------------------


def save_draft(
    form: Form, document: dict, *, revision: int, user: User | None, summary: str
) -> FormDraft:
    """Store `document` as the draft, made from draft `revision`. A draft may be
    incomplete, so nothing is validated here; publishing does that."""
    if form.draft is None:
        draft_of(form)
        db.session.commit()  # a conflict below rolls back, and the draft must stay
    draft = form.draft
    # One UPDATE that succeeds only from the revision the editor saw: two saves from the
    # same revision, even at the same instant, cannot both pass.
    changed = db.session.execute(
        update(FormDraft)
        .where(FormDraft.id == draft.id, FormDraft.revision == revision)
        .values(
            document=document,
            revision=revision + 1,
            updated_at=utcnow(),
            updated_by_id=user.id if user else None,
            edited_in_browser=True,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        db.session.refresh(draft)
        raise DraftConflict(draft, revision)
    _audit(form, user, "call.draft_saved", {"summary": summary[:300], "revision": revision + 1})
    db.session.commit()
    db.session.refresh(draft)
    return draft


def publish_draft(form: Form, *, revision: int, user: User | None) -> FormVersion:
    """Publish the draft as the call's new version (the workflow's snapshot with it).
    Refused when the draft moved on since `revision`, or when it has problems. A draft
    that is the current version already publishes nothing and gives that version."""
    draft = draft_of(form)
    if draft.revision != revision:
        raise DraftConflict(draft, revision)
    problems = publish_problems(draft.document)
    if problems:
        raise NotPublishable(problems)
    document = copy.deepcopy(draft.document)
    # The call's row first, as every publication takes it (publish_document): one at a
    # time, in one order, so none waits on another in a circle.
    lock_form(form.id)
    # Claim the draft at this revision before anything is written: a save or publication
    # made meanwhile is a conflict, and one that comes now waits for this commit (the row
    # lock on PostgreSQL, the write lock on SQLite). Flags set through the session would
    # overwrite a save made in between, and with it the mark of unpublished edits.
    claimed = db.session.execute(
        update(FormDraft)
        .where(FormDraft.id == draft.id, FormDraft.revision == revision)
        .values(edited_in_browser=False, published_revision=revision)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        db.session.refresh(draft)
        raise DraftConflict(draft, revision)
    db.session.expire(form)  # a version published by someone else meanwhile is current now
    version = publish_document(document, origin="browser", user=user)
    db.session.commit()
    db.session.refresh(draft)
    return version or form.current_version


def publish_document(
    document: dict,
    *,
    origin: str,
    user: User | None = None,
    draft_revision: int | None = None,
    force: bool = False,
) -> FormVersion | None:
    """A new version of the document's call when the document or its workflow changed
    since the current version (None when nothing did). The caller has checked it and
    commits. The draft follows a version that did not come from it (a file): when the
    draft is no longer at `draft_revision` (the revision the caller checked the file
    against, see draft_revision), DraftConflict, unless `force`. Publications of one call
    take turns (its row is locked), so two at once never both make version n."""
    definition = validate(document, document.get("slug", ""))
    workflow = get_workflow(definition["workflow"]).source
    digest = checksum(document)
    form = db.session.scalar(select(Form).where(Form.slug == definition["slug"]))
    if form is None:
        form = Form(slug=definition["slug"])
        db.session.add(form)
        db.session.flush()
    else:
        db.session.flush()
        lock_form(form.id)
        db.session.refresh(form)  # the current version as it is now, under the lock
    current = form.current_version
    # Versions stored before drafts existed hold the normalised definition: the same call.
    same = current is not None and current.checksum in (digest, checksum(definition))
    if same and current.workflow_snapshot in (None, workflow):
        if current.workflow_snapshot is None:
            current.workflow_snapshot = workflow  # published before snapshots existed
        if origin == "file" and force:  # a forced load: the file replaces the draft too
            _follow_file(form, document, draft_revision, force)
        return None
    highest = db.session.scalar(
        select(func.max(FormVersion.number)).where(FormVersion.form_id == form.id)
    )
    number = max(highest or 0, 0) + 1  # previews are numbered below 0
    version = FormVersion(
        form=form,
        number=number,
        definition=document,
        checksum=digest,
        opens_at=datetime.fromisoformat(definition["opens_at"]),
        closes_at=datetime.fromisoformat(definition["closes_at"]),
        workflow_snapshot=workflow,
        origin=origin,
        published_by_id=user.id if user else None,
    )
    db.session.add(version)
    db.session.flush()
    form.current_version = version
    db.session.expire(form, ["versions"])
    if origin == "file":
        _follow_file(form, document, draft_revision, force)
    _audit(form, user, "call.published", {"version": number, "origin": origin})
    return version


def _follow_file(form: Form, document: dict, expected: int | None, force: bool) -> None:
    """The draft becomes the file just published (a new revision, so that an editor who
    had the old one open is told, not overwritten); nothing to do when it already is.
    A draft saved in the browser since the file was checked against revision `expected`
    is a DraftConflict, unless `force`."""
    draft = draft_of(form)
    db.session.flush()
    db.session.refresh(draft)
    while True:
        seen = draft.revision
        if expected is not None and seen != expected and not force:
            raise DraftConflict(draft, expected)
        if not draft.edited_in_browser and checksum(draft.document) == checksum(document):
            return
        changed = db.session.execute(
            update(FormDraft)
            .where(FormDraft.id == draft.id, FormDraft.revision == seen)
            .values(
                document=copy.deepcopy(document),
                revision=seen + 1,
                edited_in_browser=False,
                published_revision=seen + 1,
                updated_at=utcnow(),
                updated_by_id=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.refresh(draft)
        if changed:
            return
        expected = None if force else expected


def draft_revision(slug: object) -> int | None:
    """The revision of the call's draft now (None: no such call or no draft yet): a load
    reads it before it checks a file, and publishes only if it is still the same."""
    return db.session.scalar(
        select(FormDraft.revision).join(Form, Form.id == FormDraft.form_id).where(Form.slug == slug)
    )


def republish_with(
    form: Form, *, user: User | None, change: dict, action: str, data: dict
) -> FormVersion:
    """A new version that is the current one with the top-level settings in `change`
    replaced (closing early, a later deadline); the draft gets the same change, so the
    next publication keeps it. The caller has checked the values."""
    current = form.current_version
    if current is None:
        raise NotPublishable([Problem((), "call.not_published", {})])
    document = {**copy.deepcopy(current.definition), **change}
    problems = publish_problems(document)
    if problems:
        raise NotPublishable(problems)
    version = publish_document(document, origin="browser", user=user)
    _change_draft(form, change)
    _audit(form, user, action, data)
    db.session.commit()
    return version or current


def _change_draft(form: Form, change: dict) -> None:
    """The draft with `change` applied, as a new revision (an editor who has the old one
    open is told on saving). Made from the revision read, and read again if a save came
    in between: that save is kept, with the change on top."""
    draft = draft_of(form)
    db.session.flush()
    while True:
        seen = draft.revision
        published = draft.published_revision is not None and not draft.edited_in_browser
        values = {"document": {**draft.document, **change}, "revision": seen + 1}
        if published:
            values["published_revision"] = seen + 1
        changed = db.session.execute(
            update(FormDraft)
            .where(FormDraft.id == draft.id, FormDraft.revision == seen)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.refresh(draft)
        if changed:
            return


def create_call(
    *, slug: str, user: User | None, source: str, copy_from: str | None, title: str, language: str
) -> Form:
    """A new call with a draft and no version yet: a blank one, or a copy of another
    call's draft (this year's from last year's) or of a demo call's file."""
    problems = []
    slug = (slug or "").strip().lower()
    if not SLUG.fullmatch(slug):
        problems.append(Problem(("slug",), "slug.invalid", {}))
    elif db.session.scalar(select(Form.id).where(Form.slug == slug)) is not None:
        problems.append(Problem(("slug",), "slug.taken", {"slug": slug}))
    if language not in LANGUAGES:
        problems.append(Problem(("default_language",), "languages.unknown", {"language": language}))
    title = (title or "").strip()
    if not title or len(title) > 200:
        problems.append(Problem(("title",), "text.required", {}))
    if source == "copy":
        document = _copied(copy_from)
        if document is None:
            problems.append(Problem(("copy_from",), "call.unknown_source", {"slug": copy_from}))
    else:
        document = blank_document(language)
    if problems:
        raise NotPublishable(problems)
    document = {
        **document,
        "slug": slug,
        "title": {**_texts(document.get("title")), language: title},
    }
    form = Form(slug=slug)
    db.session.add(form)
    db.session.flush()
    form.draft = FormDraft(
        form=form,
        document=document,
        revision=1,
        updated_by_id=user.id if user else None,
        edited_in_browser=True,
    )
    db.session.add(form.draft)
    if user is not None and not reviews_every_form(user):
        # A call manager runs the calls they make (services.access.can_manage_call).
        db.session.add(ReviewerAssignment(user_id=user.id, form_id=form.id))
    _audit(form, user, "call.created", {"source": source, "copy_from": copy_from})
    db.session.commit()
    return form


def last_editor(draft: FormDraft) -> User | None:
    """Who saved the draft last (None: the command line)."""
    return db.session.get(User, draft.updated_by_id) if draft.updated_by_id else None


def last_editors(forms: list[Form]) -> dict[int, User]:
    """Who saved each of these calls' drafts last, by user id (the calls list)."""
    ids = {form.draft.updated_by_id for form in forms if form.draft and form.draft.updated_by_id}
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _texts(value) -> dict:
    if isinstance(value, dict):
        return dict(value)
    return {} if value is None else {"*": str(value)}


def _copied(slug: str | None) -> dict | None:
    form = db.session.scalar(select(Form).where(Form.slug == (slug or "")))
    if form is not None:
        return copy.deepcopy(draft_of(form).document)
    return copy.deepcopy(demo_documents().get(slug or ""))


def blank_document(language: str) -> dict:
    """The least a call needs to be edited into shape: one page with one question. Its
    dates are left for the organiser (publishing asks for them)."""
    return {
        "reference_prefix": "CALL",
        "default_language": language,
        "languages": [language],
        "title": {},
        "organisation": {"name": {}},
        "contact": {},
        "timezone": "Europe/Stockholm" if language == "sv" else "Europe/Warsaw",
        "workflow": "application-review",
        "pages": [{"title": {}, "fields": []}],
    }


def archive(form: Form, user: User | None) -> None:
    form.archived_at = utcnow()
    _audit(form, user, "call.archived", {})
    db.session.commit()


def unarchive(form: Form, user: User | None) -> None:
    form.archived_at = None
    _audit(form, user, "call.unarchived", {})
    db.session.commit()


def refusal_for_file(document: dict) -> Problem | None:
    """Why loading this file would overwrite newer work done in the browser, or None:
    unpublished builder edits, or a version published from the browser that the file
    does not match. A file that is the draft (`flask forms export` of it) overwrites
    nothing, nor does a file that is the current version (it publishes nothing, and the
    draft's edits stay)."""
    form = db.session.scalar(select(Form).where(Form.slug == document.get("slug")))
    if form is None:
        return None
    digest = checksum(document)
    draft = form.draft
    current = form.current_version
    if current is not None and current.checksum == digest:
        return None
    if draft is not None and draft.edited_in_browser:
        if checksum(draft.document) == digest:
            return None
        return Problem(
            (),
            "load.newer_browser_edits",
            {
                "slug": form.slug,
                "revision": draft.revision,
                "who": _who(draft.updated_by_id),
                "when": _when(draft.updated_at),
            },
        )
    if current is not None and current.origin == "browser":
        return Problem(
            (),
            "load.newer_browser_version",
            {
                "slug": form.slug,
                "version": current.number,
                "who": _who(current.published_by_id),
                "when": _when(current.published_at),
            },
        )
    return None


def _who(user_id: int | None) -> str:
    person = db.session.get(User, user_id) if user_id else None
    return person.email if person else "?"


def _when(moment) -> str:
    return moment.isoformat(timespec="minutes") if moment else "?"


def preview_version(form: Form, user: User | None) -> FormVersion:
    """A snapshot of the draft for test submissions made through the preview link: the
    questions they answered stay theirs whatever the draft becomes. Reused while the
    draft has not changed."""
    draft = draft_of(form)
    problems = publish_problems(draft.document)
    if problems:
        raise NotPublishable(problems)
    db.session.flush()
    lock_form(form.id)  # two previews at once: the second finds the first's
    db.session.refresh(draft)
    digest = checksum(draft.document)
    existing = db.session.scalar(
        select(FormVersion)
        .where(
            FormVersion.form_id == form.id,
            FormVersion.number < 0,
            FormVersion.checksum == digest,
        )
        .order_by(FormVersion.id.desc())
    )
    if existing is not None:
        db.session.commit()
        return existing
    lowest = db.session.scalar(
        select(func.min(FormVersion.number)).where(FormVersion.form_id == form.id)
    )
    definition = validate(draft.document, form.slug)
    version = FormVersion(
        form=form,
        number=min(lowest or 0, 0) - 1,
        definition=copy.deepcopy(draft.document),
        checksum=digest,
        opens_at=datetime.fromisoformat(definition["opens_at"]),
        closes_at=datetime.fromisoformat(definition["closes_at"]),
        workflow_snapshot=get_workflow(definition["workflow"]).source,
        origin="preview",
        published_by_id=user.id if user else None,
    )
    db.session.add(version)
    db.session.commit()
    return version


def _audit(form: Form, user: User | None, action: str, data: dict) -> None:
    db.session.add(
        AuditEntry(
            form_id=form.id,
            action=action,
            actor_type=actor_kind(user) if user else "system",
            actor_id=user.id if user else None,
            data=data,
        )
    )
