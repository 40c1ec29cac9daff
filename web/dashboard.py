"""The reviewers' dashboard. Every view requires a signed-in staff member and shows only
the forms they review."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from services.review import form_overviews

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("/")
@login_required
def index():
    return render_template("dashboard/index.html", overviews=form_overviews(current_user))
