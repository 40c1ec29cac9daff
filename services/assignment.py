"""Review assignment (#17): who is asked to review which submission — by hand on a
submission's page, in bulk from the list, or automatically for a whole call — and each
reviewer's progress on a call.

Only admins and the call's managers assign (services.access.can_decide). The reviewers one
may assign are the call's reviewers: active reviewers and call managers with rights on the
call (admins coordinate and are never assigned). Ids that are not such a reviewer, or a
submission the person may not assign on, do nothing. Every change writes an audit entry
(`submission.reviewer_assigned` / `submission.reviewer_unassigned`) in its transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from extensions import db
from models import (
    AuditEntry,
    ConflictOfInterest,
    Form,
    ReviewerAssignment,
    Score,
    Submission,
    SubmissionAssignment,
    User,
)
from services.access import can_decide
from services.annotations import once_more_on_conflict

BULK_LIMIT = 500
MAX_PER_SUBMISSION = 10
REVIEWING_ROLES = ("reviewer", "call_manager")


class AssignmentRefused(ValueError):
    """The message is for the person, in their language."""


def can_assign(user: User | None, form_id: int) -> bool:
    return can_decide(user, form_id)


def call_reviewers(form_id: int) -> list[User]:
    """The people who may be asked to review the call's submissions, by name and email."""
    rights = select(ReviewerAssignment.user_id).where(ReviewerAssignment.form_id == form_id)
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                User.role.in_(REVIEWING_ROLES),
                User.all_forms.is_(True) | User.id.in_(rights),
            )
            .order_by(User.name, User.email, User.id)
        )
    )


def assigned_ids(submission_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(SubmissionAssignment.user_id).where(
                SubmissionAssignment.submission_id == submission_id
            )
        )
    )


def conflicted_ids(submission_ids: Iterable[int]) -> dict[int, set[int]]:
    """Submission id → the users who declared a conflict of interest on it."""
    found: dict[int, set[int]] = defaultdict(set)
    ids = list(submission_ids)
    if ids:
        for sid, uid in db.session.execute(
            select(ConflictOfInterest.submission_id, ConflictOfInterest.user_id).where(
                ConflictOfInterest.submission_id.in_(ids)
            )
        ):
            found[sid].add(uid)
    return found


def _audit(submission: Submission, by: User, action: str, reviewer_id: int, how: str) -> None:
    db.session.add(
        AuditEntry(
            submission_id=submission.id,
            form_id=submission.form_id,
            action=action,
            actor_type=by.role,
            actor_id=by.id,
            data={"reviewer_id": reviewer_id, "how": how},
        )
    )


def _add(submission: Submission, reviewer_id: int, by: User, how: str) -> None:
    db.session.add(
        SubmissionAssignment(submission_id=submission.id, user_id=reviewer_id, assigned_by_id=by.id)
    )
    _audit(submission, by, "submission.reviewer_assigned", reviewer_id, how)


def _assignable_submission(submission_id: int, user: User) -> Submission:
    submission = db.session.get(Submission, submission_id)
    if submission is None or not can_assign(user, submission.form_id):
        raise AssignmentRefused(_("This submission does not exist."))
    return submission


# --- by hand ---------------------------------------------------------------------------


@dataclass
class AssignmentPanel:
    """The submission page's section: who is assigned, and whom one may choose."""

    reviewers: list[User]  # the call's reviewers
    assigned: set[int]
    conflicted: set[int]
    can_assign: bool


def panel(submission: Submission, user: User) -> AssignmentPanel:
    allowed = can_assign(user, submission.form_id)
    assigned = assigned_ids(submission.id)
    reviewers = call_reviewers(submission.form_id)
    if not allowed:  # reviewers see who is assigned, not the whole pool
        reviewers = [r for r in reviewers if r.id in assigned]
    return AssignmentPanel(
        reviewers=reviewers,
        assigned=assigned,
        conflicted=conflicted_ids([submission.id])[submission.id],
        can_assign=allowed,
    )


