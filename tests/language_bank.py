"""Is a text in the language it should be in? Every text Formdesk writes exists in parallel in
several languages (the catalogues, email texts, workflow labels, letters, the calls' own texts).
A sentence of one language that differs from its counterpart in another must not appear in a
text meant for that other language: "no English sentence in a German email"."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
# Fragments shorter than this are words a language may share ("Stralsund", "E-Mail").
MIN_WORDS = 3
MIN_CHARS = 16
SPLIT = re.compile(r"%\(\w+\)[sdif]|%[sd]|\{[^{}]*\}|<[^>]+>|\n|[.!?:;„”“\"()«»]")


def _fragments(text: str) -> set[str]:
    found = set()
    for piece in SPLIT.split(text or ""):
        piece = " ".join(piece.split()).strip(" ,–-")
        if len(piece) >= MIN_CHARS and len(piece.split()) >= MIN_WORDS:
            found.add(piece)
    return found


def _parallel_texts() -> list[dict[str, str]]:
    """Every text that exists per language, as {language: text}."""
    texts: list[dict[str, str]] = []
    for po in sorted((ROOT / "translations").glob("*/LC_MESSAGES/messages.po")):
        language = po.parent.parent.name
        with po.open("rb") as f:
            for message in read_po(f, locale=language):
                if message.id and isinstance(message.id, str) and message.string:
                    texts.append({"en": message.id, language: message.string})
    yaml_files = [
        ROOT / "mail" / "defaults.yaml",
        ROOT / "documents" / "letters.yaml",
        *sorted((ROOT / "workflows" / "definitions").glob("*.yaml")),
        *sorted((ROOT / "forms" / "definitions").glob("*.yaml")),
    ]
    for path in yaml_files:
        if path.exists():
            _collect(yaml.safe_load(path.read_text(encoding="utf-8")), texts)
    return texts


LANGUAGE_KEYS = {"en", "pl", "sv", "de", "lt"}


def _collect(node, texts: list) -> None:
    """Dicts keyed by languages are parallel texts; an event's {en: {subject, body}} too."""
    if isinstance(node, dict):
        keys = set(node)
        if keys and keys <= LANGUAGE_KEYS and len(keys) > 1:
            values = node.values()
            if all(isinstance(v, str) for v in values):
                texts.append(dict(node))
                return
            if all(isinstance(v, dict) for v in values):
                for part in {k for v in values for k in v}:
                    texts.append({lang: v.get(part, "") for lang, v in node.items()})
                return
        for value in node.values():
            _collect(value, texts)
    elif isinstance(node, list):
        for value in node:
            _collect(value, texts)


@cache
def foreign_fragments(language: str) -> frozenset[str]:
    """Sentences of other languages whose counterpart in `language` is different."""
    own, foreign = set(), set()
    for text in _parallel_texts():
        # A text missing in `language` is shown in another one there: all of it is foreign.
        mine = _fragments(text.get(language, ""))
        own |= mine
        for other, value in text.items():
            if other != language:
                foreign |= _fragments(value) - mine
    return frozenset(foreign - own)


def foreign_sentences(text: str, language: str) -> list[str]:
    """The sentences of other languages found in `text`, which should be all in `language`."""
    flat = " ".join(text.split())
    return sorted(f for f in foreign_fragments(language) if f in flat)
