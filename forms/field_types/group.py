"""Repeatable groups of questions ("add another participant"), and the blocks that ask
nothing (a heading, a paragraph)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import FieldList, FormField
from wtforms import Form as PlainForm
from wtforms.utils import unset_value

from forms.conditions import visible_fields
from forms.field_types.base import NOT_KEPT, AnswerBlock, FieldType
from forms.field_types.settings import Setting


class GroupItemForm(PlainForm):
    """One item of a repeatable group; no CSRF of its own (the page form carries it)."""

    specs: list = []


class BoundedFieldList(FieldList):
    """A repeatable group that never builds more than its `max` items, however many a
    request names (20 000 items once took a minute of CPU and were stored); `excess` says
    how many more there were, to refuse them with a message."""

    excess = 0

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.excess = 0
        if formdata:
            self.excess = max(
                0, len(set(self._extract_indices(self.name, formdata))) - self.max_entries
            )
        elif isinstance(data, list) and len(data) > self.max_entries:
            self.excess, data = len(data) - self.max_entries, data[: self.max_entries]
        super().process(formdata, data, extra_filters)

    def _extract_indices(self, prefix, formdata):
        """Indices written in ASCII digits only: int() of "²" or of 5 000 digits fails."""
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix + self._separator):
                index = key[offset:].split(self._field_separator, 1)[0]
                if index.isascii() and index.isdigit() and len(index) <= 6:
                    yield int(index)


def item_answers(item: PlainForm, language: str, kept_only: bool = False) -> dict[str, Any]:
    """An item's answers; `kept_only`: without those refused outright."""
    answers = {}
    for s in item.specs:
        refused, value = s.kind.page_answer(item[s.name], s, language)
        if not refused:
            answers[s.name] = value
        elif not kept_only:
            answers[s.name] = s.kind.stored(item[s.name].data, s, language)
    return answers


def item_is_blank(values: dict) -> bool:
    return all(value in (None, False, [], "") for value in values.values())


def _validate_item(item: PlainForm, values: dict, visible: set, answers: dict) -> bool:
    success = True
    shown = visible_fields(item.specs, values, visible, answers)
    for child in item.specs:
        if child.name in shown:
            success &= child.kind.validate_on_page(item[child.name], item, child, shown, values)
        else:
            item[child.name].errors = []
    return success


def visible_group_items(spec, items: list[dict], visible: set, answers: dict) -> list:
    """Group items as stored: blank items dropped, hidden sub-fields removed."""
    kept = []
    for values in items or []:
        if item_is_blank(values):
            continue
        shown = visible_fields(spec.children, values, visible, answers)
        kept.append({k: v for k, v in values.items() if k in shown and v is not None})
    return kept


