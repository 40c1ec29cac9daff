"""Questions answered by choosing: one option, several, yes or no, a consent, a country."""

from __future__ import annotations

import unicodedata
from functools import cache

from babel import Locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from config import LANGUAGES
from forms import validators as v
from forms.field_types.base import FieldType
from forms.field_types.settings import Setting
from moments import _locale

CHOICES = Setting(
    "choices",
    "choices",
    required=True,
    missing="choices.invalid",
)


class ChoiceBase(FieldType):
    short = True
    required_message = _l("Select an option.")
    condition_target = True

    def condition_values(self, options):
        return [choice["value"] for choice in options.get("choices", [])]

    def values(self, field) -> list[str]:
        return [choice["value"] for choice in field.options["choices"]]

    def refusal(self, data, field):
        """Only values the form offers, each at most once: anything else is a tampered
        request or an old page, never kept."""
        chosen = data if isinstance(data, list) else [] if data in (None, "") else [data]
        offered = self.values(field)
        if len(set(chosen)) < len(chosen) or any(value not in offered for value in chosen):
            return _("Select one of the options offered.")
        return None

    def choice_pairs(self, field, language) -> list[tuple[str, str]]:
        return [
            (c["value"], field.localise(c["label"], language)) for c in field.options["choices"]
        ]

    def display(self, value, field, language):
        labels = dict(self.choice_pairs(field, language))
        if isinstance(value, list):
            return ", ".join(labels.get(item, item) for item in value)
        return "" if value is None else labels.get(value, str(value))

    def paper_lines(self, field, language):
        return ["☐ " + label for _v, label in self.choice_pairs(field, language)]

    def anchor(self, field, field_id):
        return field_id if self.value_type(field) == "text" else field_id + "-0"


class Choice(ChoiceBase):
    name = "choice"
    summary = "one of a list of options"
    stores = "the chosen value"
    settings = (CHOICES, Setting("widget", "one_of", default="radio", one_of=("radio", "select")))

    def macro_for(self, field) -> str:
        return "input" if field.options.get("widget") == "select" else "options"

    def value_type(self, field):
        return "text" if field.options.get("widget") == "select" else "one"

    def make_field(self, field, language):
        pairs = self.choice_pairs(field, language)
        if field.options["widget"] == "select":
            return SelectField(
                field.label(language),
                choices=[("", _("Choose…")), *pairs],
                validators=self.chain(field),
                validate_choice=False,
            )
        return RadioField(
            field.label(language),
            choices=pairs,
            validators=self.chain(field),
            validate_choice=False,
        )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MultiChoice(ChoiceBase):
    name = "multichoice"
    summary = "several of a list of options"
    stores = "list of values"
    macro = "options"
    settings = (
        CHOICES,
        Setting("min_choices", "whole", default=None),
        Setting("max_choices", "whole", default=None, minimum=1),
    )
    fixed_options = {"widget": "radio"}
    required_message = _l("Select at least one option.")

    def value_type(self, field):
        return "list"

    def checks(self, field):
        o = field.options
        return [v.ChoiceCount(o["min_choices"], o["max_choices"])]

    def make_field(self, field, language):
        return MultiCheckboxField(
            field.label(language),
            choices=self.choice_pairs(field, language),
            validators=self.chain(field),
            validate_choice=False,
        )

    def stored(self, data, field, language):
        return list(data) if data else None


