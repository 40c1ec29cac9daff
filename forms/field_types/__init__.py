"""Every field type, one class each (forms/field_types/base.py says what a class owns).
TYPES is the one list of them: a new type is a class in one of these modules, its macro in
templates/fields/, and its line here."""

from forms.field_types.address import Address
from forms.field_types.base import NOT_KEPT, REGISTRY, AnswerBlock, FieldType, settings_table
from forms.field_types.choices import Choice, Consent, Country, MultiChoice, YesNo
from forms.field_types.file import FILE_ID, File, format_size
from forms.field_types.group import Group, Heading, Paragraph
from forms.field_types.moments import Date, DateTime, Time
from forms.field_types.number import Number
from forms.field_types.text import Email, LongText, Phone, Text, Url, character_count

# In the order the docs list them: typed answers, choices, moments, the rest.
TYPES: tuple[type[FieldType], ...] = (
    Text,
    LongText,
    Email,
    Phone,
    Url,
    Number,
    Date,
    Time,
    DateTime,
    Choice,
    MultiChoice,
    YesNo,
    Country,
    Address,
    Consent,
    File,
    Group,
    Heading,
    Paragraph,
)
REGISTRY.update((kind.name, kind()) for kind in TYPES)

__all__ = [
    "FILE_ID",
    "NOT_KEPT",
    "REGISTRY",
    "TYPES",
    "AnswerBlock",
    "FieldType",
    "File",
    "character_count",
    "format_size",
    "settings_table",
]
