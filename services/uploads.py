"""Accepting an uploaded file into a draft: extension, content and size checked before any
byte is kept; the stored name is random and the original name only shown."""

from __future__ import annotations

import hashlib
import io
import logging
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

from flask import current_app
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from extensions import db
from forms.fields import File, format_size
from forms.spec import FieldSpec
from models import Attachment, Draft
from services import virus_scan
from services.file_inspection import NotWhatItSays, TooMuchInside, ZipLimits, inspect
from storage import get_storage

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "txt": "text/plain",
}


class UploadRefused(ValueError):
    """The message is for the person, in their language."""


def display_name(filename: str) -> str:
    """The last path component, without control characters, at most 120 characters."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    name = "".join(
        ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C"
    )
    name = name.strip().lstrip(".") or "file"
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 119 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:120]
    return name


def accept_upload(draft: Draft, field: FieldSpec, upload: FileStorage, key: str) -> dict:
    """Store `upload` for `field` of `draft` (replacing an earlier file) and return the answer
    value. `key` is the answer's place, e.g. `cv` or `participants.0.cv`."""
    name = display_name(upload.filename or "")
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    accepted = field.options["accept"]
    if extension not in accepted:
        raise UploadRefused(
            _("The file must be one of: %(types)s.", types=", ".join(t.upper() for t in accepted))
        )
    limit = int(field.options["max_size_mb"] * 1024 * 1024)
    content = upload.stream.read(limit + 1)
    if len(content) > limit:
        raise UploadRefused(_("The file must be smaller than %(size)s.", size=format_size(limit)))
    if not content:
        raise UploadRefused(_("The selected file is empty."))
    _check_content(extension, content)
    _check_for_viruses(draft, content)
    storage_name = get_storage().save(io.BytesIO(content))
    for old in [a for a in draft.attachments if a.field == key]:
        discard(old)
    attachment = Attachment(
        draft=draft,
        field=key,
        original_name=name,
        storage_name=storage_name,
        content_type=CONTENT_TYPES.get(extension, "application/octet-stream"),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    db.session.add(attachment)
    db.session.flush()
    return File.answer(attachment.id, name, len(content))


def _check_content(extension: str, content: bytes) -> None:
    config = current_app.config
    limits = ZipLimits(
        max_uncompressed=int(config["FORMDESK_ZIP_MAX_UNCOMPRESSED_MB"] * 1024 * 1024),
        max_ratio=float(config["FORMDESK_ZIP_MAX_RATIO"]),
        max_entries=int(config["FORMDESK_ZIP_MAX_ENTRIES"]),
    )
    try:
        inspect(extension, content, limits)
    except NotWhatItSays as problem:
        log.info("upload refused: not a real %s file (%s)", extension, problem.reason)
        raise UploadRefused(
            _("The file's content is not a real %(type)s file.", type=extension.upper())
        ) from problem
    except TooMuchInside as problem:
        log.warning("upload refused: %s package unpacks too large (%s)", extension, problem)
        raise UploadRefused(
            _(
                "The file unpacks to far more than its size, which documents never do. "
                "Save it again from your word processor or send it as a PDF."
            )
        ) from problem


def _check_for_viruses(draft: Draft, content: bytes) -> None:
    if not virus_scan.configured():
        return
    draft_name = draft.id or "new, first page"  # a draft is written with its first page
    try:
        found = virus_scan.scan(content)
    except virus_scan.ScanUnavailable as problem:
        log.error("virus scan unavailable, upload refused (draft %s): %s", draft_name, problem)
        raise UploadRefused(
            _("The file could not be checked for viruses just now. Try again in a few minutes.")
        ) from problem
    if found is not None:
        log.warning("upload refused by the virus scan (draft %s): %s", draft_name, found)
        raise UploadRefused(
            _(
                "The virus check found something harmful in this file (%(name)s), so it was "
                "not accepted. Check your computer with an antivirus program and send a "
                "clean copy.",
                name=found,
            )
        )


def discard(attachment: Attachment) -> None:
    get_storage().delete(attachment.storage_name)
    db.session.delete(attachment)
