"""Staff sign-in, sign-out and password change."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo

from extensions import limiter
from services import users as user_service

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter your email address."))],
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


def _email_key() -> str:
    """Per account; a form without an email is counted per address instead."""
    email = (request.form.get("email") or "").strip().lower()[:320]
    return f"account:{email}" if email else f"address:{request.remote_addr}"


@bp.route("/login", methods=["GET", "POST"])
# Throttled per account (guessing one password) and per address (trying many accounts).
@limiter.limit(
    lambda: current_app.config["FORMDESK_LOGIN_LIMIT"], methods=["POST"], key_func=_email_key
)
@limiter.limit(lambda: current_app.config["FORMDESK_LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
def login():
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        user = user_service.authenticate(form.email.data, form.password.data)
        if user is not None:
            next_url = _safe_next(request.args.get("next"))
            language = session.get("lang")
            session.clear()  # a new session at sign-in: no fixation
            if language:
                session["lang"] = language  # …in the language the person chose
            login_user(user)
            return redirect(next_url)
        failed = True
    return render_template("auth/login.html", form=form, failed=failed), 401 if failed else 200


@bp.post("/logout")
def logout():
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
            login_user(current_user)  # stay signed in here with the new session version
            return render_template("auth/password.html", form=None, changed=True)
    return render_template("auth/password.html", form=form, changed=False)
