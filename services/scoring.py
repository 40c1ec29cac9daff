"""Scores: a form may define a rubric (`rubric:` in its definition, criteria with a key, a
label and a weight). Every reviewer scores each criterion from 1 to 5 on their own.

A reviewer's result is the weighted mean of their scores, Σ(weight × score) / Σ weight; a
submission's average is the mean of its reviewers' results (every reviewer counts once),
shown with how many reviewers scored.

Who sees scores:
- a reviewer who declared a conflict of interest on the submission sees none and cannot
  score it (their earlier scores were removed when they declared it);
- when the form's `hide_scores_until_scored` is true (the default), a reviewer sees the
  others' scores and the average only after saving their own — they only see how many
  have scored. Administrators coordinate and see the scores without scoring.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from extensions import db
from forms.published import spec_for
from forms.spec import FormSpec
from models import FormVersion, Score, Submission, User
from services.annotations import (
    AnnotationRefused,
    audit,
    has_conflict,
    once_more_on_conflict,
    reviewable_submission,
)

SCORE_VALUES = (1, 2, 3, 4, 5)
_CHUNK = 500  # ids per query, well under every database's parameter limit


@dataclass(frozen=True)
class Criterion:
    key: str
    label: dict | None
    weight: float


class ScoringRefused(ValueError):
    """The message is for the person; `errors` names the criteria that need a score."""

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.errors = errors or {}


def rubric_of(spec: FormSpec) -> list[Criterion]:
    return [
        Criterion(item["key"], item.get("label"), float(item.get("weight", 1)))
        for item in spec.raw.get("rubric") or []
    ]


def hides_scores_until_scored(spec: FormSpec) -> bool:
    return bool(spec.raw.get("hide_scores_until_scored", True))


def reviewer_mean(values: Mapping[str, int], rubric: Iterable[Criterion]) -> float | None:
    """Σ(weight × score) / Σ weight over the criteria scored; None when none is."""
    total = weights = 0.0
    for criterion in rubric:
        if criterion.key in values:
            total += criterion.weight * values[criterion.key]
            weights += criterion.weight
    return total / weights if weights else None


def parse_scores(rubric: list[Criterion], raw: Mapping[str, object]) -> dict[str, int]:
    """Every criterion needs a whole number from 1 to 5; anything else is refused with a
    message per criterion (never an exception the person would see as an error page)."""
    values, errors = {}, {}
    for criterion in rubric:
        given = raw.get(criterion.key)
        text = given.strip() if isinstance(given, str) else ""
        if text.isascii() and text.isdigit() and int(text) in SCORE_VALUES:
            values[criterion.key] = int(text)
        elif not text:
            errors[criterion.key] = _("Choose a score for this criterion.")
        else:
            errors[criterion.key] = _("A score is a whole number from 1 to 5.")
    if errors:
        raise ScoringRefused(_("Score every criterion from 1 to 5."), errors)
    return values


def save_scores(submission_id: int, user: User, raw: Mapping[str, object]) -> dict[str, int]:
    """Save `user`'s scores (criterion key → "1".."5") for one submission, replacing earlier
    ones; one transaction with the audit entry."""
    try:
        submission = reviewable_submission(submission_id, user)
    except AnnotationRefused as refusal:
        raise ScoringRefused(str(refusal)) from refusal
    rubric = rubric_of(spec_for(submission.form_version))
    if not rubric:
        raise ScoringRefused(_("This form has no scoring criteria."))
    if has_conflict(submission.id, user.id):
        raise ScoringRefused(
            _("You declared a conflict of interest on this submission, so you cannot score it.")
        )
    values = parse_scores(rubric, raw)

    def work() -> dict[str, int]:
        existing = {
            score.criterion: score
            for score in db.session.scalars(
                select(Score).where(Score.submission_id == submission.id, Score.user_id == user.id)
            )
        }
        for key, value in values.items():
            if key in existing:
                existing[key].value = value
            else:
                db.session.add(
                    Score(submission_id=submission.id, user_id=user.id, criterion=key, value=value)
                )
        audit(submission, user, "submission.scored", scores=values)
        db.session.flush()
        return values

    return once_more_on_conflict(work)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _rubrics(version_ids: Iterable[int]) -> dict[int, list[Criterion]]:
    versions = db.session.scalars(select(FormVersion).where(FormVersion.id.in_(set(version_ids))))
    return {version.id: rubric_of(spec_for(version)) for version in versions}


def _scores_by_reviewer(ids: list[int]) -> tuple[dict, dict[int, int]]:
    """{submission id: {user id: {criterion: value}}} and each submission's form version."""
    scores: dict[int, dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    versions: dict[int, int] = {}
    for chunk in _chunks(ids):
        rows = db.session.execute(
            select(
                Score.submission_id,
                Score.user_id,
                Score.criterion,
                Score.value,
                Submission.form_version_id,
            )
            .join(Submission, Submission.id == Score.submission_id)
            .where(Score.submission_id.in_(chunk))
        )
        for submission_id, user_id, criterion, value, version_id in rows:
            scores[submission_id][user_id][criterion] = value
            versions[submission_id] = version_id
    return scores, versions


def weighted_average(
    submission_ids: Iterable[int], *, for_user: User | None = None
) -> dict[int, tuple[float | None, int]]:
    """{submission id: (weighted average, number of reviewers who scored)} for every id
    given; the average is None when nobody has scored.

    With `for_user`, the average is None too where that person may not see the scores
    (a conflict of interest, or not scored yet while the form hides scores until then);
    the count is still given."""
    ids = sorted({int(i) for i in submission_ids})
    result: dict[int, tuple[float | None, int]] = {i: (None, 0) for i in ids}
    if not ids:
        return result
    scores, versions = _scores_by_reviewer(ids)
    rubrics = _rubrics(versions.values())
    for submission_id, by_reviewer in scores.items():
        rubric = rubrics.get(versions[submission_id], [])
        means = [
            m for m in (reviewer_mean(v, rubric) for v in by_reviewer.values()) if m is not None
        ]
        result[submission_id] = (sum(means) / len(means) if means else None, len(means))
    if for_user is not None:
        hidden = _hidden_for(for_user, ids, scores)
        for submission_id in hidden:
            result[submission_id] = (None, result[submission_id][1])
    return result


def _hidden_for(user: User, ids: list[int], scores: dict) -> set[int]:
    from models import ConflictOfInterest

    hidden: set[int] = set()
    for chunk in _chunks(ids):
        hidden |= set(
            db.session.scalars(
                select(ConflictOfInterest.submission_id).where(
                    ConflictOfInterest.user_id == user.id,
                    ConflictOfInterest.submission_id.in_(chunk),
                )
            )
        )
    if user.is_admin:
        return hidden
    not_scored = [i for i in ids if user.id not in scores.get(i, {})]
    for chunk in _chunks(not_scored):
        rows = db.session.execute(
            select(Submission.id, FormVersion)
            .join(FormVersion, FormVersion.id == Submission.form_version_id)
            .where(Submission.id.in_(chunk))
        )
        hidden |= {i for i, version in rows if hides_scores_until_scored(spec_for(version))}
    return hidden


# --- the scores panel of the detail page ---------------------------------------------


@dataclass
class ReviewerScores:
    reviewer: User | None
    values: dict[str, int]
    mean: float | None
    is_me: bool


@dataclass
class ScorePanel:
    rubric: list[Criterion]
    conflict: bool  # the viewer declared a conflict: no scores shown, no scoring
    can_score: bool
    mine: dict[str, int]
    visible: bool  # the others' scores and the average are shown
    hidden_until_scored: bool
    average: float | None
    count: int
    reviewers: list[ReviewerScores] = field(default_factory=list)


def score_panel(submission: Submission, user: User) -> ScorePanel:
    rubric = rubric_of(spec_for(submission.form_version))
    conflict = has_conflict(submission.id, user.id)
    scores, _versions = _scores_by_reviewer([submission.id])
    by_reviewer = scores.get(submission.id, {})
    mine = dict(by_reviewer.get(user.id, {}))
    means = {uid: reviewer_mean(values, rubric) for uid, values in by_reviewer.items()}
    scored = [m for m in means.values() if m is not None]
    hidden_until_scored = (
        not user.is_admin
        and not mine
        and hides_scores_until_scored(spec_for(submission.form_version))
    )
    visible = bool(rubric) and not conflict and not hidden_until_scored
    reviewers = []
    if visible and by_reviewer:
        people = {
            person.id: person
            for person in db.session.scalars(select(User).where(User.id.in_(list(by_reviewer))))
        }
        reviewers = [
            ReviewerScores(people.get(uid), values, means[uid], uid == user.id)
            for uid, values in sorted(by_reviewer.items(), key=lambda item: item[0] != user.id)
        ]
    return ScorePanel(
        rubric=rubric,
        conflict=conflict,
        can_score=bool(rubric) and not conflict,
        mine=mine,
        visible=visible,
        hidden_until_scored=hidden_until_scored and not conflict,
        average=(sum(scored) / len(scored)) if visible and scored else None,
        count=len(scored),
        reviewers=reviewers,
    )
