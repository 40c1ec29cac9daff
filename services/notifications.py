"""Who gets which message when something happens: the receipt, the reviewers' notices, the
`email:<event>` effect of workflow transitions, resume links and digests. Each function runs
inside the caller's transaction and only writes outbox rows (mail.outbox.enqueue); delivery
(mail/) happens after the commit. The files a message carries come from documents/."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from documents.attachments import copies_for_receipt
from documents.letters import letter_for_decision_email
from extensions import db
from forms import placeholders
from forms.applicant_name import applicant_name
from forms.published import spec_for
from forms.spec import FormSpec
from jobs.isolation import held_back, run_each
from mail.links import absolute_url
from mail.outbox import enqueue
from models import Draft, Submission, User
from models.duties import DIGEST
from models.types import utcnow
from services.access import only_reviewable, reviewers_of
from services.tokens import submission_token
from services.users import language_of
from workflows.lookup import workflow_of
from workflows.outcome import outcome_of


def answers_summary(spec: FormSpec, answers: dict, language: str) -> str:
    """The answers as plain text lines (a repeatable group one line per item): never
    turned into links, whatever an answer looks like."""
    lines = []
    for field in spec.inputs:
        if field.name not in answers:
            continue
        label = field.label(language) or field.text("text", language)
        for block in field.answer_blocks(answers[field.name], language):
            if block.item:
                lines.append(f"- {label} – {block.item}: " + ", ".join(block.lines))
            else:
                lines.append(f"- {label}: " + "\n".join(block.lines))
    return "\n".join(lines)


def _common(submission: Submission, spec: FormSpec, language: str) -> dict:
    """The facts placeholders are rendered from (forms.placeholders)."""
    token = submission_token(submission.token_nonce) if submission.token_nonce else None
    return {
        "language": language,
        "reference": submission.reference,
        "person": applicant_name(spec, submission.answers_by_field()),
        "email": submission.applicant_email or "",
        "form_title": spec.text("title", language),
        "organisation": spec.organisation_name(language),
        "contact_email": spec.contact["email"],
        "status_link": absolute_url("applicant.status", token=token) if token else "",
        "closes_at": spec.closes_at,
        "timezone": spec.timezone,
    }


TEST_SUBJECT = "TEST – "  # before the subject of every email about a test submission


def _test_mark(submission: Submission) -> dict:
    """A test submission's emails (made through a preview link) may go out, so that staff
    see them, but say TEST in the subject."""
    return {"subject_prefix": TEST_SUBJECT} if submission.is_test else {}


def _sender(spec: FormSpec, language: str) -> dict:
    return {"sender_name": spec.organisation_name(language), "reply_to": spec.contact["email"]}


def submission_received(submission: Submission) -> None:
    """The applicant's receipt, and a notice to reviewers who want one at once."""
    spec = spec_for(submission.form_version)
    language = submission.language
    if submission.applicant_email:
        facts = _common(submission, spec, language)
        facts.update(_outcome_values(submission, language))
        facts["answers"] = answers_summary(spec, submission.answers_by_field(), language)
        enqueue(
            key=f"receipt:{submission.id}",
            kind="receipt",
            recipient=submission.applicant_email,
            language=language,
            values=placeholders.values(facts, placeholders.EMAIL),
            form_id=submission.form_id,
            submission_id=submission.id,
            attachments=_receipt_attachments(submission, spec),
            greet=applicant_name(spec, submission.answers_by_field()),
            **_sender(spec, language),
            **_test_mark(submission),
        )
    if submission.is_test:
        return  # reviewers are told of real submissions only
    for reviewer in _reviewers(submission.form_id, notify="immediate"):
        reviewer_language = language_of(reviewer)
        facts = _common(submission, spec, reviewer_language)
        facts["review_link"] = absolute_url("review.show", submission_id=submission.id)
        enqueue(
            key=f"new_submission:{submission.id}:{reviewer.id}",
            kind="new_submission",
            recipient=reviewer.email,
            language=reviewer_language,
            values=placeholders.values(facts, placeholders.EMAIL),
            form_id=submission.form_id,
            submission_id=submission.id,
            greet=reviewer.name,
        )


def _outcome_values(submission: Submission, language: str) -> dict[str, str]:
    """What really happened (workflows.outcome): a place, the waiting list with the
    position, a review after the deadline or a reply by a date."""
    outcome = outcome_of(submission, language)
    return {
        "state": outcome.state_label,
        "outcome": outcome.heading,
        "next_steps": " ".join(outcome.next_steps),
    }


