"""Moving a submission through its workflow: one function, one transaction, one audit
entry per move. Capacity guards run under the form's lock; a double click runs once.

A move that writes to the applicant can be previewed first: `preview` takes it in a
transaction that is rolled back and returns what it wrote (emails, letters). `transition`
given that preview's digest commits only when it writes exactly the same again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from documents.content import DocumentContent
from extensions import db
from forms.published import spec_for
from jobs import dispatch, isolation
from jobs.dispatch import Task
from models import AuditEntry, FormVersion, OutboxMessage, Submission, User
from models.duties import EXPIRE_OFFER
from models.types import utcnow
from services.access import can_decide
from services.capacity import has_room, lock_form, seats_taken
from workflows import effects
from workflows.engine import BUILTIN_EFFECTS, Transition, Workflow
from workflows.lookup import workflow_of, workflow_of_version


@dataclass(frozen=True)
class Actor:
    kind: str  # applicant | reviewer | admin | system
    user_id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system")


class TransitionRefused(Exception):
    """The message says why, for the person who asked."""


class OutcomeChanged(TransitionRefused):
    """What the move would write is no longer what the person checked and confirmed."""


@dataclass(frozen=True)
class WrittenMessage:
    submission_id: int | None
    reference: str  # of the submission it is about
    kind: str  # the email event, e.g. `accepted`
    recipient: str
    language: str
    subject: str
    body: str
    attachments: tuple[str, ...] = ()  # what rides along, e.g. ("letter",)


@dataclass(frozen=True)
class WrittenLetter:
    submission_id: int
    content: DocumentContent


@dataclass
class Outcome:
    """What a move writes besides the state, as the code that writes it wrote it."""

    submission_id: int
    state: str
    events: tuple[str, ...]  # the move's own email events (`email:<event>`)
    messages: list[WrittenMessage] = field(default_factory=list)
    letters: list[WrittenLetter] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def to_applicant(self) -> list[WrittenMessage]:
        return [m for m in self.messages if m.submission_id == self.submission_id]

    @property
    def to_others(self) -> list[WrittenMessage]:
        """Messages to other applicants, e.g. the one who gets a freed place."""
        return [m for m in self.messages if m.submission_id != self.submission_id]

    @property
    def letter(self) -> DocumentContent | None:
        return next(
            (x.content for x in self.letters if x.submission_id == self.submission_id), None
        )

    def digest(self) -> str:
        """A fingerprint of what the person confirms: where the move ends, its own emails
        to this applicant and its letter. Emails that follow from it (an offer of a freed
        seat, with a deadline counted from the moment it is made) are shown but not held
        to the minute."""
        letter = self.letter
        own = [m for m in self.to_applicant if m.kind in self.events]
        checked = {
            "state": self.state,
            "messages": [asdict(m) for m in own],
            "letter": asdict(letter) if letter is not None else None,
        }
        encoded = json.dumps(checked, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()


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
    confirmed: str | None = None,
) -> Submission:
    """Apply transition `name`. `expected_state` is the state the person saw: when it has
    changed meanwhile (a double click, another reviewer), nothing happens twice.
    `confirmed` is the digest of the preview the person confirmed: when the move would
    now write something else, nothing happens."""
    submission, step, warnings = _take(
        submission_id, name, actor, comment, expected_state, scheduled_for, now or utcnow()
    )
    if confirmed is not None and _outcome(submission, step, warnings).digest() != confirmed:
        raise OutcomeChanged(
            _("What this step sends has changed since you checked it. Check it again.")
        )
    db.session.commit()
    return submission


def preview(
    submission_id: int,
    name: str,
    actor: Actor,
    *,
    comment: str | None = None,
    expected_state: str | None = None,
    scheduled_for: date | None = None,
) -> Outcome:
    """What `transition` with the same arguments would write, by the same code, in a
    transaction that is then rolled back: nothing is kept, sent or made."""
    try:
        submission, step, warnings = _take(
            submission_id, name, actor, comment, expected_state, scheduled_for, utcnow()
        )
        return _outcome(submission, step, warnings)
    finally:
        db.session.rollback()


def _take(submission_id, name, actor, comment, expected_state, scheduled_for, now):
    """Check and apply the move inside the open transaction; the caller commits or rolls
    back. Returns the submission, the move and what staff should know before taking it."""
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
    if not _staff_may_decide(actor, submission.form_id):
        raise TransitionRefused(
            _("Reviewers read, score and comment; the call's managers and admins decide.")
        )
    if step.comment_required and not (comment or "").strip():
        if step.reopens:
            raise TransitionRefused(_("Give the reason for reopening the decision."))
        raise TransitionRefused(_("Write a comment: the applicant needs to know what to do."))
    if step.needs_date and scheduled_for is None:
        raise TransitionRefused(_("Choose the date."))
    warnings = _warnings(submission, workflow, step)
    _apply(submission, workflow, step, actor, comment, scheduled_for, now)
    return submission, step, warnings


def _staff_may_decide(actor: Actor, form_id: int) -> bool:
    """A staff member's role and calls (services.access.can_decide); moves by the applicant,
    the system, or code without a person (no user id) are not staff decisions."""
    if actor.kind not in ("reviewer", "admin") or actor.user_id is None:
        return True
    return can_decide(db.session.get(User, actor.user_id), form_id)


def _warnings(submission: Submission, workflow: Workflow, step: Transition) -> list[str]:
    """Moves that are allowed but probably not meant: waitlisting while places are free
    (unless the move itself passes free places on)."""
    rules = workflow.capacity
    spec = spec_for(submission.form_version)
    if rules is None or spec.capacity is None or step.target != rules.waitlist:
        return []
    if "fill_freed_places" in step.effects:
        return []
    free = spec.capacity - seats_taken(submission.form_id, workflow)
    if free < submission.seats:
        return []
    return [
        ngettext(
            "%(num)d of %(capacity)d places is still free: this application could have it"
            " now instead of waiting.",
            "%(num)d of %(capacity)d places are still free: this application could have one"
            " now instead of waiting.",
            free,
            capacity=spec.capacity,
        )
    ]


def _outcome(submission: Submission, step: Transition, warnings: list[str]) -> Outcome:
    """What the open transaction has written for the applicants: the outbox rows and the
    letters it asked for (rendered as the worker will render them)."""
    from documents.letters import letter_content

    message_ids = [job["message_id"] for job in dispatch.pending(Task.DELIVER_MESSAGE)]
    rows = (
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(message_ids))
            .order_by(OutboxMessage.id)
        ).all()
        if message_ids
        else []
    )
    references = dict(
        db.session.execute(
            select(Submission.id, Submission.reference).where(
                Submission.id.in_({row.submission_id for row in rows})
            )
        ).all()
    )
    messages = [
        WrittenMessage(
            row.submission_id,
            references.get(row.submission_id, ""),
            row.kind,
            row.recipient,
            row.language,
            row.subject,
            row.text_body,
            tuple(a.get("kind", "") for a in row.attachments or []),
        )
        for row in rows
    ]
    letters = []
    for job in dispatch.pending(Task.MAKE_LETTERS):
        entry = db.session.get(AuditEntry, job["audit_entry_id"])
        decided = db.session.get(Submission, entry.submission_id)
        letters.append(WrittenLetter(decided.id, letter_content(decided, entry)))
    events = tuple(e.split(":", 1)[1] for e in step.effects if e.startswith("email:"))
    return Outcome(submission.id, submission.state, events, messages, letters, warnings)


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
    # The transition's own data first, whatever order the workflow lists them in: an email
    # or a document written by a hook shows the final state (the offer clock of the state
    # it enters: the deadline). Freed
    # places are given on last: that takes further transitions (perhaps of this very
    # submission, back on the waiting list), whose emails follow this one's.
    if (clock := workflow.offer_clock(step.target)) is not None:
        submission.offer_expires_at = now + timedelta(hours=clock.hours)
    for effect in (e for e in step.effects if e in BUILTIN_EFFECTS):
        if effect == "remove_files":
            from services.retention import remove_files_of

            remove_files_of(submission, actor.kind)  # bytes deleted once this commits
    for effect in (e for e in step.effects if e not in BUILTIN_EFFECTS):
        effects.dispatch(effect, submission=submission, transition=step, comment=comment)
    if "fill_freed_places" in step.effects:
        _fill_freed_places(submission.form_id, workflow, spec, now)


def _fill_freed_places(form_id: int, workflow: Workflow, spec, now: datetime) -> None:
    """Give freed places to the waiting list in order; someone who wants more seats than
    are free is passed over for the next one who fits (the caller holds the lock)."""
    rules = workflow.capacity
    if rules is None or not rules.waitlist or not rules.promote or spec.capacity is None:
        return
    promote = workflow.transition(rules.promote)
    waiting = db.session.scalars(
        select(Submission)
        .where(
            Submission.form_id == form_id,
            Submission.state == rules.waitlist,
            Submission.is_test.is_(False),  # tests take no place, and are given none
        )
        .order_by(Submission.submitted_at, Submission.id)
    ).all()
    for candidate in waiting:
        if has_room(form_id, spec, workflow, candidate.seats):
            _apply(candidate, workflow, promote, Actor.system(), None, None, now)


EXPIRE_OFFER_DUTY = EXPIRE_OFFER


def _in_offer(version, state: str) -> bool:
    """Still in a state with an offer clock, in its own version's workflow (a confirmed
    offer keeps its past deadline, but its state has no clock). A version that cannot be
    read counts: its item then fails on its own, isolated, and the others go on."""
    try:
        return workflow_of_version(version).offer_clock(state) is not None
    except (KeyError, TypeError, ValueError):
        return True


def expire_offers(now: datetime | None = None) -> int:
    """Offers not confirmed in time pass to the next on the waiting list, each on its own
    (jobs.isolation): one that cannot be expired is retried, then marked failed, and the
    others expire meanwhile."""
    now = now or utcnow()
    candidates = db.session.execute(
        select(Submission.id, Submission.state, Submission.form_version_id)
        .where(Submission.offer_expires_at < now)
        .where(Submission.id.not_in(isolation.held_back(EXPIRE_OFFER_DUTY, now)))
        .order_by(Submission.id)
    ).all()
    versions = {
        v.id: v
        for v in db.session.scalars(
            select(FormVersion).where(FormVersion.id.in_({r.form_version_id for r in candidates}))
        )
    }
    expired = [row.id for row in candidates if _in_offer(versions[row.form_version_id], row.state)]

    def expire(submission_id: int) -> None:
        submission = db.session.get(Submission, submission_id)
        state = submission.state
        clock = workflow_of(submission).offer_clock(state)
        if clock is None:
            return  # moved on meanwhile
        try:
            transition(
                submission_id, clock.on_expiry, Actor.system(), expected_state=state, now=now
            )
        except TransitionRefused:
            db.session.rollback()  # confirmed meanwhile

    return isolation.run_each(EXPIRE_OFFER_DUTY, expired, expire, submission_of=lambda i: i)
