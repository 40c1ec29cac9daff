"""Staff accounts: creation, sign-in check, password change. Passwords are hashed with
scrypt (werkzeug); no default password exists anywhere."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from config import LANGUAGES
from extensions import db
from models import ROLES, Form, ReviewerAssignment, User
from models.types import utcnow

MIN_PASSWORD_LENGTH = 12
# zxcvbn's score (0–4): 3 is "safely unguessable: moderate protection from an offline attack"
# (repeats, keyboard walks, common passwords and words with digits score lower).
MIN_PASSWORD_SCORE = 3
# Compared against when the email is unknown, so a wrong email costs the same time as a
# wrong password and does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0000", method="scrypt")


class AccountError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field  # the form field the message belongs beside


def check_password_rules(password: str, user_inputs: tuple[str, ...] = ()) -> None:
    """Long enough, and hard to guess by zxcvbn's estimate (`user_inputs`: the person's
    email and name, which a password must not lean on)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("Use at least %(min)d characters for the password.", min=MIN_PASSWORD_LENGTH),
            field="new",
        )
    # zxcvbn's time grows with the length; the first 100 characters decide.
    if zxcvbn(password[:100], user_inputs=[i for i in user_inputs if i])["score"] < (
        MIN_PASSWORD_SCORE
    ):
        raise AccountError(
            _("This password is too easy to guess. Use a few words that do not belong together."),
            field="new",
        )


def normalised_email(email: str) -> str:
    """A staff email address as email-validator accepts it (no DNS look-up), lower case."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise AccountError(f"not an email address: {error}", field="email") from error


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    email: str,
    password: str,
    role: str,
    name: str = "",
    all_forms: bool = False,
    form_slugs: tuple[str, ...] = (),
) -> User:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    address = normalised_email(email)
    if find_user(address):
        raise AccountError(f"a user with the email {email} exists already")
    check_password_rules(password, (address, name))
    user = User(
        email=address,
        name=name,
        role=role,
        all_forms=all_forms,
        password_hash=generate_password_hash(password, method="scrypt"),
    )
    db.session.add(user)
    for slug in form_slugs:
        form = db.session.scalar(select(Form).where(Form.slug == slug))
        if form is None:
            raise AccountError(f"no form with the slug {slug}")
        user.assignments.append(ReviewerAssignment(form_id=form.id))
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email or "")
    if user is None or not user.has_password:  # unknown, or invited and not accepted yet
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current or ""):
        raise AccountError(_("The current password is not right."), field="current")
    check_password_rules(new, (user.email, user.name))
    user.password_hash = generate_password_hash(new, method="scrypt")
    end_sessions(user)  # signs out every other session of this account


def end_sessions(user: User) -> None:
    """Every session cookie of `user` stops working, copies included: the cookie carries
    the session version (User.get_id) and `load_user` accepts only the current one."""
    user.session_version += 1
    db.session.commit()


def deactivate(email: str) -> User:
    """The account can no longer sign in, and its open sessions end at once."""
    user = find_user(email)
    if user is None:
        raise AccountError(f"no user with the email {email}")
    user.active = False
    end_sessions(user)
    return user


def set_language(user: User, language: str) -> None:
    """The language the person reads the dashboard and their emails in; one of the
    installation's (checked by the caller, at the edge)."""
    if language not in LANGUAGES:
        raise AccountError(f"not a language of this installation: {language}")
    if user.language != language:
        user.language = language
        db.session.commit()


def language_of(user: User) -> str:
    """The language of emails to `user`: theirs (while the installation offers it), else
    the service's default."""
    if user.language in LANGUAGES:
        return user.language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session version, see User.get_id."""
    try:
        raw_id, version = user_id.split(":")
        user = db.session.get(User, int(raw_id))
    except (ValueError, TypeError):
        return None
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user
