"""Who may see and act on which form's submissions."""

from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models import ReviewerAssignment, User


def can_review(user: User | None, form_id: int) -> bool:
    if user is None or not user.is_authenticated or not user.active:
        return False
    if user.is_admin or user.all_forms:
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
    if user.is_admin or user.all_forms:
        return None
    return [a.form_id for a in user.assignments]


# --- deciding (staff roles, #17) ---------------------------------------------------------
# Reviewers read, score and comment on their calls; call managers also decide (workflow
# moves) on theirs; admins on every call.


def can_decide(user: User | None, form_id: int) -> bool:
    if user is None or not user.is_authenticated or not user.active:
        return False
    if user.is_admin:
        return True
    return user.role == "call_manager" and can_review(user, form_id)
