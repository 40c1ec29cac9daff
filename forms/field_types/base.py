"""A field type: one class that owns the whole behaviour of one kind of question: its
settings (forms/field_types/settings.py), the value it accepts and stores, how a stored
value reads on pages, in emails, documents and exports, what search finds in it, the
template macro that renders it (templates/fields/<macro>.html) and how the page script
reads its answer in the browser (`value_type`, written on the page as data-value-type).
WTForms is only the adapter: `make_field` builds its field from the class."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any, ClassVar

from flask_babel import lazy_gettext as _l

from forms import validators as v
from forms.field_types.settings import Setting, check_settings

if TYPE_CHECKING:
    from forms.spec import FieldSpec


@dataclass
class AnswerBlock:
    """One block of a displayed answer: a plain answer is one block without a title; a
    repeatable group gives one block per item ("Participant 2"), each line "Question: answer"."""

    lines: list[str]
    item: str | None = None
    parts: list[tuple[str, list[str], bool]] = dataclass_field(default_factory=list)


NOT_KEPT = object()  # a posted answer refused outright: neither stored nor kept in a draft


class TypeCheck:
    """The WTForms adapter of `FieldType.problem`: the type's own check of a typed answer."""

    def __init__(self, kind: FieldType, field: FieldSpec):
        self.kind, self.field = kind, field

    def __call__(self, form, wtforms_field):
        message = self.kind.problem(wtforms_field.data, self.field)
        if message:
            raise v.ValidationError(message)


