"""Turn one page of a form spec into a WTForms class for one language, and read the page's
valid answers back out of a bound form."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from forms.field_types import NOT_KEPT
from forms.field_types.group import GroupItemForm, visible_group_items
from forms.spec import PageSpec


class PageForm(FlaskForm):
    """One page's questions. Bound to the form data the web layer passes (`formdata=`,
    cleaned by forms.validators.clean_formdata): the engine never reads the request."""

    specs: list = []
    language: str = "en"

    def page_answers(self) -> dict[str, Any]:
        """What the person entered on this page, converted for storage: used to decide
        visibility and to keep input in the draft. Not yet validated, but an answer its
        type refuses outright (a control character, too long, too many items, a choice not
        offered) is left out: it is never stored, and the page shows why. A group's items
        keep their other answers; a group with too many items is left out whole."""
        answers = {}
        for spec in self._posted():
            _refused, value = spec.kind.page_answer(self[spec.name], spec, self.language)
            if value is not NOT_KEPT:
                answers[spec.name] = value
        return answers

    def refused(self) -> set[str]:
        """The questions of this page (a group by its name) with an answer refused outright."""
        return {
            spec.name
            for spec in self._posted()
            if spec.kind.page_answer(self[spec.name], spec, self.language)[0]
        }

    def validate_visible(self, visible: set[str], answers: dict[str, Any]) -> bool:
        """Validate only what is shown: hidden fields are neither required nor stored."""
        success = self.csrf_token.validate(self) if "csrf_token" in self._fields else True
        for spec in self._posted():
            field = self[spec.name]
            if spec.name not in visible:
                field.errors = []
                continue
            success &= spec.kind.validate_on_page(field, self, spec, visible, answers)
        return success

    def _posted(self):
        """The questions answered by the page's form data (a file comes as an upload)."""
        return [spec for spec in self.specs if spec.is_input and spec.kind.posted]


# Names no question may have (checked when a definition loads, forms/schema.py): the page's
# own controls, posted with the answers, and what a page form already is: WTForms makes each
# question an attribute of the form, so a question called `errors` would replace the form's.
CONTROL_NAMES = frozenset({"csrf_token", "action"})
RESERVED_NAMES = (
    CONTROL_NAMES
    | {"meta", "form_errors"}  # set on each form object, not on its class
    | {name for cls in (PageForm, GroupItemForm) for name in dir(cls) if name[0].islower()}
)


def build_page_form(page: PageSpec, language: str, page_language: str) -> type[PageForm]:
    """The page's form class for questions in `language` on a page in `page_language`
    (choices such as "Choose…" are translated when the class is made). Specs are cached
    and never change, so their classes can be too: a new class on every request cost
    WTForms a scan of its attributes each time."""
    classes = page.__dict__.setdefault("_form_classes", {})
    key = (language, page_language)
    if key not in classes:
        attributes: dict[str, Any] = {"specs": page.fields, "language": language}
        for spec in page.inputs:
            attributes[spec.name] = spec.kind.make_field(spec, language)
        classes[key] = type(f"Page{page.index}", (PageForm,), attributes)
    return classes[key]


def form_data_for(page: PageSpec, answers: dict[str, Any]) -> dict[str, Any]:
    """Stored answers as WTForms `data=` to fill a page in again."""
    return {
        spec.name: spec.kind.page_form_data(answers[spec.name], spec)
        for spec in page.inputs
        if spec.kind.posted and spec.name in answers
    }


def raise_error(field, message: str) -> None:
    field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]


__all__ = [
    "GroupItemForm",
    "ValidationError",
    "build_page_form",
    "form_data_for",
    "visible_group_items",
]
