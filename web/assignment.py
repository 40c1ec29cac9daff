"""Review assignment in the dashboard (#17): in bulk from the list (preview, then apply),
and per call a Reviewers page with each reviewer's progress, the review deadline and the
automatic assignment (preview, then apply). Only admins and the call's managers reach
these pages: anyone else gets 404, as for a call that does not exist. Every change is a
POST carrying the CSRF token (CSRFProtect checks it for the whole app)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forms.published import spec_for
from services import assignment
from services.dashboard.listing import ListChoices, ListFilters, shown_forms
from services.review_deadlines import deadline_of, set_deadline
from services.staff_input import InputRefused, clean_text
from web.dashboard import list_address, selected_ids

bp = Blueprint("assignment", __name__, url_prefix="/dashboard")

MAX_NUMBER_LENGTH = 4


@bp.app_template_global()
def can_assign_reviewers(form_id: int) -> bool:
    return assignment.can_assign(current_user, form_id)


@bp.app_template_global()
def bulk_assign_reviewers(choices: ListChoices, filters: ListFilters) -> list:
    """The reviewers the list's bulk assignment offers: those of the calls it shows on
    which the user assigns."""
    found = {}
    for info in shown_forms(filters, choices):
        if assignment.can_assign(current_user, info.form.id):
            for reviewer in assignment.call_reviewers(info.form.id):
                found.setdefault(reviewer.id, reviewer)
    return sorted(found.values(), key=lambda r: (r.name or r.email).casefold())


def _reviewer_id() -> int | None:
    value = request.form.get("reviewer", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


# --- in bulk, from the list ------------------------------------------------------------


@bp.post("/assign")
@login_required
def bulk_preview():
    """What assigning the chosen reviewer to the selected submissions will do."""
    ids, reviewer_id = selected_ids(request.form.getlist("submission")), _reviewer_id()
    back = list_address(request.form.get("back"))
    errors = []
    reviewer = assignment.reviewer_named(reviewer_id)
    if reviewer is None:
        errors.append(_("Choose the reviewer to assign."))
    items = assignment.bulk_preview(current_user, ids, reviewer_id) if reviewer else []
    if reviewer and not items:
        errors.append(_("Select at least one submission."))
    ready = [item for item in items if item.can]
    if items and not ready:
        errors.append(_("The reviewer cannot be assigned to any of the selected submissions."))
    return render_template(
        "dashboard/assign_confirm.html",
        reviewer=reviewer,
        ready=ready,
        skipped=[item for item in items if not item.can],
        left_out=len(set(ids)) - len(items),
        errors=errors,
        back=back,
    ), 400 if errors else 200


@bp.post("/assign/apply")
@login_required
def bulk_apply():
    ids, reviewer_id = selected_ids(request.form.getlist("submission")), _reviewer_id()
    if assignment.reviewer_named(reviewer_id) is None:
        abort(400)  # the confirmation page always names one
    reviewer = assignment.reviewer_named(reviewer_id)
    done = assignment.apply_bulk(current_user, ids, reviewer_id)
    return render_template(
        "dashboard/assign_confirm.html",
        reviewer=reviewer,
        done=done,
        errors=[],
        back=list_address(request.form.get("back")),
    )


# --- per call: the Reviewers page --------------------------------------------------------


def _call_or_404(slug: str):
    form = assignment.form_by_slug(slug[:80])
    if form is None or form.current_version is None:
        abort(404)
    if not assignment.can_assign(current_user, form.id):
        abort(404)
    return form


def _title(form) -> str:
    return spec_for(form.current_version).text("title", str(get_locale()))


def _reviewers_page(form, status=200, errors=None, typed=None, plan=None):
    return render_template(
        "dashboard/reviewers.html",
        form=form,
        title=_title(form),
        rows=assignment.progress(form.id),
        deadline=deadline_of(form.id),
        errors=errors or {},
        typed=typed or {},
        plan=plan,
        max_per_submission=assignment.MAX_PER_SUBMISSION,
    ), status


@bp.get("/calls/<slug>/reviewers")
@login_required
def reviewers(slug: str):
    return _reviewers_page(_call_or_404(slug))


@bp.post("/calls/<slug>/deadline")
@login_required
def save_deadline(slug: str):
    form = _call_or_404(slug)
    raw = request.form.get("due_on", "")
    try:
        day = set_deadline(current_user, form.id, raw)
    except assignment.AssignmentRefused as refusal:
        return _reviewers_page(form, 400, {"deadline": str(refusal)}, {"due_on": raw[:40]})
    flash(_("The review deadline is saved.") if day else _("The review deadline is removed."))
    return redirect(url_for("assignment.reviewers", slug=form.slug) + "#deadline")


def _per_submission() -> int:
    label = _("Reviewers per submission")
    try:
        text = clean_text(request.form.get("per_submission"), label, MAX_NUMBER_LENGTH).strip()
    except InputRefused as refusal:
        raise assignment.AssignmentRefused(str(refusal)) from None
    if not (text.isascii() and text.isdigit()):
        raise assignment.AssignmentRefused(
            _("Give a whole number of reviewers per submission, e.g. 2.")
        )
    return int(text)


@bp.post("/calls/<slug>/automatic")
@login_required
def automatic_preview(slug: str):
    """Show what the automatic assignment will do; nothing changes yet."""
    form = _call_or_404(slug)
    typed = {"per_submission": request.form.get("per_submission", "")[:10]}
    try:
        plan = assignment.plan_automatic(current_user, form.id, _per_submission())
    except assignment.AssignmentRefused as refusal:
        return _reviewers_page(form, 400, {"automatic": str(refusal)}, typed)
    return _reviewers_page(form, 200, typed=typed, plan=plan)


@bp.post("/calls/<slug>/automatic/apply")
@login_required
def automatic_apply(slug: str):
    form = _call_or_404(slug)
    try:
        plan = assignment.apply_automatic(current_user, form.id, _per_submission())
    except assignment.AssignmentRefused as refusal:
        return _reviewers_page(form, 400, {"automatic": str(refusal)})
    flash(_("Assignments made: %(num)d.", num=plan.count))
    return redirect(url_for("assignment.reviewers", slug=form.slug) + "#progress")
