"""The reviewers' dashboard. Every view requires a signed-in staff member and shows only
the forms they review; every change is a POST with the CSRF token (Flask-WTF checks it
for the whole app)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from services.dashboard.bulk import BULK_LIMIT, BulkChoice, apply_bulk, bulk_choices, bulk_preview
from services.dashboard.listing import list_choices, list_columns, list_submissions, read_filters
from services.dashboard.overview import CHART_DAYS, form_overviews
from services.staff_input import InputRefused, clean_text, has_control_character, read_list_query

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

LIST_PATH = "/dashboard/submissions"
MAX_COMMENT = 5000
MAX_BACK_LENGTH = 2000  # the list's address with its filters
MAX_ID_DIGITS = 18
MAX_STATE_LENGTH = 40


def _language() -> str:
    return str(get_locale())


# --- Overview ----------------------------------------------------------------------------------


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    count: int


@dataclass
class DayChart:
    """Geometry of the submissions-per-day bar chart, drawn as inline SVG (no script, no
    style attributes: colours come from classes in formdesk.css)."""

    width: int
    height: int
    left: int
    top: int
    bottom: int  # y of the baseline
    bars: list[Bar]
    days: list[tuple[date, int]]
    peak: int  # the value at the top of the axis
    total: int
    busiest: tuple[date, int] | None


def day_chart(days: list[tuple[date, int]], width: int = 640, height: int = 180) -> DayChart:
    left, top, bottom = 40, 12, height - 28
    peak = max((count for _day, count in days), default=0)
    scale_top = max(peak, 1)
    slot = (width - left - 8) / max(len(days), 1)
    bars = []
    for index, (day, count) in enumerate(days):
        if not count:
            continue
        bar_height = (bottom - top) * count / scale_top
        bars.append(
            Bar(
                x=round(left + index * slot + slot * 0.15, 2),
                y=round(bottom - bar_height, 2),
                width=round(slot * 0.7, 2),
                height=round(bar_height, 2),
                day=day,
                count=count,
            )
        )
    busiest = max(days, key=lambda d: (d[1], d[0])) if peak else None
    return DayChart(
        width=width,
        height=height,
        left=left,
        top=top,
        bottom=bottom,
        bars=bars,
        days=days,
        peak=peak,
        total=sum(count for _day, count in days),
        busiest=busiest,
    )


@bp.get("/")
@login_required
def index():
    overviews = form_overviews(current_user, _language())
    charts = {o.form.id: day_chart(o.per_day) for o in overviews}
    return render_template(
        "dashboard/index.html",
        overviews=overviews,
        charts=charts,
        chart_days=CHART_DAYS,
        short_date=lambda day: format_date(day, "d MMM"),
        long_date=lambda day: format_date(day, "d MMMM y"),
    )


# --- List ----------------------------------------------------------------------------------------


def page_numbers(page: int, pages: int, around: int = 2) -> list[int | None]:
    """Page links to show: the first, the last and those near the current one; None marks
    a gap (shown as an ellipsis)."""
    wanted = {1, pages, *range(page - around, page + around + 1)}
    numbers: list[int | None] = []
    for number in sorted(n for n in wanted if 1 <= n <= pages):
        if numbers and number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


@bp.get("/submissions")
@login_required
def submissions():
    language = _language()
    choices = list_choices(current_user, language)
    query = read_list_query(request.args)
    filters, problems = read_filters(query, choices)
    page = list_submissions(current_user, filters, choices, language)

    def link(**changes) -> str:
        return url_for("dashboard.submissions", **filters.args(choices, **changes))

    def sort_link(key: str) -> str:
        if filters.sort == key:
            order = "asc" if filters.order == "desc" else "desc"
        else:
            order = "desc" if key == "submitted" else "asc"
        return link(sort=key, order=order, page=1)

    return render_template(
        "dashboard/submissions.html",
        choices=choices,
        filters=filters,
        problems=problems,
        page=page,
        link=link,
        sort_link=sort_link,
        page_numbers=page_numbers(page.page, page.pages),
        actions=bulk_choices(current_user, choices, language, filters),
        back=list_address(request.full_path.rstrip("?")),
        columns=list_columns(filters, choices),
    ), 400 if query.problems else 200


# --- Bulk transitions -------------------------------------------------------------------------


def selected_ids(values: list[str]) -> list[int]:
    """Positive ids among the values; anything else is left out."""
    return [
        int(value)
        for value in values[:BULK_LIMIT]
        if value.isascii() and value.isdigit() and 0 < len(value) <= MAX_ID_DIGITS and int(value)
    ]


def list_address(value: str | None) -> str:
    """Only back to the list (with its filters): never elsewhere, nothing unchecked."""
    try:
        value = clean_text(value, "back", MAX_BACK_LENGTH)
    except InputRefused:
        value = ""
    if value == LIST_PATH or value.startswith(LIST_PATH + "?"):
        return value
    return url_for("dashboard.submissions")


@dataclass
class BulkRequest:
    action: BulkChoice | None
    comment: str
    problem: str | None  # why the comment cannot be used
    ids: list[int]
    back: str


def _bulk_request() -> BulkRequest:
    language = _language()
    choices = list_choices(current_user, language)
    back = list_address(request.form.get("back"))
    # The actions the list offered, with its labels: those of the filters it was showing.
    listed, _problems = read_filters(
        read_list_query(MultiDict(parse_qsl(urlsplit(back).query))), choices
    )
    offered = bulk_choices(current_user, choices, language, listed)
    wanted = request.form.get("action", "")
    action = next((c for c in offered if c.name == wanted), None)
    comment, problem = "", None
    try:
        comment = clean_text(
            request.form.get("comment"), _("Comment"), MAX_COMMENT, multiline=True
        ).strip()
    except InputRefused as refusal:
        problem = str(refusal)
    ids = selected_ids(request.form.getlist("submission"))
    return BulkRequest(action, comment, problem, ids, back)


@bp.post("/bulk")
@login_required
def bulk_confirm():
    """Second step: show what will happen and ask to confirm. Nothing changes yet."""
    asked = _bulk_request()
    language, action, comment, ids, back = (
        _language(),
        asked.action,
        asked.comment,
        asked.ids,
        asked.back,
    )
    errors = [asked.problem] if asked.problem else []
    if action is None:
        errors.append(_("Choose what to do with the selected submissions."))
    items = bulk_preview(current_user, ids, action.name, language) if action else []
    if action and not items:
        errors.append(_("Select at least one submission."))
    if action and action.comment_required and not comment:
        errors.append(_("Write a comment: the applicant needs to know what to do."))
    ready = [item for item in items if item.can]
    if items and not ready:
        errors.append(_("None of the selected submissions can take this step from its state."))
    return render_template(
        "dashboard/bulk_confirm.html",
        action=action,
        comment=comment,
        ready=ready,
        skipped=[item for item in items if not item.can],
        left_out=len(set(ids)) - len(items),
        errors=errors,
        back=back,
    ), 400 if errors else 200


@bp.post("/bulk/apply")
@login_required
def bulk_apply():
    """Third step: apply the transition to each confirmed submission, from the state shown
    on the confirmation page, and report each outcome."""
    asked = _bulk_request()
    if asked.action is None or asked.problem:
        abort(400)  # the confirmation page offers neither
    expected = {}
    for submission_id in asked.ids:
        state = request.form.get(f"state-{submission_id}", "")
        if state and not has_control_character(state):
            expected[submission_id] = state[:MAX_STATE_LENGTH]
    outcomes, left_out = apply_bulk(
        current_user, asked.action.name, expected, asked.comment or None, _language()
    )
    action, back = asked.action, asked.back
    return render_template(
        "dashboard/bulk_done.html",
        action=action,
        outcomes=outcomes,
        done=sum(1 for o in outcomes if o.done),
        left_out=left_out,
        back=back,
    )
