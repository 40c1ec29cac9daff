"""About the service: the accessibility statement and the privacy notice, public and in
every language of the interface. The organisation running this installation is named in
both (FORMDESK_OPERATOR_NAME, FORMDESK_OPERATOR_EMAIL)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template

bp = Blueprint("about", __name__)


def _operator() -> dict[str, str]:
    config = current_app.config
    return {"name": config["FORMDESK_OPERATOR_NAME"], "email": config["FORMDESK_OPERATOR_EMAIL"]}


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement the EU Web Accessibility Directive asks public bodies for."""
    reviewed = date.fromisoformat(str(current_app.config["FORMDESK_ACCESSIBILITY_REVIEWED"]))
    return render_template("public/accessibility.html", operator=_operator(), reviewed=reviewed)


@bp.get("/privacy")
def privacy():
    """What personal data the service keeps, why, for how long, and the person's rights."""
    return render_template("public/privacy.html", operator=_operator())
