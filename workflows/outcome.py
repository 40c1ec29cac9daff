"""What has happened to a submission, told to the person who sent it. The confirmation
page, the receipt email and the copies (PDF, DOCX) all take it from here, so they never
disagree. Driven by the workflow, never by a call: a state that holds a place, a place
offered, the waiting list (with the position), or what a waiting state `awaits`
(workflows/engine.py); a state that declares nothing gets a neutral sentence."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select

from extensions import db
from forms.published import spec_for
from models import Submission
from moments import local_date, local_time_in
from workflows.engine import Workflow
from workflows.lookup import workflow_of

PLACE, OFFER, WAITLIST = "place", "offer", "waitlist"
DECISION_AFTER_DEADLINE, REPLY = "decision_after_deadline", "reply"
FINAL, PENDING = "final", "pending"


@dataclass(frozen=True)
class Outcome:
    kind: str  # one of the names above
    state_label: str  # the workflow's name for the state, in the reader's language
    heading: str  # e.g. "You are on the waiting list"
    next_steps: list[str] = field(default_factory=list)  # sentences, in order
    position: int | None = None  # on the waiting list, 1 for the first


def outcome_of(submission: Submission, language: str) -> Outcome:
    workflow = workflow_of(submission)
    with force_locale(language):
        return _outcome(submission, workflow, language)


def _outcome(submission: Submission, workflow: Workflow, language: str) -> Outcome:
    state = submission.state
    label = workflow.state_label(state, language)
    rules = workflow.capacity
    if rules is not None and state in rules.holds:
        if _offered(submission, workflow):
            return _offer(submission, label, language)
        places = ngettext(
            "%(num)d place is booked for you.",
            "%(num)d places are booked for you.",
            submission.seats,
        )
        return Outcome(PLACE, label, _("Your place is confirmed"), [places])
    if rules is not None and state == rules.waitlist:
        return _waiting(submission, workflow, label)
    if workflow.awaits(state):
        return _awaiting(submission, workflow, label, language)
    if workflow.is_final(state):
        return Outcome(FINAL, label, label)
    return Outcome(
        PENDING,
        label,
        _("Application received"),
        [_("The organiser will tell you what happens next.")],
    )


def _awaiting(submission: Submission, workflow: Workflow, label: str, language: str) -> Outcome:
    """A state waiting for the organiser says what for: a decision after the deadline, or
    a reply within the state's number of days (as a date in the call's time zone)."""
    spec = spec_for(submission.form_version)
    if workflow.awaits(submission.state) == DECISION_AFTER_DEADLINE:
        closes = local_time_in(spec.closes_at, spec.timezone, language)
        sentence = _(
            "The organiser will review what you sent after the deadline of %(date)s and will "
            "tell you the decision.",
            date=closes,
        )
        return Outcome(DECISION_AFTER_DEADLINE, label, _("Application received"), [sentence])
    days = workflow.reply_within_days(submission.state)
    by = (submission.submitted_at + timedelta(days=days)).astimezone(spec.timezone).date()
    sentence = _("We will reply by %(date)s.", date=local_date(by, language))
    return Outcome(REPLY, label, _("Request received"), [sentence])


def _offered(submission: Submission, workflow: Workflow) -> bool:
    """A place held for the person until they confirm it (the offer clock runs)."""
    return (
        submission.offer_expires_at is not None
        and workflow.offer_clock(submission.state) is not None
    )


def _offer(submission: Submission, label: str, language: str) -> Outcome:
    spec = spec_for(submission.form_version)
    until = local_time_in(submission.offer_expires_at, spec.timezone, language)
    sentence = _(
        "Confirm it with your private link before %(date)s, otherwise it passes to the next "
        "person on the waiting list.",
        date=until,
    )
    return Outcome(OFFER, label, _("A place is offered to you"), [sentence])


def _waiting(submission: Submission, workflow: Workflow, label: str) -> Outcome:
    position = waitlist_position(submission, workflow)
    steps = [_("You are number %(position)d on the waiting list.", position=position)]
    promote = workflow.transition(workflow.capacity.promote or "")
    seats = submission.seats
    clock = workflow.offer_clock(promote.target) if promote is not None else None
    if clock is not None:
        steps.append(
            ngettext(
                "If %(num)d place becomes free, we will offer it to you by email.",
                "If %(num)d places become free, we will offer them to you by email.",
                seats,
            )
        )
        steps.append(
            ngettext(
                "You will then have %(num)d hour to confirm.",
                "You will then have %(num)d hours to confirm.",
                clock.hours,
            )
        )
    elif promote is not None:
        steps.append(
            ngettext(
                "If %(num)d place becomes free, it will be yours and we will tell you by email.",
                "If %(num)d places become free, they will be yours and we will tell you by email.",
                seats,
            )
        )
    return Outcome(WAITLIST, label, _("You are on the waiting list"), steps, position)


def waitlist_position(submission: Submission, workflow: Workflow) -> int | None:
    """1 for the first on the waiting list: freed places go in submission order (see
    services.transitions._fill_freed_places); None when the submission is not waiting."""
    rules = workflow.capacity
    if rules is None or not rules.waitlist or submission.state != rules.waitlist:
        return None
    ahead = db.session.scalar(
        select(func.count(Submission.id)).where(
            Submission.form_id == submission.form_id,
            Submission.state == rules.waitlist,
            Submission.is_test.is_(False),
            (Submission.submitted_at < submission.submitted_at)
            | (
                (Submission.submitted_at == submission.submitted_at)
                & (Submission.id < submission.id)
            ),
        )
    )
    return ahead + 1
