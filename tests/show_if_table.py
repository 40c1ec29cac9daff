"""The show_if table (tests/show_if_cases.json): one set of cases that the server's evaluator
(forms/conditions.py, tests/test_conditions.py) and the page script in chromium
(static/js/formdesk.js, tests/test_browser_conditions.py) must both answer the same way."""

from __future__ import annotations

import json
from pathlib import Path

from forms.conditions import visible_fields
from forms.spec import FormSpec
from tests.definitions import base

TABLE = json.loads((Path(__file__).parent / "show_if_cases.json").read_text(encoding="utf-8"))
CASES = TABLE["cases"]
SLUG = "show-if-table"


def definition() -> dict:
    return base(SLUG, [{"title": "Conditions", "fields": TABLE["fields"]}])


def case_id(case: dict) -> str:
    return json.dumps(case["enter"], sort_keys=True) or "nothing"


def stored_answers(spec: FormSpec, enter: dict) -> dict:
    """What the server keeps for these inputs, converted by each question's own type."""
    answers: dict = {}
    for posted, raw in enter.items():
        group, _, rest = posted.partition("-")
        if rest:  # people-0-diet: a question inside a group item
            index, child_name = rest.split("-", 1)
            items = answers.setdefault(group, [])
            while len(items) <= int(index):
                items.append({})
            child = next(c for c in spec.field(group).children if c.name == child_name)
            items[int(index)][child_name] = child.kind.stored(raw, child, "en")
        else:
            question = spec.field(posted)
            answers[posted] = question.kind.stored(raw, question, "en")
    return answers


def shown_on_server(spec: FormSpec, enter: dict) -> set[str]:
    """The table's `if_` questions forms/conditions.py shows, by posted name."""
    answers = stored_answers(spec, enter)
    visible = visible_fields(spec.all_fields, answers)
    shown = {name for name in visible if name.startswith("if_")}
    for group in (f for f in spec.inputs if f.type == "group" and f.name in visible):
        items = answers.get(group.name) or [{}]  # the page always shows a first item
        for index, item in enumerate(items):
            inside = visible_fields(group.children, item, visible, answers)
            children = {c.name for c in group.children if c.name.startswith("if_")}
            shown |= {f"{group.name}-{index}-{n}" for n in inside & children}
    return shown