class Group(FieldType):
    """Repeatable items, built like every other type: one WTForms FieldList of item forms."""

    name = "group"
    summary = "repeatable items (participants), each a few questions"
    stores = "list of objects, one per item"
    macro = "group"
    repeats = True
    settings = (
        Setting("fields", "fields", doc="inputs only, no nested group or file"),
        Setting("min", "whole", default=0),
        Setting("max", "whole", default=20, minimum=1),
        Setting("item_label", "text", on_field=True, doc="names each item (“Participant”)"),
    )
    ordered = (("min", "max"),)
    allowed_in_group = False
    required_message = _l("Add at least one item.")

    def make_field(self, field, language):
        inputs = [c for c in field.children if c.is_input]
        attributes = {c.name: c.kind.make_field(c, language) for c in inputs}
        attributes["specs"] = inputs
        item_form = type(f"{field.name}_item", (GroupItemForm,), attributes)
        return BoundedFieldList(
            FormField(item_form),
            label=field.label(language),
            min_entries=max(field.options["min"], 1),
            max_entries=field.options["max"],
        )

    def value_type(self, field):
        return "items"  # read item by item, each question by its own type

    def page_answer(self, wtforms_field, field, language):
        """A group's items keep their other answers when one is refused; a group with too
        many items is left out whole."""
        refused = bool(wtforms_field.excess) or any(
            c.kind.page_answer(entry.form[c.name], c, language)[0]
            for entry in wtforms_field
            for c in entry.form.specs
        )
        if wtforms_field.excess:
            return True, NOT_KEPT
        return refused, [
            item_answers(entry.form, language, kept_only=True) for entry in wtforms_field
        ]

    def validate_on_page(self, wtforms_field, form, field, visible, answers):
        if wtforms_field.excess:
            wtforms_field.errors = [_("You can add at most %(max)d.", max=field.options["max"])]
            return False
        success = True
        filled, blank = 0, []
        for entry in wtforms_field:
            item = entry.form
            values = item_answers(item, "")
            if item_is_blank(values):
                blank.append(item)  # an empty extra item is ignored, not an error
                continue
            filled += 1
            success &= _validate_item(item, values, visible, answers)
        minimum, maximum = field.options["min"], field.options["max"]
        missing = max(minimum, 1 if field.required else 0) - filled
        if missing > 0:
            # The empty items still needed say which of their questions want an answer
            # ("Participant 1, First name: …"), rather than the group "add at least one".
            named = [not _validate_item(item, {}, visible, answers) for item in blank[:missing]]
            if len(named) == missing and all(named):
                wtforms_field.errors = []
                return False
            for item in blank[:missing]:
                for child in item.specs:
                    item[child.name].errors = []
            wtforms_field.errors = [_("Add at least %(min)d.", min=max(minimum, 1))]
            return False
        if filled > maximum:
            wtforms_field.errors = [_("You can add at most %(max)d.", max=maximum)]
            return False
        wtforms_field.errors = []
        return success

    def error_entries(self, wtforms_field, field, label, language):
        entries = [(field.name, label, wtforms_field.errors[0])] if wtforms_field.errors else []
        title = field.text("item_label", language) or _("Item")
        for number, entry in enumerate(wtforms_field, start=1):
            for child in entry.form.specs:
                child_label = f"{title} {number}, {child.label(language)}"
                entries += child.kind.error_entries(
                    entry.form[child.name], child, child_label, language
                )
        return entries

    def kept(self, value, field, visible, answers):
        return visible_group_items(field, value, visible, answers)

    def page_form_data(self, value, field):
        return [
            {
                c.name: c.kind.page_form_data(item.get(c.name), c)
                for c in field.children
                if c.is_input
            }
            for item in value or []
        ]

    def answer_blocks(self, value, field, language, hide=lambda child: False):
        """One block per item: "Participant 2" with a line "Question: answer" for each of
        its answers (`parts` keep them apart, and whether `hide` hides one)."""
        title = field.text("item_label", language) or _("Item")
        blocks = []
        for number, item in enumerate(value if isinstance(value, list) else [], start=1):
            item = item if isinstance(item, dict) else {}
            parts = [
                (
                    child.label(language),
                    [] if hide(child) else child.display(item[child.name], language).split("\n"),
                    hide(child),
                )
                for child in field.children
                if child.is_input and item.get(child.name) is not None
            ]
            lines = [f"{label}: " + "\n".join(text) for label, text, hidden in parts if not hidden]
            blocks.append(AnswerBlock(lines, item=f"{title} {number}", parts=parts))
        return blocks

    def display(self, value, field, language):
        return ""  # shown item by item (answer_blocks)

    def search_strings(self, value, field):
        for item in value if isinstance(value, list) else []:
            for child in field.children:
                if isinstance(item, dict) and child.is_input and child.name in item:
                    yield from child.kind.search_strings(item[child.name], child)

    def spreadsheet_value(self, value, field, language):
        return len(value) if isinstance(value, list) else None  # items have their own table


class Block(FieldType):
    is_input = False
    stores = "—"

    @property
    def settings(self):
        return (
            Setting(
                "text",
                "text",
                required=True,
                missing="block.text_missing",
                missing_params=(("type", self.name),),
            ),
        )


class Heading(Block):
    name = "heading"
    macro = "heading"
    summary = "a section heading, no input"


class Paragraph(Block):
    name = "paragraph"
    macro = "paragraph"
    summary = "help text, no input"