class YesNo(FieldType):
    short = True
    name = "yesno"
    summary = "yes or no"
    stores = "`true` / `false`"
    macro = "options"
    condition_target = True

    def value_type(self, field):
        return "yesno"

    def condition_values(self, options):
        return [True, False]

    def anchor(self, field, field_id):
        return field_id + "-0"

    def refusal(self, data, field):
        if data not in (None, "", "yes", "no"):
            return _("Select one of the options offered.")
        return None

    def make_field(self, field, language):
        return RadioField(
            field.label(language),
            choices=[("yes", _("Yes")), ("no", _("No"))],
            validators=self.chain(field),
            validate_choice=False,
        )

    def stored(self, data, field, language):
        return {"yes": True, "no": False}.get(data)

    def form_data(self, value):
        return None if value is None else ("yes" if value else "no")

    def display(self, value, field, language):
        return "" if value is None else (_("Yes") if value else _("No"))

    def paper_lines(self, field, language):
        return ["☐ " + _("Yes"), "☐ " + _("No")]

    def search_strings(self, value, field):
        return ()


class Consent(FieldType):
    name = "consent"
    summary = "agreement to a text; always required"
    stores = '`{"agreed": true, "text": "<exact text shown>"}`'
    macro = "consent"
    settings = (
        Setting(
            "text",
            "text",
            required=True,
            missing="consent.text_missing",
            doc="what the person agrees to",
        ),
    )
    required_message = _l("You must agree to this to continue.")

    def value_type(self, field):
        return "checked"

    def chain(self, field):
        return [v.Required(str(self.required_message))]  # consent is always required

    def make_field(self, field, language):
        return BooleanField(field.text("text", language), validators=self.chain(field))

    def stored(self, data, field, language):
        # Keep the exact words shown, in the language shown: the definition may change later.
        return {"agreed": True, "text": field.text("text", language)} if data else None

    def form_data(self, value):
        return bool(value)

    def display(self, value, field, language):
        return _("Agreed: %(text)s", text=value["text"]) if value else ""

    def paper_lines(self, field, language):
        return ["☐ " + field.text("text", language)]


# Codes Babel names that are no country a letter goes to: the EU, the eurozone, the UN,
# "Outlying Oceania", pseudo-locales and "Unknown Region".
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


def _sort_key(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


@cache
def country_names(language: str) -> dict[str, str]:
    """ISO 3166 code → the country's name in `language` (Babel's CLDR territory names),
    sorted by name as a reader of that language looks them up."""
    names = _locale(language).territories
    codes = [c for c in Locale("en").territories if len(c) == 2 and c.isalpha()]
    pairs = [(c, names.get(c, c)) for c in codes if c not in NOT_COUNTRIES]
    return dict(sorted(pairs, key=lambda pair: _sort_key(pair[1])))


def country_name(code: str | None, language: str) -> str:
    return "" if not code else country_names(language).get(code, code)


def country_strings(code) -> list[str]:
    """A country as search finds it: its code and its name in every installed language."""
    if not isinstance(code, str) or not code:
        return []
    return [code, *dict.fromkeys(country_name(code, language) for language in LANGUAGES)]


class Country(FieldType):
    short = True
    name = "country"
    summary = "a country, named in the page's language"
    stores = "ISO 3166 code, e.g. `PL`"
    macro = "input"  # a <select>: WTForms renders the element
    settings = (Setting("countries", "territories", doc="offer only these (default: all)"),)
    required_message = _l("Select a country.")
    max_characters = 10

    def example_post(self, field):
        return {"": "SE" if "SE" in self.codes(field) else self.codes(field)[0]}

    def codes(self, field) -> list[str]:
        return field.options.get("countries") or list(country_names("en"))

    def refusal(self, data, field):
        if data not in (None, "") and data not in self.codes(field):
            return _("Select one of the options offered.")
        return None

    def pairs(self, field, language) -> list[tuple[str, str]]:
        names = country_names(language)
        offered = set(self.codes(field))
        return [(code, name) for code, name in names.items() if code in offered]

    def make_field(self, field, language):
        return SelectField(
            field.label(language),
            choices=[("", _("Choose…")), *self.pairs(field, language)],
            validators=self.chain(field),
            validate_choice=False,
            render_kw={"autocomplete": "country"},
        )

    def display(self, value, field, language):
        return country_name(value, language)

    def search_strings(self, value, field):
        return country_strings(value)
