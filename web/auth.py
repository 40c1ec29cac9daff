"""Staff sign-in, sign-out, password change and the language each person reads the
dashboard and their emails in."""

from __future__ import annotations

import math
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import TooManyRequests
from wtforms import EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from config import LANGUAGES
from extensions import limiter
from services import users as user_service
from services.staff_input import has_control_character, normalise
from web.language import preferred_language

bp = Blueprint("auth", __name__)


MAX_EMAIL_LENGTH = 254  # the longest address SMTP can carry


def plain_email(_form, field) -> None:
    """Refused before any look-up: PostgreSQL cannot compare text holding NUL."""
    field.data = normalise(field.data).strip()
    if has_control_character(field.data) or len(field.data) > MAX_EMAIL_LENGTH:
        raise ValidationError(
            _l("Enter an email address in the right format, like name@example.org.")
        )


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter your email address.")), plain_email],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password."))],
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[EqualTo("new", _l("The two new passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )


def _safe_next(target: str | None) -> str:
    """Only paths on this site: an open redirect would help phishing."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("dashboard.index")


class SignInDelay:
    """Failed sign-ins, counted per account *and* address in the rate limiter's storage
    (shared by the processes that share the limits). After FORMDESK_LOGIN_FREE_ATTEMPTS
    failures, each further one makes that pair wait twice as long as the last time, up to
    FORMDESK_LOGIN_MAX_DELAY_SECONDS; a success forgets them. Someone failing a person's
    password from their own address slows down only themselves: the account is never
    locked for its owner elsewhere."""

    def __init__(self, email: str):
        who = f"{(email or '').strip().lower()[:320]}/{request.remote_addr}"
        self.config = current_app.config
        # Namespaced like the limiter's own keys: installations (or test runs) sharing one
        # Redis must not count each other's failures (they are kept a day).
        prefix = self.config.get("RATELIMIT_KEY_PREFIX") or ""
        self.failures_key = f"{prefix}signin-failures/{who}"
        self.wait_key = f"{prefix}signin-wait/{who}"
        # Limits switched off (RATELIMIT_ENABLED=False: benchmarks) leave no storage to count in.
        self.storage = limiter.storage if self.config.get("RATELIMIT_ENABLED", True) else None

    def seconds_left(self) -> int:
        if self.storage is None or not self.storage.get(self.wait_key):
            return 0
        return max(1, math.ceil(self.storage.get_expiry(self.wait_key) - time.time()))

    def failed(self) -> None:
        if self.storage is None:
            return
        failures = self.storage.incr(self.failures_key, 24 * 3600)
        beyond = failures - self.config["FORMDESK_LOGIN_FREE_ATTEMPTS"]
        if beyond >= 0:
            first, longest = (
                self.config["FORMDESK_LOGIN_FIRST_DELAY_SECONDS"],
                self.config["FORMDESK_LOGIN_MAX_DELAY_SECONDS"],
            )
            self.storage.incr(self.wait_key, min(first * 2 ** min(beyond, 30), longest))

    def succeeded(self) -> None:
        if self.storage is None:
            return
        self.storage.clear(self.failures_key)
        self.storage.clear(self.wait_key)


@bp.route("/login", methods=["GET", "POST"])
# Throttled per address (one machine trying many accounts); per account and address, failed
# attempts make the next one wait longer and longer (SignInDelay).
@limiter.limit(lambda: current_app.config["FORMDESK_LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
def login():
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        delay = SignInDelay(form.email.data)
        if wait := delay.seconds_left():  # even the right password waits: no guess counts
            return _too_soon(wait)
        user = user_service.authenticate(form.email.data, form.password.data)
        if user is None:
            delay.failed()
        else:
            delay.succeeded()
            next_url = _safe_next(request.args.get("next"))
            chosen = session.get("lang")
            if user.has_two_factor:  # not signed in until the code is right (web.account)
                from web.account import begin_second_step

                return begin_second_step(user, next_url, chosen)
            session.clear()  # a new session at sign-in: no fixation
            login_user(user)
            _keep_language(user, chosen)
            return redirect(next_url)
        failed = True
    return render_template("auth/login.html", form=form, failed=failed), 401 if failed else 200


def _too_soon(seconds: int):
    error = TooManyRequests(retry_after=seconds)
    return render_template("errors/error.html", error=error), 429, {"Retry-After": str(seconds)}


def _keep_language(user, chosen: str | None) -> None:
    """The dashboard in the person's language on any computer: one chosen with the switcher
    before signing in becomes theirs; else theirs; else the one this page was shown in."""
    stored = user.language if user.language in LANGUAGES else None
    language = chosen or stored or preferred_language()
    session["lang"] = language
    user_service.set_language(user, language)


# Pages where a language switched is the staff member's own choice (not a public form read
# in the applicant's language).
STAFF_BLUEPRINTS = frozenset({"auth", "dashboard", "review", "admin", "staff", "account"})


@bp.before_app_request
def remember_staff_language() -> None:
    """The language switcher, used while signed in, changes the person's language: their
    emails follow the dashboard."""
    wanted = request.args.get("lang")
    if (
        wanted in LANGUAGES
        and request.blueprint in STAFF_BLUEPRINTS
        and current_user.is_authenticated
        and current_user.language != wanted
    ):
        user_service.set_language(current_user, wanted)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # Ends the session on the server: a copy of the cookie is refused from now on.
        user_service.end_sessions(current_user)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            user_service.change_password(current_user, form.current.data, form.new.data)
        except user_service.AccountError as error:
            form[error.field or "new"].errors = [str(error)]
        else:
            # Stay signed in here with the new session version (the user, not the proxy:
            # Flask-Login would store the proxy, which then resolves to itself).
            login_user(current_user._get_current_object())
            return _account_page(None, changed=True)
    return _account_page(
        form, changed=False, language_saved=request.args.get("language_saved") == "1"
    )


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language of the dashboard and of emails to you"))


def _language_form() -> LanguageForm:
    form = LanguageForm(language=current_user.language)
    form.language.choices = [(code, name) for code, name in LANGUAGES.items()]
    return form


def _account_page(form, changed: bool, language_saved: bool = False):
    return render_template(
        "auth/password.html",
        form=form,
        changed=changed,
        language_form=_language_form(),
        language_saved=language_saved,
    )


@bp.post("/account/language")
@login_required
def language():
    form = _language_form()
    if not form.validate_on_submit():  # a language not offered, or no CSRF token
        abort(400)
    user_service.set_language(current_user, form.language.data)
    session["lang"] = form.language.data
    return redirect(url_for("auth.password", language_saved=1))
