"""Admin pages: email texts per form, event and language (with a preview), and the outbox
(every message, its delivery status and a resend for failed ones).

Every view needs a signed-in admin: anonymous visitors are sent to sign in, reviewers get 403.
Every change is a POST carrying the CSRF token (CSRFProtect checks it for the whole app)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forms import placeholders
from jobs import isolation
from models.outbox import WAITING, OutboxStatus
from services import email_templates as texts
from services import outbox as outbox_service
from services.staff_input import InputRefused, normalise, page_number, refuse_control_characters
from web.security import mask_secret_links

bp = Blueprint("admin", __name__, url_prefix="/dashboard/admin")


def admin_required(view: Callable) -> Callable:
    """Signed in (else to the sign-in page) and an admin (else 403)."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _language() -> str:
    return str(get_locale())


def status_names(written_to_files: bool = False) -> dict[str, str]:
    return {
        OutboxStatus.QUEUED: _("Queued"),
        OutboxStatus.SENDING: _("Sending"),
        OutboxStatus.AWAITING_RETRY: _("Awaiting retry"),
        OutboxStatus.AWAITING_DOCUMENTS: _("Waiting for documents"),
        OutboxStatus.SENT: _("Written to a file") if written_to_files else _("Sent"),
        OutboxStatus.FAILED: _("Failed"),
    }


@bp.get("/")
@admin_required
def index():
    page = outbox_service.outbox_page(None, 1)
    return render_template(
        "admin/index.html",
        counts=page.counts,
        status_names=status_names(),
        failed_work=isolation.failed_count(),
        Status=OutboxStatus,
    )


# --- email texts -------------------------------------------------------------------------------


@bp.get("/emails")
@admin_required
def email_texts():
    return render_template(
        "admin/email_texts.html",
        overviews=texts.overview(_language()),
        event_names=texts.event_names(None, _language()),
    )


def _edit_url(scope: texts.Scope, event: str, language: str) -> str:
    if scope.form_id is None:
        return url_for("admin.edit_all_forms_email", event=event, language=language)
    return url_for("admin.edit_email", form_id=scope.form_id, event=event, language=language)


@bp.route("/emails/all/<event>/<language>", methods=["GET", "POST"])
@admin_required
def edit_all_forms_email(event: str, language: str):
    return _edit(None, event, language)


@bp.route("/emails/<int:form_id>/<event>/<language>", methods=["GET", "POST"])
@admin_required
def edit_email(form_id: int, event: str, language: str):
    return _edit(form_id, event, language)


def _edit(form_id: int | None, event: str, language: str):
    try:
        scope = texts.find_scope(form_id, event, language, _language())
    except texts.UnknownText:
        abort(404)
    current = texts.current_text(scope, event, language)
    subject, body = current.subject, current.body
    errors: dict[str, list[str]] = {}
    preview = None
    status = 200
    if request.method == "POST":
        action = request.form.get("action", "")
        if action == "reset":
            if texts.reset_template(current_user, scope, event, language):
                flash(
                    _("The text was reset: the default is used again.")
                    if scope.form_id is None
                    else _(
                        "The text was reset: the text for all forms, or else the default, "
                        "is used again."
                    )
                )
            else:
                flash(_("There was no text of its own to reset."))
            return redirect(_edit_url(scope, event, language))
        subject, body = texts.normalise(
            normalise(request.form.get("subject")), normalise(request.form.get("body"), True)
        )
        control = _control_characters(subject, body)
        if control:
            errors, status = control, 400
        elif action == "save":
            try:
                texts.save_template(current_user, scope, event, language, subject, body)
            except texts.TemplateRefused as refused:
                errors, status = refused.errors, 400
            else:
                flash(_("The text was saved. Messages queued from now on use it."))
                return redirect(_edit_url(scope, event, language))
        elif action == "preview":
            errors = texts.check(subject, body)
            if errors:
                status = 400
            else:
                preview = texts.preview(scope, language, subject, body)
        else:
            abort(400)
    return render_template(
        "admin/email_edit.html",
        scope=scope,
        event=event,
        event_name=texts.event_names(scope.form_id, _language()).get(event, event),
        email_language=language,
        to_reviewers=event in texts.REVIEWER_EVENTS,
        default_locale=current_app.config["BABEL_DEFAULT_LOCALE"],
        source=current.source,
        default=texts.default_for(event, language),
        subject=subject,
        body=body,
        errors=errors,
        has_errors=bool(errors),
        preview=preview,
        placeholders=placeholders.descriptions(placeholders.EMAIL),
        max_subject=texts.MAX_SUBJECT_LENGTH,
        max_body=texts.MAX_BODY_LENGTH,
        action_url=_edit_url(scope, event, language),
    ), status


