"""Moving a submission through its workflow: one function, one transaction, one audit
entry per move. Capacity guards run under the form's lock; a double click runs once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from extensions import db
from models import AuditEntry, Submission
from models.types import utcnow
from services.capacity import has_room, lock_form
from services.catalog import spec_for
from workflows import effects
from workflows.engine import BUILTIN_EFFECTS, Transition, Workflow, get_workflow


@dataclass(frozen=True)
class Actor:
    kind: str  # applicant | reviewer | admin | system
    user_id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system")


class TransitionRefused(Exception):
    """The message says why, for the person who asked."""


def workflow_of(submission: Submission) -> Workflow:
    return get_workflow(spec_for(submission.form_version).workflow)


def initial_state(submission: Submission, workflow: Workflow) -> str:
    """The first initial choice whose guards pass (caller holds the form lock)."""
    spec = spec_for(submission.form_version)
    for choice in workflow.initial:
        if "capacity" in choice.guards and not has_room(
            submission.form_id, spec, workflow, submission.seats
        ):
            continue
        return choice.target
    return workflow.initial[-1].target


def transition(
    submission_id: int,
    name: str,
    actor: Actor,
    *,
    comment: str | None = None,
    expected_state: str | None = None,
    scheduled_for: date | None = None,
    now: datetime | None = None,
) -> Submission:
    """Apply transition `name`. `expected_state` is the state the person saw: when it has
    changed meanwhile (a double click, another reviewer), nothing happens twice."""
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        raise TransitionRefused(_("This submission does not exist."))
    lock_form(submission.form_id)
    db.session.refresh(submission)  # the state as of the lock, not as first read
    if expected_state is not None and submission.state != expected_state:
        raise TransitionRefused(
            _("This submission was already changed by someone else. Reload to see its state.")
        )
    workflow = workflow_of(submission)
    step = workflow.transition(name)
    if step is None or submission.state not in step.sources:
        raise TransitionRefused(_("This action is not possible in the current state."))
    if actor.kind not in step.actors:
        raise TransitionRefused(_("You are not allowed to do this."))
    if step.comment_required and not (comment or "").strip():
        raise TransitionRefused(_("Write a comment: the applicant needs to know what to do."))
    if step.needs_date and scheduled_for is None:
        raise TransitionRefused(_("Choose the date."))
    _apply(submission, workflow, step, actor, comment, scheduled_for, now or utcnow())
    db.session.commit()
    return submission


def _apply(submission, workflow, step: Transition, actor, comment, scheduled_for, now) -> None:
    spec = spec_for(submission.form_version)
    if "capacity" in step.guards and not has_room(
        submission.form_id, spec, workflow, submission.seats
    ):
        raise TransitionRefused(
            _("All %(capacity)d places are taken.", capacity=spec.capacity or 0)
        )
    previous = submission.state
    submission.state = step.target
    data = {"transition": step.name}
    if scheduled_for is not None:
        data["scheduled_for"] = scheduled_for.isoformat()
    db.session.add(
        AuditEntry(
            submission_id=submission.id,
            form_id=submission.form_id,
            action="submission.transition",
            actor_type=actor.kind,
            actor_id=actor.user_id,
            from_state=previous,
            to_state=step.target,
            comment=(comment or "").strip() or None,
            data=data,
        )
    )
    db.session.flush()
    # The transition's own effects first, whatever order the workflow lists them in: an
    # email or a document written by a hook shows the final state (the offer's deadline).
    for effect in (e for e in step.effects if e in BUILTIN_EFFECTS):
        if effect == "start_offer_clock":
            submission.offer_expires_at = now + timedelta(hours=workflow.offer_hours)
        elif effect == "fill_freed_places":
            _fill_freed_places(submission.form_id, workflow, spec, now)
        elif effect == "remove_files":
            from services.retention import remove_files_of

            remove_files_of(submission, actor.kind)  # bytes deleted once this commits
    for effect in (e for e in step.effects if e not in BUILTIN_EFFECTS):
        effects.dispatch(effect, submission=submission, transition=step, comment=comment)


def _fill_freed_places(form_id: int, workflow: Workflow, spec, now: datetime) -> None:
    """Give freed places to the waiting list in order; someone who wants more seats than
    are free is passed over for the next one who fits (the caller holds the lock)."""
    rules = workflow.capacity
    if rules is None or not rules.waitlist or not rules.promote or spec.capacity is None:
        return
    promote = workflow.transition(rules.promote)
    waiting = db.session.scalars(
        select(Submission)
        .where(Submission.form_id == form_id, Submission.state == rules.waitlist)
        .order_by(Submission.submitted_at, Submission.id)
    ).all()
    for candidate in waiting:
        if has_room(form_id, spec, workflow, candidate.seats):
            _apply(candidate, workflow, promote, Actor.system(), None, None, now)


def expire_offers(now: datetime | None = None) -> int:
    """Offers not confirmed in time pass to the next on the waiting list."""
    now = now or utcnow()
    expired = db.session.scalars(
        select(Submission.id).where(
            Submission.state == "offered", Submission.offer_expires_at < now
        )
    ).all()
    for submission_id in expired:
        try:
            transition(
                submission_id, "expire_offer", Actor.system(), expected_state="offered", now=now
            )
        except TransitionRefused:
            db.session.rollback()  # confirmed meanwhile
    return len(expired)
