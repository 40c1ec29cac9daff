"""Accepting an uploaded file into a draft: extension, content and size checked before any
byte is kept; the stored name is random and the original name only shown."""

from __future__ import annotations

import hashlib
import io
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from extensions import db
from forms.fields import format_size
from forms.spec import FieldSpec
from models import Attachment, Draft
from storage import get_storage

# What each accepted extension must look like inside: the name alone proves nothing.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "odt": (b"PK\x03\x04",),
    "ods": (b"PK\x03\x04",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "txt": (b"",),
}
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
    value. `key` is the answer's place, e.g. `attachment` or `participants.0.cv`."""
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
    if not content.startswith(SIGNATURES.get(extension, (b"\x00\x00\x00\x00",))):
        raise UploadRefused(
            _("The file's content is not a real %(type)s file.", type=extension.upper())
        )
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
    return {"attachment": attachment.id, "name": name, "size": len(content)}


def discard(attachment: Attachment) -> None:
    get_storage().delete(attachment.storage_name)
    db.session.delete(attachment)
