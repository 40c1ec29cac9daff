"""Every comparison with a call's opening and closing time goes through this module."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app

from models.types import utcnow


class CallStatus(StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


def grace_period() -> timedelta:
    return timedelta(minutes=current_app.config["FORMDESK_GRACE_MINUTES"])


def call_status(opens_at: datetime, closes_at: datetime, now: datetime | None = None) -> CallStatus:
    now = now or utcnow()
    if now < opens_at:
        return CallStatus.UPCOMING
    if now <= closes_at:
        return CallStatus.OPEN
    return CallStatus.CLOSED


def accepts_answers(
    opens_at: datetime,
    closes_at: datetime,
    started_at: datetime | None,
    now: datetime | None = None,
) -> bool:
    """Open calls accept answers. After closing, a person who started before the deadline may
    still finish within the grace period: the deadline is about starting in time, and a slow
    connection at 23:59:58 should not cost a place."""
    now = now or utcnow()
    status = call_status(opens_at, closes_at, now)
    if status is CallStatus.OPEN:
        return True
    return (
        status is CallStatus.CLOSED
        and started_at is not None
        and started_at <= closes_at
        and now <= closes_at + grace_period()
    )
