"""The declarative settings schema of a field type: which keys a definition may give a
question of that type, of which kind, with which default and bounds. One list per type
(`FieldType.settings`) validates definitions (forms/schema.py), writes the table in
docs/form-definitions.md (`settings_table`) and can drive a form builder."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from forms.texts import normalise_text
from forms.validators import parse_date

Problem = Callable[[str], None]
ABSENT = object()  # a setting that, when not given, is left out of the stored options


@dataclass(frozen=True)
class Setting:
    key: str
    kind: str  # one of PARSERS, or "text" (a text in the call's languages), "fields"
    default: Any = ABSENT
    minimum: float | None = None
    one_of: tuple = ()
    required: bool = False
    missing: str = ""  # the message when a required setting is missing
    doc: str = ""  # what it means, for the docs' table
    # Where the value is kept in the normalised field: its `options` (the default), or the
    # field itself ("texts" are checked for every language by forms/schema.py).
    on_field: bool = False

    def describe(self) -> str:
        """The docs' words for this setting: `max_length` (whole number ≥ 1, default 200)."""
        parts = [KIND_WORDS.get(self.kind, self.kind)]
        if self.kind == "whole" and self.minimum is not None:
            parts[0] += f" ≥ {self.minimum:g}"
        elif self.kind == "number" and self.minimum is not None:
            parts[0] = "positive number"
        if self.one_of:
            parts = [" or ".join(f"`{value}`" for value in self.one_of)]
        if self.required:
            parts.append("required")
        elif self.default is not ABSENT and self.default is not None:
            shown = self.default
            if isinstance(shown, bool):
                shown = "true" if shown else "false"
            elif isinstance(shown, list | tuple):
                shown = ", ".join(str(item) for item in shown)
            parts.append(f"default {shown}")
        words = f"`{self.key}` ({', '.join(parts)})"
        return f"{words}: {self.doc}" if self.doc else words


KIND_WORDS = {
    "whole": "whole number",
    "number": "number",
    "truth": "true/false",
    "date": "ISO date",
    "time": "time HH:MM",
    "regex": "regular expression",
    "text": "text",
    "choices": "list of `{value, label}`",
    "extensions": "list of file extensions",
    "fields": "list of input fields",
    "territories": "list of ISO country codes",
    "territory": "ISO country code",
}


def _whole(setting: Setting, value: Any, problem: Problem) -> Any:
    minimum = 0 if setting.minimum is None else setting.minimum
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problem(f"'{setting.key}' must be a whole number ≥ {minimum:g}")
        return ABSENT
    return value


def _number(setting: Setting, value: Any, problem: Problem) -> Any:
    positive = setting.minimum is not None  # a size: more than nothing
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (positive and value <= setting.minimum)
    ):
        problem(f"'{setting.key}' must be a {'positive ' if positive else ''}number")
        return ABSENT
    return value


def _truth(setting: Setting, value: Any, problem: Problem) -> Any:
    return bool(value)


def _date(setting: Setting, value: Any, problem: Problem) -> Any:
    if parse_date(str(value)) is None:
        problem(f"'{setting.key}' must be a date like 2027-03-14")
        return ABSENT
    return str(value)


TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def _time(setting: Setting, value: Any, problem: Problem) -> Any:
    # YAML reads an unquoted 09:30 as a number of minutes (sexagesimal), so ask for quotes.
    if not isinstance(value, str) or not TIME.fullmatch(value):
        problem(f"'{setting.key}' must be a time like \"09:30\" (in quotes)")
        return ABSENT
    return value


def _regex(setting: Setting, value: Any, problem: Problem) -> Any:
    try:
        re.compile(str(value))
    except re.error as exc:
        problem(f"'{setting.key}' is not a valid regular expression: {exc}")
        return ABSENT
    return str(value)


def _one_of(setting: Setting, value: Any, problem: Problem) -> Any:
    if value not in setting.one_of:
        choices = " or ".join(f"'{option}'" for option in setting.one_of)
        problem(f"'{setting.key}' must be {choices}")
    return value


def _choices(setting: Setting, value: Any, problem: Problem) -> Any:
    if not isinstance(value, list) or not value:
        problem(f"'{setting.key}' must be a non-empty list of {{value, label}}")
        return []
    seen, normalised = set(), []
    for index, choice in enumerate(value):
        if not isinstance(choice, dict) or "value" not in choice or "label" not in choice:
            problem(f"choices[{index}] needs 'value' and 'label'")
            continue
        if isinstance(choice["value"], bool):
            problem(
                f"choices[{index}]: YAML reads a bare yes, no, true or false as a truth "
                'value; write the value in quotes, like "yes"'
            )
        text = str(choice["value"])
        if text in seen:
            problem(f"choices[{index}]: value '{text}' appears twice")
        seen.add(text)
        normalised.append({"value": text, "label": normalise_text(choice["label"])})
    return normalised


def _extensions(setting: Setting, value: Any, problem: Problem) -> Any:
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        problem(f"'{setting.key}' must be a list of file extensions, like [pdf, docx]")
        value = setting.default
    return [a.lower().lstrip(".") for a in value]


def _territories(setting: Setting, value: Any, problem: Problem) -> Any:
    from babel import Locale

    known = Locale("en").territories
    if not isinstance(value, list) or not value:
        problem(f"'{setting.key}' must be a non-empty list of ISO country codes, like [PL, SE]")
        return ABSENT
    wrong = [code for code in value if not isinstance(code, str) or code.upper() not in known]
    if wrong:
        problem(f"'{setting.key}': unknown country code(s) {wrong}")
        return ABSENT
    return [code.upper() for code in value]


def _territory(setting: Setting, value: Any, problem: Problem) -> Any:
    codes = _territories(setting, [value], problem) if isinstance(value, str) else ABSENT
    if codes is ABSENT:
        if not isinstance(value, str):
            problem(f"'{setting.key}' must be an ISO country code, like PL")
        return ABSENT
    return codes[0]


PARSERS: dict[str, Callable[[Setting, Any, Problem], Any]] = {
    "whole": _whole,
    "number": _number,
    "truth": _truth,
    "date": _date,
    "time": _time,
    "regex": _regex,
    "one_of": _one_of,
    "choices": _choices,
    "extensions": _extensions,
    "territories": _territories,
    "territory": _territory,
}


def check_settings(settings: tuple[Setting, ...], raw: dict, problem: Problem) -> dict:
    """The options of one question from its definition: each setting parsed, a wrong one
    reported and replaced by its default. Texts and child fields are left to the caller
    (forms/schema.py checks texts in every language and fields recursively)."""
    options: dict = {}
    for setting in settings:
        if setting.on_field or setting.kind in ("text", "fields"):
            if setting.required and not raw.get(setting.key):
                problem(setting.missing or f"'{setting.key}' is required")
            continue
        if raw.get(setting.key) is None:
            if setting.required:
                problem(setting.missing or f"'{setting.key}' is required")
                options[setting.key] = PARSERS[setting.kind](setting, None, lambda _m: None)
                continue
            value = setting.default
        else:
            value = PARSERS[setting.kind](setting, raw[setting.key], problem)
            if value is ABSENT:
                value = setting.default
        if value is not ABSENT:
            options[setting.key] = list(value) if isinstance(value, tuple) else value
    return options
