"""Every comparison with a call's opening and closing time goes through this module.

Answers in progress (a draft, or an edit of sent answers) are measured against the call's
CURRENT version: its opening, closing and grace period. The questions stay those of the
version the person started on, but a deadline extended (or brought forward) by a new
version applies to everyone (`window_of`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app

from models.types import utcnow

MAX_GRACE_MINUTES = 1440  # a day; forms.schema refuses more


class CallStatus(StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


def grace_period(minutes: int | None = None) -> timedelta:
    """The call's own grace (`grace_minutes` in its definition) or the installation's."""
    if minutes is None:
        minutes = current_app.config["FORMDESK_GRACE_MINUTES"]
    return timedelta(minutes=minutes)


def grace_minutes_of(definition: dict | None) -> int | None:
    """The whole number of minutes a definition gives as `grace_minutes`, else None (the
    installation's setting applies). A value the schema would refuse counts as absent."""
    value = (definition or {}).get("grace_minutes")
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= MAX_GRACE_MINUTES else None


@dataclass(frozen=True)
class Window:
    """When a call accepts answers: from `opens_at` to `closes_at` inclusive, and for those
    who started in time until `closes_at + grace`."""

    opens_at: datetime
    closes_at: datetime
    grace: timedelta

    def accepts(self, started_at: datetime | None, now: datetime | None = None) -> bool:
        return accepts_answers(self.opens_at, self.closes_at, started_at, now, self.grace)

    def status(self, now: datetime | None = None) -> CallStatus:
        return call_status(self.opens_at, self.closes_at, now)


def window_of(version) -> Window:
    """The window of a published version (a `models.FormVersion`): a call's current one
    rules every draft and edit in progress, whatever version they answer."""
    return Window(
        version.opens_at,
        version.closes_at,
        grace_period(grace_minutes_of(version.definition)),
    )


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
    grace: timedelta | None = None,
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
        and now <= closes_at + (grace if grace is not None else grace_period())
    )


def draft_accepts_answers(draft, now: datetime | None = None) -> bool:
    """Whether a draft (a `models.Draft`) may still be saved and sent: a test draft (made
    through a preview link) always; else by the window of its call's current version (an
    archived call, or one without a published version, accepts nothing)."""
    if getattr(draft, "is_test", False):
        return True
    form = draft.form_version.form
    if form.current_version is None or getattr(form, "archived_at", None) is not None:
        return False
    return window_of(form.current_version).accepts(draft.started_at, now)
