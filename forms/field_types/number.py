"""A number."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.widgets import NumberInput

from forms import validators as v
from forms.field_types.base import FieldType
from forms.field_types.settings import Setting


class Number(FieldType):
    short = True
    name = "number"
    summary = "a number"
    stores = "number"
    settings = (
        Setting("min", "number"),
        Setting("max", "number"),
        Setting("integer", "truth", default=True, doc="whole numbers only"),
    )
    ordered = (("min", "max"),)
    required_message = _l("Enter a number.")
    max_characters = 40

    def checks(self, field):
        o = field.options
        return [v.Number(o["integer"], o.get("min"), o.get("max"))]

    def make_field(self, field, language):
        o = field.options
        attributes = {"inputmode": "numeric" if o["integer"] else "decimal"}
        attributes |= {k: o[k] for k in ("min", "max") if k in o}
        return StringField(
            field.label(language),
            validators=self.chain(field),
            widget=NumberInput(step="1" if o["integer"] else "any"),
            render_kw=attributes,
        )

    def stored(self, data, field, language):
        text = super().stored(data, field, language)
        return None if text is None else v.parse_number(text, field.options["integer"])

    def form_data(self, value):
        return None if value is None else str(value)

    def spreadsheet_value(self, value, field, language):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        return super().spreadsheet_value(value, field, language)

    def search_strings(self, value, field):
        return ()  # numbers were never searched: only strings are (services/search.py)
