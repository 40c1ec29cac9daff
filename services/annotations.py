"""What reviewers add to a submission besides scores: internal comments, tags and declared
conflicts of interest. None of it is ever shown to the applicant.

Each use case is one transaction that checks the person may review the form and writes an
audit entry with a namespaced action (`submission.comment_added`, …). The audit entry never
carries the internal text in its `comment` column: that column holds what a transition told
the applicant, and pages for the applicant may show it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TypeVar

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import (
    AuditEntry,
    ConflictOfInterest,
    InternalComment,
    Score,
    Submission,
    SubmissionTag,
    Tag,
    User,
)
from services.access import can_review
from services.staff_input import (
    MAX_TAG_LENGTH,
    InputRefused,
    clean_text,
    normalise,
    normalise_tag,
    refuse_control_characters,
)

MAX_COMMENT_LENGTH = 5000
MAX_REASON_LENGTH = 2000

T = TypeVar("T")


class AnnotationRefused(ValueError):
    """The message is for the person who asked, in their language."""


def reviewable_submission(submission_id: int, user: User) -> Submission:
    """The submission when `user` may review its form; otherwise refused, saying nothing
    about whether it exists."""
    submission = db.session.get(Submission, submission_id)
    if submission is None or not can_review(user, submission.form_id):
        raise AnnotationRefused(_("This submission does not exist."))
    return submission


def audit(submission: Submission, user: User, action: str, **data) -> None:
    db.session.add(
        AuditEntry(
            submission_id=submission.id,
            form_id=submission.form_id,
            action=action,
            actor_type=user.role,
            actor_id=user.id,
            data=data,
        )
    )


def once_more_on_conflict(work: Callable[[], T]) -> T:
    """Run `work` and commit; when a concurrent request inserted the same unique row first
    (a double click), start again: the second run finds that row and does not add it twice."""
    for attempt in (1, 2):
        try:
            result = work()
            db.session.commit()
            return result
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _checked(text: str | None, label: str, limit: int, too_long: str) -> str:
    """Multi-line text as stored: NFC, `\n` line ends, no other control character."""
    try:
        text = normalise(text, multiline=True).strip()
        return clean_text(text, label, limit, multiline=True, too_long=too_long)
    except InputRefused as refusal:
        raise AnnotationRefused(str(refusal)) from None


# --- internal comments ---------------------------------------------------------------


def add_comment(submission_id: int, user: User, body: str) -> InternalComment:
    text = _checked(
        body,
        _("Comment"),
        MAX_COMMENT_LENGTH,
        _("A comment can be at most %(max)d characters long.", max=MAX_COMMENT_LENGTH),
    )
    if not text:
        raise AnnotationRefused(_("Write the comment first."))
    submission = reviewable_submission(submission_id, user)
    comment = InternalComment(submission_id=submission.id, user_id=user.id, body=text)
    db.session.add(comment)
    db.session.flush()
    audit(submission, user, "submission.comment_added", comment_id=comment.id)
    db.session.commit()
    return comment


def comments_of(submission_id: int) -> list[tuple[InternalComment, User | None]]:
    rows = db.session.execute(
        select(InternalComment, User)
        .outerjoin(User, User.id == InternalComment.user_id)
        .where(InternalComment.submission_id == submission_id)
        .order_by(InternalComment.created_at, InternalComment.id)
    ).all()
    return [(comment, author) for comment, author in rows]


# --- tags ------------------------------------------------------------------------------


def add_tag(submission_id: int, user: User, name: str) -> Tag:
    try:
        refuse_control_characters(normalise(name), _("Tag"))  # the bound: once normalised
    except InputRefused as refusal:
        raise AnnotationRefused(str(refusal)) from None
    wanted = normalise_tag(name)
    if not wanted:
        raise AnnotationRefused(_("Write the tag first."))
    if len(wanted) > MAX_TAG_LENGTH:
        raise AnnotationRefused(
            _("A tag can be at most %(max)d characters long.", max=MAX_TAG_LENGTH)
        )
    submission = reviewable_submission(submission_id, user)

    def work() -> Tag:
        tag = db.session.scalar(select(Tag).where(Tag.name == wanted))
        if tag is None:
            tag = Tag(name=wanted)
            db.session.add(tag)
            db.session.flush()
        linked = db.session.get(SubmissionTag, (submission.id, tag.id))
        if linked is None:
            db.session.add(SubmissionTag(submission_id=submission.id, tag_id=tag.id))
            audit(submission, user, "submission.tag_added", tag=tag.name)
            db.session.flush()
        return tag

    return once_more_on_conflict(work)


def remove_tag(submission_id: int, user: User, tag_id: int) -> None:
    submission = reviewable_submission(submission_id, user)
    linked = db.session.get(SubmissionTag, (submission.id, tag_id))
    if linked is None:
        return  # removed already (a double click, another reviewer): nothing to do
    tag = db.session.get(Tag, tag_id)
    db.session.delete(linked)
    audit(submission, user, "submission.tag_removed", tag=tag.name if tag else str(tag_id))
    db.session.commit()


def tags_of(submission_id: int) -> list[Tag]:
    return list(
        db.session.scalars(
            select(Tag)
            .join(SubmissionTag, SubmissionTag.tag_id == Tag.id)
            .where(SubmissionTag.submission_id == submission_id)
            .order_by(Tag.name)
        )
    )


def tag_names_of(ids: list[int]) -> dict[int, list[str]]:
    """The tags of many submissions at once (lists and exports), in name order."""
    names: dict[int, list[str]] = defaultdict(list)
    for submission_id, name in db.session.execute(
        select(SubmissionTag.submission_id, Tag.name)
        .join(Tag, Tag.id == SubmissionTag.tag_id)
        .where(SubmissionTag.submission_id.in_(ids))
        .order_by(Tag.name)
    ):
        names[submission_id].append(name)
    return names


def tags_in_form(form_id: int) -> list[str]:
    """Tags already used on this form's submissions, to suggest while typing."""
    return list(
        db.session.scalars(
            select(Tag.name)
            .join(SubmissionTag, SubmissionTag.tag_id == Tag.id)
            .join(Submission, Submission.id == SubmissionTag.submission_id)
            .where(Submission.form_id == form_id)
            .distinct()
            .order_by(Tag.name)
        )
    )


