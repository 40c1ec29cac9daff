"""An uploaded file."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField

from forms.field_types.base import FieldType
from forms.field_types.settings import Setting

DEFAULT_ACCEPT = ["pdf", "docx", "odt", "jpg", "jpeg", "png"]
# Where a file answer keeps its Attachment's id. Answers are told to be files by their
# question's type (FormSpec.file_answers), never by this key: a question may be called so.
FILE_ID = "attachment"


def format_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


class File(FieldType):
    name = "file"
    summary = "a file to upload"
    stores = '`{"attachment": id, "name": ..., "size": ...}`'
    macro = "file"
    settings = (
        Setting("accept", "extensions", default=tuple(DEFAULT_ACCEPT)),
        Setting("max_size_mb", "number", default=10, minimum=0),
    )
    allowed_in_group = False
    posted = False  # read by services/uploads.py from the request's files, never its form
    holds_files = True
    required_message = _l("Choose a file to upload.")

    def chain(self, field):
        return []  # checked in services.uploads: a file already uploaded satisfies 'required'

    def make_field(self, field, language):
        accept = ",".join("." + ext for ext in field.options["accept"])
        return FileField(field.label(language), render_kw={"accept": accept})

    def stored(self, data, field, language):
        return data  # set by the upload service, never from the request

    @staticmethod
    def answer(attachment_id: int, name: str, size: int) -> dict:
        """The stored answer to a file question."""
        return {FILE_ID: attachment_id, "name": name, "size": size}

    @staticmethod
    def attachment_id(value) -> int | None:
        return value.get(FILE_ID) if isinstance(value, dict) else None

    @staticmethod
    def removed(value: dict) -> dict:
        """The answer once its file is gone: name and size stay, so reviewers see what
        there was, without a download."""
        return {**{k: v for k, v in value.items() if k != FILE_ID}, "removed": True}

    def display(self, value, field, language):
        if not value:
            return ""
        return f"{value['name']} ({format_size(value['size'])})"

    def paper_lines(self, field, language):
        return [_("Send it with this form, as a file or on paper.")]
