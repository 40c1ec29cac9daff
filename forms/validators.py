"""Validators with messages in the person's language (WTForms' own messages are English)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from functools import partial

from babel.numbers import format_decimal
from email_validator import EmailNotValidError, validate_email
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from wtforms.validators import StopValidation, ValidationError

# --- the edge: what any typed answer must be before it is checked further or kept -----------

# Every way a browser, a paste or a script writes a line break; kept as one "\n".
LINE_BREAKS = re.compile(r"\r\n|[\r\x85\u2028\u2029]")
# Control characters (NUL, escape, tab…) and lone surrogates: never typed on a keyboard,
# invisible on the page, and PostgreSQL refuses a NUL in text and JSON (a 500 on Send).
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(value: str) -> str:
    """A posted value as it is kept: Unicode NFC (so "é" is one character however it was
    typed, and length limits count what people see) with line breaks written "\n"."""
    return LINE_BREAKS.sub("\n", unicodedata.normalize("NFC", value))


def clean_formdata(formdata: MultiDict) -> MultiDict:
    return MultiDict([(key, clean_text(value)) for key, value in formdata.items(multi=True)])


def text_refusal(value: str, multiline: bool, maximum: int | None) -> str | None:
    """Why this text cannot be kept at all (None when it can): a control character, a line
    break in a one-line answer, or more characters than the question takes."""
    if CONTROL.search(value):
        return _(
            "Remove the invisible control characters from this answer "
            "(they are often copied along with text from another program)."
        )
    if not multiline and "\n" in value.strip():
        return _("Write this answer on one line.")
    if maximum is not None and len(value.replace("\r\n", "\n")) > maximum:
        return Length.too_long(maximum, len(value.replace("\r\n", "\n")))
    return None


class Edge:
    """First in every question's checks: an answer its type refuses outright (see
    FieldType.refusal) gets that message and no other, and is never stored."""

    def __init__(self, refusal: Callable[[object], str | None]):
        self.refusal = refusal

    def __call__(self, form, field):
        message = self.refusal(field.data)
        if message:
            field.errors[:] = []
            raise StopValidation(message)


def _is_blank(value: object) -> bool:
    return (
        value is None
        or value is False  # an unticked box
        or (isinstance(value, str | list | tuple) and not value)
        or (isinstance(value, str) and not value.strip())
    )


class Required:
    """Stops the chain when the answer is missing, so the person sees one clear message."""

    def __init__(self, message: str):
        self.message = message
        self.field_flags = {"required": True}

    def __call__(self, form, field):
        if _is_blank(field.data):
            field.errors[:] = []
            raise StopValidation(self.message)


class SkipIfBlank:
    """For optional fields: an empty answer needs no further checks."""

    def __call__(self, form, field):
        if _is_blank(field.data):
            field.errors[:] = []
            raise StopValidation()


class Check:
    """A check of one typed answer, independent of WTForms: `problem(data)` says what is
    wrong (None when nothing is); calling it as a WTForms validator raises that message."""

    def problem(self, data) -> str | None:
        raise NotImplementedError

    def __call__(self, form, field):
        message = self.problem(field.data)
        if message:
            raise ValidationError(message)


class Length(Check):
    def __init__(self, minimum: int | None, maximum: int | None):
        self.minimum, self.maximum = minimum, maximum

    @staticmethod
    def too_long(maximum: int, count: int) -> str:
        # Numbers written as the character count under a long answer writes them ("3,000").
        number = partial(format_decimal, locale=get_locale())
        return _(
            "Use at most %(max)s characters (you used %(count)s).",
            max=number(maximum),
            count=number(count),
        )

    def problem(self, data):
        count = len((data or "").replace("\r\n", "\n"))  # a line break is one character
        number = partial(format_decimal, locale=get_locale())
        if self.maximum is not None and count > self.maximum:
            return self.too_long(self.maximum, count)
        if self.minimum is not None and count < self.minimum:
            return _(
                "Use at least %(min)s characters (you used %(count)s).",
                min=number(self.minimum),
                count=number(count),
            )
        return None


class Pattern(Check):
    def __init__(self, pattern: str, message: str | Callable[[], str] | None):
        self.regex = re.compile(pattern)
        self.message = message

    def problem(self, data):
        if not self.regex.fullmatch(data or ""):
            message = self.message() if callable(self.message) else self.message
            return message or _("The format of this answer is not valid.")
        return None


class Email(Check):
    def problem(self, data):
        try:
            validate_email(data or "", check_deliverability=False)
        except EmailNotValidError:
            return _("Enter an email address in the right format, like name@example.org.")
        return None


PHONE_CHARACTERS = re.compile(r"\+?[0-9 ()\-./]+")


# Examples written the way people of the page's language write numbers (fictional ones):
# an international form, then a national one.
PHONE_EXAMPLES = {
    "en": ("+44 20 7946 0958", "020 7946 0958"),
    "pl": ("+48 42 123 45 67", "600 123 456"),
    "sv": ("+46 8 123 456 78", "042 123 45 67"),
    "de": ("+49 30 1234 5678", "030 1234 5678"),
    "lt": ("+370 5 212 3456", "8 612 34567"),
}


class Phone(Check):
    def problem(self, data):
        value = data or ""
        digits = sum(ch.isdigit() for ch in value)
        if not PHONE_CHARACTERS.fullmatch(value) or not 6 <= digits <= 20:
            international, national = PHONE_EXAMPLES.get(str(get_locale()), PHONE_EXAMPLES["en"])
            return _(
                "Enter a telephone number, like %(international)s or %(national)s.",
                international=international,
                national=national,
            )
        return None


def parse_number(text: str, integer: bool) -> int | float | None:
    text = (text or "").strip().replace(",", ".").replace(" ", "")
    try:
        number = int(text) if integer else float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None  # no nan, inf


class Number(Check):
    def __init__(self, integer: bool, minimum: float | None, maximum: float | None):
        self.integer, self.minimum, self.maximum = integer, minimum, maximum

    def problem(self, data):
        number = parse_number(data, self.integer)
        if number is None:
            return _("Enter a whole number.") if self.integer else _("Enter a number.")
        too_small = self.minimum is not None and number < self.minimum
        too_large = self.maximum is not None and number > self.maximum
        if too_small or too_large:
            if self.minimum is not None and self.maximum is not None:
                message = _(
                    "Enter a number from %(min)s to %(max)s.", min=self.minimum, max=self.maximum
                )
            elif too_small:
                message = _("Enter a number of at least %(min)s.", min=self.minimum)
            else:
                message = _("Enter a number of at most %(max)s.", max=self.maximum)
            return message
        return None


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


class Date(Check):
    def __init__(self, earliest: str | None, latest: str | None):
        self.earliest = date.fromisoformat(earliest) if earliest else None
        self.latest = date.fromisoformat(latest) if latest else None

    def problem(self, data):
        value = parse_date(data)
        if value is None:
            return _("Enter a real date, for example 2027-03-14.")
        if self.earliest and value < self.earliest:
            return _("Enter a date on or after %(date)s.", date=self.earliest.isoformat())
        if self.latest and value > self.latest:
            return _("Enter a date on or before %(date)s.", date=self.latest.isoformat())
        return None


class ChoiceCount(Check):
    def __init__(self, minimum: int | None, maximum: int | None):
        self.minimum, self.maximum = minimum, maximum

    def problem(self, data):
        count = len(data or [])
        if self.minimum and count < self.minimum:
            return _("Select at least %(min)d options.", min=self.minimum)
        if self.maximum and count > self.maximum:
            return _("Select at most %(max)d options.", max=self.maximum)
        return None
