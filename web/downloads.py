"""Sending stored files (uploads and generated documents) the same safe way everywhere:
always as a download, never sniffed or rendered, never cached by shared caches."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import IO

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


def send_written(
    write: Callable[[IO[bytes]], None], extension: str, mimetype: str, download_name: str
) -> Response:
    """A file made for this request: `write` fills a temporary file first (a ZIP's directory,
    a PDF's cross-reference table and an XLSX's directory come last, so they cannot be
    streamed), which is then sent and deleted when the response closes it."""
    target = tempfile.TemporaryFile(suffix=f".{extension}")  # noqa: SIM115 (closed by the response)
    try:
        write(target)
        target.seek(0)
    except BaseException:
        target.close()
        raise
    return send_file(
        target, mimetype=mimetype, as_attachment=True, download_name=download_name, max_age=0
    )
