"""The page-by-page flow on its own (services/page_flow.py), as both the first application
and the applicant's edit use it: pages whose every field is hidden are skipped both ways,
and each button leads where the pages send the person. Over HTTP: test_public_page.py,
test_conditions.py and test_applicant.py."""

from __future__ import annotations

import pytest

from forms.schema import validate
from forms.spec import FormSpec
from services.page_flow import Go, Next, SavedPage, neighbour, next_after, shown_pages
from tests.definitions import base

ROUTE_A = {"route": "a"}
ROUTE_B = {"route": "b"}  # page 2 is all hidden


@pytest.fixture(scope="module")
def spec() -> FormSpec:
    choice = {
        "name": "route",
        "type": "choice",
        "label": "Route",
        "required": True,
        "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
    }
    only_a = {"name": "detail", "type": "text", "label": "Detail", "show_if": {"route": ["a"]}}
    pages = [
        {"title": "One", "fields": [choice]},
        {"title": "Two", "fields": [only_a]},
        {"title": "Three", "fields": [{"name": "notes", "type": "text", "label": "Notes"}]},
    ]
    return FormSpec(validate(base("flow", pages), "test"))


def test_a_page_whose_every_field_is_hidden_is_skipped_both_ways(spec):
    assert shown_pages(spec, ROUTE_A) == [0, 1, 2]
    assert shown_pages(spec, ROUTE_B) == [0, 2]
    assert neighbour(spec, ROUTE_B, 0, +1) == 2
    assert neighbour(spec, ROUTE_B, 2, -1) == 0
    assert neighbour(spec, ROUTE_A, 2, -1) == 1
    assert neighbour(spec, ROUTE_A, 0, -1) is None
    assert neighbour(spec, ROUTE_A, 2, +1) is None


@pytest.mark.parametrize(
    ("page", "saved", "to_check", "expected"),
    [
        (0, SavedPage("continue", ROUTE_B, True), False, Next(Go.PAGE, 2)),
        (0, SavedPage("continue", ROUTE_A, True), False, Next(Go.PAGE, 1)),
        (0, SavedPage("continue", ROUTE_A, True), True, Next(Go.CHECK)),
        (2, SavedPage("continue", ROUTE_A, True), False, Next(Go.CHECK)),
        (0, SavedPage("continue", ROUTE_A, False), False, Next(Go.SHOW_ERRORS, 0)),
        (2, SavedPage("back", ROUTE_B, False), False, Next(Go.PAGE, 0)),
        (0, SavedPage("back", ROUTE_A, True), False, Next(Go.START)),
        (1, SavedPage("save", ROUTE_A, False), False, Next(Go.SAVED)),
        (1, SavedPage("remove-file-cv", ROUTE_A, False), True, Next(Go.SAME_PAGE, 1)),
        (
            2,
            SavedPage("add-people", ROUTE_A, False, "#people-1"),
            True,
            Next(Go.SAME_PAGE, 2, "#people-1"),
        ),
    ],
)
def test_each_button_of_the_first_application_leads_on(spec, page, saved, to_check, expected):
    assert next_after(spec, page, saved, to_check=to_check, save_and_back=True) == expected


@pytest.mark.parametrize("action", ["save", "back"])
def test_an_edit_has_no_save_for_later_or_back_and_returns_to_the_summary(spec, action):
    valid = SavedPage(action, ROUTE_A, True)
    assert next_after(spec, 1, valid, to_check=True, save_and_back=False) == Next(Go.CHECK)
    invalid = SavedPage(action, ROUTE_A, False)
    assert next_after(spec, 1, invalid, to_check=True, save_and_back=False) == Next(
        Go.SHOW_ERRORS, 1
    )
