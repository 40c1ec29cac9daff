"""Documents that are not one submission's: the blank form of a call (public) and many
submissions' PDFs at once (reviewers, from the list's filters)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale
from flask_login import current_user, login_required

from documents.bulk import write_merged, write_zip
from documents.store import blank_document
from services import bulk_documents
from services.staff_input import read_list_query
from web.downloads import send_document, send_written
from web.public import load_call, use_language

bp = Blueprint("documents", __name__)

BULK_TYPES = {"zip": "application/zip", "pdf": "application/pdf"}


@bp.get("/calls/<slug>/form.<any(pdf, docx):extension>")
def blank_form(slug: str, extension: str):
    """The empty form to fill in offline, in the page's language among the form's.

    Made in this request the first time, then stored: a blank form is small (well under a
    second to render) and made only once per published version and language, so it does
    not need the background worker and its "being prepared" page."""
    version, spec = load_call(slug)
    language = use_language(spec)
    return send_document(blank_document(version, f"blank_{extension}", language))


@bp.get("/dashboard/documents/submissions.<any(zip, pdf):extension>")
@login_required
def bulk(extension: str):
    """The PDFs of what the list shows (same filters and order, every page): a ZIP with one
    PDF per submission, or one merged PDF."""
    query = read_list_query(request.args)
    try:
        ids = bulk_documents.select_submissions(current_user, query, str(get_locale()))
    except LookupError:
        abort(404)
    except bulk_documents.BulkRefused as refusal:
        return render_template("dashboard/export_refused.html", message=str(refusal)), 400
    slug = query.form or "submissions"
    writer = write_zip if extension == "zip" else write_merged
    response = send_written(
        lambda target: writer(ids, target),
        extension,
        BULK_TYPES[extension],
        f"{slug}-documents.{extension}",
    )
    bulk_documents.record_download(current_user, ids, extension, query)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
