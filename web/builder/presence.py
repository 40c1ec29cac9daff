"""Who else is editing: the builder's pages ask now and then (static/js/builder.js) whether
the call's draft moved on since the page was made, and warn before the person saves. The
save itself is what protects the work (a stale revision is refused); this only tells
earlier."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import login_required

from web.builder.common import editor_name, load_call

bp = Blueprint("presence", __name__, url_prefix="/dashboard/build")


@bp.get("/<slug>/draft-revision")
@login_required
def draft_revision(slug: str):
    _form, draft = load_call(slug)
    response = jsonify(
        revision=draft.revision,
        warning=_(
            "%(who)s changed this call at %(when)s. Open this page again before you save, "
            "or your change will be refused.",
            who=editor_name(draft),
            when=format_datetime(draft.updated_at, "short"),
        ),
    )
    response.headers["Cache-Control"] = "no-store"
    return response
