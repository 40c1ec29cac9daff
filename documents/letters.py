"""Decision letters. A workflow transition with the effect `document:decision_letter` marks
its own audit entry (inside the transition's transaction, so the wish exists exactly when
the decision does); the background worker then makes the letter as PDF and DOCX. Each
decision gets its own letter: the documents' revision is the id of the audit entry that
caused them. The text is the form's `letters` text for the new state, else a default
(documents/letters.yaml), with `{placeholder}`s filled as in email texts (forms.placeholders)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import yaml
from sqlalchemy import Text, cast, exists, or_, select

from documents.content import DocumentContent, decision_letter
from documents.store import _keep, documents_made, render
from extensions import db
from forms import placeholders
from forms.applicant_name import applicant_name
from forms.published import spec_for
from forms.spec import FormSpec
from jobs import dispatch, isolation
from jobs.dispatch import Task
from models import AuditEntry, Document, Submission, installation
from models.duties import LETTERS
from moments import local_date
from workflows.lookup import workflow_of

LETTER_KINDS = ("letter_pdf", "letter_docx")
TRANSITION = "submission.transition"
DEFAULTS_FILE = Path(__file__).with_name("letters.yaml")
LETTERS_DUTY = LETTERS


# --- the text -------------------------------------------------------------------------------


@cache
def _defaults() -> dict:
    return yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))


def letter_text(spec: FormSpec, state: str, language: str) -> str:
    """The form's own text for this state (its default language when the applicant's is
    missing), else the default text for the state (or the generic `decision` one)."""
    own = (spec.raw.get("letters") or {}).get(state)
    if own:
        return spec.localise(own, language)
    defaults = _defaults()
    texts = defaults.get(state) or defaults["decision"]
    return texts.get(language) or texts.get(spec.default_language) or texts["en"]


def letter_values(
    submission: Submission, spec: FormSpec, entry: AuditEntry, state_label: str
) -> dict[str, str]:
    """The letter's placeholders (forms.placeholders, those of LETTER use) filled in."""
    language = submission.language
    facts = {
        "language": language,
        "person": applicant_name(spec, submission.answers_by_field()),
        "email": submission.applicant_email or "",
        "reference": submission.reference,
        "form_title": spec.text("title", language),
        "organisation": spec.organisation_name(language),
        "contact_name": spec.contact.get("name", ""),
        "contact_email": spec.contact["email"],
        "state": state_label,
        "comment": (entry.comment or "").strip(),
        "decided_on": entry.created_at.astimezone(spec.timezone).date(),
        "installation": installation.name(language),
    }
    return placeholders.values(facts, placeholders.LETTER)


def paragraphs_of(text: str, values: dict[str, str]) -> list[str]:
    """Filled in, split at blank lines; a paragraph left empty (no comment) goes."""
    filled = placeholders.fill(text, values)
    return [p.strip() for p in re.split(r"\n\s*\n", filled) if p.strip()]


def letter_content(submission: Submission, entry: AuditEntry) -> DocumentContent:
    spec = spec_for(submission.form_version)
    state = entry.to_state or submission.state
    label = workflow_of(submission).state_label(state, submission.language)
    text = letter_text(spec, state, submission.language)
    return decision_letter(
        submission,
        spec,
        state_label=label,
        decided_at=entry.created_at,
        paragraphs=paragraphs_of(text, letter_values(submission, spec, entry, label)),
    )


# --- the wish, inside the transition --------------------------------------------------------


def _transition_entry(submission_id: int) -> AuditEntry | None:
    """The entry the transition service has just added (and flushed) for this move."""
    return db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.submission_id == submission_id, AuditEntry.action == TRANSITION)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


def request_letter(target: str, *, submission: Submission, **_context) -> None:
    """The `document:<target>` effect (e.g. `document:decision_letter`). Renders nothing in
    the transaction: the flag on the audit entry is the worker's to-do item."""
    entry = _transition_entry(submission.id)
    if entry is None:
        return
    entry.data = {**(entry.data or {}), "letter": target}  # a new dict: JSON change seen
    dispatch.after_commit(Task.MAKE_LETTERS, audit_entry_id=entry.id)


def _wanted():
    """Transition entries that asked for a letter, read from `data` as stored text, never
    parsed: PostgreSQL cannot turn a JSON value holding \\u0000 into text, and one such
    value anywhere in an entry (an export's filter, a decision's comment) used to make this
    query, and so every decision letter, fail on every poll. The key inside a string value
    would be escaped (\\"letter\\") and does not match; `_make_wanted` reads the entry again."""
    return (AuditEntry.action == TRANSITION) & cast(AuditEntry.data, Text).like('%"letter": "%')


# --- making them (the background worker) ----------------------------------------------------


