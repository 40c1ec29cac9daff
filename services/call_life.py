"""The life of a call once it exists: its preview link and the test submissions made
through it, its dates and status (close early, extend, archive), what publishing a new
version means for the people already in it, and its history.

Every change commits itself with one audit entry (`models.AuditEntry` with `form_id`, no
submission): `call.preview_link_made`, `call.test_submissions_deleted`, `call.closed_early`,
`call.deadline_extended`, `call.archived`, `call.unarchived`. Date changes are new versions
made by `services.call_drafts.republish_with`, which writes its own entry (`action`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select

from extensions import db
from forms.published import spec_for
from models import (
    Answer,
    Attachment,
    AuditEntry,
    ConflictOfInterest,
    Document,
    Draft,
    DutyFailure,
    Form,
    FormVersion,
    InternalComment,
    OutboxMessage,
    Score,
    Submission,
    SubmissionAssignment,
    SubmissionRevision,
    SubmissionTag,
    User,
)
from models.types import utcnow
from moments import local_time_in
from services import call_drafts
from services.access import actor_kind
from services.capacity import lock_form
from services.deadlines import CallStatus, window_of
from services.retention import delete_after_commit
from services.tokens import hash_token, new_token

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # how a definition writes its times, in its own zone
MAX_TIME_LENGTH = 40


class LifeRefused(Exception):
    """A change that cannot be made; `field` names the input it is about (or None) and the
    message is for the person, in the page's language."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def _audit(form: Form, user: User | None, action: str, data: dict) -> None:
    db.session.add(
        AuditEntry(
            form_id=form.id,
            action=action,
            actor_type=actor_kind(user) if user is not None else "system",
            actor_id=user.id if user is not None else None,
            data=data,
        )
    )


def _zone(form: Form) -> ZoneInfo:
    return spec_for(form.current_version).timezone


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime(LOCAL_FORMAT)


def title_of(form: Form, language: str) -> str:
    """The call's title in `language` (else its first one): its current version's, or its
    draft's before it is first published."""
    if form.current_version is not None:
        return spec_for(form.current_version).text("title", language)
    title = (call_drafts.draft_of(form).document or {}).get("title")
    if isinstance(title, dict):
        return str(title.get(language) or next(iter(title.values()), "") or form.slug)
    return str(title or form.slug)


# --- the preview link --------------------------------------------------------------------


def make_preview_link(form: Form, user: User) -> str:
    """A new shareable preview link; the one before stops working. The token is returned
    once, to be shown to the person; only its SHA-256 is kept (as for drafts)."""
    token, token_hash = new_token()
    replaced = form.preview_token_hash is not None
    form.preview_token_hash = token_hash
    _audit(form, user, "call.preview_link_made", {"replaced": replaced})
    db.session.commit()
    return token


def form_of_preview(token: str | None) -> Form | None:
    """The call a preview link opens: not once it is replaced, nor for an archived call."""
    if not token or len(token) > 100:
        return None
    form = db.session.scalar(select(Form).where(Form.preview_token_hash == hash_token(token)))
    return form if form is not None and form.archived_at is None else None


def shows_draft(form: Form) -> bool:
    """Whether the preview link shows the draft (edits not published yet, or never
    published), rather than the call's current version."""
    if form.current_version is None:
        return True
    return bool(call_drafts.draft_of(form).edited_in_browser)


class PreviewUnavailable(Exception):
    """The preview link shows the draft, and the draft does not pass the checks yet."""


def preview_target(form: Form) -> FormVersion:
    """The version a new test draft answers: the draft's questions as a preview version
    (kept, so test submissions keep their questions), or the current version. Raises
    PreviewUnavailable while the draft has problems."""
    if shows_draft(form):
        try:
            return call_drafts.preview_version(form, None)
        except call_drafts.NotPublishable:
            db.session.rollback()
            raise PreviewUnavailable from None
    return form.current_version


def preview_problems(form: Form, limit: int = 10) -> list[str]:
    """What keeps the preview link from showing the draft ("where: message", in the
    page's language), the first `limit`; empty when it can be shown."""
    if not shows_draft(form):
        return []
    problems = call_drafts.publish_problems(call_drafts.draft_of(form).document)
    return [_shown(p) for p in problems[:limit]]


def _shown(problem) -> str:
    """A definition problem for staff: where (with the questions' names), then what."""
    place = problem.place
    return f"{place}: {problem.message()}" if place else problem.message()


# --- test submissions ----------------------------------------------------------------------


@dataclass
class TestCounts:
    submissions: int
    drafts: int  # test drafts not sent

    @property
    def any(self) -> bool:
        return bool(self.submissions or self.drafts)


def _form_versions(form: Form):
    return select(FormVersion.id).where(FormVersion.form_id == form.id)


