"""What an applicant does through their secret link (no account): see the state and the
organiser's message, download their files, take the transitions open to them, and change
their answers while nothing is decided. Each change is one transaction with its audit entry.

An edit in progress is kept in the submission's draft (the one it was sent from, or a new one
when there is none): pages are changed one by one there, and `save_edit` copies the result to
the submission, keeping the answers as they were in a `SubmissionRevision`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NoReturn

from flask_babel import gettext as _
from sqlalchemy import select

from extensions import db
from forms.published import spec_for
from forms.spec import FormSpec
from models import Answer, Attachment, AuditEntry, Draft, Submission, SubmissionRevision
from models.types import utcnow
from services.answers import answers_to_keep, first_page_with_problems
from services.capacity import has_room, lock_form, seats_wanted
from services.deadlines import window_of
from services.submissions import _claim_attachments, attachment_ids
from services.tokens import new_token
from services.transitions import (
    Actor,
    TransitionRefused,
    _fill_freed_places,
    transition,
    workflow_of,
)
from workflows.engine import Transition, Workflow

APPLICANT = Actor("applicant")


class EditRefused(Exception):
    """Why the answers cannot be changed (or saved) now; `page` when one needs attention."""

    def __init__(self, message: str, page: int | None = None):
        super().__init__(message)
        self.page = page


@dataclass
class ApplicantStatus:
    state: str
    state_label: str
    final: bool
    message: str | None  # the organiser's comment on the move into the current state
    scheduled_for: date | None
    offer_expires_at: datetime | None
    offer_expired: bool = False  # the time to confirm passed (the job passes it on soon)
    actions: list[Transition] = field(default_factory=list)
    can_edit: bool = False
    asked_for_more: bool = False  # saving changed answers sends them back (`edit_sends`)


@dataclass
class EditResult:
    changed: list[str]
    revision: int
    resubmitted: bool


# --- reading ---------------------------------------------------------------------------


def _transition_entries(submission: Submission) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.submission_id == submission.id,
                AuditEntry.action == "submission.transition",
            )
            .order_by(AuditEntry.created_at, AuditEntry.id)
        )
    )


def status_of(
    submission: Submission, language: str, now: datetime | None = None
) -> ApplicantStatus:
    """What the applicant's page shows. Only the audit log's transition comments are read:
    internal comments live in their own table and never reach this page."""
    now = now or utcnow()
    workflow = workflow_of(submission)
    entries = _transition_entries(submission)
    latest = entries[-1] if entries else None
    message = None
    if latest is not None and latest.actor_type in ("reviewer", "admin") and latest.comment:
        message = latest.comment  # a comment on an earlier state would no longer be current
    scheduled = None
    dated = [e for e in entries if (e.data or {}).get("scheduled_for")]
    if dated and latest is not None and latest.actor_type != "applicant":
        scheduled = date.fromisoformat(dated[-1].data["scheduled_for"])
    offer_deadline = None
    if submission.offer_expires_at is not None and _offer_state(workflow, submission.state):
        offer_deadline = submission.offer_expires_at
    return ApplicantStatus(
        state=submission.state,
        state_label=workflow.state_label(submission.state, language),
        final=workflow.is_final(submission.state),
        message=message,
        scheduled_for=scheduled,
        offer_expires_at=offer_deadline,
        offer_expired=_offer_expired(workflow, submission, now),
        actions=_applicant_actions(workflow, submission, now),
        can_edit=edit_refusal(submission, now=now) is None,
        asked_for_more=workflow.edit_sends(submission.state) is not None,
    )


def _offer_state(workflow: Workflow, state: str) -> bool:
    """A state with an offer clock (a place offered that must be confirmed)."""
    return workflow.offer_clock(state) is not None


def _offer_expired(workflow: Workflow, submission: Submission, now: datetime) -> bool:
    """The time to confirm an offered place has passed (the job passes it on soon)."""
    return (
        _offer_state(workflow, submission.state)
        and submission.offer_expires_at is not None
        and submission.offer_expires_at < now
    )


def _applicant_actions(workflow: Workflow, submission: Submission, now: datetime) -> list:
    """The transitions open to the applicant now: an expired offer can no longer be taken."""
    actions = workflow.available(submission.state, APPLICANT.kind)
    if _offer_expired(workflow, submission, now):
        holds = workflow.capacity.holds if workflow.capacity else ()
        actions = [step for step in actions if step.target not in holds]
    return actions


def current_attachments(submission: Submission) -> list[Attachment]:
    """The files the current answers refer to (earlier versions stay for the reviewers)."""
    spec = spec_for(submission.form_version)
    wanted = attachment_ids(spec, submission.answers_by_field())
    return [a for a in submission.attachments if a.id in wanted]


def attachment_of(submission: Submission, attachment_id: int) -> Attachment | None:
    """The attachment only when it belongs to this submission."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.submission_id != submission.id:
        return None
    return attachment


