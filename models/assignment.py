"""Review assignment (#17): which reviewer is asked to review which submission, and each
call's review deadline. Call rights (models.users.ReviewerAssignment) say who *may* review
a call; a submission assignment says who is *asked* to review one submission."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.types import UTCDateTime, utcnow


class SubmissionAssignment(db.Model):
    __tablename__ = "submission_assignments"
    __table_args__ = (UniqueConstraint("submission_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewDeadline(db.Model):
    """Set in the dashboard, not in the call's YAML: it changes while the call is open."""

    __tablename__ = "review_deadlines"

    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