def set_reviewers(submission_id: int, user: User, wanted: Iterable[int]) -> tuple[int, int]:
    """Make the submission's assigned reviewers those of `wanted` that are the call's
    reviewers without a conflict on it; returns (added, removed)."""
    submission = _assignable_submission(submission_id, user)
    pool = {r.id for r in call_reviewers(submission.form_id)}
    conflicted = conflicted_ids([submission.id])[submission.id]
    wanted = set(wanted)
    if wanted & conflicted:
        raise AssignmentRefused(
            _("A reviewer who declared a conflict of interest cannot be assigned.")
        )
    wanted &= pool

    def work() -> tuple[int, int]:
        current = assigned_ids(submission.id)
        for reviewer_id in sorted(wanted - current):
            _add(submission, reviewer_id, user, "hand")
        gone = sorted(current - wanted)
        if gone:
            db.session.execute(
                delete(SubmissionAssignment).where(
                    SubmissionAssignment.submission_id == submission.id,
                    SubmissionAssignment.user_id.in_(gone),
                )
            )
            for reviewer_id in gone:
                _audit(submission, user, "submission.reviewer_unassigned", reviewer_id, "hand")
        return len(wanted - current), len(gone)

    return once_more_on_conflict(work)


# --- in bulk ---------------------------------------------------------------------------


@dataclass
class BulkAssignItem:
    submission: Submission
    can: bool
    reason: str = ""  # why not, for the person


def bulk_preview(user: User, ids: Iterable[int], reviewer_id: int) -> list[BulkAssignItem]:
    """What assigning `reviewer_id` to each of the submissions would do. Submissions the
    user may not assign on are left out silently (forged ids tell nothing)."""
    ids = sorted(set(ids))[:BULK_LIMIT]
    if not ids:
        return []
    submissions = [
        s
        for s in db.session.scalars(
            select(Submission).where(Submission.id.in_(ids)).order_by(Submission.reference)
        )
        if can_assign(user, s.form_id)
    ]
    conflicts = conflicted_ids(s.id for s in submissions)
    already = set(
        db.session.scalars(
            select(SubmissionAssignment.submission_id).where(
                SubmissionAssignment.user_id == reviewer_id,
                SubmissionAssignment.submission_id.in_([s.id for s in submissions] or [-1]),
            )
        )
    )
    pools: dict[int, set[int]] = {}
    items = []
    for submission in submissions:
        if submission.form_id not in pools:
            pools[submission.form_id] = {r.id for r in call_reviewers(submission.form_id)}
        if reviewer_id not in pools[submission.form_id]:
            items.append(BulkAssignItem(submission, False, _("not a reviewer of this call")))
        elif reviewer_id in conflicts[submission.id]:
            items.append(BulkAssignItem(submission, False, _("declared a conflict of interest")))
        elif submission.id in already:
            items.append(BulkAssignItem(submission, False, _("already assigned")))
        else:
            items.append(BulkAssignItem(submission, True))
    return items


def apply_bulk(user: User, ids: Iterable[int], reviewer_id: int) -> int:
    """Assign the reviewer where the preview said it can be done; returns how many."""
    ready = [item.submission for item in bulk_preview(user, ids, reviewer_id) if item.can]

    def work() -> int:
        done = 0
        for submission in ready:
            if reviewer_id not in assigned_ids(submission.id):
                _add(submission, reviewer_id, user, "bulk")
                done += 1
        return done

    return once_more_on_conflict(work)


# --- automatically -----------------------------------------------------------------------


@dataclass
class Plan:
    per_submission: int
    adds: list[tuple[Submission, list[User]]]  # only submissions that get someone new
    short: list[tuple[Submission, int]]  # submissions that cannot reach N, by how many
    load_after: dict[int, int]  # reviewer id → assignments on the call afterwards
    reviewers: list[User] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(people) for _s, people in self.adds)


