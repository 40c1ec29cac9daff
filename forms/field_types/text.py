"""Typed answers: short and long text, email, telephone, web address."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from babel.numbers import format_decimal
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.widgets import EmailInput, TelInput, URLInput

from forms import validators as v
from forms.field_types.base import FieldType
from forms.field_types.settings import Setting


class Text(FieldType):
    short = True
    name = "text"
    summary = "a line of text"
    default_max = 200
    settings = (
        Setting("min_length", "whole", default=None),
        Setting("max_length", "whole", default=200, minimum=1),
        Setting("pattern", "regex", doc="the answer must match it"),
        Setting("pattern_message", "text", on_field=True, doc="shown when it does not"),
    )

    def characters(self, field):
        return field.options["max_length"]

    def handwritten_characters(self, field):
        return field.options.get("max_length")

    def checks(self, field):
        checks = [v.Length(field.options.get("min_length"), None)]  # the most: refusal
        if field.options.get("pattern"):
            # The author's message in the page's language, chosen when it is shown.
            message = lambda: field.text("pattern_message", str(get_locale()))  # noqa: E731
            checks.append(v.Pattern(field.options["pattern"], message))
        return checks

    def make_field(self, field, language):
        return StringField(
            field.label(language),
            validators=self.chain(field),
            render_kw={"maxlength": field.options["max_length"]},
        )


class LongText(Text):
    name = "textarea"
    short = False
    paper_min_lines = 3
    summary = "several lines of text, with a character count"
    macro = "textarea"
    default_max = 5000
    multiline = True
    settings = (
        Setting("min_length", "whole", default=None),
        Setting("max_length", "whole", default=5000, minimum=1),
        Setting("rows", "whole", minimum=1, on_field=True, doc="height of the box (6)"),
    )

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
            if category not in forms[key]:  # each message once, not 200 times
                forms[key][category] = message(over, number, "{count}")
    return {
        "text": message(left < 0, abs(left), format_decimal(abs(left), locale=locale)),
        "over": left < 0,
        # Thousands grouped as Babel groups them here, so the number never changes its look
        # when the script takes over (Intl.NumberFormat skips the space in Polish "2990").
        "group": get_locale().number_symbols.get("latn", {}).get("group", ","),
        **forms,
    }


class Email(FieldType):
    short = True
    name = "email"
    summary = "an email address"
    required_message = _l("Enter an email address.")
    max_characters = 320

    def checks(self, field):
        return [v.Email()]

    def make_field(self, field, language):
        return StringField(
            field.label(language),
            validators=self.chain(field),
            widget=EmailInput(),
            render_kw={"autocomplete": "email", "spellcheck": "false"},
        )


class Phone(FieldType):
    short = True
    name = "phone"
    summary = "a telephone number"
    stores = "string (digits, spaces, `+ - ( )`, 6–20 digits)"
    required_message = _l("Enter a telephone number.")
    max_characters = 40

    def checks(self, field):
        return [v.Phone()]

    def make_field(self, field, language):
        return StringField(
            field.label(language),
            validators=self.chain(field),
            widget=TelInput(),
            render_kw={"autocomplete": "tel"},
        )


def normalise_url(text: str) -> str | None:
    """An http(s) address as stored: scheme and host in lower case, `https://` added when
    the person left it out, no spaces; None when it is no web address."""
    text = text.strip()
    if not text or any(c.isspace() for c in text):
        return None
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port  # a port that is no number raises here
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme.lower() not in ("http", "https") or "." not in host or parts.username:
        return None
    if not all(label and label.replace("-", "").isalnum() for label in host.split(".")):
        return None
    netloc = host.lower() + (f":{port}" if port else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


class Url(FieldType):
    """A web address. Shown as text everywhere: an applicant's answer never becomes a link
    (in an email it would be a phishing link with the organisation's name on it)."""

    short = True
    name = "url"
    summary = "a web address (http or https)"
    stores = "string, normalised: `https://example.org/path`"
    required_message = _l("Enter a web address.")
    max_characters = 2000

    def problem(self, data, field):
        if normalise_url(data or "") is None:
            return _("Enter a web address like https://example.org.")
        return None

    def stored(self, data, field, language):
        text = super().stored(data, field, language)
        return normalise_url(text) or text if text else None

    def example_post(self, field):
        return {"": f"www.example.org/{field.name}"}

    def make_field(self, field, language):
        return StringField(
            field.label(language),
            validators=self.chain(field),
            widget=URLInput(),
            render_kw={"autocomplete": "url", "spellcheck": "false", "inputmode": "url"},
        )
