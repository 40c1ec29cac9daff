"""The life of a call, in the builder (/dashboard/build/<slug>/…): its preview link and
test submissions ("Test it"), its dates and status (close early, extend, archive), and its
history. Only people who manage the call (services.access.can_manage_call). Every change
is a POST (CSRF checked for the whole app) after a page that says what will happen; bad
input comes back beside its field, never as an error page."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from services import call_life
from services.access import can_manage_call
from services.call_life import LifeRefused
from services.catalog import find_form

bp = Blueprint("life", __name__, url_prefix="/dashboard/build")


def _managed_call(slug: str):
    """The call, for someone who manages it: 404 for no such call, 403 for the others."""
    form = find_form(slug)
    if form is None:
        abort(404)
    if not can_manage_call(current_user, form.id):
        abort(403)
    return form


def _render(template: str, form, **values):
    """A life page: the call's title in the page's language beside what the page needs."""
    return render_template(
        template,
        form=form,
        call_form=form,  # builder/layout.html: the way back to the call's tasks
        call_title=call_life.title_of(form, str(get_locale())),
        **values,
    )


def _confirmed() -> bool:
    return request.form.get("confirm") == "yes"


# --- Test it -----------------------------------------------------------------------------


@bp.get("/<slug>/test")
@login_required
def test(slug: str):
    form = _managed_call(slug)
    return _test_page(form)


def _test_page(form, token: str | None = None, status: int = 200):
    return (
        _render(
            "builder/life_test.html",
            form=form,
            dates=call_life.call_dates(form),
            shows_draft=call_life.shows_draft(form),
            preview_problems=call_life.preview_problems(form),
            has_link=form.preview_token_hash is not None,
            preview_url=url_for("preview.call", token=token, _external=True) if token else None,
            tests=call_life.test_counts(form),
        ),
        status,
    )


@bp.route("/<slug>/test/link", methods=["GET", "POST"])
@login_required
def preview_link(slug: str):
    """The first link is made at once; replacing one (the old link stops working) is
    confirmed first. The token is shown on the page that answers the POST, once."""
    form = _managed_call(slug)
    replacing = form.preview_token_hash is not None
    if request.method == "GET" or (replacing and not _confirmed()):
        if not replacing:
            return redirect(url_for("life.test", slug=slug))
        return _render("builder/life_confirm.html", form=form, what="replace_link")
    token = call_life.make_preview_link(form, current_user)
    return _test_page(form, token)


@bp.route("/<slug>/test/delete", methods=["GET", "POST"])
@login_required
def delete_tests(slug: str):
    form = _managed_call(slug)
    counts = call_life.test_counts(form)
    if request.method == "GET" or not _confirmed():
        return _render("builder/life_confirm.html", form=form, what="delete_tests", counts=counts)
    deleted = call_life.delete_test_submissions(form, current_user)
    return _render("builder/life_done.html", form=form, what="tests_deleted", counts=deleted)


# --- Dates and status ----------------------------------------------------------------------


@bp.get("/<slug>/status")
@login_required
def status(slug: str):
    form = _managed_call(slug)
    return _render(
        "builder/life_status.html",
        form=form,
        dates=call_life.call_dates(form),
        close_problem=call_life.close_early_problem(form),
    )


@bp.route("/<slug>/status/close", methods=["GET", "POST"])
@login_required
def close(slug: str):
    form = _managed_call(slug)
    problem = call_life.close_early_problem(form)
    if request.method == "GET" or not _confirmed() or problem:
        return (
            _render(
                "builder/life_confirm.html",
                form=form,
                what="close",
                dates=call_life.call_dates(form),
                problem=problem,
            ),
            400 if problem and request.method == "POST" else 200,
        )
    try:
        call_life.close_early(form, current_user)
    except LifeRefused as refusal:
        return _render(
            "builder/life_confirm.html",
            form=form,
            what="close",
            dates=call_life.call_dates(form),
            problem=refusal.message,
        ), 400
    return redirect(url_for("life.status", slug=slug, done="closed"))


@bp.route("/<slug>/status/extend", methods=["GET", "POST"])
@login_required
def extend(slug: str):
    """Type the new closing time; then a page saying what will happen; then done."""
    form = _managed_call(slug)
    dates = call_life.call_dates(form)
    typed = (request.form.get("closes_at") or "")[:200] if request.method == "POST" else ""
    if request.method == "GET":
        return _render("builder/life_extend.html", form=form, dates=dates, typed="")
    try:
        closes_at = call_life.check_extension(form, typed)
    except LifeRefused as refusal:
        return _render(
            "builder/life_extend.html",
            form=form,
            dates=dates,
            typed=typed,
            error=refusal.message,
            error_field=refusal.field,
        ), 400
    if not _confirmed():
        return _render(
            "builder/life_confirm.html",
            form=form,
            what="extend",
            dates=dates,
            closes_at=closes_at,
            typed=closes_at.strftime(call_life.LOCAL_FORMAT),
        )
    try:
        call_life.extend(form, current_user, typed)
    except LifeRefused as refusal:
        return _render(
            "builder/life_extend.html",
            form=form,
            dates=dates,
            typed=typed,
            error=refusal.message,
            error_field=refusal.field,
        ), 400
    return redirect(url_for("life.status", slug=slug, done="extended"))


@bp.route("/<slug>/status/archive", methods=["GET", "POST"])
@login_required
def archive(slug: str):
    return _archive_step(slug, archive=True)


@bp.route("/<slug>/status/unarchive", methods=["GET", "POST"])
@login_required
def unarchive(slug: str):
    return _archive_step(slug, archive=False)


def _archive_step(slug: str, archive: bool):
    form = _managed_call(slug)
    what = "archive" if archive else "unarchive"
    if request.method == "GET" or not _confirmed():
        return _render(
            "builder/life_confirm.html", form=form, what=what, dates=call_life.call_dates(form)
        )
    try:
        (call_life.archive if archive else call_life.unarchive)(form, current_user)
    except LifeRefused as refusal:
        return _render(
            "builder/life_confirm.html",
            form=form,
            what=what,
            dates=call_life.call_dates(form),
            problem=refusal.message,
        ), 400
    return redirect(url_for("life.status", slug=slug, done=f"{what}d"))


# --- History -------------------------------------------------------------------------------


@bp.get("/<slug>/history")
@login_required
def history(slug: str):
    form = _managed_call(slug)
    return _render(
        "builder/life_history.html",
        form=form,
        lines=call_life.history(form),
        dates=call_life.call_dates(form),
    )
