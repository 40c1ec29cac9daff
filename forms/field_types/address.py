"""A structured postal address: street, postcode, town and country, with the postcode
rules of the countries the calls come from."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from wtforms import Form as PlainForm
from wtforms import FormField, SelectField, StringField

from forms import validators as v
from forms.field_types.base import NOT_KEPT, FieldType
from forms.field_types.choices import country_name, country_names, country_strings
from forms.field_types.settings import Setting

PARTS = ("street", "postcode", "town", "country")
PART_LENGTH = {"street": 200, "postcode": 12, "town": 100, "country": 2}

# Postcode rules: (pattern of what people type, how it is stored, an example).
POSTCODES = {
    "PL": (re.compile(r"(\d{2})-?(\d{3})"), "{0}-{1}", "00-950"),
    "SE": (re.compile(r"(\d{3}) ?(\d{2})"), "{0} {1}", "114 55"),
    "DE": (re.compile(r"(\d{5})"), "{0}", "10115"),
    "LT": (re.compile(r"(?:LT-?)?(\d{5})"), "LT-{0}", "LT-01100"),
}
ANY_POSTCODE = re.compile(r"[A-Z0-9][A-Z0-9 -]{1,10}")


def normal_postcode(text: str, country: str | None) -> str | None:
    """The postcode as stored (`00950` in Poland → `00-950`), None when the country's rule
    refuses it; a country without a rule takes letters, digits, spaces and hyphens."""
    text = " ".join(text.upper().split())
    rule = POSTCODES.get(country or "")
    if rule is None:
        return text if ANY_POSTCODE.fullmatch(text) else None
    found = rule[0].fullmatch(text)
    return rule[1].format(*found.groups()) if found else None


def address_problems(value: dict, required: bool, countries: list[str] | None) -> dict:
    """Part → why it is not valid, in the page's language ({} when the address is valid).
    Independent of WTForms: the page's adapter puts each message beside its part."""
    given = {part: (value.get(part) or "").strip() for part in PARTS}
    if not any(given.values()) and not required:
        return {}
    problems = {}
    if not given["street"]:
        problems["street"] = _("Enter the street and number.")
    if not given["town"]:
        problems["town"] = _("Enter the town.")
    country = given["country"]
    if not country:
        problems["country"] = _("Select the country.")
    elif country not in (countries or country_names("en")):
        problems["country"] = _("Select one of the options offered.")
    if not given["postcode"]:
        problems["postcode"] = _("Enter the postcode.")
    elif normal_postcode(given["postcode"], country) is None:
        rule = POSTCODES.get(country)
        problems["postcode"] = (
            _("Enter a postcode like %(example)s.", example=rule[2])
            if rule
            else _("Enter a postcode of letters and digits.")
        )
    return problems


class AddressForm(PlainForm):
    """The four parts of one address; no CSRF of its own (the page form carries it)."""


class Address(FieldType):
    name = "address"
    summary = (
        "a postal address: street, postcode, town, country (postcodes checked for PL, SE, DE, LT)"
    )
    stores = '`{"street": ..., "postcode": "00-950", "town": ..., "country": "PL"}`'
    macro = "address"
    settings = (
        Setting("countries", "territories", doc="offer only these (default: all)"),
        Setting("country", "territory", doc="chosen at first"),
    )

    def value_type(self, field):
        return "parts"  # four inputs; the page script reads none of them for conditions

    def countries(self, field) -> list[str] | None:
        return field.options.get("countries")

    def make_field(self, field, language):
        offered = self.countries(field)
        names = [(c, n) for c, n in country_names(language).items() if not offered or c in offered]
        default = field.options.get("country")
        parts = {
            "street": StringField(
                _("Street and number"),
                render_kw={"autocomplete": "street-address", "maxlength": 200},
            ),
            "postcode": StringField(
                _("Postcode"),
                render_kw={
                    "autocomplete": "postal-code",
                    "maxlength": 12,
                    "class": "input input-short",
                },
            ),
            "town": StringField(
                _("Town"), render_kw={"autocomplete": "address-level2", "maxlength": 100}
            ),
            "country": SelectField(
                _("Country"),
                choices=[("", _("Choose…")), *names],
                default=default,
                validate_choice=False,
                render_kw={"autocomplete": "country"},
            ),
        }
        form = type(f"{field.name}_address", (AddressForm,), parts)
        return FormField(form, label=field.label(language))

    def refusal(self, data, field):
        if not isinstance(data, dict):
            return None
        for part in PARTS:
            text = data.get(part)
            if isinstance(text, str):
                why = v.text_refusal(text, False, PART_LENGTH[part])
                if why:
                    return why
        return None

    def stored(self, data, field, language):
        if not isinstance(data, dict):
            return None
        given = {part: " ".join(str(data.get(part) or "").split()) for part in PARTS}
        if not any(given.values()):
            return None
        postcode = (
            normal_postcode(given["postcode"], given["country"]) if given["postcode"] else None
        )
        return given | {"postcode": postcode or given["postcode"]}

    def page_answer(self, wtforms_field, field, language):
        if self.refusal(wtforms_field.data, field):
            return True, NOT_KEPT
        return False, self.stored(wtforms_field.data, field, language)

    def validate_on_page(self, wtforms_field, form, field, visible, answers):
        """Each message beside its part (the postcode's beside the postcode)."""
        data = wtforms_field.data or {}
        why = self.refusal(data, field)
        problems = (
            {"street": why}
            if why
            else address_problems(data, field.required, self.countries(field))
        )
        for part in PARTS:
            wtforms_field.form[part].errors = [problems[part]] if part in problems else []
        return not problems

    def example_post(self, field):
        offered = self.countries(field) or ["SE"]
        country = field.options.get("country") or ("SE" if "SE" in offered else offered[0])
        postcode = POSTCODES[country][2] if country in POSTCODES else "1234"
        return {
            "-street": "Storgatan 1",
            "-postcode": postcode,
            "-town": "Exempelby",
            "-country": country,
        }

    def from_post(self, post: dict[str, str]) -> dict:
        """The address as `stored` takes it, from form data keyed as in `example_post`."""
        return {suffix.lstrip("-"): value for suffix, value in post.items()}

    def problem(self, data, field):
        problems = address_problems(data or {}, field.required, self.countries(field))
        return next(iter(problems.values()), None)

    def page_form_data(self, value, field):
        return dict(value) if isinstance(value, dict) else None

    def search_strings(self, value, field):
        if not isinstance(value, dict):
            return super().search_strings(value, field)
        parts = [value.get(part) for part in ("street", "postcode", "town")]
        return [p for p in parts if isinstance(p, str)] + country_strings(value.get("country"))

    def display(self, value, field, language):
        if not isinstance(value, dict):
            return "" if value is None else str(value)
        lines = [
            value.get("street") or "",
            " ".join(filter(None, (value.get("postcode"), value.get("town")))),
            country_name(value.get("country"), language),
        ]
        return "\n".join(line for line in lines if line)

    def error_entries(self, wtforms_field, field, label, language):
        return [
            (part.id, f"{label}, {part.label.text}", part.errors[0])
            for part in wtforms_field
            if part.errors
        ]

    def anchor(self, field, field_id):
        return field_id + "-street"

    paper_min_lines = 3  # street; postcode and town; country
