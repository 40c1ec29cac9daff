"""The field types now live in forms/field_types/ (one class each); this name stays for
the modules that import from it."""

from forms.field_types import (  # noqa: F401
    FILE_ID,
    REGISTRY,
    FieldType,
    File,
    character_count,
    format_size,
)
