"""Two-factor sign-in with TOTP (RFC 6238, pyotp): enrolment by QR code (segno) or the
secret as text, ten single-use recovery codes (kept hashed, shown once), the check at
sign-in, and which roles must use it (an installation setting chosen by admins).

A code counts once: the last accepted time step is stored and only a later one is taken,
by a conditional UPDATE, so two requests racing with one code cannot both win."""

from __future__ import annotations

import hmac
import secrets
import time
from html import escape

import pyotp
import segno
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from werkzeug.security import check_password_hash

from extensions import db
from models import ROLES, RecoveryCode, User
from models.types import utcnow
from services import settings
from services.staff import audit
from services.tokens import hash_token
from services.users import AccountError

STEP_SECONDS = 30
ALLOWED_DRIFT_STEPS = 1  # the code of the step before or after is accepted too (clock drift)
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
RECOVERY_LENGTH = 10  # about 49 bits each
MAX_CODE_LENGTH = 32  # anything longer is no code of ours
REQUIRED_ROLES_SETTING = "two_factor_required_roles"
ISSUER = "Formdesk"


# --- who must use it --------------------------------------------------------------------


def required_roles() -> list[str]:
    roles = settings.get(REQUIRED_ROLES_SETTING, [])
    return [r for r in ROLES if r in roles]


def set_required_roles(admin: User, roles: list[str]) -> None:
    wanted = [r for r in ROLES if r in roles]
    before = required_roles()
    if wanted == before:
        return
    settings.put(REQUIRED_ROLES_SETTING, wanted, admin)
    audit(admin, "two_factor_requirement_changed", None, before=before, after=wanted)
    db.session.commit()


def must_enrol(user: User) -> bool:
    return not user.has_two_factor and user.role in required_roles()


# --- enrolment --------------------------------------------------------------------------


def begin_enrolment(user: User) -> str:
    """A new secret for the person to scan or type; in use once confirmed with a code."""
    if user.has_two_factor:
        raise AccountError(_("Two-factor sign-in is on already."))
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()  # 160 bits
        db.session.commit()
    return user.totp_secret


def setup_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str, label: str) -> str:
    """The QR code as inline SVG (no inline style: the page's CSP allows none)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)


def spaced_secret(secret: str) -> str:
    """The secret in groups of four, easier to type."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Turn two-factor sign-in on with a code from the app; returns the recovery codes,
    which are shown this once."""
    if user.has_two_factor or not user.totp_secret:
        raise AccountError(_("Start the set-up again."), field="code")
    step = _matching_step(user.totp_secret, code)
    if step is None:
        raise AccountError(_("This code is not right. Check the app's time and try again."), "code")
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    audit(user, "two_factor_enabled", user)
    db.session.commit()
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _n in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _i in range(RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_token(raw)))
    return codes


def disable(user: User, password: str) -> None:
    """Off, on the person's own password (someone at an unlocked screen cannot)."""
    if not check_password_hash(user.password_hash or "", password or ""):
        raise AccountError(_("The password is not right."), field="password")
    _turn_off(user)
    audit(user, "two_factor_disabled", user)
    db.session.commit()


def remove_for(admin: User, user_id: int) -> User:
    """An admin turns it off for someone who lost their phone and their recovery codes;
    they enrol again (at once, where their role requires it)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise AccountError(_("There is no such person."))
    _turn_off(user)
    audit(admin, "two_factor_removed", user)
    db.session.commit()
    return user


def _turn_off(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def recovery_codes_left(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


# --- sign-in ----------------------------------------------------------------------------


class CodeRefused(ValueError):
    pass


def verify(user: User, code: str) -> str:
    """Accept a code from the app or a recovery code, once. Returns which ("totp" or
    "recovery"); CodeRefused with the reason otherwise."""
    typed = "".join((code or "").split())[:MAX_CODE_LENGTH]
    if not user.has_two_factor:
        raise CodeRefused(_("Two-factor sign-in is not on for this account."))
    if typed.isdigit():
        step = _matching_step(user.totp_secret, typed)
        if step is None:
            raise CodeRefused(_("This code is not right. Use the newest code from your app."))
        taken = db.session.execute(
            update(User)
            .where(
                User.id == user.id,
                (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        db.session.commit()
        if taken.rowcount != 1:
            raise CodeRefused(
                _("This code was used already. Wait for the next code from your app.")
            )
        return "totp"
    raw = typed.replace("-", "").lower()
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_token(raw),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:
        db.session.rollback()
        raise CodeRefused(_("This recovery code is not right or was used already."))
    audit(user, "recovery_code_used", user)
    db.session.commit()
    return "recovery"


def _matching_step(secret: str, code: str) -> int | None:
    """The time step (within ±1 of now) whose code is `code`, or None."""
    code = "".join((code or "").split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // STEP_SECONDS
    for step in range(now - ALLOWED_DRIFT_STEPS, now + ALLOWED_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None
