"""`show_if`: when a field is shown. One evaluator serves validation, storage and display;
static/js/conditions.js mirrors it in the browser."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def condition_holds(show_if: Mapping | None, answers: Mapping[str, object]) -> bool:
    if not show_if:
        return True
    for key, expected in show_if.items():
        if key == "any":
            if not any(condition_holds(alternative, answers) for alternative in expected):
                return False
        elif not _matches(answers.get(key), expected):
            return False
    return True


def _matches(answer: object, expected: list) -> bool:
    if isinstance(answer, list):
        return any(item in expected for item in answer)
    return answer is not None and answer in expected


def referenced_fields(show_if: Mapping | None) -> set[str]:
    names: set[str] = set()
    for key, value in (show_if or {}).items():
        if key == "any":
            for alternative in value:
                names |= referenced_fields(alternative)
        else:
            names.add(key)
    return names


def visible_fields(
    fields: Iterable,
    answers: Mapping[str, object],
    outer_visible: Iterable[str] = (),
    outer_answers: Mapping[str, object] | None = None,
) -> set[str]:
    """Names of the fields shown for these answers. A field is shown when its condition holds
    and every field the condition refers to is shown (a hidden field has no answer).
    For the fields inside a group item, `outer_*` are the form's own fields."""
    visible: set[str] = set(outer_visible)
    effective: dict[str, object] = {k: v for k, v in (outer_answers or {}).items() if k in visible}
    for field in fields:
        refs = referenced_fields(field.show_if)
        if refs <= visible and condition_holds(field.show_if, effective):
            visible.add(field.name)
            if field.name in answers:
                effective[field.name] = answers[field.name]
    return visible