# --- transitions -----------------------------------------------------------------------


def transition_for(
    submission: Submission, name: str, now: datetime | None = None
) -> Transition | None:
    """The transition `name` when the applicant may take it now."""
    workflow = workflow_of(submission)
    actions = _applicant_actions(workflow, submission, now or utcnow())
    return next((step for step in actions if step.name == name), None)


def act(
    submission_id: int, name: str, expected_state: str | None, now: datetime | None = None
) -> Submission:
    """Apply an applicant's transition; `expected_state` is the state their page showed, so a
    second click (or a change meanwhile) applies nothing twice."""
    now = now or utcnow()
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        raise TransitionRefused(_("This submission does not exist."))
    workflow = workflow_of(submission)
    step = workflow.transition(name)
    if step is None or APPLICANT.kind not in step.actors:
        raise TransitionRefused(_("You are not allowed to do this."))
    if step not in _applicant_actions(workflow, submission, now) and _offer_expired(
        workflow, submission, now
    ):
        raise TransitionRefused(_("The time to confirm this place has passed."))
    return transition(submission_id, name, APPLICANT, expected_state=expected_state, now=now)


# --- editing ---------------------------------------------------------------------------


def edit_refusal(
    submission: Submission, started_at: datetime | None = None, now: datetime | None = None
) -> str | None:
    """None when the answers may be changed; else the reason, for the applicant.

    The state declares it (`applicant_edits`): `while_open` while the call accepts answers
    (an edit begun before the deadline may be saved in the grace period, like a
    submission), `always` whatever the deadline (the organiser asked for more)."""
    now = now or utcnow()
    allowed = workflow_of(submission).applicant_edits(submission.state)
    if allowed == "always":
        return None
    if allowed is None:
        return _("Your answers can no longer be changed: the organiser has dealt with them.")
    if submission.is_test:
        return None  # made through a preview link: no deadline applies
    # The dates and grace of the call's current version (an extended deadline counts).
    version = submission.form.current_version or submission.form_version
    if not window_of(version).accepts(started_at or now, now):
        return _("Your answers can no longer be changed: the call is closed.")
    return None


def edit_workspace(submission: Submission) -> Draft | None:
    return db.session.scalar(
        select(Draft).where(Draft.submission_id == submission.id).order_by(Draft.id.desc())
    )


def open_edit(submission: Submission) -> Draft:
    """Start changing the answers: the workspace holds the submission's answers again, and
    files uploaded in an earlier, unsaved edit are removed."""
    from services.uploads import discard

    if (reason := edit_refusal(submission)) is not None:
        raise EditRefused(reason)
    draft = edit_workspace(submission)
    if draft is None:
        draft = Draft(
            form_version=submission.form_version,
            token_hash=new_token()[1],  # never given out: the submission's link opens it
            language=submission.language,
            started_at=submission.started_at,
            submission_id=submission.id,
        )
        db.session.add(draft)
    for attachment in list(draft.attachments):
        discard(attachment)
    spec = spec_for(submission.form_version)
    draft.answers = submission.answers_by_field()
    draft.completed_pages = [page.index for page in spec.pages]
    db.session.commit()
    return draft


def save_edit(
    submission_id: int,
    expected_revision: int,
    started_at: datetime | None = None,
    now: datetime | None = None,
) -> EditResult:
    """Replace the answers with the workspace's: the previous ones become revision
    `expected_revision`, the audit entry names the changed fields, and when the organiser had
    asked for more the application goes back to them (the state's `edit_sends`) in the same
    transaction."""
    now = now or utcnow()
    submission, draft = _lock_edit(submission_id, expected_revision, started_at, now)
    spec = spec_for(submission.form_version)
    kept = answers_to_keep(spec, draft.answers)
    previous = submission.answers_by_field()
    changed = _changed_names(spec, previous, kept)
    sends = workflow_of(submission).edit_sends(submission.state)
    if not changed and sends is None:
        _refuse(_("You have not changed any answer."))
    if changed:
        _store_revision(submission, draft, spec, previous, kept, changed, now)
    draft.answers = dict(kept)
    db.session.flush()
    if sends is not None:
        try:  # commits the edit and the move together
            state = submission.state
            transition(submission.id, sends.name, APPLICANT, expected_state=state, now=now)
        except TransitionRefused:
            db.session.rollback()
            raise
    else:
        db.session.commit()
    return EditResult(changed=changed, revision=submission.revision, resubmitted=sends is not None)


