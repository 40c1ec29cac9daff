"""The field-type registry. Each type says, in one place, which definition keys it takes,
which WTForms field renders it, how its answer is stored and how a stored answer reads.
Adding a field type is one class here."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from babel.numbers import format_decimal
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, DateInput, EmailInput, ListWidget, NumberInput, TelInput

from forms import validators as v
from forms.texts import normalise_text
from moments import local_date

if TYPE_CHECKING:
    from forms.spec import FieldSpec


class FieldType:
    name: ClassVar[str]
    is_input: ClassVar[bool] = True
    keys: ClassVar[frozenset[str]] = frozenset()  # type-specific definition keys
    required_message: ClassVar[Any] = _l("Answer this question.")
    # The most characters a typed answer of this type may have; longer ones are refused
    # before any other check and never stored (types with a length limit of their own
    # override `max_characters`).
    max_characters: ClassVar[int] = 200
    multiline: ClassVar[bool] = False  # only long text keeps line breaks

    def characters(self, field: FieldSpec) -> int:
        return self.max_characters

    def refusal(self, data: Any, field: FieldSpec) -> str | None:
        """Why a posted answer cannot even be kept in a draft (None when it can): what no
        answer of this type may be, whatever the question says (see forms.validators.Edge)."""
        if isinstance(data, str):
            return v.text_refusal(data, self.multiline, self.characters(field))
        return None

    def check(self, raw: dict, problem) -> dict:
        """Validate and normalise the type-specific keys; call `problem(msg)` for errors."""
        return {}

    def make_field(self, field: FieldSpec, language: str):
        raise NotImplementedError

    def validators(self, field: FieldSpec) -> list:
        return []

    def chain(self, field: FieldSpec) -> list:
        first = v.Required(str(self.required_message)) if field.required else v.SkipIfBlank()
        edge = v.Edge(lambda data: self.refusal(data, field))
        return [edge, first, *self.validators(field)]

    def stored(self, data: Any, field: FieldSpec, language: str) -> Any:
        """The value kept for a valid answer; None when unanswered."""
        if isinstance(data, str):
            data = data.strip().replace("\r\n", "\n")  # browsers send line breaks as CRLF
        return data if data not in (None, "", []) else None

    def form_data(self, value: Any) -> Any:
        """A stored value as the WTForms field expects it, to fill the field in again."""
        return value

    def display(self, value: Any, field: FieldSpec, language: str) -> str:
        return "" if value is None else str(value)


REGISTRY: dict[str, FieldType] = {}


def register(cls: type[FieldType]) -> type[FieldType]:
    REGISTRY[cls.name] = cls()
    return cls


def _int(raw: dict, key: str, problem, minimum: int = 0) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problem(f"'{key}' must be a whole number ≥ {minimum}")
        return None
    return value


@register
class Text(FieldType):
    name = "text"
    keys = frozenset({"min_length", "max_length", "pattern", "pattern_message"})
    default_max = 200
    widget_field = StringField

    def characters(self, field):
        return field.options["max_length"]

    def check(self, raw, problem):
        options = {
            "min_length": _int(raw, "min_length", problem),
            "max_length": _int(raw, "max_length", problem, 1) or self.default_max,
        }
        if "pattern" in raw:
            try:
                re.compile(str(raw["pattern"]))
                options["pattern"] = str(raw["pattern"])
            except re.error as exc:
                problem(f"'pattern' is not a valid regular expression: {exc}")
        return options

    def validators(self, field):
        checks = [v.Length(field.options.get("min_length"), None)]  # the most: refusal
        if field.options.get("pattern"):
            # The author's message in the page's language, chosen when it is shown.
            message = lambda: field.text("pattern_message", str(get_locale()))  # noqa: E731
            checks.append(v.Pattern(field.options["pattern"], message))
        return checks

    def make_field(self, field, language):
        return self.widget_field(
            field.label(language),
            validators=self.chain(field),
            render_kw={"maxlength": field.options["max_length"]},
        )


@register
class LongText(Text):
    name = "textarea"
    keys = frozenset({"min_length", "max_length", "rows"})
    default_max = 5000
    multiline = True
    widget_field = TextAreaField

    def make_field(self, field, language):
        return TextAreaField(
            field.label(language),
            validators=self.chain(field),
            render_kw={
                "rows": field.raw.get("rows", 6),
                "data-maxlength": field.options["max_length"],
            },
        )


def character_count(value: str | None, maximum: int) -> dict:
    """GOV.UK's character count for a long answer: the message for `value` now ("You have
    2,990 characters remaining", "You have 10 characters too many"), and each plural form
    of both messages in the page's language, with `{count}` for the page script to fill in
    (static/js/formdesk.js picks the form with Intl.PluralRules, the same CLDR rules)."""
    locale = get_locale()
    left = maximum - len((value or "").replace("\r\n", "\n"))  # as forms.validators.Length

    def message(over: bool, number: int, count: str) -> str:
        if over:
            return ngettext(
                "You have %(count)s character too many",
                "You have %(count)s characters too many",
                number,
                count=count,
            )
        return ngettext(
            "You have %(count)s character remaining",
            "You have %(count)s characters remaining",
            number,
            count=count,
        )

    forms: dict[str, dict[str, str]] = {"remaining": {}, "too_many": {}}
    for number in range(0, 200):  # a whole number of each plural category the language has
        category = locale.plural_form(number)
        for key, over in (("remaining", False), ("too_many", True)):
            forms[key].setdefault(category, message(over, number, "{count}"))
    return {
        "text": message(left < 0, abs(left), format_decimal(abs(left), locale=locale)),
        "over": left < 0,
        # Thousands grouped as Babel groups them here, so the number never changes its look
        # when the script takes over (Intl.NumberFormat skips the space in Polish "2990").
        "group": get_locale().number_symbols.get("latn", {}).get("group", ","),
        **forms,
    }


@register
class Email(FieldType):
    name = "email"
    required_message = _l("Enter an email address.")
    max_characters = 320

    def validators(self, field):
        return [v.Email()]

    def make_field(self, field, language):
        return StringField(
            field.label(language),
            validators=self.chain(field),
            widget=EmailInput(),
            render_kw={"autocomplete": "email", "spellcheck": "false"},
        )


@register
class Phone(FieldType):
    name = "phone"
    required_message = _l("Enter a telephone number.")
    max_characters = 40

    def validators(self, field):
        return [v.Phone()]

    def make_field(self, field, language):
        return StringField(
            field.label(language),
            validators=self.chain(field),
            widget=TelInput(),
            render_kw={"autocomplete": "tel"},
        )


@register
class Number(FieldType):
    name = "number"
    keys = frozenset({"min", "max", "integer"})
    required_message = _l("Enter a number.")
    max_characters = 40

    def check(self, raw, problem):
        options = {"integer": bool(raw.get("integer", True))}
        for key in ("min", "max"):
            if key in raw:
                if isinstance(raw[key], bool) or not isinstance(raw[key], int | float):
                    problem(f"'{key}' must be a number")
                else:
                    options[key] = raw[key]
        if "min" in options and "max" in options and options["min"] > options["max"]:
            problem("'min' is greater than 'max'")
        return options

    def validators(self, field):
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


@register
class Date(FieldType):
    name = "date"
    keys = frozenset({"min", "max"})
    required_message = _l("Enter a date.")
    max_characters = 40

    def check(self, raw, problem):
        options = {}
        for key in ("min", "max"):
            if key in raw:
                value = str(raw[key])
                if v.parse_date(value) is None:
                    problem(f"'{key}' must be a date like 2027-03-14")
                else:
                    options[key] = value
        return options

    def validators(self, field):
        return [v.Date(field.options.get("min"), field.options.get("max"))]

    def stored(self, data, field, language):
        text = super().stored(data, field, language)
        day = v.parse_date(text) if text else None
        return day.isoformat() if day else text  # always YYYY-MM-DD, however it was typed

    def display(self, value, field, language):
        """In the reader's language ("17. April 2030"), as every other date Formdesk shows;
        an answer that is no calendar date (kept from before dates were checked) as given."""
        if not value:
            return ""
        try:
            return local_date(str(value), language)
        except ValueError:
            return str(value)

    def make_field(self, field, language):
        attributes = {k: field.options[k] for k in ("min", "max") if k in field.options}
        return StringField(
            field.label(language),
            validators=self.chain(field),
            widget=DateInput(),
            render_kw=attributes,
        )


class ChoiceBase(FieldType):
    keys = frozenset({"choices", "widget"})
    required_message = _l("Select an option.")

    def check(self, raw, problem):
        choices = raw.get("choices")
        if not isinstance(choices, list) or not choices:
            problem("'choices' must be a non-empty list of {value, label}")
            return {"choices": []}
        seen, normalised = set(), []
        for index, choice in enumerate(choices):
            if not isinstance(choice, dict) or "value" not in choice or "label" not in choice:
                problem(f"choices[{index}] needs 'value' and 'label'")
                continue
            if isinstance(choice["value"], bool):
                problem(
                    f"choices[{index}]: YAML reads a bare yes, no, true or false as a truth "
                    'value; write the value in quotes, like "yes"'
                )
            value = str(choice["value"])
            if value in seen:
                problem(f"choices[{index}]: value '{value}' appears twice")
            seen.add(value)
            normalised.append({"value": value, "label": normalise_text(choice["label"])})
        widget = raw.get("widget", "radio")
        if widget not in ("radio", "select"):
            problem("'widget' must be 'radio' or 'select'")
        return {"choices": normalised, "widget": widget}

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


@register
class Choice(ChoiceBase):
    name = "choice"

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


@register
class MultiChoice(ChoiceBase):
    name = "multichoice"
    keys = frozenset({"choices", "min_choices", "max_choices"})
    required_message = _l("Select at least one option.")

    def check(self, raw, problem):
        options = super().check({**raw, "widget": "radio"}, problem)
        options["min_choices"] = _int(raw, "min_choices", problem)
        options["max_choices"] = _int(raw, "max_choices", problem, 1)
        return options

    def validators(self, field):
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


@register
class YesNo(FieldType):
    name = "yesno"

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


@register
class Consent(FieldType):
    name = "consent"
    keys = frozenset({"text"})
    required_message = _l("You must agree to this to continue.")

    def check(self, raw, problem):
        if not raw.get("text"):
            problem("a consent field needs 'text': the exact words the person agrees to")
        return {}

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


DEFAULT_ACCEPT = ["pdf", "docx", "odt", "jpg", "jpeg", "png"]
# Where a file answer keeps its Attachment's id. Answers are told to be files by their
# question's type (FormSpec.file_answers), never by this key: a question may be called so.
FILE_ID = "attachment"


@register
class File(FieldType):
    name = "file"
    keys = frozenset({"accept", "max_size_mb"})
    required_message = _l("Choose a file to upload.")

    def check(self, raw, problem):
        accept = raw.get("accept", DEFAULT_ACCEPT)
        if not isinstance(accept, list) or not all(isinstance(a, str) for a in accept):
            problem("'accept' must be a list of file extensions, like [pdf, docx]")
            accept = DEFAULT_ACCEPT
        size = raw.get("max_size_mb", 10)
        if isinstance(size, bool) or not isinstance(size, int | float) or size <= 0:
            problem("'max_size_mb' must be a positive number")
            size = 10
        return {"accept": [a.lower().lstrip(".") for a in accept], "max_size_mb": size}

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


def format_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@register
class Group(FieldType):
    """Repeatable items ("add another participant"). Built by forms.build from its children."""

    name = "group"
    keys = frozenset({"fields", "min", "max", "item_label"})
    required_message = _l("Add at least one item.")

    def check(self, raw, problem):
        minimum = _int(raw, "min", problem) or 0
        maximum = _int(raw, "max", problem, 1) or 20
        if minimum > maximum:
            problem("'min' is greater than 'max'")
        return {"min": minimum, "max": maximum}

    def display(self, value, field, language):
        return ""  # shown item by item


class Block(FieldType):
    is_input = False
    keys = frozenset({"text"})

    def check(self, raw, problem):
        if not raw.get("text"):
            problem(f"a {self.name} needs 'text'")
        return {}


@register
class Heading(Block):
    name = "heading"


@register
class Paragraph(Block):
    name = "paragraph"
