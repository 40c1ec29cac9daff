"""Applications sent twice: the same email address to the same call within a window of hours
(FORMDESK_DUPLICATE_WINDOW_HOURS). The applicant is told and must confirm before a second
one is stored; nothing is refused for good."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from extensions import db
from models import Submission
from models.types import utcnow


@dataclass(frozen=True)
class EarlierSubmission:
    id: int
    reference: str
    submitted_at: datetime


def window() -> timedelta:
    return timedelta(hours=float(current_app.config["FORMDESK_DUPLICATE_WINDOW_HOURS"] or 0))


def earlier_submission(
    form_id: int, email: object, now: datetime | None = None
) -> EarlierSubmission | None:
    """The latest submission to this form with this email (ignoring case and surrounding
    spaces) sent within the window, if any."""
    if not isinstance(email, str) or not email.strip() or window() <= timedelta(0):
        return None
    now = now or utcnow()
    row = db.session.execute(
        select(Submission.id, Submission.reference, Submission.submitted_at)
        .where(
            Submission.form_id == form_id,
            Submission.is_test.is_(False),
            Submission.submitted_at >= now - window(),
            func.lower(func.trim(Submission.applicant_email)) == email.strip().lower(),
        )
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
        .limit(1)
    ).first()
    return EarlierSubmission(*row) if row else None
