"""The builder's front: the calls someone may build, a new call, and each call's task list.
(SKELETON by the lead: helper "settings" fills it in.)"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from services import call_drafts
from services.access import can_create_calls, manageable_forms
from web.builder.common import languages_of, load_call

bp = Blueprint("builder", __name__, url_prefix="/dashboard/build")


@bp.get("/")
@login_required
def index():
    if not can_create_calls(current_user) and not manageable_forms(current_user):
        abort(404)
    return render_template("builder/index.html", forms=manageable_forms(current_user))


@bp.get("/<slug>/")
@login_required
def task_list(slug: str):
    form, draft = load_call(slug)
    problems = call_drafts.publish_problems(draft.document)
    return render_template(
        "builder/task_list.html",
        call_form=form,
        draft=draft,
        languages=languages_of(draft.document),
        problems=problems,
    )
