"""Items a background duty could not do: one row per duty and item (a submission for its
copies, an audit entry for its decision letter, …), kept while the item is retried with
backoff and after it has failed, so admins see it (Admin → Background work) and /healthz
counts it. Email keeps the same record on its own outbox row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.types import UTCDateTime, utcnow

RETRYING, FAILED = "retrying", "failed"
# The duties that record their items here (email records on the outbox row instead).
COPIES, LETTERS, EXPIRE_OFFER = "copies", "letters", "expire_offer"
DIGEST = "digest"  # a reviewer's daily digest (item: the reviewer's user id)
# A reviewer's reminder of unscored assignments before a call's review deadline (item: user id).
REVIEW_REMINDER = "review_reminder"
DUTIES = (COPIES, LETTERS, EXPIRE_OFFER, DIGEST, REVIEW_REMINDER)


class DutyFailure(db.Model):
    __tablename__ = "duty_failures"
    __table_args__ = (UniqueConstraint("duty", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    duty: Mapped[str] = mapped_column(String(40))  # one of DUTIES
    item_id: Mapped[int] = mapped_column(Integer)
    submission_id: Mapped[int | None] = mapped_column(Integer)  # for the admin's link
    status: Mapped[str] = mapped_column(String(20), default=RETRYING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