def _refuse(message: str, page: int | None = None) -> NoReturn:
    """Nothing of the edit is written: the form's lock is released with the transaction."""
    db.session.rollback()
    raise EditRefused(message, page)


def _lock_edit(
    submission_id: int, expected_revision: int, started_at: datetime | None, now: datetime
) -> tuple[Submission, Draft]:
    """The submission, under its form's lock, and the workspace to save; refused when the
    submission changed meanwhile, may not be changed now, or an answer needs attention."""
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        raise EditRefused(_("This submission does not exist."))
    lock_form(submission.form_id)  # seats and the revision number are checked under the lock
    db.session.refresh(submission)
    if submission.revision != expected_revision:
        _refuse(_("Your application was changed meanwhile (in another window?). Check it again."))
    if (reason := edit_refusal(submission, started_at, now)) is not None:
        _refuse(reason)
    draft = edit_workspace(submission)
    if draft is None:
        _refuse(_("There are no changes to save."))
    spec = spec_for(submission.form_version)
    page = first_page_with_problems(spec, draft.answers, submission.language)
    if page is not None:
        _refuse(_("Some answers need your attention."), page)
    return submission, draft


def _changed_names(spec: FormSpec, previous: dict, kept: dict) -> list[str]:
    """The answers that differ, in form order, then those of no current question."""
    names = [f.name for f in spec.inputs]
    changed = [n for n in names if previous.get(n) != kept.get(n)]
    changed += sorted(n for n in set(previous) | set(kept) if n not in names and n not in changed)
    return changed


def _store_revision(
    submission: Submission,
    draft: Draft,
    spec: FormSpec,
    previous: dict,
    kept: dict,
    changed: list[str],
    now: datetime,
) -> None:
    """Keep the answers as they were, write the new ones with their files and seats, and
    offer the places an edit frees to the waiting list."""
    workflow = workflow_of(submission)
    old_seats = submission.seats
    new_seats = seats_wanted(spec, kept)
    _check_room(submission, spec, workflow, new_seats - old_seats)
    db.session.add(
        SubmissionRevision(
            submission_id=submission.id, number=submission.revision, answers=previous
        )
    )
    _replace_answers(submission, kept)
    _claim_attachments(draft, submission, kept)
    submission.seats = new_seats
    if spec.applicant_email_field:
        submission.applicant_email = kept.get(spec.applicant_email_field)
    submission.revision += 1
    db.session.add(_edit_audit(submission, changed))
    db.session.flush()
    if new_seats < old_seats and workflow.capacity is not None:
        _fill_freed_places(submission.form_id, workflow, spec, now)


def _check_room(submission: Submission, spec: FormSpec, workflow: Workflow, more: int) -> None:
    """Refuses an edit asking `more` places than are free, while the submission holds one."""
    holds = workflow.capacity.holds if workflow.capacity else ()
    if (
        more > 0
        and submission.state in holds
        and not has_room(submission.form_id, spec, workflow, more)
    ):
        _refuse(
            _(
                "There are not enough free places for %(count)d people.",
                count=submission.seats + more,
            )
        )


def _edit_audit(submission: Submission, changed: list[str]) -> AuditEntry:
    return AuditEntry(
        submission_id=submission.id,
        form_id=submission.form_id,
        action="submission.edited",
        actor_type=APPLICANT.kind,
        from_state=submission.state,
        to_state=submission.state,
        data={
            "revision": submission.revision,
            "previous_revision": submission.revision - 1,
            "changed": changed,
        },
    )


def _replace_answers(submission: Submission, kept: dict) -> None:
    """Rows of unchanged names are updated in place (the unique (submission, field) pair
    would refuse an insert before the delete); rows of dropped answers are deleted."""
    existing = {answer.field: answer for answer in submission.answers}
    rows = []
    for position, (name, value) in enumerate(kept.items()):
        row = existing.pop(name, None) or Answer(field=name)
        row.position, row.value = position, value
        rows.append(row)
    submission.answers = rows
