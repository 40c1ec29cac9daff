"""Staff management: invitations, roles and calls, deactivation, password resets, and the
audit of all of it. Plain functions, one transaction each, an audit entry each.

Accounts are made at invitation (no password yet, so nobody can sign in with them): the
list shows who is invited, role and calls are edited the same way before and after, and
single sign-on (later) can match a person by email to the account an admin invited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import generate_password_hash

from extensions import db
from forms.published import spec_for
from mail.links import absolute_url
from mail.outbox import enqueue
from models import ROLES, AccountLink, AuditEntry, Form, ReviewerAssignment, User
from models.types import utcnow
from services import tokens
from services.users import (
    AccountError,
    check_password_rules,
    end_sessions,
    find_user,
    language_of,
    normalised_email,
)

INVITATION_VALID = timedelta(hours=72)
RESET_VALID = timedelta(hours=1)
MAX_NAME_LENGTH = 200
AUDIT_PREFIX = "staff."
SETTINGS_AUDIT_PREFIX = "settings."  # services/installation.py
AUDIT_PER_PAGE = 50


class LinkRefused(ValueError):
    """An invitation or reset link that cannot be used; the message says why, for the
    person who followed it."""


# --- audit -----------------------------------------------------------------------------


def audit(actor: User | None, action: str, subject: User | None, **data) -> None:
    """One entry in the audit log (inside the caller's transaction)."""
    if subject is not None:
        data = {"user_id": subject.id, "email": subject.email, **data}
    db.session.add(
        AuditEntry(
            action=AUDIT_PREFIX + action,
            actor_type=actor.role if actor is not None else "system",
            actor_id=actor.id if actor is not None else None,
            data=data,
        )
    )


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    page: int
    pages: int
    actors: dict[int, str]  # actor id → email


def audit_page(page: int) -> AuditPage:
    """Staff-related entries and the installation's settings, newest first."""
    staff_only = or_(
        AuditEntry.action.startswith(AUDIT_PREFIX),
        AuditEntry.action.startswith(SETTINGS_AUDIT_PREFIX),
    )
    total = db.session.scalar(select(func.count()).select_from(AuditEntry).where(staff_only))
    pages = max(1, -(-total // AUDIT_PER_PAGE))
    page = max(1, min(page, pages))
    entries = list(
        db.session.scalars(
            select(AuditEntry)
            .where(staff_only)
            .order_by(AuditEntry.id.desc())
            .offset((page - 1) * AUDIT_PER_PAGE)
            .limit(AUDIT_PER_PAGE)
        )
    )
    ids = {e.actor_id for e in entries if e.actor_id is not None}
    actors = dict(db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())
    return AuditPage(entries, page, pages, actors)


# --- the list --------------------------------------------------------------------------


@dataclass
class StaffRow:
    user: User
    form_titles: list[str]
    invited: bool  # invited, not accepted yet


def staff_rows() -> list[StaffRow]:
    titles = dict(db.session.execute(select(Form.id, Form.slug)).all())
    rows = []
    for user in db.session.scalars(select(User).order_by(func.lower(User.email))):
        calls = sorted(titles.get(a.form_id, "?") for a in user.assignments)
        rows.append(StaffRow(user, calls, invited=not user.has_password))
    return rows


def call_choices(language: str) -> list[tuple[int, str]]:
    """Every call, for the role form: id and "title (slug)" in `language`."""
    choices = []
    for form in db.session.scalars(select(Form).order_by(Form.slug)):
        if form.current_version is None:
            choices.append((form.id, form.slug))
        else:
            title = spec_for(form.current_version).text("title", language)
            choices.append((form.id, f"{title} ({form.slug})"))
    return choices


# --- roles and calls -------------------------------------------------------------------


def _active_admins() -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
    )


def _keep_an_admin(user: User, role: str, active: bool) -> None:
    """Nobody can take away the last active admin: the installation would be unmanageable."""
    stays_admin = role == "admin" and active
    if user.is_admin and user.active and not stays_admin and _active_admins() <= 1:
        raise AccountError(
            _("This is the last active admin. Make someone else an admin first."), field="role"
        )


def _set_calls(user: User, form_ids: list[int]) -> list[int]:
    known = set(db.session.scalars(select(Form.id).where(Form.id.in_(form_ids or [-1]))))
    wanted = sorted(known)
    user.assignments = [a for a in user.assignments if a.form_id in known]
    have = {a.form_id for a in user.assignments}
    for form_id in wanted:
        if form_id not in have:
            user.assignments.append(ReviewerAssignment(form_id=form_id))
    return wanted


def change_access(
    admin: User, user_id: int, role: str, form_ids: list[int], all_forms: bool
) -> User:
    """The person's role and calls (an admin's calls are all of them: none kept)."""
    user = _staff_member(user_id)
    if role not in ROLES:
        raise AccountError(_("Choose a role."), field="role")
    _keep_an_admin(user, role, user.active)
    before = {"role": user.role, "all_forms": user.all_forms, "forms": _form_ids(user)}
    user.role = role
    user.all_forms = all_forms and role != "admin"
    calls = _set_calls(user, [] if role == "admin" else form_ids)
    after = {"role": user.role, "all_forms": user.all_forms, "forms": calls}
    if after != before:
        audit(admin, "access_changed", user, before=before, after=after)
    db.session.commit()
    return user


def _form_ids(user: User) -> list[int]:
    return sorted(a.form_id for a in user.assignments)


def _staff_member(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise AccountError(_("There is no such person."))
    return user


def set_active(admin: User | None, user_id: int, active: bool) -> User:
    """Deactivate (signs the person out everywhere at once) or reactivate."""
    user = _staff_member(user_id)
    if user.active == active:
        return user
    if not active:
        _keep_an_admin(user, user.role, active=False)
    user.active = active
    audit(admin, "reactivated" if active else "deactivated", user)
    if not active:
        _void_links(user)
    end_sessions(user)  # commits
    return user


def _void_links(user: User, purpose: str | None = None) -> None:
    query = delete(AccountLink).where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None))
    if purpose:
        query = query.where(AccountLink.purpose == purpose)
    db.session.execute(query)


# --- invitations -----------------------------------------------------------------------


def invite(
    admin: User,
    email: str,
    role: str,
    form_ids: list[int],
    all_forms: bool,
    language: str,
) -> User:
    """Make the account (no password yet) and email the person a link to set one. Inviting
    someone invited before sends a new link; the old one stops working."""
    address = normalised_email(email)
    if role not in ROLES:
        raise AccountError(_("Choose a role."), field="role")
    user = find_user(address)
    if user is not None and user.has_password:
        raise AccountError(_("This person has an account already."), field="email")
    if user is None:
        # No notices before they accept (services.notifications writes to active staff).
        user = User(email=address, name="", password_hash="", role=role, active=True, notify="none")
        db.session.add(user)
        db.session.flush()
    else:
        _void_links(user, "invitation")
        user.role, user.active = role, True
    user.language = language
    user.all_forms = all_forms and role != "admin"
    calls = _set_calls(user, [] if role == "admin" else form_ids)
    token = _new_link(user, "invitation", INVITATION_VALID, admin)
    audit(admin, "invited", user, role=role, forms=calls, all_forms=user.all_forms)
    _send_link(user, "invitation", "account.accept_invitation", token, inviter=admin)
    db.session.commit()
    return user


def _new_link(user: User, purpose: str, valid: timedelta, creator: User | None) -> str:
    token, token_hash = tokens.new_token()
    db.session.add(
        AccountLink(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash,
            created_by_id=creator.id if creator else None,
            expires_at=utcnow() + valid,
        )
    )
    db.session.flush()
    return token


def _send_link(user: User, kind: str, endpoint: str, token: str, inviter: User | None = None):
    link = absolute_url(endpoint, token=token)
    enqueue(
        key=f"{kind}:{tokens.hash_token(token)[:32]}",
        kind=kind,
        recipient=user.email,
        language=language_of(user),
        values={
            "account_link": link,
            "inviter": (inviter.name or inviter.email) if inviter else "",
        },
        greet=user.name,
    )


def link_for(token: str, purpose: str) -> AccountLink:
    """The usable link for `token`, or LinkRefused saying why not."""
    link = db.session.scalar(
        select(AccountLink).where(
            AccountLink.token_hash == tokens.hash_token(token or ""), AccountLink.purpose == purpose
        )
    )
    invitation = purpose == "invitation"
    if link is None:
        raise LinkRefused(
            _("This invitation link is not valid (any longer). Ask an admin for a new one.")
            if invitation
            else _("This link is not valid (any longer). Ask for a new one.")
        )
    if link.used_at is not None:
        raise LinkRefused(
            _("This invitation was used already. Sign in with your email and password.")
            if invitation
            else _("This link was used already. Ask for a new one if you need it.")
        )
    if link.expires_at <= utcnow():
        raise LinkRefused(
            _("This invitation has expired. Ask an admin to invite you again.")
            if invitation
            else _("This link has expired. Ask for a new one.")
        )
    user = db.session.get(User, link.user_id)
    if user is None or not user.active:
        raise LinkRefused(_("This account is not active. Ask an admin."))
    return link


def accept_invitation(token: str, name: str, password: str) -> User:
    link = link_for(token, "invitation")
    user = db.session.get(User, link.user_id)
    if not name.strip():
        raise AccountError(_("Enter your name."), field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(
            _("The name can be at most %(max)d characters long.", max=MAX_NAME_LENGTH),
            field="name",
        )
    check_password_rules(password, (user.email, name))
    if not _claim(link):
        raise LinkRefused(
            _("This invitation was used already. Sign in with your email and password.")
        )
    user.name = name.strip()
    user.password_hash = generate_password_hash(password, method="scrypt")
    user.notify = "immediate"  # the default of accounts made on the command line
    user.last_login_at = utcnow()
    audit(user, "invitation_accepted", user)
    db.session.commit()
    return user


def _claim(link: AccountLink) -> bool:
    """Mark the link used, unless a parallel request did first (single use under races)."""
    claimed = db.session.execute(
        update(AccountLink)
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return claimed.rowcount == 1


# --- password reset --------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Email a reset link when the address belongs to an active account with a password;
    otherwise nothing. The caller answers the same either way."""
    user = find_user(email)
    if user is None or not user.active or not user.has_password:
        return
    token = _new_link(user, "password_reset", RESET_VALID, None)
    audit(None, "password_reset_requested", user)
    _send_link(user, "password_reset", "account.reset_password", token)
    db.session.commit()


def reset_password(token: str, password: str) -> User:
    """A new password from a reset link; every session of the account ends."""
    link = link_for(token, "password_reset")
    user = db.session.get(User, link.user_id)
    check_password_rules(password, (user.email, user.name))
    if not _claim(link):
        raise LinkRefused(_("This link was used already. Ask for a new one if you need it."))
    user.password_hash = generate_password_hash(password, method="scrypt")
    audit(user, "password_reset", user)
    end_sessions(user)  # commits
    return user


# --- the command line (`flask users …`) ------------------------------------------------


def deactivate_by_email(email: str) -> User:
    user = find_user(email)
    if user is None:
        raise AccountError(f"no user with the email {email}")
    try:
        return set_active(None, user.id, False)
    except AccountError as refused:  # the CLI's messages are English, one line
        raise AccountError(f"{user.email} is the last active admin; make another first") from (
            refused
        )


def staff_lines() -> list[str]:
    lines = []
    for row in staff_rows():
        user = row.user
        state = "invited" if row.invited else ("active" if user.active else "inactive")
        calls = "all" if user.all_forms or user.is_admin else ",".join(row.form_titles) or "-"
        two_factor = "2fa" if user.has_two_factor else "no-2fa"
        lines.append(f"{user.email}\t{user.role}\t{state}\t{two_factor}\tcalls:{calls}")
    return lines
