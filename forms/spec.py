"""The runtime view of a published definition: pages and fields with texts per language.
Built from the normalised JSON that `forms.schema` produced and `FormVersion` stores."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from forms.field_types import REGISTRY, FieldType, character_count
from forms.texts import localise


@dataclass
class FieldSpec:
    raw: dict
    default_language: str
    children: list[FieldSpec] = field(default_factory=list)
    zone: ZoneInfo = ZoneInfo("UTC")  # the call's time zone: answers with a time are read in it

    @property
    def name(self) -> str:
        return self.raw["name"]

    @property
    def type(self) -> str:
        return self.raw["type"]

    @property
    def kind(self) -> FieldType:
        return REGISTRY[self.type]

    @property
    def is_input(self) -> bool:
        return self.kind.is_input

    @property
    def required(self) -> bool:
        return bool(self.raw.get("required"))

    @property
    def show_if(self) -> dict | None:
        return self.raw.get("show_if")

    @property
    def identifying(self) -> bool:
        return bool(self.raw.get("identifying"))

    @property
    def options(self) -> dict:
        return self.raw.get("options", {})

    def localise(self, text: dict | None, language: str) -> str:
        return localise(text, language, self.default_language)

    def text(self, key: str, language: str | None = None) -> str:
        return self.localise(self.raw.get(key), language or self.default_language)

    def label(self, language: str) -> str:
        return self.text("label", language)

    def display(self, value, language: str) -> str:
        return self.kind.display(value, self, language)

    def answer_blocks(self, value, language: str, hide=lambda child: False) -> list:
        return self.kind.answer_blocks(value, self, language, hide)

    @property
    def macro(self) -> str:
        return self.kind.macro_for(self)

    @property
    def value_type(self) -> str:
        return self.kind.value_type(self)

    def anchor(self, field_id: str | None = None) -> str:
        return self.kind.anchor(self, field_id or self.name)

    def character_count(self, value: str | None) -> dict:
        return character_count(value, self.options["max_length"])


@dataclass
class PageSpec:
    index: int
    raw: dict
    fields: list[FieldSpec]

    @property
    def inputs(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.is_input]


class FormSpec:
    def __init__(self, definition: dict):
        self.raw = definition
        self.default_language: str = definition["default_language"]
        self.pages = [
            PageSpec(index, page, [self._field(f) for f in page["fields"]])
            for index, page in enumerate(definition["pages"])
        ]

    def _field(self, raw: dict) -> FieldSpec:
        children = [self._field(child) for child in raw.get("fields", [])]
        return FieldSpec(raw, self.default_language, children, ZoneInfo(self.raw["timezone"]))

    @property
    def slug(self) -> str:
        return self.raw["slug"]

    @property
    def languages(self) -> list[str]:
        return self.raw["languages"]

    @property
    def workflow(self) -> str:
        return self.raw["workflow"]

    @property
    def capacity(self) -> int | None:
        return self.raw.get("capacity")

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.raw["timezone"])

    @property
    def opens_at(self) -> datetime:
        return datetime.fromisoformat(self.raw["opens_at"])

    @property
    def closes_at(self) -> datetime:
        return datetime.fromisoformat(self.raw["closes_at"])

    def text(self, key: str, language: str) -> str:
        return localise(self.raw.get(key), language, self.default_language)

    def localise(self, text: dict | None, language: str) -> str:
        return localise(text, language, self.default_language)

    def organisation_name(self, language: str) -> str:
        return localise(self.raw["organisation"]["name"], language, self.default_language)

    def organisation_text(self, key: str, language: str) -> str:
        """The organisation's `place` or postal `address` in a language ("" when not given)."""
        return localise(self.raw["organisation"].get(key), language, self.default_language) or ""

    @property
    def contact(self) -> dict:
        return self.raw["contact"]

    def language_for(self, wanted: str | None) -> str:
        return wanted if wanted in self.languages else self.default_language

    @cached_property
    def all_fields(self) -> list[FieldSpec]:
        """Every top-level field and block in form order, across pages."""
        return [f for page in self.pages for f in page.fields]

    @cached_property
    def inputs(self) -> list[FieldSpec]:
        return [f for f in self.all_fields if f.is_input]

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.all_fields if f.name == name)

    @cached_property
    def takes_files(self) -> bool:
        """Some question, inside a repeatable group too, asks for a file."""
        fields = list(self.inputs)
        while fields:
            field = fields.pop()
            if field.kind.holds_files:
                return True
            fields.extend(field.children)
        return False

    def file_answers(self, answers: Mapping) -> Iterator[tuple[str, dict]]:
        """(place, value) of every file answer in `answers`: `cv`, or `team.0.cv` inside a
        group item. Found by the question's type, so any name (even `attachment`) is safe."""
        for question in self.inputs:
            value = answers.get(question.name)
            if question.kind.holds_files and isinstance(value, dict):
                yield question.name, value
            elif question.children and isinstance(value, list):
                files = [child for child in question.children if child.kind.holds_files]
                for index, item in enumerate(value):
                    for child in files:
                        if isinstance(item, dict) and isinstance(item.get(child.name), dict):
                            yield f"{question.name}.{index}.{child.name}", item[child.name]

    @cached_property
    def applicant_email_field(self) -> str | None:
        if self.raw.get("applicant_email_field"):
            return self.raw["applicant_email_field"]
        return next((f.name for f in self.inputs if f.type == "email"), None)
