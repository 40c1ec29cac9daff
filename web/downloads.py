"""Sending stored files (uploads and generated documents) the same safe way everywhere:
always as a download, never sniffed or rendered, never cached by shared caches."""

from __future__ import annotations

from flask import Response, abort, render_template, send_file

from storage import get_storage


def send_stored(storage_name: str, content_type: str, filename: str, etag: str | None = None):
    try:
        stream = get_storage().open(storage_name)
    except (OSError, ValueError):
        abort(404)
    response = send_file(
        stream,
        mimetype=content_type or "application/octet-stream",
        as_attachment=True,
        download_name=filename,
        etag=etag or False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def send_document(document) -> Response:
    if document is None:
        from jobs import embedded

        embedded.wake()  # it is being made: the page asks to try again shortly
        return render_template("document_pending.html"), 202
    return send_stored(
        document.storage_name, document.content_type, document.filename, document.sha256
    )
