"""Submitting a draft: one transaction writes the submission, its answers and files, its
initial workflow state and the audit entry."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from extensions import db
from forms.fields import File
from forms.published import spec_for
from jobs import dispatch
from jobs.dispatch import Task
from models import Answer, AuditEntry, Draft, ReferenceCounter, Submission
from models.types import utcnow
from services import notifications
from services.answers import answers_to_keep, first_page_with_problems
from services.capacity import lock_form, seats_wanted
from services.deadlines import draft_accepts_answers
from services.duplicates import earlier_submission
from services.tokens import hash_token, new_submission_token, submission_token
from services.transitions import initial_state, workflow_of_version


class SubmissionRefused(Exception):
    """Raised with a reason code the web layer turns into a message for the person."""

    def __init__(self, reason: str, page: int | None = None, earlier=None):
        super().__init__(reason)
        self.reason, self.page = reason, page
        self.earlier = earlier  # for "duplicate": the EarlierSubmission with this email


@dataclass
class Submitted:
    submission: Submission
    token: str  # for the applicant's secret link; shown once, never stored
    reference: str  # read before the commit expires the submission (no reload to show it)


def submit(draft: Draft, now: datetime | None = None, confirm_duplicate: bool = False) -> Submitted:
    """`confirm_duplicate`: the applicant was told that this email already sent an
    application to this call recently, and sends another one all the same."""
    now = now or utcnow()
    version = draft.form_version
    spec = spec_for(version)
    if draft.submission_id is not None:
        return _sent_before(draft.submission_id)
    # The dates of the call's current version (an extended deadline keeps this draft
    # alive); a test draft, made through a preview link, is never too early or too late.
    if not draft_accepts_answers(draft, now):
        raise SubmissionRefused("closed")
    page = first_page_with_problems(spec, draft.answers, draft.language)
    if page is not None:
        raise SubmissionRefused("incomplete", page)

    kept = answers_to_keep(spec, draft.answers)
    nonce, token, token_hash = new_submission_token()
    workflow = workflow_of_version(version)
    lock_form(version.form_id)  # places and references are counted under the form's lock
    # Under the lock, read again: the same draft sent twice at once (a double click) is
    # one submission, and the later request answers with the first one's confirmation.
    first = db.session.scalar(select(Draft.submission_id).where(Draft.id == draft.id))
    if first is not None:
        db.session.rollback()
        return _sent_before(first)
    email = kept.get(spec.applicant_email_field) if spec.applicant_email_field else None
    # Under the lock: two "Send" clicks from two tabs cannot both pass as the first.
    test = bool(draft.is_test)
    earlier = None if test else earlier_submission(version.form_id, email, now)
    if earlier is not None and not confirm_duplicate:
        db.session.rollback()
        raise SubmissionRefused("duplicate", earlier=earlier)
    submission = Submission(
        form_id=version.form_id,
        form_version_id=version.id,
        reference=(
            _test_reference(spec.raw["reference_prefix"], now, spec)
            if test
            else _next_reference(version.form_id, spec.raw["reference_prefix"], now, spec)
        ),
        is_test=test,
        token_hash=token_hash,
        token_nonce=nonce,
        seats=seats_wanted(spec, kept),
        language=draft.language,
        applicant_email=email,
        started_at=draft.started_at,
        submitted_at=now,
    )
    submission.answers = [
        Answer(field=name, position=position, value=value)
        for position, (name, value) in enumerate(kept.items())
    ]
    submission.form_version = version
    submission.state = initial_state(submission, workflow)
    db.session.add(submission)
    db.session.flush()
    _claim_attachments(draft, submission, kept)
    draft.submission_id = submission.id
    db.session.add(
        AuditEntry(
            submission_id=submission.id,
            form_id=version.form_id,
            action="submission.submitted",
            actor_type="applicant",
            to_state=submission.state,
            data={
                "form_version": version.number,
                **({"test": True} if test else {}),
                "reference": submission.reference,
                **({"duplicate_of": earlier.reference} if earlier is not None else {}),
            },
        )
    )
    notifications.submission_received(submission)  # outbox rows, same transaction
    dispatch.after_commit(Task.MAKE_DOCUMENTS, submission_id=submission.id)
    reference = submission.reference
    db.session.commit()
    return Submitted(submission, token, reference)


def _sent_before(submission_id: int) -> Submitted:
    """The result of the request that sent this draft first (its link derived again)."""
    submission = db.session.get(Submission, submission_id)
    return Submitted(submission, submission_token(submission.token_nonce), submission.reference)


def submitted_draft(token: str | None) -> Submitted | None:
    """The submission made from the draft `token` opens, once it is sent: a request that
    still carries the draft's token (the second of a double click) gets its confirmation."""
    if not token or len(token) > 100:
        return None
    sent = select(Draft.submission_id).where(
        Draft.token_hash == hash_token(token), Draft.submission_id.is_not(None)
    )
    submission_id = db.session.scalar(sent)
    return _sent_before(submission_id) if submission_id is not None else None


def _claim_attachments(draft: Draft, submission: Submission, kept: dict) -> None:
    """Files still answering a shown field move to the submission; the rest are removed."""
    from services.uploads import discard

    spec = spec_for(draft.form_version)
    if not spec.takes_files:
        return  # no question asks for a file: no attachment to look up
    wanted = attachment_ids(spec, kept)
    for attachment in list(draft.attachments):
        if attachment.id in wanted:
            attachment.submission_id = submission.id
            attachment.draft_id = None
        else:
            discard(attachment)


def attachment_ids(spec, answers: dict) -> set[int]:
    """The ids of the files these answers refer to, found by their questions' type."""
    return {File.attachment_id(value) for _place, value in spec.file_answers(answers)} - {None}


TEST_PREFIX = "TEST-"


def _test_reference(prefix: str, now: datetime, spec) -> str:
    """`TEST-MSAS-2027-3F9A1C`: a test submission (made through a preview link) takes no
    number from the call's counter, so real references stay without gaps."""
    year = now.astimezone(spec.timezone).year
    while True:
        reference = f"{TEST_PREFIX}{prefix}-{year}-{secrets.token_hex(3).upper()}"
        taken = select(Submission.id).where(Submission.reference == reference)
        if db.session.scalar(taken) is None:
            return reference


def _next_reference(form_id: int, prefix: str, now: datetime, spec) -> str:
    """`MSAS-2027-0007`: a per-form, per-year counter incremented atomically (the UPDATE takes
    a row lock on PostgreSQL; SQLite serialises writers), so references never repeat."""
    year = now.astimezone(spec.timezone).year
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    counter = insert(ReferenceCounter).values(form_id=form_id, year=year, last=1)
    # One statement: the year's first reference creates the row, every later one counts on.
    next_number = counter.on_conflict_do_update(
        index_elements=[ReferenceCounter.form_id, ReferenceCounter.year],
        set_={"last": ReferenceCounter.last + 1},
    ).returning(ReferenceCounter.last)
    while True:
        number = db.session.execute(next_number).scalar_one()
        reference = f"{prefix}-{year}-{number:04d}"
        # Two calls may share a prefix (the counter is per call): skip the numbers the
        # other one gave out, instead of failing on the unique reference (a 500).
        taken = select(Submission.id).where(Submission.reference == reference)
        if db.session.scalar(taken) is None:
            return reference


def find_submission(token: str | None) -> Submission | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(select(Submission).where(Submission.token_hash == hash_token(token)))
