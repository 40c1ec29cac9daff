"""A staff member's own account beyond the password: accepting an invitation, resetting a
forgotten password by email, the second step of sign-in (a TOTP or recovery code) and
two-factor enrolment. HTTP only: services.staff and services.two_factor do the work."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from extensions import db, limiter
from models import User
from services import staff as staff_service
from services import two_factor as two_factor_service
from services import users as user_service
from services.staff_input import has_control_character, normalise
from web.auth import SignInDelay, _keep_language, _too_soon, plain_email

bp = Blueprint("account", __name__)

SECOND_STEP_SECONDS = 300  # the password counts for this long while the code is asked
# A reset request answers after at least this long, whether a message was queued or not:
# the time does not tell which addresses have accounts.
RESET_ANSWER_SECONDS = 0.5
MAX_PASSWORD_LENGTH = 1000
MAX_CODE_FIELD = 32


def _token_limit() -> str:
    return current_app.config["FORMDESK_TOKEN_LIMIT"]


def _login_limit() -> str:
    return current_app.config["FORMDESK_LOGIN_LIMIT_PER_ADDRESS"]


def _plain_line(_form, field) -> None:
    field.data = normalise(field.data).strip()
    if has_control_character(field.data):
        from wtforms.validators import ValidationError

        raise ValidationError(_l("This cannot hold a line break or an invisible character."))


class NewPasswordForm(FlaskForm):
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[EqualTo("new", _l("The two new passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )


class AcceptForm(NewPasswordForm):
    name = StringField(
        _l("Your name"),
        validators=[
            DataRequired(_l("Enter your name.")),
            _plain_line,
            Length(max=staff_service.MAX_NAME_LENGTH),
        ],
        render_kw={"autocomplete": "name"},
    )


class ResetRequestForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter your email address.")), plain_email],
        render_kw={"autocomplete": "username"},
    )


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Enter the code.")), Length(max=MAX_CODE_FIELD), _plain_line],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"},
    )


class PasswordCheckForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


def _refused(message: str):
    return render_template("auth/link_refused.html", message=message), 410


# --- invitation ------------------------------------------------------------------------


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(_token_limit, scope="account-links")
def accept_invitation(token: str):
    try:
        link = staff_service.link_for(token, "invitation")
    except staff_service.LinkRefused as refused:
        return _refused(str(refused))
    invited = db.session.get(User, link.user_id)
    form = AcceptForm()
    if form.validate_on_submit():
        try:
            user = staff_service.accept_invitation(token, form.name.data, form.new.data)
        except staff_service.LinkRefused as refused:
            return _refused(str(refused))
        except user_service.AccountError as error:
            form[error.field or "new"].errors = [str(error)]
        else:
            chosen = session.get("lang")
            session.clear()
            login_user(user)
            _keep_language(user, chosen or user.language)
            return redirect(url_for("dashboard.index"))
    return render_template("auth/invitation.html", form=form, email=invited.email), (
        400 if form.errors else 200
    )


# --- password reset --------------------------------------------------------------------


@bp.route("/password-reset", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        started = time.monotonic()
        staff_service.request_password_reset(form.email.data)
        # The same answer and about the same time whether the address has an account.
        time.sleep(max(0.0, RESET_ANSWER_SECONDS - (time.monotonic() - started)))
        return render_template("auth/reset_request.html", form=None, sent=True)
    return render_template("auth/reset_request.html", form=form, sent=False), (
        400 if form.errors else 200
    )


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@limiter.limit(_token_limit, scope="account-links")
def reset_password(token: str):
    try:
        staff_service.link_for(token, "password_reset")
    except staff_service.LinkRefused as refused:
        return _refused(str(refused))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            staff_service.reset_password(token, form.new.data)
        except staff_service.LinkRefused as refused:
            return _refused(str(refused))
        except user_service.AccountError as error:
            form[error.field or "new"].errors = [str(error)]
        else:
            session.clear()
            return render_template("auth/reset_done.html")
    return render_template("auth/reset_password.html", form=form), 400 if form.errors else 200


# --- the second step of sign-in --------------------------------------------------------


def begin_second_step(user: User, next_url: str, chosen_language: str | None):
    """The password was right; the session is not signed in until the code is."""
    session.clear()
    session["second_step"] = {
        "user": user.get_id(),
        "next": next_url,
        "lang": chosen_language,
        "at": time.time(),
    }
    if chosen_language:
        session["lang"] = chosen_language
    return redirect(url_for("account.second_step"))


def _pending_user() -> User | None:
    pending = session.get("second_step") or {}
    if time.time() - float(pending.get("at") or 0) > SECOND_STEP_SECONDS:
        return None
    return user_service.load_user(str(pending.get("user") or ""))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def second_step():
    user = _pending_user()
    if user is None:
        session.pop("second_step", None)
        return redirect(url_for("auth.login"))
    form = CodeForm()
    refused = None
    if form.validate_on_submit():
        delay = SignInDelay(user.email)
        if wait := delay.seconds_left():
            return _too_soon(wait)
        try:
            two_factor_service.verify(user, form.code.data)
        except two_factor_service.CodeRefused as refusal:
            delay.failed()
            refused = str(refusal)
            form.code.errors = [refused]
        else:
            delay.succeeded()
            pending = session.pop("second_step")
            session.clear()
            login_user(user)
            _keep_language(user, pending.get("lang"))
            return redirect(pending.get("next") or url_for("dashboard.index"))
    return render_template("auth/second_step.html", form=form), 401 if form.errors else 200


# --- enrolment -------------------------------------------------------------------------

# Where someone whose role requires two-factor sign-in may go before enrolling.
ENROLMENT_OPEN = frozenset(
    {
        "account.two_factor",
        "account.start_two_factor",
        "account.confirm_two_factor",
        "auth.logout",
        "auth.language",
        "static",
    }
)


@bp.before_app_request
def send_to_enrolment():
    """People whose role must use two-factor sign-in enrol before anything else."""
    if (
        request.endpoint
        and request.endpoint not in ENROLMENT_OPEN
        and request.blueprint not in ("public", "about", "applicant", "health", "documents")
        and current_user.is_authenticated
        and two_factor_service.must_enrol(current_user)
    ):
        return redirect(url_for("account.two_factor"))
    return None


def _enrolment_page(
    confirm: CodeForm | None = None,
    codes: list[str] | None = None,
    disable: PasswordCheckForm | None = None,
    status: int = 200,
):
    user = current_user
    setup = None
    if not user.has_two_factor and user.totp_secret and codes is None:
        uri = two_factor_service.setup_uri(user)
        setup = {
            "svg": two_factor_service.qr_svg(uri, _("QR code to scan with an authenticator app")),
            "secret": two_factor_service.spaced_secret(user.totp_secret),
        }
    return render_template(
        "auth/two_factor.html",
        setup=setup,
        confirm=confirm or CodeForm(),
        disable=disable or PasswordCheckForm(),
        codes=codes,
        required=two_factor_service.must_enrol(user),
        codes_left=two_factor_service.recovery_codes_left(user) if user.has_two_factor else 0,
    ), status


@bp.get("/account/two-factor")
@login_required
def two_factor():
    return _enrolment_page()


@bp.post("/account/two-factor/start")
@login_required
def start_two_factor():
    try:
        two_factor_service.begin_enrolment(current_user)
    except user_service.AccountError:
        pass  # on already: the page says so
    return redirect(url_for("account.two_factor"))


@bp.post("/account/two-factor/confirm")
@login_required
def confirm_two_factor():
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor_service.confirm_enrolment(current_user, form.code.data)
        except user_service.AccountError as error:
            form.code.errors = [str(error)]
        else:
            return _enrolment_page(codes=codes)
    return _enrolment_page(confirm=form, status=400)


@bp.post("/account/two-factor/disable")
@login_required
def disable_two_factor():
    form = PasswordCheckForm()
    if form.validate_on_submit():
        try:
            two_factor_service.disable(current_user, form.password.data)
        except user_service.AccountError as error:
            form.password.errors = [str(error)]
        else:
            return redirect(url_for("account.two_factor"))
    return _enrolment_page(disable=form, status=400)
