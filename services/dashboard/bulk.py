"""Moving several submissions of the dashboard's list at once: which steps the list offers,
what a step would do to each chosen submission, and doing it, each in its own
transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from flask_babel import gettext as _
from sqlalchemy import select

from extensions import db
from forms.published import spec_for
from models import Submission, User
from services.access import actor_kind, can_decide, only_reviewable
from services.dashboard.listing import ListChoices, ListFilters, shown_forms
from services.transitions import Actor, TransitionRefused, transition
from workflows.lookup import workflow_of

BULK_LIMIT = 500  # submissions moved in one bulk action


@dataclass
class BulkChoice:
    name: str
    label: str
    comment_required: bool


def bulk_choices(
    user: User, choices: ListChoices, language: str, filters: ListFilters | None = None
) -> list[BulkChoice]:
    """Transitions the user may take in the workflows of the calls the list shows (the
    filtered call, from the filtered state). Those that need a date are made one at a time
    on the submission's page. Each label is distinct: two workflows may both call a step
    "Odrzuć", so those that share one say from which states they go."""
    filters = filters or ListFilters()
    kind = _actor(user).kind
    found: dict[str, tuple[BulkChoice, list[str]]] = {}
    for info in shown_forms(filters, choices):
        if not can_decide(user, info.form.id):  # reviewers read, score and comment
            continue
        for step in info.workflow.transitions:
            if kind not in step.actors or step.needs_date:
                continue
            if filters.state and filters.state not in step.sources:
                continue
            sources = [info.workflow.state_label(s, language) for s in step.sources]
            if step.name in found:
                found[step.name][1].extend(s for s in sources if s not in found[step.name][1])
            else:
                found[step.name] = (
                    BulkChoice(step.name, step.title(language), step.comment_required),
                    sources,
                )
    return _distinct_labels(list(found.values()))


def _distinct_labels(options: list[tuple[BulkChoice, list[str]]]) -> list[BulkChoice]:
    shared = Counter(choice.label for choice, _sources in options)
    labelled = []
    for choice, sources in options:
        if shared[choice.label] > 1:
            label = _(
                "%(action)s (from: %(states)s)", action=choice.label, states=", ".join(sources)
            )
            choice = replace(choice, label=label)
        labelled.append(choice)
    # Still alike (the same step from the same states): the step's own name tells them apart.
    shared = Counter(choice.label for choice in labelled)
    return [
        replace(c, label=f"{c.label} [{c.name}]") if shared[c.label] > 1 else c for c in labelled
    ]


def reviewable_submissions(user: User, ids: Iterable[int]) -> list[Submission]:
    """The submissions among `ids` that the user reviews; other ids are dropped silently
    (a forged id neither acts nor tells whether it exists)."""
    ids = sorted(set(ids))[:BULK_LIMIT]
    if not ids:
        return []
    query = select(Submission).where(Submission.id.in_(ids)).order_by(Submission.reference)
    return list(db.session.scalars(only_reviewable(query, Submission.form_id, user)))


@dataclass
class BulkItem:
    submission: Submission
    form_title: str
    state_label: str
    can: bool  # the transition exists from this state for this user


def bulk_preview(user: User, ids: Iterable[int], name: str, language: str) -> list[BulkItem]:
    kind = _actor(user).kind
    items = []
    for submission in reviewable_submissions(user, ids):
        workflow = workflow_of(submission)
        step = workflow.transition(name)
        items.append(
            BulkItem(
                submission=submission,
                form_title=spec_for(submission.form_version).text("title", language),
                state_label=workflow.state_label(submission.state, language),
                can=step is not None
                and submission.state in step.sources
                and kind in step.actors
                and can_decide(user, submission.form_id),
            )
        )
    return items


@dataclass
class BulkOutcome:
    submission_id: int
    reference: str
    done: bool
    message: str  # the new state's label, or why it was refused


def apply_bulk(
    user: User,
    name: str,
    expected_states: Mapping[int, str],
    comment: str | None,
    language: str,
) -> tuple[list[BulkOutcome], int]:
    """Apply transition `name` to each submission, each in its own transaction, from the
    state the person confirmed (`expected_states`). Returns an outcome per submission and
    how many ids were left out because the user does not review them."""
    allowed = [(s.id, s.reference) for s in reviewable_submissions(user, expected_states.keys())]
    left_out = len(set(expected_states)) - len(allowed)
    actor = _actor(user)
    outcomes = []
    for submission_id, reference in allowed:
        try:
            moved = transition(
                submission_id,
                name,
                actor,
                comment=comment,
                expected_state=expected_states[submission_id],
            )
        except TransitionRefused as refusal:
            db.session.rollback()
            outcomes.append(BulkOutcome(submission_id, reference, False, str(refusal)))
        else:
            label = workflow_of(moved).state_label(moved.state, language)
            outcomes.append(BulkOutcome(submission_id, reference, True, label))
    return outcomes, left_out


def _actor(user: User) -> Actor:
    return Actor(actor_kind(user), user.id)
