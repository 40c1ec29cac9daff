"""Receipts carry the PDF and DOCX copies: the outbox row names them, and delivery waits
(retrying) until the background worker has made them."""

from __future__ import annotations

from documents import store
from documents.store import COPY_KINDS, current_document, read
from extensions import db
from mail import attachments, delivery, events
from models import Document, Submission


def copies_for_receipt(submission: Submission, spec) -> list[dict]:
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


events.register_receipt_attachments(copies_for_receipt)
store.after_copies_made(delivery.release_waiting)
attachments.register("document", document_file)
