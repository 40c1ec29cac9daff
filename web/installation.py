"""The installation's own name, logo and accent colour: the admin's settings page, the logo
and the colour's stylesheet as every page loads them, and `installation` in every template.
HTTP only: the checks and the change are services.installation; the reading is
models.installation."""

from __future__ import annotations

import base64

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, StringField

from config import LANGUAGES
from models import installation
from services import installation as installation_service
from services import settings as stored
from services.logo_check import MAX_LOGO_BYTES
from web.admin import admin_required

bp = Blueprint("installation", __name__)

# The logo's own policy when opened directly (an SVG is a document then): nothing runs,
# nothing loads. Shown in an <img>, an SVG runs nothing anyway.
LOGO_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
CACHED_A_DAY = "public, max-age=86400"


class SettingsForm(FlaskForm):
    name_default = StringField(_l("Name"))
    email = EmailField(_l("Contact address"))
    accent = StringField(_l("Accent colour"))
    reviewed = StringField(_l("Accessibility statement last reviewed"))
    logo = FileField(_l("Logo"))
    remove_logo = BooleanField(_l("Remove the logo"))


def _settings_form() -> SettingsForm:
    """The form with a name field per language (added at runtime: LANGUAGES is the list)."""

    class WithLanguages(SettingsForm):
        pass

    for code, language_name in LANGUAGES.items():
        setattr(WithLanguages, f"name_{code}", StringField(language_name))
    names = stored.get(installation.NAME) or {}
    return WithLanguages(
        name_default=names.get("default", ""),
        email=stored.get(installation.EMAIL) or "",
        accent=stored.get(installation.ACCENT) or "",
        reviewed=stored.get(installation.REVIEWED) or "",
        **{f"name_{code}": names.get(code, "") for code in LANGUAGES},
    )


def _uploaded_logo() -> bytes | None:
    upload = request.files.get("logo")
    if upload is None or not upload.filename:
        return None
    return upload.stream.read(MAX_LOGO_BYTES + 1)  # one byte over is enough to refuse


@bp.route("/dashboard/admin/settings", methods=["GET", "POST"])
@admin_required
def settings():
    form = _settings_form()
    if form.validate_on_submit():
        wanted = installation_service.Wanted(
            names={
                "default": form.name_default.data,
                **{code: form[f"name_{code}"].data for code in LANGUAGES},
            },
            email=form.email.data or "",
            accent=form.accent.data or "",
            reviewed=form.reviewed.data or "",
            logo=_uploaded_logo(),
            remove_logo=bool(form.remove_logo.data),
        )
        try:
            changed = installation_service.change(current_user, wanted)
        except installation_service.SettingsRefused as refusal:
            for field_name, message in refusal.errors.items():
                form[field_name].errors = [message]
        else:
            flash(_("Saved: the installation's settings.") if changed else _("Nothing changed."))
            return redirect(url_for("installation.settings"))
    return render_template(
        "admin/settings.html",
        form=form,
        languages=LANGUAGES,
        from_environment={key: installation.from_environment(key) for key in installation.KEYS},
        config_keys=installation.CONFIG_KEYS,
        logo=installation.logo(),
        max_logo_kb=MAX_LOGO_BYTES // 1024,
    ), 400 if form.errors else 200


@bp.get("/installation/logo/<digest>")
def logo(digest: str):
    """The logo by its digest (a new logo has a new address, so this one may be cached)."""
    current = installation.logo()
    if current is None or current.digest != digest:
        abort(404)
    response = Response(base64.b64decode(current.data), content_type=current.content_type)
    response.headers["Content-Security-Policy"] = LOGO_POLICY
    response.headers["Cache-Control"] = CACHED_A_DAY
    return response


@bp.get("/installation/accent.css")
def accent_stylesheet():
    """The accent colour as a custom property: a stylesheet from our own origin, so the
    Content-Security-Policy stays free of inline styles."""
    colour = installation.accent()
    body = ""
    if colour and installation_service.is_hex_colour(colour):
        body = f":root {{ --brand: {colour}; --link: {colour}; }}\n"
    response = Response(body, content_type="text/css; charset=utf-8")
    response.headers["Cache-Control"] = CACHED_A_DAY
    return response


@bp.app_context_processor
def _installation():
    def shown() -> dict:
        current = installation.logo()
        colour = installation.accent()
        return {
            "name": installation.name(str(get_locale())),
            "is_named": installation.is_named(),
            "logo_url": url_for("installation.logo", digest=current.digest) if current else None,
            # The colour in the address: a new colour is a new stylesheet for every cache.
            "accent_url": url_for("installation.accent_stylesheet", v=colour[1:])
            if colour
            else None,
        }

    return {"installation": shown}
