"""Staff accounts: admins, call managers and reviewers. Applicants have no account."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.types import UTCDateTime, utcnow

# admin: everything. call_manager: builds and decides for their calls (ReviewerAssignment,
# or every call with all_forms). reviewer: reads, scores and comments on their calls.
ROLES = ("admin", "call_manager", "reviewer")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    # A reviewer or call manager works on the forms assigned to them, or on every form
    # when this is set.
    all_forms: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changed at sign-out, password change and deactivation: every session cookie carries
    # it (Flask-Login's id, get_id) and only the current one is accepted (services.users).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # New-submission notices: "immediate", "daily" (one digest a day) or "none".
    notify: Mapped[str] = mapped_column(String(20), default="immediate", server_default="immediate")
    # The language of the dashboard and of emails to this person: the one they last chose
    # (language switcher, account page), else the one they first signed in with.
    language: Mapped[str | None] = mapped_column(String(8))
    # Two-factor sign-in (services.two_factor): the TOTP secret, written at enrolment and
    # in use from `totp_enabled_at`; the last time step accepted, so no code counts twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assignments: Mapped[list[ReviewerAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def has_password(self) -> bool:
        """False for an invited person who has not accepted yet."""
        return bool(self.password_hash)


class ReviewerAssignment(db.Model):
    __tablename__ = "reviewer_assignments"
    __table_args__ = (UniqueConstraint("user_id", "form_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)

    user: Mapped[User] = relationship(back_populates="assignments")
