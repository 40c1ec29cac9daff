"""Read models for the dashboard: what a reviewer may see, counted and listed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from extensions import db
from models import Form, Submission, User
from services.access import reviewable_form_ids
from services.capacity import seats_taken
from services.catalog import spec_for
from workflows.engine import get_workflow


@dataclass
class FormOverview:
    form: Form
    title: str
    counts: dict[str, int]
    state_labels: dict[str, str]
    capacity: int | None
    seats_taken: int


def visible_forms(user: User) -> list[Form]:
    ids = reviewable_form_ids(user)
    query = select(Form).where(Form.current_version_id.is_not(None)).order_by(Form.slug)
    if ids is not None:
        query = query.where(Form.id.in_(ids or [-1]))
    return list(db.session.scalars(query))


def form_overviews(user: User, language: str = "en") -> list[FormOverview]:
    overviews = []
    for form in visible_forms(user):
        spec = spec_for(form.current_version)
        workflow = get_workflow(spec.workflow)
        counts = dict(
            db.session.execute(
                select(Submission.state, func.count())
                .where(Submission.form_id == form.id)
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
            )
        )
    return overviews
