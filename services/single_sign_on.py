"""Single sign-on: who an identity provider's verified ID token lets in. The token's
signature, issuer, audience, expiry and nonce are checked by Authlib before (web.oidc);
here its claims are read as untrusted input and matched to staff.

The rule: the token's email address (verified, when the provider says whether it is)
names an active account that exists already, or one an admin invited whose invitation is
still open. Nobody else gets in: there is no account made from a token. Every sign-in and
every refusal is in the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select, update

from extensions import db
from models import AccountLink, User
from models.types import utcnow
from services.staff import MAX_NAME_LENGTH, audit
from services.staff_input import has_control_character, normalise
from services.users import AccountError, find_user, normalised_email

MAX_EMAIL_LENGTH = 254  # the longest address SMTP can carry
MAX_CLAIM_LENGTH = 500  # any claim we read; longer is no name or address of a person
# Kept as the password hash of an account whose invitation was accepted by single sign-on:
# not a hash werkzeug can match (no "$"), so no password opens the account, yet the account
# counts as accepted (User.has_password). A password can be set later by a reset link.
NO_PASSWORD = "!single-sign-on"  # noqa: S105 (a marker, not a secret)


@dataclass
class SignInRefused(Exception):
    reason: str  # for the audit log: no_email, email_not_verified, not_invited, …
    message: str  # for the person, in their language

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class SignedIn:
    user: User
    accepted_invitation: bool


def _claim_text(claims: Mapping, key: str) -> str | None:
    """A string claim, normalised (NFC, trimmed), or None when absent, not a string, too
    long or holding a control character: nothing unchecked reaches the database."""
    value = claims.get(key)
    if not isinstance(value, str):
        return None
    text = normalise(value).strip()
    if not text or len(text) > MAX_CLAIM_LENGTH or has_control_character(text):
        return None
    return text


def _name(claims: Mapping) -> str:
    name = _claim_text(claims, "name")
    if name is None:
        parts = [_claim_text(claims, "given_name"), _claim_text(claims, "family_name")]
        name = " ".join(p for p in parts if p)
    return " ".join(name.split())[:MAX_NAME_LENGTH]


def _email(claims: Mapping) -> str:
    if "email" not in claims:
        raise SignInRefused(
            "no_email",
            _(
                "Your identity provider did not tell us your email address, so we cannot "
                "find your staff account. Ask an admin to check the single sign-on settings."
            ),
        )
    verified = claims.get("email_verified", True)  # a provider that does not say: its own
    if verified not in (True, "true"):  # some providers send the string
        raise SignInRefused(
            "email_not_verified",
            _(
                "Your identity provider says your email address is not verified. Verify it "
                "there, then sign in again."
            ),
        )
    text = _claim_text(claims, "email")
    try:
        if text is None or len(text) > MAX_EMAIL_LENGTH:
            raise AccountError("not an email address")
        return normalised_email(text)
    except AccountError:
        raise SignInRefused(
            "bad_email",
            _("Your identity provider sent an email address we cannot use. Ask an admin."),
        ) from None


def _open_invitation(user: User) -> AccountLink | None:
    return db.session.scalar(
        select(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == "invitation",
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > utcnow(),
        )
        .order_by(AccountLink.id.desc())
        .limit(1)
    )


def _refuse(refusal: SignInRefused, provider: str, subject: User | None, email: str | None):
    data = {"provider": provider, "reason": refusal.reason}
    if subject is None and email:
        data["email"] = email  # checked: an address email-validator accepted
    audit(None, "oidc_refused", subject, **data)
    db.session.commit()
    raise refusal


def sign_in(claims: Mapping, provider: str) -> SignedIn:
    """The staff member the verified claims name, signed in (last sign-in, audit); an
    invitation still open is accepted on the way. SignInRefused says why not."""
    try:
        email = _email(claims)
    except SignInRefused as refusal:
        _refuse(refusal, provider, None, None)
    user = find_user(email)
    if user is None:
        _refuse(
            SignInRefused(
                "not_invited",
                _(
                    "No staff account was invited for this address (%(email)s). Ask an admin "
                    "to invite you, then sign in again.",
                    email=email,
                ),
            ),
            provider,
            None,
            email,
        )
    if not user.active:
        _refuse(
            SignInRefused(
                "deactivated",
                _("This staff account is deactivated. Ask an admin if you need it again."),
            ),
            provider,
            user,
            None,
        )
    accepted = False
    if not user.has_password:
        invitation = _open_invitation(user)
        if invitation is None or not _claim(invitation):
            _refuse(
                SignInRefused(
                    "invitation_expired",
                    _("Your invitation has expired. Ask an admin to invite you again."),
                ),
                provider,
                user,
                None,
            )
        user.password_hash = NO_PASSWORD
        user.notify = "immediate"  # as accept_invitation: the default of made accounts
        if not user.name:
            user.name = _name(claims)
        accepted = True
        audit(user, "invitation_accepted", user, via="oidc")
    user.last_login_at = utcnow()
    # With two-factor sign-in on, the code is still asked (web.account) before a session.
    audit(user, "signed_in_oidc", user, provider=provider, code_asked=user.has_two_factor)
    db.session.commit()
    return SignedIn(user, accepted)


def _claim(link: AccountLink) -> bool:
    """Mark the invitation used, unless a parallel request did first."""
    claimed = db.session.execute(
        update(AccountLink)
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return claimed.rowcount == 1
