"""One audit log for everything that happens to a submission (and, later, to forms)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    # A submission's history, oldest or newest first (its page, emails, letters).
    __table_args__ = (Index("ix_audit_log_submission_id_id", "submission_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id"), index=True)
    # Namespaced action, e.g. "submission.submitted", "submission.transition".
    action: Mapped[str] = mapped_column(String(80))
    actor_type: Mapped[str] = mapped_column(String(20))  # applicant | reviewer | admin | system
    actor_id: Mapped[int | None] = mapped_column()
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
