"""Making and keeping documents: each kind is made once per submission revision and
language, stored through storage.py, and made again when the submission changes."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from blinker import Namespace
from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError

from documents.content import DocumentContent, blank_form, submission_copy
from documents.docx import render_docx
from documents.pdf import render_pdf
from extensions import db
from forms.published import spec_for
from jobs import isolation
from models import Document, FormVersion, Submission
from models.duties import COPIES
from storage import get_storage

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
COPY_KINDS = ("copy_pdf", "copy_docx")
COPIES_DUTY = COPIES


@dataclass(frozen=True)
class Rendered:
    data: bytes
    content_type: str
    extension: str


def render(content: DocumentContent, kind: str, keywords: str = "") -> Rendered:
    if kind.endswith("_pdf"):
        return Rendered(render_pdf(content), PDF, "pdf")
    return Rendered(render_docx(content, keywords), DOCX, "docx")


def current_document(submission: Submission, kind: str) -> Document | None:
    return db.session.scalar(
        select(Document).where(
            Document.submission_id == submission.id,
            Document.kind == kind,
            Document.revision == submission.revision,
            Document.language == submission.language,
        )
    )


# Sent with a submission's id once its copies (or a decision letter) exist; create_app
# connects mail delivery, which releases the messages waiting for them.
documents_made = Namespace().signal("documents-made")


def make_copies(submission: Submission) -> list[Document]:
    """The PDF and DOCX copy of what the applicant sent, for the current revision."""
    spec = spec_for(submission.form_version)
    made = []
    for kind in COPY_KINDS:
        if current_document(submission, kind) is not None:
            continue
        content = submission_copy(submission, spec)
        rendered = render(content, kind, keywords=submission.reference)
        document = _keep(
            rendered,
            kind=kind,
            submission_id=submission.id,
            form_version_id=submission.form_version_id,
            revision=submission.revision,
            language=submission.language,
            filename=f"{submission.reference}.{rendered.extension}",
        )
        if document is not None:
            made.append(document)
    documents_made.send(submission.id)
    return made


def _keep(rendered: Rendered, **fields) -> Document | None:
    """Store the file and its row; when another worker made the same document meanwhile,
    keep theirs and remove ours (the unique constraint decides)."""
    storage = get_storage()
    name = storage.save(io.BytesIO(rendered.data))
    document = Document(
        storage_name=name,
        content_type=rendered.content_type,
        size=len(rendered.data),
        sha256=hashlib.sha256(rendered.data).hexdigest(),
        **fields,
    )
    db.session.add(document)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        storage.delete(name)
        return None
    return document


def make_missing(limit: int = 20) -> int:
    """Duty of the background worker: copies for submissions that lack one of them (PDF or
    DOCX) for their current revision — new submissions, edits, or work a crash or an outage
    left half done. Each submission on its own (jobs.isolation): one that cannot be
    rendered is retried, then marked failed, and never holds up the others."""

    def missing(kind: str):
        return ~exists().where(
            Document.submission_id == Submission.id,
            Document.kind == kind,
            Document.revision == Submission.revision,
            Document.language == Submission.language,
        )

    ids = db.session.scalars(
        select(Submission.id)
        .where(or_(*(missing(kind) for kind in COPY_KINDS)))
        .where(Submission.id.not_in(isolation.held_back(COPIES_DUTY)))
        .order_by(Submission.id)
        .limit(limit)
    ).all()
    return isolation.run_each(COPIES_DUTY, ids, make_copies_of, submission_of=lambda i: i)


def make_copies_of(submission_id: int) -> None:
    submission = db.session.get(Submission, submission_id)
    if submission is not None:
        make_copies(submission)


def blank_document(version: FormVersion, kind: str, language: str) -> Document:
    """The empty form for offline use, made once per published version and language."""
    existing = db.session.scalar(
        select(Document).where(
            Document.submission_id.is_(None),
            Document.form_version_id == version.id,
            Document.kind == kind,
            Document.language == language,
        )
    )
    if existing is not None:
        return existing
    spec = spec_for(version)
    rendered = render(blank_form(spec, language), kind)
    made = _keep(
        rendered,
        kind=kind,
        submission_id=None,
        form_version_id=version.id,
        revision=0,
        language=language,
        filename=f"{spec.slug}-{language}.{rendered.extension}",
    )
    return made or blank_document(version, kind, language)


def read(document: Document) -> bytes:
    with get_storage().open(document.storage_name) as stream:
        return stream.read()
