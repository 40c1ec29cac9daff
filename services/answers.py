"""Whole-form checks on a draft's answers: which fields are shown, which pages still need
attention, and the answers to keep when the form is submitted."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _

from forms.build import build_page_form, form_data_for
from forms.conditions import visible_fields
from forms.spec import FormSpec, PageSpec


def visible_names(spec: FormSpec, answers: dict[str, Any]) -> set[str]:
    return visible_fields(spec.all_fields, answers)


def page_problems(spec: FormSpec, page: PageSpec, answers: dict, language: str) -> dict:
    """Errors the page's stored answers would show, by field name (empty when valid)."""
    visible = visible_names(spec, answers)
    form = build_page_form(page, language, str(get_locale()))(
        formdata=None, data=form_data_for(page, answers), meta={"csrf": False}
    )
    form.validate_visible(visible, answers)
    problems = {name: errors for name, errors in form.errors.items() if errors}
    for field in page.inputs:
        if field.kind.holds_files and field.required and field.name in visible:
            if not answers.get(field.name):
                problems[field.name] = [_("Choose a file to upload.")]
    return problems


def first_page_with_problems(spec: FormSpec, answers: dict, language: str) -> int | None:
    for page in spec.pages:
        if page_problems(spec, page, answers, language):
            return page.index
    return None


def answers_to_keep(spec: FormSpec, answers: dict[str, Any]) -> dict[str, Any]:
    """Only shown, answered fields, in form order; group items without hidden sub-fields."""
    visible = visible_names(spec, answers)
    kept = {}
    for field in spec.inputs:
        if field.name not in visible or answers.get(field.name) in (None, [], ""):
            continue
        value = field.kind.kept(answers[field.name], field, visible, answers)
        if value not in (None, []):
            kept[field.name] = value
    return kept
