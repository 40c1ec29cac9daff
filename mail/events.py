"""The emails that events cause. Each function runs inside the caller's transaction and
only writes outbox rows (mail.outbox.enqueue); delivery happens after the commit."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from extensions import db
from forms.spec import FormSpec
from mail.outbox import enqueue
from models import Draft, ReviewerAssignment, Submission, User
from models.types import utcnow
from moments import local_date, local_time_in
from services.catalog import spec_for
from services.tokens import submission_token
from services.users import language_of
from web.security import link_base
from workflows import effects


def absolute_url(endpoint: str, **values) -> str:
    """Links in emails: on FORMDESK_PUBLIC_URL (see web.security.link_base)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return link_base() + path


def applicant_name(spec: FormSpec, answers: dict) -> str:
    """The person to greet: the answer to the call's `applicant_name_field`, else nothing.
    (Guessing from field names greeted organisations: "Hello Hansestadt Beispielstadt".)"""
    value = answers.get(spec.raw.get("applicant_name_field") or "")
    return value.strip() if isinstance(value, str) else ""


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


def _common(submission: Submission, spec: FormSpec, language: str) -> dict[str, str]:
    person = applicant_name(spec, submission.answers_by_field())
    token = submission_token(submission.token_nonce) if submission.token_nonce else None
    return {
        "reference": submission.reference,
        "name": person or (submission.applicant_email or ""),
        "form_title": spec.text("title", language),
        "organisation": spec.organisation_name(language),
        "contact_email": spec.contact["email"],
        "status_link": absolute_url("applicant.status", token=token) if token else "",
        "deadline": local_time_in(spec.closes_at, spec.timezone, language),
    }


def _sender(spec: FormSpec, language: str) -> dict:
    return {"sender_name": spec.organisation_name(language), "reply_to": spec.contact["email"]}


def submission_received(submission: Submission) -> None:
    """The applicant's receipt, and a notice to reviewers who want one at once."""
    spec = spec_for(submission.form_version)
    language = submission.language
    if submission.applicant_email:
        values = _common(submission, spec, language)
        values.update(_outcome_values(submission, language))
        values["answers"] = answers_summary(spec, submission.answers_by_field(), language)
        enqueue(
            key=f"receipt:{submission.id}",
            kind="receipt",
            recipient=submission.applicant_email,
            language=language,
            values=values,
            form_id=submission.form_id,
            submission_id=submission.id,
            attachments=_receipt_attachments(submission, spec),
            greet=applicant_name(spec, submission.answers_by_field()),
            **_sender(spec, language),
        )
    for reviewer in _reviewers(submission.form_id, notify="immediate"):
        reviewer_language = language_of(reviewer)
        values = _common(submission, spec, reviewer_language)
        values["review_link"] = absolute_url("review.show", submission_id=submission.id)
        enqueue(
            key=f"new_submission:{submission.id}:{reviewer.id}",
            kind="new_submission",
            recipient=reviewer.email,
            language=reviewer_language,
            values=values,
            form_id=submission.form_id,
            submission_id=submission.id,
            greet=reviewer.name,
        )


def _outcome_values(submission: Submission, language: str) -> dict[str, str]:
    """What really happened (services.outcome): a place, the waiting list with the
    position, a review after the deadline or a reply by a date."""
    from services.outcome import outcome_of

    outcome = outcome_of(submission, language)
    return {
        "state": outcome.state_label,
        "outcome": outcome.heading,
        "next_steps": " ".join(outcome.next_steps),
    }


def _receipt_attachments(submission: Submission, spec: FormSpec) -> list[dict]:
    """A calendar entry for events with dates, and what the documents layer adds."""
    from services.transitions import workflow_of

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
    for provider in _receipt_attachment_providers:
        attachments += provider(submission, spec)
    return attachments


_receipt_attachment_providers: list = []


def register_receipt_attachments(provider) -> None:
    """`provider(submission, spec) -> [attachment spec]`, e.g. the documents layer's copies."""
    if provider not in _receipt_attachment_providers:
        _receipt_attachment_providers.append(provider)


def _reviewers(form_id: int, notify: str) -> list[User]:
    assigned = select(ReviewerAssignment.user_id).where(ReviewerAssignment.form_id == form_id)
    return list(
        db.session.scalars(
            select(User).where(
                User.active.is_(True),
                User.notify == notify,
                (User.role == "admin") | User.all_forms.is_(True) | User.id.in_(assigned),
            )
        )
    )


def transition_email(event: str, *, submission: Submission, transition, comment=None, **_) -> None:
    """The `email:<event>` effect of a workflow transition."""
    if not submission.applicant_email:
        return
    from services.transitions import workflow_of

    spec = spec_for(submission.form_version)
    language = submission.language
    values = _common(submission, spec, language)
    values["state"] = workflow_of(submission).state_label(submission.state, language)
    values["comment"] = (comment or "").strip()
    if submission.offer_expires_at:
        values["offer_deadline"] = local_time_in(
            submission.offer_expires_at, spec.timezone, language
        )
    entry = _last_audit_entry(submission.id)  # the state change this message is about
    if scheduled := (entry.data or {}).get("scheduled_for"):
        values["scheduled_for"] = local_date(scheduled, language)
    enqueue(
        key=f"transition:{submission.id}:{transition.name}:{entry.id}",
        kind=event,
        recipient=submission.applicant_email,
        language=language,
        values=values,
        form_id=submission.form_id,
        submission_id=submission.id,
        attachments=[
            found
            for provider in _decision_attachment_providers
            for found in provider(submission, spec, transition, entry)
        ],
        greet=applicant_name(spec, submission.answers_by_field()),
        **_sender(spec, language),
    )


_decision_attachment_providers: list = []


def register_decision_attachments(provider) -> None:
    """`provider(submission, spec, transition, audit_entry) -> [attachment spec]`, e.g. the
    documents layer's decision letter."""
    if provider not in _decision_attachment_providers:
        _decision_attachment_providers.append(provider)


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
        values={
            "form_title": spec.text("title", language),
            "organisation": spec.organisation_name(language),
            "deadline": local_time_in(spec.closes_at, spec.timezone, language),
            "resume_link": absolute_url("public.resume", token=token),
        },
        form_id=draft.form_version.form_id,
        greet=applicant_name(spec, draft.answers),
        **_sender(spec, language),
    )


def send_digests(now=None) -> int:
    """One message per reviewer who chose a daily digest, listing yesterday's submissions."""
    now = now or utcnow()
    since = now - timedelta(days=1)
    count = 0
    for reviewer in db.session.scalars(select(User).where(User.notify == "daily", User.active)):
        from services.access import reviewable_form_ids

        ids = reviewable_form_ids(reviewer)
        query = select(Submission).where(Submission.submitted_at > since)
        if ids is not None:
            query = query.where(Submission.form_id.in_(ids or [-1]))
        new = list(db.session.scalars(query.order_by(Submission.submitted_at)))
        if not new:
            continue
        language = language_of(reviewer)
        lines = [
            f"- {s.reference}: {spec_for(s.form_version).text('title', language)}" for s in new
        ]
        enqueue(
            key=f"digest:{reviewer.id}:{now.date().isoformat()}",
            kind="digest",
            recipient=reviewer.email,
            language=language,
            values={
                "count": str(len(new)),
                "submissions": "\n".join(lines),
                "review_link": absolute_url("dashboard.index"),
            },
            greet=reviewer.name,
        )
        count += 1
    db.session.commit()
    return count


effects.register("email", transition_email)
