"""About the service: the accessibility statement and the privacy notice, public and in
every language of the interface. The organisation running this installation is named in
both, with its contact address (the admin's settings page, or the environment variables
that win over it: models/installation.py)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale

from models import installation

bp = Blueprint("about", __name__)


def _operator() -> dict[str, str]:
    return {"name": installation.name(str(get_locale())), "email": installation.email()}


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement the EU Web Accessibility Directive asks public bodies for."""
    reviewed = installation.accessibility_reviewed()
    return render_template("public/accessibility.html", operator=_operator(), reviewed=reviewed)


@bp.get("/privacy")
def privacy():
    """What personal data the service keeps, why, for how long, and the person's rights."""
    return render_template("public/privacy.html", operator=_operator())