def make_letters(entry: AuditEntry) -> list[Document]:
    """The PDF and DOCX letter for one decision, those not made yet."""
    submission = db.session.get(Submission, entry.submission_id)
    made, content = [], None
    for kind in LETTER_KINDS:
        if letter_document(submission, entry.id, kind) is not None:
            continue
        content = content or letter_content(submission, entry)
        rendered = render(content, kind, keywords=submission.reference)
        document = _keep(
            rendered,
            kind=kind,
            submission_id=submission.id,
            form_version_id=submission.form_version_id,
            revision=entry.id,
            language=submission.language,
            filename=f"{submission.reference}-{entry.to_state}.{rendered.extension}",
        )
        if document is not None:
            made.append(document)
    if made:
        documents_made.send(submission.id)  # the decision email waits for the PDF
    return made


def make_letters_for(audit_entry_id: int) -> int | None:
    """The task for one decision (Celery); returns the submission's id, None when the
    entry asks for no letter."""
    entry = db.session.get(AuditEntry, audit_entry_id)
    if entry is None or not (entry.data or {}).get("letter"):
        return None
    make_letters(entry)
    return entry.submission_id


def make_missing_letters(limit: int = 20) -> int:
    """Duty of the background worker: letters asked for by decisions and not made yet."""

    def missing(kind: str):
        return ~exists().where(
            Document.submission_id == AuditEntry.submission_id,
            Document.kind == kind,
            Document.revision == AuditEntry.id,
        )

    ids = db.session.scalars(
        select(AuditEntry.id)
        .where(_wanted(), or_(*(missing(k) for k in LETTER_KINDS)))
        .where(AuditEntry.id.not_in(isolation.held_back(LETTERS_DUTY)))
        .order_by(AuditEntry.id)
        .limit(limit)
    ).all()
    # Each decision on its own: one letter that cannot be made is retried, then marked
    # failed (Admin → Background work), and the others are made meanwhile.
    return isolation.run_each(LETTERS_DUTY, ids, _make_wanted, submission_of=submission_of)


def _make_wanted(entry_id: int) -> None:
    """An entry the query found but that asks for no letter in Python's reading (an empty
    target) would be found on every poll: it is recorded as failed instead."""
    if make_letters_for(entry_id) is None:
        raise LookupError(f"audit entry {entry_id} asks for no letter")


def submission_of(entry_id: int) -> int | None:
    return db.session.scalar(select(AuditEntry.submission_id).where(AuditEntry.id == entry_id))


# --- reading them ---------------------------------------------------------------------------


@dataclass
class Letter:
    entry_id: int
    state: str
    decided_at: datetime
    documents: dict[str, Document | None] = field(default_factory=dict)


def letters_of(submission: Submission) -> list[Letter]:
    """Every decision letter of a submission, oldest first; a document not made yet is
    None (its link answers "being prepared")."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.submission_id == submission.id, _wanted())
        .order_by(AuditEntry.id)
    ).all()
    if not entries:
        return []
    made = db.session.scalars(
        select(Document).where(
            Document.submission_id == submission.id,
            Document.kind.in_(LETTER_KINDS),
            Document.revision.in_([e.id for e in entries]),
        )
    ).all()
    found = {(d.revision, d.kind): d for d in made}
    return [
        Letter(e.id, e.to_state, e.created_at, {k: found.get((e.id, k)) for k in LETTER_KINDS})
        for e in entries
    ]


@dataclass
class LetterRow:
    """A letter as pages list it: which decision, when (in the call's zone and the
    reader's language)."""

    entry_id: int
    state_label: str
    day: str


def letter_rows(submission: Submission, language: str) -> list[LetterRow]:
    from workflows.lookup import workflow_of

    letters = letters_of(submission)
    if not letters:
        return []
    workflow = workflow_of(submission)
    zone = spec_for(submission.form_version).timezone
    return [
        LetterRow(
            letter.entry_id,
            workflow.state_label(letter.state, language),
            local_date(letter.decided_at.astimezone(zone).date(), language),
        )
        for letter in letters
    ]


def letter_document(submission: Submission, entry_id: int, kind: str) -> Document | None:
    return db.session.scalar(
        select(Document)
        .where(
            Document.submission_id == submission.id,
            Document.kind == kind,
            Document.revision == entry_id,
        )
        .order_by(Document.id)
        .limit(1)
    )


def letter_wanted(submission: Submission, entry_id: int) -> bool:
    """Whether this submission has a decision `entry_id` that asked for a letter."""
    return (
        db.session.scalar(
            select(AuditEntry.id).where(
                AuditEntry.id == entry_id, AuditEntry.submission_id == submission.id, _wanted()
            )
        )
        is not None
    )


# --- the decision email carries the PDF -----------------------------------------------------


def letter_for_decision_email(submission: Submission, transition, entry) -> list[dict]:
    """The letter's PDF rides on the email about the same decision; delivery waits (and
    retries) until the worker has made it."""
    if not any(effect.startswith("document:") for effect in transition.effects):
        return []
    return [
        {
            "kind": "letter",
            "submission_id": submission.id,
            "revision": entry.id,
            "document": "letter_pdf",
        }
    ]


def letter_file(spec: dict) -> tuple[str, str, bytes] | None:
    from documents.store import read

    submission = db.session.get(Submission, spec["submission_id"])
    if submission is None:
        return None
    document = letter_document(submission, spec["revision"], spec["document"])
    if document is None:
        return None  # not made yet: the message waits
    return document.filename, document.content_type, read(document)
