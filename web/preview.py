"""A call's preview link, `/preview/<token>`: anyone with it walks the real public pages
(the same templates and page flow as web/public.py) under a "Test" banner, whatever the
call's dates. What is sent through it is a test submission (services.call_life): not
counted, no place, no export, deletable in one go by the call's managers.

The link shows the call's draft when it has edits not published yet (as a preview
version, so a test keeps its questions), else the call's current version."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template, session

from services import call_life
from services import drafts as draft_service
from web import public
from web.public import Flow, page_limit, submit_limit, token_limit, token_miss_limit

bp = Blueprint("preview", __name__, url_prefix="/preview")


def _flow(token: str) -> Flow:
    form = call_life.form_of_preview(token)
    if form is None:
        abort(404)
    # The draft this browser started through the link, if any, decides its version; a new
    # one answers what the link shows now.
    key = f"preview:{form.preview_token_hash[:16]}"
    try:
        version = _started_version(key) or call_life.preview_target(form)
    except call_life.PreviewUnavailable:
        abort(make_response(render_template("public/preview_unavailable.html"), 409))
    return Flow("preview", {"token": token}, key, form, version, test=True)


def _started_version(key: str):
    draft = draft_service.find_draft(session.get("drafts", {}).get(key))
    return draft.form_version if draft is not None and draft.is_test else None


def opens(view_args: dict) -> bool:
    """Whether these page arguments name a working preview link (web/app's CSRF page)."""
    return call_life.form_of_preview(view_args.get("token")) is not None


@bp.get("/<token>")
@token_limit
@token_miss_limit
def call(token: str):
    return public.call_page(_flow(token))


@bp.route("/<token>/page/<int:number>", methods=["GET", "POST"])
@page_limit
@token_miss_limit
def page(token: str, number: int, csrf_failed: bool = False):
    return public.answer_page(_flow(token), number, csrf_failed)


@bp.route("/<token>/check", methods=["GET", "POST"])
@submit_limit
@token_miss_limit
def check(token: str):
    return public.check_page(_flow(token))


@bp.get("/<token>/confirmation")
@token_miss_limit
def confirmation(token: str):
    return public.confirmation_page(_flow(token))


@bp.get("/<token>/saved")
@token_miss_limit
def saved(token: str):
    flow = _flow(token)
    return public.saved_page(flow, "preview.resume", preview=token)


@bp.get("/<preview>/resume/<token>")
@token_limit
@token_miss_limit
def resume(preview: str, token: str):
    flow = _flow(preview)
    draft = draft_service.find_draft(token)
    if draft is None or not draft.is_test or draft.form_version.form_id != flow.form.id:
        return render_template("public/resume_invalid.html"), 404
    return public.resume_draft(flow, draft, token)