def test_counts(form: Form) -> TestCounts:
    submissions = db.session.scalar(
        select(func.count(Submission.id)).where(
            Submission.form_id == form.id, Submission.is_test.is_(True)
        )
    )
    drafts = db.session.scalar(
        select(func.count(Draft.id)).where(
            Draft.form_version_id.in_(_form_versions(form)),
            Draft.is_test.is_(True),
            Draft.submission_id.is_(None),
        )
    )
    return TestCounts(submissions or 0, drafts or 0)


def delete_test_submissions(form: Form, user: User) -> TestCounts:
    """Delete every test submission of the call, with everything that hangs from it
    (answers, earlier answers, files and their bytes, documents, emails, history, scores,
    comments, tags, assignments), and the test drafts not sent: one transaction, one
    audit entry with the counts. Real submissions are never touched."""
    lock_form(form.id)  # a test sent at this moment waits, then is deleted or stays whole
    ids = list(
        db.session.scalars(
            select(Submission.id).where(Submission.form_id == form.id, Submission.is_test.is_(True))
        )
    )
    draft_ids = list(
        db.session.scalars(
            select(Draft.id).where(
                or_(
                    Draft.submission_id.in_(ids),
                    (Draft.form_version_id.in_(_form_versions(form)))
                    & Draft.is_test.is_(True)
                    & Draft.submission_id.is_(None),
                )
            )
        )
    )
    unsent = db.session.scalar(
        select(func.count(Draft.id)).where(
            Draft.id.in_(draft_ids or [-1]), Draft.submission_id.is_(None)
        )
    )
    attachments = db.session.execute(
        select(Attachment.id, Attachment.storage_name).where(
            or_(Attachment.submission_id.in_(ids), Attachment.draft_id.in_(draft_ids))
        )
    ).all()
    for _id, storage_name in attachments:
        delete_after_commit(storage_name)  # the bytes go once this commits
    documents = db.session.execute(
        select(Document.id, Document.storage_name).where(Document.submission_id.in_(ids))
    ).all()
    for _id, storage_name in documents:
        delete_after_commit(storage_name)
    folder = Path(current_app.instance_path) / "outbox"
    for message_id, kind in db.session.execute(
        select(OutboxMessage.id, OutboxMessage.kind).where(OutboxMessage.submission_id.in_(ids))
    ):
        # The .eml copy written when no SMTP server is configured (mail/delivery.py).
        delete_after_commit(path=folder / f"{message_id:06d}-{kind}.eml")
    if attachments:
        db.session.execute(delete(Attachment).where(Attachment.id.in_([a[0] for a in attachments])))
    if ids:
        for model in (
            Document,
            OutboxMessage,
            AuditEntry,
            Answer,
            SubmissionRevision,
            Score,
            InternalComment,
            SubmissionTag,
            ConflictOfInterest,
            SubmissionAssignment,
            DutyFailure,
        ):
            db.session.execute(
                delete(model)
                .where(model.submission_id.in_(ids))
                .execution_options(synchronize_session=False)
            )
    if draft_ids:
        db.session.execute(
            delete(Draft)
            .where(Draft.id.in_(draft_ids))
            .execution_options(synchronize_session=False)
        )
    if ids:
        db.session.execute(
            delete(Submission)
            .where(Submission.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    counts = TestCounts(len(ids), unsent or 0)
    _audit(
        form,
        user,
        "call.test_submissions_deleted",
        {"count": counts.submissions, "drafts": counts.drafts},
    )
    db.session.commit()
    db.session.expire_all()
    return counts


# --- dates and status ----------------------------------------------------------------------


@dataclass
class CallDates:
    """The call's dates as its pages say them, in its own time zone."""

    status: CallStatus
    opens_at: datetime
    closes_at: datetime
    grace_minutes: int
    timezone: ZoneInfo
    archived_at: datetime | None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


def call_dates(form: Form, now: datetime | None = None) -> CallDates | None:
    """None for a call never published (it has no dates in force yet)."""
    version = form.current_version
    if version is None:
        return None
    zone = _zone(form)
    window = window_of(version)
    return CallDates(
        status=window.status(now),
        opens_at=version.opens_at.astimezone(zone),
        closes_at=version.closes_at.astimezone(zone),
        grace_minutes=int(window.grace / timedelta(minutes=1)),
        timezone=zone,
        archived_at=form.archived_at.astimezone(zone) if form.archived_at else None,
    )


def _published(form: Form) -> FormVersion:
    if form.current_version is None:
        raise LifeRefused(_("The call is not published yet: it has no dates to change."))
    return form.current_version


def close_early_problem(form: Form, now: datetime | None = None) -> str | None:
    """Why the call cannot be closed now, or None."""
    now = now or utcnow()
    version = form.current_version
    if version is None:
        return _("The call is not published yet: it has no dates to change.")
    if form.archived_at is not None:
        return _("The call is archived. Unarchive it first.")
    status = window_of(version).status(now)
    if status is CallStatus.CLOSED:
        return _("The call is already closed.")
    if status is CallStatus.UPCOMING:
        return _(
            "The call has not opened yet: closing it now would close it before it opens. "
            "Change its dates instead."
        )
    return None


def _republish(form: Form, user: User, closes_at: datetime, action: str, data: dict):
    """The current version again with another closing time (services.call_drafts); a
    current version that no longer passes the checks is said, not raised."""
    try:
        return call_drafts.republish_with(
            form,
            user=user,
            change={"closes_at": closes_at.strftime(LOCAL_FORMAT)},
            action=action,
            data=data,
        )
    except call_drafts.NotPublishable as refusal:
        db.session.rollback()
        first = refusal.problems[0] if refusal.problems else None
        detail = _shown(first) if first is not None else ""
        raise LifeRefused(
            _(
                "The published call does not pass the checks any more, so no new version "
                "can be made: %(problem)s",
                problem=detail,
            )
        ) from None


def close_early(form: Form, user: User, now: datetime | None = None) -> FormVersion:
    """A new version closing now (to the minute, in the call's zone). Applicants with a
    draft started before now still have the grace period to send it."""
    now = now or utcnow()
    if (problem := close_early_problem(form, now)) is not None:
        raise LifeRefused(problem)
    version = form.current_version
    zone = _zone(form)
    closes_at = now.astimezone(zone).replace(second=0, microsecond=0)
    if closes_at <= version.opens_at:
        raise LifeRefused(_("The call opened less than a minute ago: wait a minute."))
    data = {"from": _local(version.closes_at, zone), "to": closes_at.strftime(LOCAL_FORMAT)}
    return _republish(form, user, closes_at, "call.closed_early", data)


def read_local_time(text: str | None, zone: ZoneInfo) -> datetime:
    """A time typed in the call's own time zone ("2027-01-31T23:59", as a datetime-local
    input sends it, or with a space); LifeRefused(field="closes_at") when it is not one."""
    text = (text or "").strip()
    if not text:
        raise LifeRefused(_("Enter the new closing date and time."), "closes_at")
    if len(text) > MAX_TIME_LENGTH:
        raise LifeRefused(_("Enter a date and time like 2027-01-31 23:59."), "closes_at")
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise LifeRefused(_("Enter a date and time like 2027-01-31 23:59."), "closes_at") from None
    if not 2000 <= moment.year <= 2999:
        raise LifeRefused(_("Enter a date and time like 2027-01-31 23:59."), "closes_at")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(zone).replace(second=0, microsecond=0)


def check_extension(form: Form, text: str | None, now: datetime | None = None) -> datetime:
    """The new closing time read and checked: after opening, in the future, and later than
    the closing time now in force. LifeRefused with the field's message otherwise."""
    now = now or utcnow()
    version = _published(form)
    if form.archived_at is not None:
        raise LifeRefused(_("The call is archived. Unarchive it first."))
    closes_at = read_local_time(text, _zone(form))
    if closes_at <= version.opens_at:
        raise LifeRefused(_("The closing time must be after the opening time."), "closes_at")
    if closes_at <= now:
        raise LifeRefused(_("The new closing time is in the past."), "closes_at")
    if closes_at <= version.closes_at:
        raise LifeRefused(
            _("The new closing time must be later than the one in force now."), "closes_at"
        )
    return closes_at


def extend(form: Form, user: User, text: str | None, now: datetime | None = None) -> FormVersion:
    """A new version with a later closing time; also reopens a closed call. Drafts in
    progress are kept: their deadline is the current version's (services.deadlines)."""
    closes_at = check_extension(form, text, now)
    zone = _zone(form)
    old = form.current_version.closes_at
    data = {"from": _local(old, zone), "to": closes_at.strftime(LOCAL_FORMAT)}
    return _republish(form, user, closes_at, "call.deadline_extended", data)


def archive(form: Form, user: User) -> None:
    """Leaves the public list and pages; stays in the dashboard, with its submissions."""
    if form.archived_at is not None:
        raise LifeRefused(_("The call is already archived."))
    call_drafts.archive(form, user)


def unarchive(form: Form, user: User) -> None:
    if form.archived_at is None:
        raise LifeRefused(_("The call is not archived."))
    call_drafts.unarchive(form, user)


# --- publishing a call that already has applicants ------------------------------------------


@dataclass
class VersionPeople:
    number: int
    drafts: int  # applications in progress that started on this version
    submissions: int  # sent on this version


@dataclass
class PublishingImpact:
    """Who is already in the call when a new version is published, per version. Drafts
    continue with the questions they started on (and the new version's dates); sent
    submissions keep their questions and answers."""

    next_number: int
    versions: list[VersionPeople] = field(default_factory=list)

    @property
    def drafts(self) -> int:
        return sum(v.drafts for v in self.versions)

    @property
    def submissions(self) -> int:
        return sum(v.submissions for v in self.versions)

    @property
    def anyone(self) -> bool:
        return bool(self.drafts or self.submissions)


def publishing_impact(form: Form) -> PublishingImpact:
    """Real (not test) drafts not yet sent, and real submissions, by published version."""
    published = FormVersion.number > 0  # preview versions are numbered below 0
    drafts = dict(
        db.session.execute(
            select(FormVersion.number, func.count(Draft.id))
            .join(Draft, Draft.form_version_id == FormVersion.id)
            .where(
                FormVersion.form_id == form.id,
                published,
                Draft.submission_id.is_(None),
                Draft.is_test.is_(False),
            )
            .group_by(FormVersion.number)
        ).all()
    )
    sent = dict(
        db.session.execute(
            select(FormVersion.number, func.count(Submission.id))
            .join(Submission, Submission.form_version_id == FormVersion.id)
            .where(FormVersion.form_id == form.id, published, Submission.is_test.is_(False))
            .group_by(FormVersion.number)
        ).all()
    )
    last = db.session.scalar(
        select(func.max(FormVersion.number)).where(FormVersion.form_id == form.id, published)
    )
    numbers = sorted(set(drafts) | set(sent))
    return PublishingImpact(
        next_number=(last or 0) + 1,
        versions=[VersionPeople(n, drafts.get(n, 0), sent.get(n, 0)) for n in numbers],
    )


# --- history -------------------------------------------------------------------------------


@dataclass
class HistoryLine:
    at: datetime  # in the call's time zone
    who: str  # the staff member's email; "command line" or "system" when no one
    action: str
    what: str  # a readable line in the page's language


def history(form: Form, limit: int = 500) -> list[HistoryLine]:
    """The call's own audit entries (`call.*`), newest first."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.form_id == form.id,
            AuditEntry.submission_id.is_(None),
            AuditEntry.action.like("call.%"),
        )
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(limit)
    ).all()
    user_ids = {e.actor_id for e in entries if e.actor_id is not None}
    emails = dict(
        db.session.execute(select(User.id, User.email).where(User.id.in_(user_ids))).all()
        if user_ids
        else []
    )
    zone = _zone(form) if form.current_version is not None else ZoneInfo("UTC")
    language = str(get_locale())
    lines = []
    for entry in entries:
        if entry.actor_id is not None:
            who = emails.get(entry.actor_id) or _("a removed account (#%(id)d)", id=entry.actor_id)
        elif entry.actor_type in ("cli", "system"):
            who = _("the command line") if entry.actor_type == "cli" else _("the system")
        else:
            who = entry.actor_type
        lines.append(
            HistoryLine(
                at=entry.created_at.astimezone(zone),
                who=who,
                action=entry.action,
                what=describe(entry.action, entry.data or {}, zone, language),
            )
        )
    return lines


def _when(text, zone: ZoneInfo, language: str) -> str:
    """A time from an entry's data ("2027-01-31T23:59", the call's zone) for people."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return local_time_in(moment, zone, language)


def describe(action: str, data: dict, zone: ZoneInfo, language: str) -> str:
    """One readable line for a call's audit entry."""
    if action == "call.draft_saved":
        summary = str(data.get("summary") or "").strip()
        if summary:
            return _("Draft saved: %(summary)s", summary=summary)
        return _("Draft saved")
    if action == "call.published":
        return _("Published version %(number)s", number=data.get("version", "?"))
    if action == "call.created":
        return _("Call created")
    if action == "call.closed_early":
        return _(
            "Closed early: the closing time %(old)s became %(new)s",
            old=_when(data.get("from"), zone, language),
            new=_when(data.get("to"), zone, language),
        )
    if action == "call.deadline_extended":
        return _(
            "Deadline extended from %(old)s to %(new)s",
            old=_when(data.get("from"), zone, language),
            new=_when(data.get("to"), zone, language),
        )
    if action == "call.archived":
        return _("Archived")
    if action == "call.unarchived":
        return _("Unarchived")
    if action == "call.preview_link_made":
        if data.get("replaced"):
            return _("New preview link made (the one before stopped working)")
        return _("Preview link made")
    if action == "call.test_submissions_deleted":
        return _("Test submissions deleted: %(count)s", count=data.get("count", 0))
    details = ", ".join(f"{key}: {value}" for key, value in sorted(data.items()))
    return f"{action} ({details})" if details else action
