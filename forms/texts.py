"""Texts in several languages: a definition gives either one string or language → text."""

from __future__ import annotations

import re


def normalise_text(value: object) -> dict[str, str] | None:
    """Return {language: text}; a plain string is stored under the wildcard key '*'."""
    if value is None:
        return None
    if isinstance(value, str):
        return {"*": value}
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return dict(value)
    raise TypeError("must be a text or a mapping of language to text")


def localise(text: dict[str, str] | None, language: str, fallback: str) -> str:
    if not text:
        return ""
    return text.get(language) or text.get("*") or text.get(fallback) or next(iter(text.values()))


# How a question says it is optional, per language: the page writes "(optional)" beside every
# question that is not required, so a definition that says it too shows it twice.
OPTIONAL_WORDS = {
    "en": ["optional"],
    "pl": ["nieobowiązkow", "opcjonaln", "dobrowoln"],
    "sv": ["frivillig", "valfri"],
    "de": ["optional", "freiwillig"],
    "lt": ["neprivalom"],
}


def says_optional(key: str, text: str, language: str) -> bool:
    """A label with "(optional)" in it, or a hint that begins "Optional." / "Optional, …"."""
    words = OPTIONAL_WORDS.get(language) or sum(OPTIONAL_WORDS.values(), [])
    word = "(?:" + "|".join(re.escape(w) for w in words) + r")\w*"
    if key == "label":
        return re.search(r"\(\s*" + word + r"\s*\)", text, re.IGNORECASE) is not None
    return re.match(r"\s*" + word + r"\s*[.,:;–-]", text, re.IGNORECASE) is not None
