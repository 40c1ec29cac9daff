"""What is kept of a submission, and for how long: files go when they are no longer needed.

- `remove_files_of(submission)`: the uploaded files (the bytes and their rows), e.g. when the
  applicant withdraws (the `remove_files` workflow effect). The answers keep the file's
  name and size, marked `removed`, so reviewers see what there was.
- `anonymise(reference)`: the answers marked `identifying`, the applicant's email field and
  every file answer are blanked in the submission, its revisions and drafts; its files and
  generated documents are removed; its emails are emptied (unsent ones never go). One audit
  entry says what was done. The command line: `flask submissions anonymise REFERENCE`.

Stored bytes are deleted only after the transaction commits, so a rollback never leaves a
row pointing at a deleted file."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from extensions import db
from forms.fields import File
from forms.published import spec_for
from forms.spec import FieldSpec, FormSpec
from models import (
    Attachment,
    AuditEntry,
    Document,
    Draft,
    OutboxMessage,
    Submission,
    SubmissionRevision,
)
from models.outbox import UNSENT, OutboxStatus
from services.capacity import lock_form
from storage import get_storage

log = logging.getLogger(__name__)
PENDING_KEY = "formdesk_delete_after_commit"


class RetentionError(Exception):
    """Said to the person at the command line."""


@dataclass
class AnonymiseReport:
    reference: str
    fields: list[str] = field(default_factory=list)
    files: int = 0
    documents: int = 0
    messages: int = 0


# --- stored bytes, after commit ----------------------------------------------------------


def delete_after_commit(storage_name: str | None = None, path: Path | None = None) -> None:
    """A stored file (by its storage name) or a local file, deleted once the transaction
    commits; forgotten on rollback."""
    db.session.info.setdefault(PENDING_KEY, []).append((storage_name, path))


@event.listens_for(Session, "after_commit")
def _delete_pending(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, [])
    if not pending:
        return
    storage = get_storage()
    for storage_name, path in pending:
        try:
            if storage_name:
                storage.delete(storage_name)
            if path:
                path.unlink(missing_ok=True)
        except Exception:  # noqa: BLE001  (the row is gone: an orphan file is only logged)
            log.exception("could not delete stored file %s", storage_name or path)


@event.listens_for(Session, "after_rollback")
def _keep_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


# --- files -------------------------------------------------------------------------------


def remove_files_of(submission: Submission, actor_type: str = "system") -> int:
    """Remove the submission's uploaded files, and those of its edit in progress, in the
    caller's transaction. Returns how many were removed (an audit entry names the count)."""
    workspaces = select(Draft.id).where(Draft.submission_id == submission.id)
    attachments = db.session.scalars(
        select(Attachment).where(
            or_(Attachment.submission_id == submission.id, Attachment.draft_id.in_(workspaces))
        )
    ).all()
    for attachment in attachments:
        delete_after_commit(attachment.storage_name)
        db.session.delete(attachment)
    spec = spec_for(submission.form_version)
    for answer in submission.answers:
        answer.value = _without_attachments(spec, answer.field, answer.value)
    if attachments:
        db.session.add(
            AuditEntry(
                submission_id=submission.id,
                form_id=submission.form_id,
                action="submission.files_removed",
                actor_type=actor_type,
                data={"files": len(attachments)},
            )
        )
    db.session.flush()
    return len(attachments)


def _without_attachments(spec: FormSpec, name: str, value):
    """A file answer keeps its name and size, marked removed (no download link any more).
    Files are found by their question's type (FormSpec.file_answers), in group items too."""
    answers = {name: copy.deepcopy(value)}
    for place, file_value in list(spec.file_answers(answers)):
        *item, question = place.split(".")
        holder = answers if not item else answers[item[0]][int(item[1])]
        holder[question] = File.removed(file_value)
    return answers[name]


