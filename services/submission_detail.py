"""Read model of one submission for the reviewers' detail page: its answers in form order
(identifying ones hidden in blind review), files, what changed since the last revision,
the history, and the moves the viewer may make. Reads only; nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from extensions import db
from forms.fields import File, format_size
from forms.published import spec_for
from forms.spec import FieldSpec, FormSpec
from models import Attachment, AuditEntry, Submission, SubmissionRevision, User
from services.access import actor_kind, can_decide, can_review
from services.answers import visible_names
from services.blind_review import hides_identity, is_hidden
from workflows.engine import Transition, Workflow
from workflows.lookup import workflow_of


def find_reviewable(submission_id: int, user: User) -> Submission | None:
    """The submission, or None when it does not exist or `user` may not review its form
    (the two look the same from outside: nothing to learn by guessing ids)."""
    submission = db.session.get(Submission, submission_id)
    if submission is None or not can_review(user, submission.form_id):
        return None
    return submission


# --- answers ---------------------------------------------------------------------------


@dataclass
class AnswerItem:
    """One item of a repeatable group: its title and (label, lines, hidden) per sub-field."""

    title: str
    parts: list[tuple[str, list[str], bool]]


@dataclass
class AnswerRow:
    name: str
    label: str
    kind: str  # value | group | file | hidden | unanswered
    lines: list[str] = field(default_factory=list)
    items: list[AnswerItem] = field(default_factory=list)
    attachment_id: int | None = None


def _lines(field_spec: FieldSpec, value, language: str) -> list[str]:
    return field_spec.display(value, language).split("\n")


def _group_items(field_spec: FieldSpec, value, language: str, blind: bool) -> list[AnswerItem]:
    blocks = field_spec.answer_blocks(value, language, hide=lambda child: is_hidden(child, blind))
    return [AnswerItem(block.item, block.parts) for block in blocks]


def _blank(value) -> bool:
    return value is None or value == "" or value == []


def answer_rows(submission: Submission, spec: FormSpec, language: str, blind: bool) -> list:
    """Every shown input field of the version the submission answered, in form order."""
    answers = submission.answers_by_field()
    shown = visible_names(spec, answers)
    rows = []
    for field_spec in spec.inputs:
        value = answers.get(field_spec.name)
        if field_spec.name not in shown and _blank(value):
            continue  # a question the applicant never saw
        label = field_spec.label(language) or field_spec.text("text", language)
        row = AnswerRow(field_spec.name, label, "value")
        if is_hidden(field_spec, blind):
            row.kind = "hidden"
        elif _blank(value):
            row.kind = "unanswered"
        elif field_spec.kind.repeats:
            row.kind = "group"
            row.items = _group_items(field_spec, value, language, blind)
        elif field_spec.kind.holds_files:
            row.kind = "file"
            row.lines = _lines(field_spec, value, language)
            row.attachment_id = File.attachment_id(value)
        else:
            row.lines = _lines(field_spec, value, language)
        rows.append(row)
    return rows


# --- what changed ------------------------------------------------------------------------


@dataclass
class Change:
    label: str
    before: list[str]
    after: list[str]
    hidden: bool


def _as_lines(field_spec: FieldSpec, value, language: str, blind: bool) -> list[str]:
    if _blank(value):
        return []
    if not field_spec.kind.repeats:
        return _lines(field_spec, value, language)
    lines = []
    for item in _group_items(field_spec, value, language, blind):
        for label, parts, hidden in item.parts:
            text = _("(hidden)") if hidden else " ".join(parts)
            lines.append(f"{item.title} – {label}: {text}")
    return lines


def changes_since_previous(
    submission: Submission, spec: FormSpec, language: str, blind: bool
) -> list[Change] | None:
    """The fields whose answer differs from the last kept revision; None when the
    submission was never edited (or no earlier answers were kept)."""
    if (submission.revision or 1) <= 1:
        return None
    previous = db.session.scalar(
        select(SubmissionRevision)
        .where(SubmissionRevision.submission_id == submission.id)
        .order_by(SubmissionRevision.number.desc())
        .limit(1)
    )
    if previous is None:
        return None
    before_answers = previous.answers or {}
    now_answers = submission.answers_by_field()
    changes = []
    for field_spec in spec.inputs:
        before, after = before_answers.get(field_spec.name), now_answers.get(field_spec.name)
        if (None if _blank(before) else before) == (None if _blank(after) else after):
            continue
        label = field_spec.label(language) or field_spec.text("text", language)
        if is_hidden(field_spec, blind):
            changes.append(Change(label, [], [], True))
            continue
        changes.append(
            Change(
                label,
                _as_lines(field_spec, before, language, blind),
                _as_lines(field_spec, after, language, blind),
                False,
            )
        )
    return changes


# --- files -----------------------------------------------------------------------------


@dataclass
class AttachmentRow:
    id: int
    name: str
    size: str
    question: str


def _question_of(attachment: Attachment, spec: FormSpec) -> FieldSpec | None:
    name = attachment.field.split(".", 1)[0]
    return next((f for f in spec.inputs if f.name == name), None)


def attachment_rows(
    submission: Submission, spec: FormSpec, language: str, blind: bool
) -> list[AttachmentRow]:
    rows = []
    for attachment in sorted(submission.attachments, key=lambda a: a.id):
        question = _question_of(attachment, spec)
        if question is not None and is_hidden(question, blind):
            continue
        rows.append(
            AttachmentRow(
                attachment.id,
                attachment.original_name,
                format_size(attachment.size),
                question.label(language) if question else "",
            )
        )
    return rows


def downloadable(submission: Submission, attachment_id: int, user: User) -> Attachment | None:
    """The attachment when it is this submission's and the viewer may see its question."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.submission_id != submission.id:
        return None
    spec = spec_for(submission.form_version)
    question = _question_of(attachment, spec)
    if question is not None and is_hidden(question, hides_identity(user, spec)):
        return None
    return attachment


