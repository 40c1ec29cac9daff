"""The declarative settings schema of a field type: which keys a definition may give a
question of that type, of which kind, with which default and bounds. One list per type
(`FieldType.settings`) validates definitions (forms/schema.py), writes the table in
docs/form-definitions.md (`settings_table`) and can drive a form builder."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from config import LANGUAGES
from forms.texts import normalise_text
from forms.validators import parse_date

# report(path, code, **params): one mistake in a question's settings (forms.problems.Problem)
Report = Callable[..., None]
At = Callable[[str], tuple]
ABSENT = object()  # a setting that, when not given, is left out of the stored options


@dataclass(frozen=True)
class Setting:
    key: str
    kind: str  # one of PARSERS, or "text" (a text in the call's languages), "fields"
    default: Any = ABSENT
    minimum: float | None = None
    one_of: tuple = ()
    required: bool = False
    missing: str = ""  # the problem code when a required setting is missing
    missing_params: tuple = ()  # (name, value) pairs for that problem's message
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


def _whole(setting: Setting, value: Any, problem: Report) -> Any:
    minimum = 0 if setting.minimum is None else setting.minimum
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problem("setting.whole", minimum=f"{minimum:g}")
        return ABSENT
    return value


def _number(setting: Setting, value: Any, problem: Report) -> Any:
    positive = setting.minimum is not None  # a size: more than nothing
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (positive and value <= setting.minimum)
    ):
        problem("setting.positive_number" if positive else "setting.number")
        return ABSENT
    return value


def _truth(setting: Setting, value: Any, problem: Report) -> Any:
    return bool(value)


def _date(setting: Setting, value: Any, problem: Report) -> Any:
    if parse_date(str(value)) is None:
        problem("setting.date")
        return ABSENT
    return str(value)


TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def _time(setting: Setting, value: Any, problem: Report) -> Any:
    # YAML reads an unquoted 09:30 as a number of minutes (sexagesimal), so ask for quotes.
    if not isinstance(value, str) or not TIME.fullmatch(value):
        problem("setting.time")
        return ABSENT
    return value


def _regex(setting: Setting, value: Any, problem: Report) -> Any:
    try:
        re.compile(str(value))
    except re.error as exc:
        problem("setting.regex", error=str(exc))
        return ABSENT
    return str(value)


def _one_of(setting: Setting, value: Any, problem: Report) -> Any:
    if value not in setting.one_of:
        problem("setting.one_of", choices=list(setting.one_of))
    return value


def _choices(setting: Setting, value: Any, problem: Report) -> Any:
    if not isinstance(value, list) or not value:
        problem("choices.invalid")
        return []
    seen, normalised = set(), []
    for index, choice in enumerate(value):
        if not isinstance(choice, dict) or "value" not in choice or "label" not in choice:
            problem("choices.item_invalid", index)
            continue
        if isinstance(choice["value"], bool):
            problem("choices.truth_value", index, "value")
        text = str(choice["value"])
        if text in seen:
            problem("choices.value_twice", index, "value", value=text)
        seen.add(text)
        try:
            label = normalise_text(choice["label"])
        except TypeError:
            problem("text.invalid", index, "label")
            continue
        unknown = set(label or {}) - set(LANGUAGES) - {"*"}
        if unknown:
            problem("text.unknown_languages", index, "label", languages=sorted(unknown))
        normalised.append({"value": text, "label": label})
    return normalised


def _extensions(setting: Setting, value: Any, problem: Report) -> Any:
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        problem("setting.extensions")
        value = setting.default
    return [a.lower().lstrip(".") for a in value]


def _territories(setting: Setting, value: Any, problem: Report) -> Any:
    from babel import Locale

    known = Locale("en").territories
    if not isinstance(value, list) or not value:
        problem("setting.territories")
        return ABSENT
    wrong = [code for code in value if not isinstance(code, str) or code.upper() not in known]
    if wrong:
        problem("setting.unknown_countries", codes=[str(code) for code in wrong])
        return ABSENT
    return [code.upper() for code in value]


def _territory(setting: Setting, value: Any, problem: Report) -> Any:
    if not isinstance(value, str):
        problem("setting.territory")
        return ABSENT
    codes = _territories(setting, [value], problem)
    return ABSENT if codes is ABSENT else codes[0]


PARSERS: dict[str, Callable[[Setting, Any, Report], Any]] = {
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


def check_settings(
    settings: tuple[Setting, ...], raw: dict, report: Report, at: At = lambda key: (key,)
) -> dict:
    """The options of one question from its definition: each setting parsed, a wrong one
    reported and replaced by its default. `report(path, code, **params)` is told each
    mistake, its path made by `at(key)` (where the setting is in the question: its own key,
    or ("options", key) in a normalised definition) and any place inside the setting.
    Texts and child fields are left to the caller (forms/schema.py checks texts in every
    language and fields recursively)."""
    options: dict = {}
    for setting in settings:

        def problem(code, *inside, _key=setting.key, **params):
            report((*at(_key), *inside), code, **params)

        if setting.kind in ("text", "fields"):
            if setting.required and not raw.get(setting.key):
                problem(setting.missing or "setting.required", **_missing_params(setting))
            continue
        if raw.get(setting.key) is None:
            if setting.required:
                problem(setting.missing or "setting.required", **_missing_params(setting))
                if not setting.on_field:
                    quiet = PARSERS[setting.kind](setting, None, lambda *_a, **_k: None)
                    options[setting.key] = quiet
                continue
            value = setting.default
        else:
            value = PARSERS[setting.kind](setting, raw[setting.key], problem)
            if value is ABSENT:
                value = setting.default
        if setting.on_field:
            continue  # checked here, kept on the field by forms/schema.py
        if value is not ABSENT:
            options[setting.key] = list(value) if isinstance(value, tuple) else value
    return options


def _missing_params(setting: Setting) -> dict:
    return {"key": setting.key, **dict(setting.missing_params)}
