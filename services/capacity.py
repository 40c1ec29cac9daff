"""Places: counted from the submissions themselves, under a lock on the form's row.

Taking the lock is an UPDATE of `forms.lock_counter`: on PostgreSQL it holds the row lock
until commit, on SQLite it takes the database write lock (pysqlite begins the transaction
at the first write). Either way two people can never both take the last place."""

from __future__ import annotations

from sqlalchemy import func, select, update

from extensions import db
from forms.spec import FormSpec
from models import Form, Submission
from workflows.engine import Workflow


def lock_form(form_id: int) -> None:
    db.session.execute(
        update(Form).where(Form.id == form_id).values(lock_counter=Form.lock_counter + 1)
    )


def seats_taken(form_id: int, workflow: Workflow) -> int:
    if workflow.capacity is None:
        return 0
    return db.session.scalar(
        select(func.coalesce(func.sum(Submission.seats), 0)).where(
            Submission.form_id == form_id,
            Submission.state.in_(workflow.capacity.holds),
            Submission.is_test.is_(False),  # a test made through a preview link takes none
        )
    )


def has_room(form_id: int, spec: FormSpec, workflow: Workflow, seats: int) -> bool:
    if spec.capacity is None or workflow.capacity is None:
        return True
    return seats_taken(form_id, workflow) + seats <= spec.capacity


def seats_wanted(spec: FormSpec, answers: dict) -> int:
    """Places one submission takes: the items of the form's `seats_field` group (or its
    number), else 1."""
    name = spec.raw.get("seats_field")
    if not name:
        return 1
    value = answers.get(name)
    if isinstance(value, list):
        return max(len(value), 1)
    if isinstance(value, int | float) and value >= 1:
        return int(value)
    return 1