class FieldType:
    name: ClassVar[str]
    is_input: ClassVar[bool] = True
    settings: ClassVar[tuple[Setting, ...]] = ()
    fixed_options: ClassVar[dict] = {}  # options every question of the type has
    ordered: ClassVar[tuple[tuple[str, str], ...]] = ()  # (low, high) settings
    summary: ClassVar[str] = ""  # the docs' words for what it asks
    stores: ClassVar[str] = "string"  # the docs' words for the stored value
    macro: ClassVar[str] = "input"  # templates/fields/<macro>.html renders it
    condition_target: ClassVar[bool] = False  # show_if may refer to it
    allowed_in_group: ClassVar[bool] = True
    posted: ClassVar[bool] = True  # its answer comes with the page's form data
    holds_files: ClassVar[bool] = False  # its answer refers to an uploaded file
    repeats: ClassVar[bool] = False  # its answer is a list of items (a table of its own)
    short: ClassVar[bool] = False  # its answer fits beside each item's row in an export
    required_message: ClassVar[Any] = _l("Answer this question.")
    # The most characters a typed answer of this type may have; longer ones are refused
    # before any other check and never stored.
    max_characters: ClassVar[int] = 200
    multiline: ClassVar[bool] = False  # only long text keeps line breaks

    # --- the definition ------------------------------------------------------------------

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(setting.key for setting in self.settings)

    def check(self, raw: dict, report, at=lambda key: (key,)) -> dict:
        """The question's options from its definition; `report(path, code, **params)` for
        each mistake, the path within the question (see settings.check_settings)."""
        options = check_settings(self.settings, raw, report, at) | dict(self.fixed_options)
        for low, high in self.ordered:
            if options.get(low) is not None and options.get(high) is not None:
                if options[low] > options[high]:
                    report(at(low), "setting.order", low=low, high=high)
        return options

    # --- the value -----------------------------------------------------------------------

    def characters(self, field: FieldSpec) -> int:
        return self.max_characters

    def refusal(self, data: Any, field: FieldSpec) -> str | None:
        """Why a posted answer cannot even be kept in a draft (None when it can): what no
        answer of this type may be, whatever the question says (see forms.validators.Edge)."""
        if isinstance(data, str):
            return v.text_refusal(data, self.multiline, self.characters(field))
        return None

    def checks(self, field: FieldSpec) -> list[v.Check]:
        """The checks a given answer must pass, in order (forms.validators.Check)."""
        return []

    def problem(self, data: Any, field: FieldSpec) -> str | None:
        """Why a given (non-blank) answer is not valid, in the page's language; None if it
        is. Independent of WTForms: `TypeCheck` adapts it."""
        for check in self.checks(field):
            message = check.problem(data)
            if message:
                return message
        return None

    def validators(self, field: FieldSpec) -> list:
        return [TypeCheck(self, field)]

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

    # --- the page (WTForms adapter) ------------------------------------------------------

    def make_field(self, field: FieldSpec, language: str):
        raise NotImplementedError

    def macro_for(self, field: FieldSpec) -> str:
        return self.macro

    def value_type(self, field: FieldSpec) -> str:
        """How the page script reads the answer (static/js/formdesk.js): `text` (the
        input's value), `one` (the ticked radio's value), `list` (every ticked box's
        value) or `yesno` (a ticked yes or no, as true or false)."""
        return "text"

    def anchor(self, field: FieldSpec, field_id: str) -> str:
        """The element an error summary or a "Change" link points at."""
        return field_id

    def page_answer(self, wtforms_field, field: FieldSpec, language: str) -> tuple[bool, Any]:
        """(refused outright, the answer to keep, or NOT_KEPT) from a bound field."""
        if self.refusal(wtforms_field.data, field):
            return True, NOT_KEPT
        return False, self.stored(wtforms_field.data, field, language)

    def validate_on_page(self, wtforms_field, form, field, visible, answers) -> bool:
        return wtforms_field.validate(form)

    def condition_values(self, options: dict) -> list:
        """The answers a `show_if` naming this question may expect (condition_target)."""
        return []

    def error_entries(
        self, wtforms_field, field: FieldSpec, label: str, language: str
    ) -> list[tuple]:
        """(the element to go to, the question, the message) for each error on the page,
        for the error summary: "Answer this question" three times would not say which."""
        if not wtforms_field.errors:
            return []
        return [(self.anchor(field, wtforms_field.id), label, wtforms_field.errors[0])]

    def kept(self, value: Any, field: FieldSpec, visible: set, answers: dict) -> Any:
        """The answer as submitted, once hidden questions are left out."""
        return value

    def page_form_data(self, value: Any, field: FieldSpec) -> Any:
        return self.form_data(value)

    # --- reading a stored value ----------------------------------------------------------

    def display(self, value: Any, field: FieldSpec, language: str) -> str:
        return "" if value is None else str(value)

    def answer_blocks(
        self, value: Any, field: FieldSpec, language: str, hide=lambda child: False
    ) -> list[AnswerBlock]:
        """The answer as pages, emails, documents and exports show it."""
        return [AnswerBlock(self.display(value, field, language).splitlines())]

    def search_strings(self, value: Any, field: FieldSpec) -> Iterable[str]:
        """What search finds in a stored answer: every string in it (services/search.py)."""
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            for item in value:
                yield from self.search_strings(item, field)
        elif isinstance(value, dict):
            for item in value.values():
                yield from self.search_strings(item, field)

    def spreadsheet_value(self, value: Any, field: FieldSpec, language: str) -> Any:
        """A stored answer as a spreadsheet cell (None: empty)."""
        if value is None:
            return None
        return self.display(value, field, language)

    # On a blank paper form: at least this many lines to write on, more for a long answer.
    paper_min_lines: ClassVar[int] = 1

    def paper_lines(self, field: FieldSpec, language: str) -> list[str] | None:
        """What a blank paper form prints under the question (None: lines to write on)."""
        return None

    def handwritten_characters(self, field: FieldSpec) -> int | None:
        """The longest answer, to give it writing space on paper (None: one short line)."""
        return None

    def example_post(self, field: FieldSpec) -> dict[str, str] | None:
        """A valid answer as a browser posts it, by the suffix of each input's name ("" for
        a single input, "-street" for a part): for previews and for tests that answer any
        call generically. None: the type gives no example (older types, files, groups)."""
        return None

    def from_post(self, post: dict[str, str]) -> Any:
        """What the WTForms field's data is for form data keyed as in `example_post`."""
        return post.get("")

    # --- the docs ------------------------------------------------------------------------

    def docs_row(self) -> str:
        settings = "; ".join(s.describe() for s in self.settings) or "—"
        summary = f" {self.summary}" if self.summary else ""
        return f"| `{self.name}` |{summary} | {settings} | {self.stores} |"


# Every field type by name, in the order the docs list them; filled from the one list of
# classes in forms/field_types/__init__.py.
REGISTRY: dict[str, FieldType] = {}


def settings_table() -> str:
    """The table of field types in docs/form-definitions.md, from the classes."""
    header = "| type | asks | settings | stored value |\n|---|---|---|---|"
    return "\n".join([header, *(kind.docs_row() for kind in REGISTRY.values())])