def _control_characters(subject: str, body: str) -> dict[str, list[str]]:
    """Messages by field for control characters (a line break in the subject has its own,
    from services.email_templates)."""
    errors = {}
    for name, label, text in (("subject", _("Subject"), subject), ("body", _("Text"), body)):
        try:
            refuse_control_characters(text, label, multiline=True)
        except InputRefused as refusal:
            errors[name] = [str(refusal)]
    return errors


# --- outbox ------------------------------------------------------------------------------------


@bp.get("/outbox")
@admin_required
def outbox():
    page = outbox_service.outbox_page(
        outbox_service.read_status(request.args.get("status")),
        page_number(request.args.get("page")),
    )

    def link(**changes) -> str:
        args = {"status": page.status, "page": page.page, **changes}
        return url_for(
            "admin.outbox", **{k: v for k, v in args.items() if v and not (k == "page" and v == 1)}
        )

    return render_template(
        "admin/outbox.html",
        page=page,
        link=link,
        status_names=status_names(outbox_service.writes_to_files()),
        writes_to_files=outbox_service.writes_to_files(),
    )


@bp.get("/outbox/<int:message_id>")
@admin_required
def outbox_message(message_id: int):
    message = outbox_service.find_message(message_id)
    if message is None:
        abort(404)
    # Admins read what was sent, not the secret links in it: another admin's password reset
    # or an applicant's private link would let the reader act as that person.
    return render_template(
        "admin/outbox_message.html",
        message=message,
        text_body=mask_secret_links(message.text_body),
        html_body=mask_secret_links(message.html_body),
        status_names=status_names(outbox_service.writes_to_files()),
        writes_to_files=outbox_service.writes_to_files(),
        Status=OutboxStatus,
        waiting=WAITING,
    )


@bp.post("/outbox/<int:message_id>/resend")
@admin_required
def resend(message_id: int):
    if outbox_service.find_message(message_id) is None:
        abort(404)
    if outbox_service.resend_message(current_user, message_id):
        flash(_("The message is queued again and will be sent shortly."))
    else:
        flash(_("Only a failed message can be sent again; this one was not failed any more."))
    return redirect(url_for("admin.outbox_message", message_id=message_id))


# --- background work ---------------------------------------------------------------------------


def duty_names() -> dict[str, str]:
    return {
        "copies": _("Copies of a submission (PDF, DOCX)"),
        "letters": _("Decision letter (PDF, DOCX)"),
        "expire_offer": _("Expiry of an offered place"),
        "digest": _("Daily digest of a reviewer"),
        "review_reminder": _("Review deadline reminder to a reviewer"),
    }


@bp.get("/background")
@admin_required
def background_work():
    return render_template(
        "admin/background.html", failures=isolation.failures(), duty_names=duty_names()
    )


@bp.post("/background/<int:failure_id>/retry")
@admin_required
def retry_background_item(failure_id: int):
    if isolation.retry(failure_id):
        flash(_("The item will be tried again shortly."))
    return redirect(url_for("admin.background_work"))