def _receipt_attachments(submission: Submission, spec: FormSpec) -> list[dict]:
    """A calendar entry for events with dates, and the PDF and DOCX copies."""
    attachments = []
    rules = workflow_of(submission).capacity
    waiting = (
        rules is not None and submission.state == rules.waitlist
    )  # no seat to put in a calendar
    if spec.raw.get("event") and not waiting:
        event = spec.raw["event"]
        attachments.append(
            {
                "kind": "ics",
                "uid": f"{submission.reference}@{spec.slug}.formdesk",
                "stamp": submission.submitted_at.strftime("%Y%m%dT%H%M%SZ"),
                "start": event["start"],
                # DTEND of an all-day event is the day after the last day (RFC 5545).
                "end": (date.fromisoformat(event["end"]) + timedelta(days=1)).isoformat(),
                "summary": spec.text("title", submission.language),
                "location": spec.localise(event.get("location"), submission.language),
            }
        )
    return attachments + copies_for_receipt(submission)


def _reviewers(form_id: int, notify: str) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.active.is_(True), User.notify == notify, reviewers_of(form_id))
        )
    )


def transition_email(event: str, *, submission: Submission, transition, comment=None, **_) -> None:
    """The `email:<event>` effect of a workflow transition."""
    if not submission.applicant_email:
        return
    spec = spec_for(submission.form_version)
    language = submission.language
    facts = _common(submission, spec, language)
    facts["state"] = workflow_of(submission).state_label(submission.state, language)
    facts["comment"] = (comment or "").strip()
    facts["offer_expires_at"] = submission.offer_expires_at
    entry = _last_audit_entry(submission.id)  # the state change this message is about
    if scheduled := (entry.data or {}).get("scheduled_for"):
        facts["scheduled_on"] = date.fromisoformat(scheduled)
    enqueue(
        key=f"transition:{submission.id}:{transition.name}:{entry.id}",
        kind=event,
        recipient=submission.applicant_email,
        language=language,
        values=placeholders.values(facts, placeholders.EMAIL),
        form_id=submission.form_id,
        submission_id=submission.id,
        attachments=letter_for_decision_email(submission, transition, entry),
        greet=applicant_name(spec, submission.answers_by_field()),
        **_sender(spec, language),
        **_test_mark(submission),
    )


def _last_audit_entry(submission_id: int):
    from models import AuditEntry

    return db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.submission_id == submission_id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


def draft_saved(draft: Draft, token: str) -> None:
    """The resume link, once per draft, when the answers so far include an email."""
    spec = spec_for(draft.form_version)
    email = draft.answers.get(spec.applicant_email_field or "")
    if not isinstance(email, str) or "@" not in email:
        return
    language = draft.language
    enqueue(
        key=f"resume:{draft.id}",
        kind="resume",
        recipient=email,
        language=language,
        values=placeholders.values(
            {
                "language": language,
                "form_title": spec.text("title", language),
                "organisation": spec.organisation_name(language),
                "closes_at": spec.closes_at,
                "timezone": spec.timezone,
                "resume_link": absolute_url("public.resume", token=token),
            },
            placeholders.EMAIL,
        ),
        form_id=draft.form_version.form_id,
        greet=applicant_name(spec, draft.answers),
        **_sender(spec, language),
    )


def send_digests(now=None) -> int:
    """One message per reviewer who chose a daily digest, listing yesterday's submissions.
    Each reviewer on its own (jobs.isolation): one whose digest cannot be written (a call
    of theirs that cannot be read) is retried at the next run, then marked failed, and
    never stops the others' digests."""
    now = now or utcnow()
    reviewer_ids = db.session.scalars(
        select(User.id)
        .where(User.notify == "daily", User.active, User.id.not_in(held_back(DIGEST, now)))
        .order_by(User.id)
    ).all()
    queued = []

    def digest_of(reviewer_id: int) -> None:
        if _queue_digest(db.session.get(User, reviewer_id), now):
            queued.append(reviewer_id)
        db.session.commit()

    run_each(DIGEST, reviewer_ids, digest_of)
    return len(queued)


def _queue_digest(reviewer: User, now: datetime) -> bool:
    query = select(Submission).where(
        Submission.submitted_at > now - timedelta(days=1), Submission.is_test.is_(False)
    )
    query = only_reviewable(query, Submission.form_id, reviewer)
    new = list(db.session.scalars(query.order_by(Submission.submitted_at)))
    if not new:
        return False
    language = language_of(reviewer)
    lines = [f"- {s.reference}: {spec_for(s.form_version).text('title', language)}" for s in new]
    enqueue(
        key=f"digest:{reviewer.id}:{now.date().isoformat()}",
        kind="digest",
        recipient=reviewer.email,
        language=language,
        values=placeholders.values(
            {
                "language": language,
                "count": len(new),
                "submissions": "\n".join(lines),
                "review_link": absolute_url("dashboard.index"),
            },
            placeholders.EMAIL,
        ),
        greet=reviewer.name,
    )
    return True
