"""Drafts, submissions, their answers and attached files."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.forms import Form, FormVersion
from models.types import UTCDateTime, utcnow


class Draft(db.Model):
    """Answers in progress, kept on the server page by page so nothing typed is lost and a
    person can resume later through a secret link."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # Pages the person has passed with valid answers; "check your answers" needs all of them.
    completed_pages: Mapped[list] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    # Started through a call's preview link: its submission is a test (see Submission).
    is_test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    form_version: Mapped[FormVersion] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="draft")


class Submission(db.Model):
    __tablename__ = "submissions"
    __table_args__ = (
        # The dashboard and exports always narrow by form: counts per state, the state
        # filter, places taken; dates and the newest-first list, and the exports' keyset
        # pages in (submitted_at, id) order.
        # PostgreSQL: with the id, a count by state joined to tags needs no table read
        # (SQLite's indexes hold the rowid, which is the id, anyway).
        Index("ix_submissions_form_id_state", "form_id", "state", postgresql_include=["id"]),
        Index("ix_submissions_form_id_submitted_at_id", "form_id", "submitted_at", "id"),
        # PostgreSQL's full-text search (services/search.py); SQLite has no use for them.
        *(
            Index(
                f"ix_submissions_{column}_fts",
                func.to_tsvector(literal_column("'simple'"), literal_column(column)),
                postgresql_using="gin",
            ).ddl_if(dialect="postgresql")
            for column in ("search_text", "search_text_blind")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"))
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    # sha256 of the applicant's secret link token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # With the server's token key this gives the link again for later emails (services.tokens).
    token_nonce: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(40), index=True)
    # Places this submission takes when it holds any (participants registered at once).
    seats: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # An offered place (from the waiting list) must be confirmed before this moment.
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Incremented on every edit by the applicant; revisions keep the earlier answers.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    language: Mapped[str] = mapped_column(String(8))
    applicant_email: Mapped[str | None] = mapped_column(String(320))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The reference and every answer's words, lower-cased (services/search.py keeps them
    # current whenever answers change): everything, and without the answers that identify
    # the applicant (what a reviewer of a blind-reviewed call may search).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    search_text_blind: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Made through the call's preview link: left out of counts, places, exports and the
    # reference numbers of real submissions, and deleted in one go (services/call_life.py).
    is_test: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), index=True
    )

    form: Mapped[Form] = relationship()
    form_version: Mapped[FormVersion] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="Answer.position"
    )
    attachments: Mapped[list[Attachment]] = relationship(back_populates="submission")

    def answers_by_field(self) -> dict:
        return {answer.field: answer.value for answer in self.answers}


class SubmissionRevision(db.Model):
    """The answers as they were before an edit, so a reviewer sees what changed."""

    __tablename__ = "submission_revisions"
    __table_args__ = (UniqueConstraint("submission_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Answer(db.Model):
    """One answered field. Groups store their items as one list value."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("submission_id", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    field: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)
    value: Mapped[object] = mapped_column(JSON)

    submission: Mapped[Submission] = relationship(back_populates="answers")


class Attachment(db.Model):
    """An uploaded file. It belongs to a draft while the form is filled in, then to the
    submission. The stored name is random; the original name is kept only for display."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    field: Mapped[str] = mapped_column(String(120))
    original_name: Mapped[str] = mapped_column(String(255))
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    draft: Mapped[Draft | None] = relationship(back_populates="attachments")
    submission: Mapped[Submission | None] = relationship(back_populates="attachments")


class ReferenceCounter(db.Model):
    """Last reference number used per form and year, incremented atomically."""

    __tablename__ = "reference_counters"

    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
