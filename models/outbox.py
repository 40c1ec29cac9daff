"""Outgoing email, written in the same transaction as the event that causes it and
delivered afterwards, so nothing is lost and nothing is sent twice."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.types import UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    """Where a message is (the stored value of `outbox.status`)."""

    QUEUED = "queued"
    SENDING = "sending"  # claimed by a sender until `claimed_until`
    AWAITING_RETRY = "awaiting_retry"  # a failed attempt; tried again at `next_attempt_at`
    # Its files (a receipt's copies, a decision letter) are not made yet: made documents
    # release it at once, else it is looked at again at `next_attempt_at`, and after the
    # wait (FORMDESK_MAIL_ATTACHMENT_WAIT_SECONDS) it goes without them.
    AWAITING_DOCUMENTS = "awaiting_documents"
    SENT = "sent"
    FAILED = "failed"


# Not sent yet and still to be tried: a sender takes these once `next_attempt_at` is due.
WAITING = (OutboxStatus.QUEUED, OutboxStatus.AWAITING_RETRY, OutboxStatus.AWAITING_DOCUMENTS)
UNSENT = (*WAITING, OutboxStatus.SENDING)


class OutboxMessage(db.Model):
    __tablename__ = "outbox"
    # The sender's question, "what is due now?" (status, then the time), and the
    # outbox page's status filter.
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # One event → one message: a second enqueue with the same key does nothing.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # receipt, accepted, resume, digest, …
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(320))
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    reply_to: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # Files to attach at delivery: [{"kind": "document", "id": 3}, {"kind": "ics", …}]
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    message_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A sender that claimed the message and died is replaced once this has passed.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EmailTemplate(db.Model):
    """An admin's wording for one email event, per form (or all forms) and language.
    Without one, the default text shipped in templates/email/ is used."""

    __tablename__ = "email_templates"
    __table_args__ = (UniqueConstraint("form_id", "event", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
