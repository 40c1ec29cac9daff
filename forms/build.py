"""Turn one page of a form spec into a WTForms class for one language, and read the page's
valid answers back out of a bound form."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField
from wtforms import Form as PlainForm
from wtforms.utils import unset_value
from wtforms.validators import ValidationError

from forms.conditions import visible_fields
from forms.spec import FieldSpec, PageSpec
from forms.validators import clean_formdata


class GroupItemForm(PlainForm):
    """One item of a repeatable group; no CSRF of its own (the page form carries it)."""

    specs: list[FieldSpec] = []


class PageForm(FlaskForm):
    specs: list[FieldSpec] = []
    language: str = "en"

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            """Only the posted form fields. Flask-WTF would also read request.files (a file
            sent under a text question's name became its value: a 500) and a JSON body;
            uploads are read by services/uploads.py from request.files, by field. Every
            value is cleaned at this edge (NFC, one kind of line break) before any check."""
            wrapped = super().wrap_formdata(form, formdata)
            if wrapped is not None and wrapped is not formdata:
                return clean_formdata(request.form)
            return wrapped

    def page_answers(self) -> dict[str, Any]:
        """What the person entered on this page, converted for storage: used to decide
        visibility and to keep input in the draft. Not yet validated, but an answer its
        type refuses outright (a control character, too long, too many items, a choice not
        offered) is left out: it is never stored, and the page shows why. A group's items
        keep their other answers; a group with too many items is left out whole."""
        answers = {}
        for spec in self.specs:
            if not spec.is_input or spec.type == "file":
                continue
            field = self[spec.name]
            if spec.type == "group":
                if not field.excess:
                    answers[spec.name] = [
                        _item_answers(entry.form, self.language, kept_only=True) for entry in field
                    ]
            elif not spec.kind.refusal(field.data, spec):
                answers[spec.name] = spec.kind.stored(field.data, spec, self.language)
        return answers

    def refused(self) -> set[str]:
        """The questions of this page (a group by its name) with an answer refused outright."""
        names = set()
        for spec in self.specs:
            if not spec.is_input or spec.type == "file":
                continue
            field = self[spec.name]
            if spec.type == "group":
                if field.excess:
                    names.add(spec.name)
                elif any(_refused_in_item(entry.form) for entry in field):
                    names.add(spec.name)
            elif spec.kind.refusal(field.data, spec):
                names.add(spec.name)
        return names

    def validate_visible(self, visible: set[str], answers: dict[str, Any]) -> bool:
        """Validate only what is shown: hidden fields are neither required nor stored."""
        success = self.csrf_token.validate(self) if "csrf_token" in self._fields else True
        for spec in self.specs:
            if not spec.is_input or spec.type == "file":
                continue
            field = self[spec.name]
            if spec.name not in visible:
                field.errors = []
                continue
            if spec.type == "group":
                success &= _validate_group(field, spec, visible, answers)
            else:
                success &= field.validate(self)
        return success


# Names no question may have (checked when a definition loads, forms/schema.py): the page's
# own controls, posted with the answers, and what a page form already is: WTForms makes each
# question an attribute of the form, so a question called `errors` would replace the form's.
CONTROL_NAMES = frozenset({"csrf_token", "action"})
RESERVED_NAMES = (
    CONTROL_NAMES
    | {"meta", "form_errors"}  # set on each form object, not on its class
    | {name for cls in (PageForm, GroupItemForm) for name in dir(cls) if name[0].islower()}
)


def _item_answers(item: PlainForm, language: str, kept_only: bool = False) -> dict[str, Any]:
    """An item's answers; `kept_only`: without those refused outright."""
    return {
        s.name: s.kind.stored(item[s.name].data, s, language)
        for s in item.specs
        if not (kept_only and s.kind.refusal(item[s.name].data, s))
    }


def _refused_in_item(item: PlainForm) -> bool:
    return any(s.kind.refusal(item[s.name].data, s) for s in item.specs)


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


def _item_is_blank(values: dict) -> bool:
    return all(value in (None, False, [], "") for value in values.values())


def _validate_group(field: FieldList, spec: FieldSpec, visible: set, answers: dict) -> bool:
    if field.excess:
        field.errors = [_("You can add at most %(max)d.", max=spec.options["max"])]
        return False
    success = True
    filled, blank = 0, []
    for entry in field:
        item = entry.form
        values = _item_answers(item, "")
        if _item_is_blank(values):
            blank.append(item)  # an empty extra item is ignored, not an error
            continue
        filled += 1
        success &= _validate_item(item, values, visible, answers)
    minimum, maximum = spec.options["min"], spec.options["max"]
    missing = max(minimum, 1 if spec.required else 0) - filled
    if missing > 0:
        # The empty items still needed say which of their questions want an answer
        # ("Participant 1, First name: …"), rather than the group "add at least one".
        named = [not _validate_item(item, {}, visible, answers) for item in blank[:missing]]
        if len(named) == missing and all(named):
            field.errors = []
            return False
        for item in blank[:missing]:
            for child in item.specs:
                item[child.name].errors = []
        field.errors = [_("Add at least %(min)d.", min=max(minimum, 1))]
        return False
    if filled > maximum:
        field.errors = [_("You can add at most %(max)d.", max=maximum)]
        return False
    field.errors = []
    return success


def _validate_item(item: PlainForm, values: dict, visible: set, answers: dict) -> bool:
    success = True
    shown = visible_fields(item.specs, values, visible, answers)
    for child in item.specs:
        if child.name in shown:
            success &= item[child.name].validate(item)
        else:
            item[child.name].errors = []
    return success


def visible_group_items(spec: FieldSpec, items: list[dict], visible: set, answers: dict) -> list:
    """Group items as stored: blank items dropped, hidden sub-fields removed."""
    kept = []
    for values in items or []:
        if _item_is_blank(values):
            continue
        shown = visible_fields(spec.children, values, visible, answers)
        kept.append({k: v for k, v in values.items() if k in shown and v is not None})
    return kept


def _make_item_form(spec: FieldSpec, language: str) -> type[GroupItemForm]:
    attributes = {c.name: c.kind.make_field(c, language) for c in spec.children if c.is_input}
    attributes["specs"] = [c for c in spec.children if c.is_input]
    return type(f"{spec.name}_item", (GroupItemForm,), attributes)


def build_page_form(page: PageSpec, language: str) -> type[PageForm]:
    """The page's form class, made once per language of the questions and of the page
    around them (choices such as "Choose…" are translated when the class is made). Specs
    are cached and never change, so their classes can be too: a new class on every request
    cost WTForms a scan of its attributes each time."""
    classes = page.__dict__.setdefault("_form_classes", {})
    key = (language, str(get_locale()))
    if key not in classes:
        classes[key] = _make_page_form(page, language)
    return classes[key]


def _make_page_form(page: PageSpec, language: str) -> type[PageForm]:
    attributes: dict[str, Any] = {"specs": page.fields, "language": language}
    for spec in page.fields:
        if not spec.is_input:
            continue
        if spec.type == "group":
            attributes[spec.name] = BoundedFieldList(
                FormField(_make_item_form(spec, language)),
                label=spec.label(language),
                min_entries=max(spec.options["min"], 1),
                max_entries=spec.options["max"],
            )
        else:
            attributes[spec.name] = spec.kind.make_field(spec, language)
    return type(f"Page{page.index}", (PageForm,), attributes)


def form_data_for(page: PageSpec, answers: dict[str, Any]) -> dict[str, Any]:
    """Stored answers as WTForms `data=` to fill a page in again."""
    data = {}
    for spec in page.fields:
        if not spec.is_input or spec.type == "file" or spec.name not in answers:
            continue
        value = answers[spec.name]
        if spec.type == "group":
            data[spec.name] = [
                {c.name: c.kind.form_data(item.get(c.name)) for c in spec.children if c.is_input}
                for item in value or []
            ]
        else:
            data[spec.name] = spec.kind.form_data(value)
    return data


def raise_error(field, message: str) -> None:
    field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]


__all__ = ["ValidationError", "build_page_form", "form_data_for", "visible_group_items"]
