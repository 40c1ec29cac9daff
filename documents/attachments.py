"""Receipts carry the PDF and DOCX copies: the outbox row names them, and delivery waits
for them until the background worker has made them (create_app connects `document_file`
to mail.attachments and releases waiting mail when copies are made)."""

from __future__ import annotations

from documents.store import COPY_KINDS, current_document, read
from extensions import db
from models import Document, Submission


def copies_for_receipt(submission: Submission) -> list[dict]:
    return [
        {
            "kind": "document",
            "submission_id": submission.id,
            "document": kind,
            "revision": submission.revision,
        }
        for kind in COPY_KINDS
    ]


def document_file(spec: dict) -> tuple[str, str, bytes] | None:
    submission = db.session.get(Submission, spec["submission_id"])
    if submission is None:
        return None
    document: Document | None = current_document(submission, spec["document"])
    if document is None or document.revision != spec["revision"]:
        return None  # not made yet: the message waits
    return document.filename, document.content_type, read(document)
