"""A review deadline per call (#17), set in the dashboard by admins and the call's
managers, and the reminder email to reviewers with unscored assignments: sent once per
reviewer and call (the outbox key), from REMIND_DAYS_BEFORE days before the deadline."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import String, cast, exists, literal, select

from extensions import db
from forms import placeholders
from forms.published import spec_for
from jobs.isolation import held_back, run_each
from mail.links import absolute_url
from mail.outbox import enqueue
from models import (
    AuditEntry,
    Form,
    OutboxMessage,
    ReviewDeadline,
    Score,
    Submission,
    SubmissionAssignment,
    User,
)
from models.duties import REVIEW_REMINDER
from models.types import utcnow
from services.access import can_review
from services.assignment import AssignmentRefused, can_assign, unscored_assignments
from services.staff_input import InputRefused, clean_text
from services.users import language_of

REMIND_DAYS_BEFORE = 3
MAX_DATE_LENGTH = 32


def deadline_of(form_id: int) -> date | None:
    row = db.session.get(ReviewDeadline, form_id)
    return row.due_on if row else None


def read_deadline(raw: str | None) -> date | None:
    """A date like 2027-01-21 from the form; blank clears it; anything else refused."""
    label = _("Review deadline")
    try:
        text = clean_text(raw, label, MAX_DATE_LENGTH).strip()
    except InputRefused as refusal:
        raise AssignmentRefused(str(refusal)) from None
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2999:
        raise AssignmentRefused(_("Give the review deadline as a date like 2027-01-21."))
    return day


def set_deadline(user: User, form_id: int, raw: str | None) -> date | None:
    if not can_assign(user, form_id):
        raise AssignmentRefused(_("Only administrators and the call's managers set it."))
    day = read_deadline(raw)
    row = db.session.get(ReviewDeadline, form_id)
    before = row.due_on.isoformat() if row else None
    if day is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(ReviewDeadline(form_id=form_id, due_on=day, set_by_id=user.id))
    else:
        row.due_on, row.set_by_id = day, user.id
    db.session.add(
        AuditEntry(
            form_id=form_id,
            action="form.review_deadline_set",
            actor_type=user.role,
            actor_id=user.id,
            data={"from": before, "to": day.isoformat() if day else None},
        )
    )
    db.session.commit()
    return day


# --- the reminder ------------------------------------------------------------------------


def reminder_key(form_id: int, user_id: int) -> str:
    return f"review_reminder:{form_id}:{user_id}"


def _key_of_row():
    """reminder_key in SQL, so reviewers already reminded are not read again each poll."""
    return (
        literal("review_reminder:", String)
        + cast(Submission.form_id, String)
        + ":"
        + cast(SubmissionAssignment.user_id, String)
    )


def _due_deadlines(now: datetime) -> list[ReviewDeadline]:
    last_day = now.date() + timedelta(days=REMIND_DAYS_BEFORE)
    return list(db.session.scalars(select(ReviewDeadline).where(ReviewDeadline.due_on <= last_day)))


def send_review_reminders(now: datetime | None = None) -> int:
    """One reminder per reviewer and call whose review deadline is near (or passed) while
    they have unscored assignments on it. Each reviewer on their own (jobs.isolation)."""
    now = now or utcnow()
    deadlines = _due_deadlines(now)
    if not deadlines:
        return 0
    form_ids = [d.form_id for d in deadlines]
    reviewer_ids = db.session.scalars(
        select(SubmissionAssignment.user_id)
        .join(Submission, Submission.id == SubmissionAssignment.submission_id)
        .join(User, User.id == SubmissionAssignment.user_id)
        .where(
            Submission.form_id.in_(form_ids),
            User.active.is_(True),
            User.id.not_in(held_back(REVIEW_REMINDER, now)),
            ~exists(
                select(Score.id).where(
                    Score.submission_id == Submission.id,
                    Score.user_id == SubmissionAssignment.user_id,
                )
            ),
            ~exists(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == _key_of_row())),
        )
        .distinct()
        .order_by(SubmissionAssignment.user_id)
    ).all()
    queued = []

    def remind(reviewer_id: int) -> None:
        reviewer = db.session.get(User, reviewer_id)
        for deadline in deadlines:
            if _queue_reminder(reviewer, deadline):
                queued.append((reviewer_id, deadline.form_id))
        db.session.commit()

    run_each(REVIEW_REMINDER, reviewer_ids, remind)
    return len(queued)


def _queue_reminder(reviewer: User, deadline: ReviewDeadline) -> bool:
    key = reminder_key(deadline.form_id, reviewer.id)
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)):
        return False  # sent once, whatever happened since
    if not can_review(reviewer, deadline.form_id):
        return False
    left = unscored_assignments(reviewer.id, deadline.form_id)
    if not left:
        return False
    form = db.session.get(Form, deadline.form_id)
    language = language_of(reviewer)
    spec = spec_for(form.current_version)
    lines = [f"- {s.reference}: {absolute_url('review.show', submission_id=s.id)}" for s in left]
    enqueue(
        key=key,
        kind="review_reminder",
        recipient=reviewer.email,
        language=language,
        values=placeholders.values(
            {
                "language": language,
                "form_title": spec.text("title", language),
                "organisation": spec.organisation_name(language),
                "count": len(left),
                "submissions": "\n".join(lines),
                "review_due_on": deadline.due_on,
                "review_link": absolute_url("dashboard.submissions", mine="1"),
            },
            placeholders.EMAIL,
        ),
        form_id=deadline.form_id,
        greet=reviewer.name,
    )
    return True