def plan_automatic(user: User, form_id: int, per_submission: int) -> Plan:
    """Fill every submission of the call up to `per_submission` reviewers: each place goes
    to the reviewer with the fewest assignments on the call so far (ties: by id), never to
    one who declared a conflict on that submission. Existing assignments stay and count,
    so running it again only fills what is missing."""
    if not can_assign(user, form_id):
        raise AssignmentRefused(_("Only administrators and the call's managers assign reviewers."))
    if not 1 <= per_submission <= MAX_PER_SUBMISSION:
        raise AssignmentRefused(
            _("Choose from 1 to %(max)d reviewers per submission.", max=MAX_PER_SUBMISSION)
        )
    reviewers = call_reviewers(form_id)
    pool = {r.id: r for r in reviewers}
    submissions = list(
        db.session.scalars(
            select(Submission)
            .where(Submission.form_id == form_id, Submission.is_test.is_(False))
            .order_by(Submission.submitted_at, Submission.id)
        )
    )
    current: dict[int, set[int]] = defaultdict(set)
    for sid, uid in db.session.execute(
        select(SubmissionAssignment.submission_id, SubmissionAssignment.user_id)
        .join(Submission, Submission.id == SubmissionAssignment.submission_id)
        .where(Submission.form_id == form_id)
    ):
        current[sid].add(uid)
    load = {rid: 0 for rid in pool}
    for people in current.values():
        for uid in people:
            if uid in load:
                load[uid] += 1
    conflicts = conflicted_ids(s.id for s in submissions)
    adds, short = [], []
    for submission in submissions:
        missing = per_submission - len(current[submission.id])
        if missing <= 0:
            continue
        taken = current[submission.id] | conflicts[submission.id]
        candidates = sorted((rid for rid in pool if rid not in taken), key=lambda r: (load[r], r))
        chosen = candidates[:missing]
        for rid in chosen:
            load[rid] += 1
        if chosen:
            adds.append((submission, [pool[rid] for rid in chosen]))
        if len(chosen) < missing:
            short.append((submission, missing - len(chosen)))
    return Plan(per_submission, adds, short, load, reviewers)


def apply_automatic(user: User, form_id: int, per_submission: int) -> Plan:
    """Compute the plan again (what changed since the preview counts) and write it in one
    transaction."""

    def work() -> Plan:
        plan = plan_automatic(user, form_id, per_submission)
        for submission, people in plan.adds:
            for person in people:
                _add(submission, person.id, user, "automatic")
        return plan

    return once_more_on_conflict(work)


# --- progress --------------------------------------------------------------------------


@dataclass
class ReviewerProgress:
    reviewer: User
    assigned: int
    scored: int  # assigned submissions this reviewer has scored
    conflicts: int  # conflicts declared on the call's submissions

    @property
    def left(self) -> int:
        return self.assigned - self.scored


def progress(form_id: int) -> list[ReviewerProgress]:
    in_call = select(Submission.id).where(
        Submission.form_id == form_id, Submission.is_test.is_(False)
    )
    assigned = dict(
        db.session.execute(
            select(SubmissionAssignment.user_id, func.count())
            .where(SubmissionAssignment.submission_id.in_(in_call))
            .group_by(SubmissionAssignment.user_id)
        ).all()
    )
    scored_pairs = (
        select(Score.submission_id, Score.user_id)
        .where(Score.submission_id.in_(in_call))
        .distinct()
        .subquery()
    )
    scored = dict(
        db.session.execute(
            select(SubmissionAssignment.user_id, func.count())
            .join(
                scored_pairs,
                (scored_pairs.c.submission_id == SubmissionAssignment.submission_id)
                & (scored_pairs.c.user_id == SubmissionAssignment.user_id),
            )
            .group_by(SubmissionAssignment.user_id)
        ).all()
    )
    conflicts = dict(
        db.session.execute(
            select(ConflictOfInterest.user_id, func.count())
            .where(ConflictOfInterest.submission_id.in_(in_call))
            .group_by(ConflictOfInterest.user_id)
        ).all()
    )
    people = {r.id: r for r in call_reviewers(form_id)}
    # Someone assigned earlier who lost the call's rights still shows, with their numbers.
    for uid in set(assigned) - set(people):
        person = db.session.get(User, uid)
        if person is not None:
            people[uid] = person
    return [
        ReviewerProgress(person, assigned.get(uid, 0), scored.get(uid, 0), conflicts.get(uid, 0))
        for uid, person in people.items()
    ]


def unscored_assignments(user_id: int, form_id: int) -> list[Submission]:
    """The call's submissions assigned to the user that they have not scored yet."""
    scored = select(Score.submission_id).where(Score.user_id == user_id)
    return list(
        db.session.scalars(
            select(Submission)
            .join(SubmissionAssignment, SubmissionAssignment.submission_id == Submission.id)
            .where(
                SubmissionAssignment.user_id == user_id,
                Submission.form_id == form_id,
                Submission.id.not_in(scored),
            )
            .order_by(Submission.reference)
        )
    )


def form_by_slug(slug: str) -> Form | None:
    return db.session.scalar(select(Form).where(Form.slug == slug))


def reviewer_named(user_id: int | None) -> User | None:
    """An active reviewer or call manager by id (what the bulk form sends); None otherwise."""
    person = db.session.get(User, user_id) if user_id else None
    if person is None or not person.active or person.role not in REVIEWING_ROLES:
        return None
    return person
