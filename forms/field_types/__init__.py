"""Every field type, one class each (forms/field_types/base.py says what a class owns).
Importing the package registers them all, in the order the docs list them."""

from forms.field_types import address, choices, file, group, moments, number, text  # noqa: F401
from forms.field_types.base import NOT_KEPT, REGISTRY, AnswerBlock, FieldType, settings_table
from forms.field_types.file import FILE_ID, File, format_size
from forms.field_types.text import character_count

__all__ = [
    "FILE_ID",
    "NOT_KEPT",
    "REGISTRY",
    "AnswerBlock",
    "FieldType",
    "File",
    "character_count",
    "format_size",
    "settings_table",
]
