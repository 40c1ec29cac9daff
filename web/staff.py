"""Staff management for admins: the list, invitations, role and calls, deactivation,
two-factor requirements and removal, and the staff audit log. HTTP only: the use cases are
in services.staff and services.two_factor. Every POST carries the CSRF token (Flask-WTF)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, SelectField, SelectMultipleField
from wtforms.validators import DataRequired, ValidationError

from config import LANGUAGES
from extensions import db
from models import ROLES, User
from services import staff as staff_service
from services import two_factor
from services.staff_input import page_number
from services.users import AccountError
from web.admin import admin_required
from web.auth import plain_email

bp = Blueprint("staff", __name__, url_prefix="/dashboard/admin/staff")


def role_names() -> dict[str, str]:
    return {
        "admin": _("Admin: everything, every call"),
        "call_manager": _("Call manager: builds and decides for the chosen calls"),
        "reviewer": _("Reviewer: reads, scores and comments on the chosen calls"),
    }


def short_role_names() -> dict[str, str]:
    return {"admin": _("Admin"), "call_manager": _("Call manager"), "reviewer": _("Reviewer")}


class AccessForm(FlaskForm):
    role = RadioField(_l("Role"), validators=[DataRequired(_l("Choose a role."))])
    calls = SelectMultipleField(_l("Calls"), coerce=int, validate_choice=False)
    all_forms = BooleanField(_l("Every call, also those made later"))

    def fill_choices(self) -> None:
        self.role.choices = list(role_names().items())
        self.calls.choices = staff_service.call_choices(str(get_locale()))

    def validate_calls(self, field) -> None:
        known = {value for value, _label in self.calls.choices}
        if len(field.data or []) > len(known) or set(field.data or []) - known:
            raise ValidationError(_l("Choose calls from the list."))


class InviteForm(AccessForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter the person's email address.")), plain_email],
    )
    language = SelectField(_l("Language of the invitation"))

    def fill_choices(self) -> None:
        super().fill_choices()
        self.language.choices = list(LANGUAGES.items())


class RequirementForm(FlaskForm):
    roles = SelectMultipleField(_l("Roles that must use two-factor sign-in"))


def _requirement_form() -> RequirementForm:
    form = RequirementForm(roles=two_factor.required_roles())
    form.roles.choices = list(short_role_names().items())
    return form


@bp.get("/")
@admin_required
def index():
    return render_template(
        "admin/staff.html",
        rows=staff_service.staff_rows(),
        role_names=short_role_names(),
        requirement=_requirement_form(),
    )


@bp.route("/invite", methods=["GET", "POST"])
@admin_required
def invite():
    form = InviteForm(language=str(get_locale()), role="reviewer")
    form.fill_choices()
    if form.validate_on_submit():
        try:
            user = staff_service.invite(
                current_user,
                form.email.data,
                form.role.data,
                form.calls.data or [],
                form.all_forms.data,
                form.language.data,
            )
        except AccountError as error:
            form[error.field or "email"].errors = [str(error)]
        else:
            flash(
                _(
                    "The invitation is sent to %(email)s. The link works for 72 hours.",
                    email=user.email,
                )
            )
            return redirect(url_for("staff.index"))
    return render_template("admin/staff_invite.html", form=form), 400 if form.errors else 200


def _person_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@admin_required
def person(user_id: int):
    user = _person_or_404(user_id)
    form = AccessForm(
        role=user.role, calls=[a.form_id for a in user.assignments], all_forms=user.all_forms
    )
    form.fill_choices()
    if form.validate_on_submit():
        try:
            staff_service.change_access(
                current_user, user.id, form.role.data, form.calls.data or [], form.all_forms.data
            )
        except AccountError as error:
            form[error.field or "role"].errors = [str(error)]
        else:
            flash(_("Saved: the role and calls of %(email)s.", email=user.email))
            return redirect(url_for("staff.person", user_id=user.id))
    return render_template(
        "admin/staff_person.html",
        person=user,
        form=form,
        role_names=short_role_names(),
        codes_left=two_factor.recovery_codes_left(user) if user.has_two_factor else 0,
    ), 400 if form.errors else 200


@bp.post("/<int:user_id>/active")
@admin_required
def set_active(user_id: int):
    user = _person_or_404(user_id)
    wanted = request.form.get("active") == "1"
    try:
        staff_service.set_active(current_user, user.id, wanted)
    except AccountError as error:
        flash(str(error))
    else:
        flash(
            _("%(email)s is active again.", email=user.email)
            if wanted
            else _("%(email)s is deactivated and signed out everywhere.", email=user.email)
        )
    if not current_user.is_authenticated:  # an admin who deactivated themselves
        return redirect(url_for("auth.login"))
    return redirect(url_for("staff.person", user_id=user.id))


@bp.post("/<int:user_id>/two-factor/remove")
@admin_required
def remove_two_factor(user_id: int):
    user = _person_or_404(user_id)
    two_factor.remove_for(current_user, user.id)
    flash(_("Two-factor sign-in is off for %(email)s. They can set it up again.", email=user.email))
    return redirect(url_for("staff.person", user_id=user.id))


@bp.post("/<int:user_id>/invite-again")
@admin_required
def invite_again(user_id: int):
    user = _person_or_404(user_id)
    try:
        staff_service.invite(
            current_user,
            user.email,
            user.role,
            [a.form_id for a in user.assignments],
            user.all_forms,
            user.language or str(get_locale()),
        )
    except AccountError as error:
        flash(str(error))
    else:
        flash(
            _(
                "A new invitation is sent to %(email)s; the old link no longer works.",
                email=user.email,
            )
        )
    return redirect(url_for("staff.person", user_id=user.id))


@bp.post("/two-factor-requirement")
@admin_required
def two_factor_requirement():
    form = _requirement_form()
    if form.validate_on_submit():
        two_factor.set_required_roles(current_user, [r for r in form.roles.data if r in ROLES])
        flash(_("Saved: who must use two-factor sign-in."))
    return redirect(url_for("staff.index"))


@bp.get("/audit")
@admin_required
def audit():
    page = staff_service.audit_page(page_number(request.args.get("page")))
    return render_template(
        "admin/staff_audit.html",
        page=page,
        action_names=action_names(),
        role_names=short_role_names(),
    )


def action_names() -> dict[str, str]:
    return {
        "staff.invited": _("Invited"),
        "staff.invitation_accepted": _("Accepted the invitation"),
        "staff.access_changed": _("Role or calls changed"),
        "staff.deactivated": _("Deactivated"),
        "staff.reactivated": _("Reactivated"),
        "staff.password_reset_requested": _("Asked for a password reset"),
        "staff.password_reset": _("Reset the password"),
        "staff.two_factor_enabled": _("Turned two-factor sign-in on"),
        "staff.two_factor_disabled": _("Turned two-factor sign-in off"),
        "staff.two_factor_removed": _("Two-factor sign-in removed by an admin"),
        "staff.recovery_code_used": _("Signed in with a recovery code"),
        "staff.two_factor_requirement_changed": _("Changed who must use two-factor sign-in"),
        "staff.signed_in_oidc": _("Signed in with single sign-on"),
        "staff.oidc_refused": _("Refused at single sign-on"),
        "settings.changed": _("Changed the installation's settings"),
    }
