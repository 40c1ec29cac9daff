"""One item at a time: a duty hands its items to `run_each`, which runs each in its own
transaction. An item that raises (a value its rendering cannot take, a database error on
its row) is rolled back and recorded in duty_failures; it is retried with backoff and,
after FORMDESK_DUTY_MAX_ATTEMPTS, marked failed — shown in Admin → Background work and
counted on /healthz — while the other items go on. Queries leave out items that wait for
their next attempt or have failed (`held_back`), so they do not take every poll's places."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select

from extensions import db
from models.duties import FAILED, RETRYING, DutyFailure
from models.types import utcnow

DEFAULTS = {
    "FORMDESK_DUTY_MAX_ATTEMPTS": 5,
    "FORMDESK_DUTY_RETRY_SECONDS": 30.0,  # first retry; doubles each time
    "FORMDESK_DUTY_RETRY_MAX_SECONDS": 3600.0,
}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def setting(name: str):
    return current_app.config.get(name, DEFAULTS[name])


def held_back(duty: str, now: datetime | None = None):
    """The ids of the duty's items not to take now: failed, or waiting for their retry."""
    now = now or utcnow()
    return select(DutyFailure.item_id).where(
        DutyFailure.duty == duty,
        or_(DutyFailure.status == FAILED, DutyFailure.next_attempt_at > now),
    )


def run_each(
    duty: str,
    ids: Iterable[int],
    work: Callable[[int], object],
    submission_of: Callable[[int], int | None] = lambda _id: None,
) -> int:
    """`work(id)` for every id, each isolated from the others; returns how many were tried
    (0 when it had to stop, so that callers looping `while duty():` stop too)."""
    tried = 0
    for item_id in ids:
        tried += 1
        try:
            work(item_id)
        except Exception as error:
            db.session.rollback()
            current_app.logger.exception("%s: item %s failed", duty, item_id)
            if not _record_failure(duty, item_id, error, submission_of):
                return 0  # the database itself is gone: stop here, the next poll tries again
        else:
            _forget(duty, item_id)
    return tried


def error_text(error: BaseException) -> str:
    """Storable anywhere: no control characters (PostgreSQL refuses NUL in text)."""
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", f"{type(error).__name__}: {error}")[:2000]


def _record_failure(duty: str, item_id: int, error: Exception, submission_of) -> bool:
    try:
        row = db.session.scalar(
            select(DutyFailure).where(DutyFailure.duty == duty, DutyFailure.item_id == item_id)
        )
        if row is None:
            row = DutyFailure(duty=duty, item_id=item_id, attempts=0)
            row.submission_id = _quietly(submission_of, item_id)
            db.session.add(row)
        row.attempts += 1
        row.last_error = error_text(error)
        if row.attempts >= setting("FORMDESK_DUTY_MAX_ATTEMPTS"):
            row.status = FAILED
        else:
            row.status = RETRYING
            delay = min(
                setting("FORMDESK_DUTY_RETRY_SECONDS") * 2 ** (row.attempts - 1),
                setting("FORMDESK_DUTY_RETRY_MAX_SECONDS"),
            )
            row.next_attempt_at = utcnow() + timedelta(seconds=delay)
        db.session.commit()
        return True
    except Exception:
        db.session.rollback()
        current_app.logger.exception("%s: could not record the failure of item %s", duty, item_id)
        return False


def _quietly(function: Callable[[int], int | None], item_id: int) -> int | None:
    try:
        return function(item_id)
    except Exception:
        db.session.rollback()
        return None


def _forget(duty: str, item_id: int) -> None:
    """A retried item that now worked leaves the list (read first: no write when clean)."""
    mine = (DutyFailure.duty == duty, DutyFailure.item_id == item_id)
    if db.session.scalar(select(DutyFailure.id).where(*mine)) is not None:
        db.session.execute(delete(DutyFailure).where(*mine))
        db.session.commit()


def retry(failure_id: int) -> bool:
    """An admin's "try again": the item is taken at the next poll, attempts start over."""
    removed = db.session.execute(delete(DutyFailure).where(DutyFailure.id == failure_id)).rowcount
    db.session.commit()
    return removed == 1


def failures() -> list[tuple[DutyFailure, str | None]]:
    """What admins see, each with its submission's reference: failed items first, then
    those waiting for a retry; newest first."""
    from models import Submission

    return list(
        db.session.execute(
            select(DutyFailure, Submission.reference)
            .outerjoin(Submission, Submission.id == DutyFailure.submission_id)
            .order_by((DutyFailure.status == FAILED).desc(), DutyFailure.updated_at.desc())
        ).tuples()
    )


def failed_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(DutyFailure).where(DutyFailure.status == FAILED)
    )