# --- history -------------------------------------------------------------------------------


@dataclass
class HistoryRow:
    when: datetime
    who: str
    what: str
    from_state: str | None
    to_state: str | None
    comment: str | None
    scheduled_for: date | None


def _what(entry: AuditEntry, workflow: Workflow, language: str) -> str:
    data = entry.data or {}
    if entry.action == "submission.transition":
        step = workflow.transition(data.get("transition", ""))
        return step.title(language) if step else str(data.get("transition", ""))
    labels = {
        "submission.submitted": _("Submitted"),
        "submission.comment_added": _("Internal comment added"),
        "submission.scored": _("Scores saved"),
        "submission.conflict_declared": _("Conflict of interest declared"),
        "submission.reviewer_assigned": _("Reviewer assigned"),
        "submission.reviewer_unassigned": _("Reviewer unassigned"),
    }
    if entry.action in labels:
        return labels[entry.action]
    if entry.action == "submission.edited":
        return _(
            "Answers changed by the applicant (revision %(number)s)",
            number=data.get("revision", "?"),
        )
    if entry.action == "submission.tag_added":
        return _("Tag added: %(tag)s", tag=data.get("tag", ""))
    if entry.action == "submission.tag_removed":
        return _("Tag removed: %(tag)s", tag=data.get("tag", ""))
    return entry.action


def _who(entry: AuditEntry, people: dict[int, User]) -> str:
    if entry.actor_type == "applicant":
        return _("applicant")
    if entry.actor_type == "system":
        return _("system")
    person = people.get(entry.actor_id) if entry.actor_id is not None else None
    return person.email if person else _("staff member")


def _day(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def history(submission: Submission, spec: FormSpec, language: str) -> list[HistoryRow]:
    """Everything that happened to the submission, oldest first, times in the form's zone."""
    workflow = workflow_of(submission)
    entries = list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.submission_id == submission.id)
            .order_by(AuditEntry.created_at, AuditEntry.id)
        )
    )
    staff_ids = {e.actor_id for e in entries if e.actor_id is not None}
    people = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(staff_ids)))}
        if staff_ids
        else {}
    )
    rows = []
    for entry in entries:
        # A move shows from → to; other entries only when they changed the state.
        moved = entry.action == "submission.transition" or entry.from_state != entry.to_state
        rows.append(
            HistoryRow(
                when=entry.created_at.astimezone(spec.timezone),
                who=_who(entry, people),
                what=_what(entry, workflow, language),
                from_state=_label(workflow, entry.from_state, language) if moved else None,
                to_state=_label(workflow, entry.to_state, language) if moved else None,
                comment=entry.comment,
                scheduled_for=_day((entry.data or {}).get("scheduled_for")),
            )
        )
    return rows


def _label(workflow: Workflow, state: str | None, language: str) -> str | None:
    return workflow.state_label(state, language) if state else None


# --- moves -----------------------------------------------------------------------------------


def available_transitions(submission: Submission, user: User) -> list[Transition]:
    if not can_decide(user, submission.form_id):  # reviewers read, score and comment
        return []
    return workflow_of(submission).available(submission.state, actor_kind(user))