# --- conflicts of interest -------------------------------------------------------------


def has_conflict(submission_id: int, user_id: int) -> bool:
    return (
        db.session.scalar(
            select(ConflictOfInterest.id).where(
                ConflictOfInterest.submission_id == submission_id,
                ConflictOfInterest.user_id == user_id,
            )
        )
        is not None
    )


def declare_conflict(submission_id: int, user: User, reason: str) -> ConflictOfInterest:
    """From now on `user` neither sees this submission's scores nor scores it; scores they
    gave before are removed, so they no longer count in the average."""
    text = _checked(
        reason,
        _("Declare a conflict of interest"),
        MAX_REASON_LENGTH,
        _("The reason can be at most %(max)d characters long.", max=MAX_REASON_LENGTH),
    )
    if not text:
        raise AnnotationRefused(_("Say briefly why you have a conflict of interest."))
    submission = reviewable_submission(submission_id, user)

    def work() -> ConflictOfInterest:
        existing = db.session.scalar(
            select(ConflictOfInterest).where(
                ConflictOfInterest.submission_id == submission.id,
                ConflictOfInterest.user_id == user.id,
            )
        )
        if existing is not None:
            return existing
        conflict = ConflictOfInterest(submission_id=submission.id, user_id=user.id, reason=text)
        db.session.add(conflict)
        removed = db.session.execute(
            delete(Score).where(Score.submission_id == submission.id, Score.user_id == user.id)
        ).rowcount
        audit(submission, user, "submission.conflict_declared", scores_removed=removed)
        db.session.flush()
        return conflict

    return once_more_on_conflict(work)


def conflicts_of(submission_id: int) -> list[tuple[ConflictOfInterest, User | None]]:
    rows = db.session.execute(
        select(ConflictOfInterest, User)
        .outerjoin(User, User.id == ConflictOfInterest.user_id)
        .where(ConflictOfInterest.submission_id == submission_id)
        .order_by(ConflictOfInterest.created_at, ConflictOfInterest.id)
    ).all()
    return [(conflict, person) for conflict, person in rows]
