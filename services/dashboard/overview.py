"""The dashboard's overview: per call the reviewer sees, the submissions counted by state,
the places taken, and submissions per day for the last weeks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Integer, cast, func, select

from extensions import db
from forms.published import spec_for
from forms.spec import FormSpec
from models import (
    Form,
    Submission,
    User,
)
from models.types import utcnow
from services.access import visible_forms
from services.capacity import seats_taken
from workflows.lookup import workflow_of_version

CHART_DAYS = 30
QUARTER_HOUR = 900  # seconds; every time zone's offset from UTC is a whole number of them


@dataclass
class FormOverview:
    form: Form
    title: str
    counts: dict[str, int]
    state_labels: dict[str, str]
    capacity: int | None
    seats_taken: int
    timezone: str = "UTC"
    per_day: list[tuple[date, int]] = field(default_factory=list)
    groups: list[tuple[str, str]] = field(default_factory=list)  # (name, label): own exports


def submissions_per_day(
    form_id: int, spec: FormSpec, days: int = CHART_DAYS, now: datetime | None = None
) -> list[tuple[date, int]]:
    """Submissions per calendar day in the call's time zone, the last `days` days up to
    today, oldest first; days without submissions count 0."""
    zone = spec.timezone
    today = (now or utcnow()).astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(), zone)
    # Counted per quarter of an hour by the database (at most 96 rows a day, however many
    # submissions there are), then each quarter named by its day in the call's time zone:
    # a zone's midnight is always on a quarter, so no quarter spans two days.
    quarter = _quarter_hour(Submission.submitted_at)
    rows = db.session.execute(
        select(quarter, func.count())
        .where(
            Submission.form_id == form_id,
            Submission.submitted_at >= since,
            Submission.is_test.is_(False),
        )
        .group_by(quarter)
    )
    counts: Counter[date] = Counter()
    for number, count in rows:
        moment = datetime.fromtimestamp(int(number) * QUARTER_HOUR, UTC)
        counts[moment.astimezone(zone).date()] += count
    return [
        (first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)
    ]


def _quarter_hour(column):
    """The number of the quarter of an hour since 1970 (UTC) that a moment falls in."""
    if db.session.get_bind().dialect.name == "sqlite":  # UTC kept as text
        return cast(func.strftime("%s", column), Integer) // QUARTER_HOUR
    return func.floor(func.extract("epoch", column) / QUARTER_HOUR)


def form_overviews(
    user: User, language: str = "en", now: datetime | None = None
) -> list[FormOverview]:
    overviews = []
    for form in visible_forms(user):
        spec = spec_for(form.current_version)
        workflow = workflow_of_version(form.current_version)
        counts = dict(
            db.session.execute(
                select(Submission.state, func.count())
                .where(Submission.form_id == form.id, Submission.is_test.is_(False))
                .group_by(Submission.state)
            ).all()
        )
        overviews.append(
            FormOverview(
                form=form,
                title=spec.text("title", language),
                counts={state: counts.get(state, 0) for state in workflow.states},
                state_labels={s: workflow.state_label(s, language) for s in workflow.states},
                capacity=spec.capacity,
                seats_taken=seats_taken(form.id, workflow),
                timezone=str(spec.timezone),
                per_day=submissions_per_day(form.id, spec, now=now),
                groups=[(f.name, f.label(language)) for f in spec.inputs if f.kind.repeats],
            )
        )
    return overviews
