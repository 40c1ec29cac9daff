"""Who may see and act on which form's submissions (reviewer scope), and as whom they act.

The rule, in one place: admins and reviewers of all forms see every form; other reviewers
see the forms they are assigned to. `can_review`, `reviewable_form_ids` and
`only_reviewable` read it for one user; `reviewers_of` is the same rule as a condition on
users, for finding who reviews a form."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.sql.elements import ColumnElement

from extensions import db
from models import Form, ReviewerAssignment, User


def reviews_every_form(user: User) -> bool:
    return user.is_admin or user.all_forms


def can_review(user: User | None, form_id: int) -> bool:
    if user is None or not user.is_authenticated or not user.active:
        return False
    if reviews_every_form(user):
        return True
    return (
        db.session.scalar(
            select(ReviewerAssignment.id).where(
                ReviewerAssignment.user_id == user.id, ReviewerAssignment.form_id == form_id
            )
        )
        is not None
    )


def reviewable_form_ids(user: User) -> list[int] | None:
    """None means every form."""
    if reviews_every_form(user):
        return None
    return [a.form_id for a in user.assignments]


def only_reviewable(query: Select, form_id_column, user: User) -> Select:
    """`query` limited to rows whose `form_id_column` is a form the user reviews."""
    ids = reviewable_form_ids(user)
    if ids is None:
        return query
    return query.where(form_id_column.in_(ids or [-1]))


def reviewers_of(form_id: int) -> ColumnElement[bool]:
    """The users (rows of User) who review form `form_id`, as a condition."""
    assigned = select(ReviewerAssignment.user_id).where(ReviewerAssignment.form_id == form_id)
    return (User.role == "admin") | User.all_forms.is_(True) | User.id.in_(assigned)


def visible_forms(user: User) -> list[Form]:
    """The published forms the user reviews, by slug."""
    query = select(Form).where(Form.current_version_id.is_not(None)).order_by(Form.slug)
    return list(db.session.scalars(only_reviewable(query, Form.id, user)))


def actor_kind(user: User) -> str:
    """What a staff member acts as, in the workflow and the audit log."""
    return "admin" if user.is_admin else "reviewer"


# --- deciding (staff roles, #17) ---------------------------------------------------------
# Reviewers read, score and comment on their calls; call managers also decide (workflow
# moves) on theirs; admins on every call.


def can_decide(user: User | None, form_id: int) -> bool:
    if user is None or not user.is_authenticated or not user.active:
        return False
    if user.is_admin:
        return True
    return user.role == "call_manager" and can_review(user, form_id)


# --- managing calls (the builder, #16) -----------------------------------------------------
# Admins build and run every call; call managers create calls and run those they review.


def can_create_calls(user: User | None) -> bool:
    if user is None or not user.is_authenticated or not user.active:
        return False
    return user.is_admin or user.role == "call_manager"


def can_manage_call(user: User | None, form_id: int) -> bool:
    return can_decide(user, form_id)


def manageable_forms(user: User) -> list[Form]:
    """Every call the user may build or run, published or not, archived or not."""
    query = select(Form).order_by(Form.slug)
    if not user.is_admin:
        if user.role != "call_manager":
            return []
        query = only_reviewable(query, Form.id, user)
    return list(db.session.scalars(query))