def remove_documents_of(submission: Submission) -> int:
    documents = db.session.scalars(
        select(Document).where(Document.submission_id == submission.id)
    ).all()
    for document in documents:
        delete_after_commit(document.storage_name)
        db.session.delete(document)
    return len(documents)


# --- anonymising -------------------------------------------------------------------------


def _identifies(field_spec: FieldSpec, spec: FormSpec) -> bool:
    return (
        field_spec.identifying
        or field_spec.kind.holds_files
        or field_spec.name == spec.applicant_email_field
    )


def blank_identifying(spec: FormSpec, answers: dict) -> tuple[dict, list[str]]:
    """The answers with every identifying value set to None, and the names blanked
    (`group.child` for a question inside a repeatable group)."""
    result, blanked = copy.deepcopy(answers), []
    for field_spec in spec.inputs:
        name = field_spec.name
        if name not in result or result[name] is None:
            continue
        if _identifies(field_spec, spec):
            result[name] = None
            blanked.append(name)
        elif field_spec.kind.repeats and isinstance(result[name], list):
            for child in field_spec.children:
                if not _identifies(child, spec):
                    continue
                items = [i for i in result[name] if isinstance(i, dict) and i.get(child.name)]
                for item in items:
                    item[child.name] = None
                if items:
                    blanked.append(f"{name}.{child.name}")
    return result, blanked


def anonymise(reference: str, actor_type: str = "system", actor_id: int | None = None):
    """Anonymise the submission `reference` in one transaction; see the module's text."""
    submission = db.session.scalar(
        select(Submission).where(Submission.reference == reference.strip())
    )
    if submission is None:
        raise RetentionError(f"no submission with the reference {reference!r}")
    lock_form(submission.form_id)  # an edit saved at the same moment waits, then sees this
    db.session.refresh(submission)
    done = db.session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.submission_id == submission.id,
            AuditEntry.action == "submission.anonymised",
        )
    )
    if done is not None:
        db.session.rollback()
        raise RetentionError(f"{reference} is already anonymised")
    spec = spec_for(submission.form_version)
    report = AnonymiseReport(submission.reference)
    report.files = remove_files_of(submission, actor_type)
    report.documents = remove_documents_of(submission)

    for answer in submission.answers:
        blanked, names = blank_identifying(spec, {answer.field: answer.value})
        answer.value = blanked[answer.field]
        report.fields += names
    revisions = db.session.scalars(
        select(SubmissionRevision).where(SubmissionRevision.submission_id == submission.id)
    ).all()
    for revision in revisions:
        revision.answers = blank_identifying(spec, revision.answers or {})[0]
    drafts = db.session.scalars(select(Draft).where(Draft.submission_id == submission.id)).all()
    for draft in drafts:
        draft.answers = blank_identifying(spec, draft.answers or {})[0]
    submission.applicant_email = None
    report.messages = _clear_messages(submission)

    db.session.add(
        AuditEntry(
            submission_id=submission.id,
            form_id=submission.form_id,
            action="submission.anonymised",
            actor_type=actor_type,
            actor_id=actor_id,
            data={
                "fields": report.fields,
                "files": report.files,
                "documents": report.documents,
                "messages": report.messages,
            },
        )
    )
    db.session.commit()
    return report


def _clear_messages(submission: Submission) -> int:
    """Emails about the submission keep their kind and date only; unsent ones never go."""
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.submission_id == submission.id)
    ).all()
    folder = Path(current_app.instance_path) / "outbox"
    for message in messages:
        if message.status in UNSENT:
            message.status = OutboxStatus.FAILED
            message.last_error = "not sent: the submission was anonymised"
        message.recipient = ""
        message.reply_to = None
        message.text_body = ""
        message.html_body = ""
        message.attachments = []
        # The .eml copy written when no SMTP server is configured (mail/delivery.py).
        delete_after_commit(path=folder / f"{message.id:06d}-{message.kind}.eml")
    return len(messages)
