"""Downloads of a form's submissions as CSV (streamed) and XLSX, for its reviewers and admins.
Filters come from the query string with the dashboard list's names: state (may repeat), from,
to (YYYY-MM-DD), tag, q — so the list can link to an export of what it shows. The XLSX has a
sheet per table (submissions, then each repeatable group's items); the CSV of a group's items
is its own download."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import get_locale
from flask_login import current_user, login_required

from extensions import db
from models import Form
from services import exports
from services.access import can_review
from services.staff_input import read_list_query
from web.downloads import send_written

bp = Blueprint("exports", __name__, url_prefix="/dashboard/exports")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _form_to_export(form_id: int) -> Form:
    """404 when the form is unknown *or* the user may not review it: never reveal it exists."""
    form = db.session.get(Form, form_id)
    if form is None or form.current_version is None or not can_review(current_user, form_id):
        abort(404)
    return form


def _filters() -> dict:
    """The export's filters from the query string, read once (services.staff_input);
    FilterError when a value was refused, before anything is read or logged."""
    query = read_list_query(request.args)
    if query.problems:
        raise exports.FilterError(" ".join(query.problems))
    return {
        "state": list(query.states),
        "date_from": query.date_from,
        "date_to": query.date_to,
        "tag": query.tag,
        "q": query.q,
    }


def _refused(error: exports.FilterError):
    return render_template("dashboard/export_refused.html", message=str(error)), 400


def _export(form: Form, filters: dict) -> exports.Export:
    return exports.prepare_export(form.id, filters, language=str(get_locale()), viewer=current_user)


@bp.get("/<int:form_id>.csv")
@login_required
def csv_file(form_id: int):
    return _csv(_form_to_export(form_id), exports.SUBMISSIONS, "submissions")


@bp.get("/<int:form_id>/<name>.csv")
@login_required
def group_csv_file(form_id: int, name: str):
    """A repeatable group's items, one per row (a delegation's participants)."""
    form = _form_to_export(form_id)
    if name == exports.SUBMISSIONS:
        abort(404)
    return _csv(form, name, name)


def _csv(form: Form, table: str, file_part: str):
    try:
        filters = _filters()
        export = _export(form, filters)
    except exports.FilterError as error:
        return _refused(error)
    if export.table(table) is None:
        abort(404)
    exports.record_export(
        form.id, current_user, "csv", filters, table if table != exports.SUBMISSIONS else None
    )
    # The request context stays open while the rows are read from the database in batches.
    chunks = exports.csv_chunks(export.lines(table))
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{form.slug}-{file_part}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:form_id>.xlsx")
@login_required
def xlsx_file(form_id: int):
    form = _form_to_export(form_id)
    try:
        filters = _filters()
        export = _export(form, filters)
    except exports.FilterError as error:
        return _refused(error)
    # An XLSX file is a zip whose directory is written last, so openpyxl cannot stream it over
    # HTTP (write-only mode keeps memory flat while it is written to disk).
    response = send_written(
        lambda target: exports.write_xlsx(export.tables, export.rows(), target),
        "xlsx",
        XLSX_TYPE,
        f"{form.slug}-submissions.xlsx",
    )
    exports.record_export(form.id, current_user, "xlsx", filters)  # once it is made
    response.headers["Cache-Control"] = "no-store"
    return response
