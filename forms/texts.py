"""Texts in several languages: a definition gives either one string or language → text."""

from __future__ import annotations


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
