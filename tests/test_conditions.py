"""Conditional display (`show_if`): the evaluator on its own, then over HTTP with the
three-page form — a shown field is required, a hidden one is neither required nor stored,
conditions nest, and group items have conditions and add/remove buttons of their own."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from forms.conditions import condition_holds, referenced_fields, visible_fields
from forms.schema import DefinitionError, validate
from forms.spec import FormSpec
from tests import show_if_table
from tests.conftest import errors_in
from tests.definitions import base, multi_page

# --- condition_holds -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("show_if", "answers", "holds"),
    [
        (None, {}, True),
        ({}, {"a": "x"}, True),
        ({"service": ["trip"]}, {"service": "trip"}, True),
        ({"service": ["trip"]}, {"service": "visit"}, False),
        ({"service": ["trip"]}, {}, False),
        ({"service": ["trip"]}, {"service": None}, False),
        ({"service": ["visit", "meeting"]}, {"service": "meeting"}, True),
        # every key must hold
        ({"service": ["trip"], "known": [True]}, {"service": "trip", "known": True}, True),
        ({"service": ["trip"], "known": [True]}, {"service": "trip", "known": False}, False),
        ({"service": ["trip"], "known": [True]}, {"known": True}, False),
        # yes/no answers are booleans; "no" is an answer, not a missing one
        ({"member": [False]}, {"member": False}, True),
        ({"member": [False]}, {"member": True}, False),
        ({"member": [False]}, {}, False),
        ({"member": [True, False]}, {"member": False}, True),
        # a multichoice matches when any selected value is listed
        ({"topics": ["b"]}, {"topics": ["a", "b"]}, True),
        ({"topics": ["b", "c"]}, {"topics": ["c"]}, True),
        ({"topics": ["b"]}, {"topics": ["a", "c"]}, False),
        ({"topics": ["b"]}, {"topics": []}, False),
        # any: at least one alternative
        ({"any": [{"a": ["x"]}, {"b": ["y", "z"]}]}, {"b": "z"}, True),
        ({"any": [{"a": ["x"]}, {"b": ["y", "z"]}]}, {"a": "x", "b": "q"}, True),
        ({"any": [{"a": ["x"]}, {"b": ["y", "z"]}]}, {"a": "w", "b": "q"}, False),
        ({"any": [{"a": ["x"]}, {"b": ["y"]}]}, {}, False),
        # any together with a plain key: both must hold
        ({"any": [{"a": ["x"]}, {"b": ["y"]}], "c": ["on"]}, {"a": "x", "c": "on"}, True),
        ({"any": [{"a": ["x"]}, {"b": ["y"]}], "c": ["on"]}, {"a": "x", "c": "off"}, False),
        # an alternative may itself need several keys, or hold an `any`
        ({"any": [{"a": ["x"], "b": ["y"]}]}, {"a": "x"}, False),
        ({"any": [{"any": [{"a": ["x"]}]}, {"b": ["y"]}]}, {"a": "x"}, True),
    ],
)
def test_condition_holds(show_if, answers, holds):
    assert condition_holds(show_if, answers) is holds


def test_referenced_fields_include_those_inside_any():
    show_if = {"service": ["trip"], "any": [{"a": ["x"]}, {"any": [{"b": ["y"]}]}]}
    assert referenced_fields(show_if) == {"service", "a", "b"}
    assert referenced_fields(None) == set()


# --- visible_fields on the real spec ---------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> FormSpec:
    return FormSpec(validate(multi_page(), "test"))


ALWAYS = {"service", "contact_email", "notes", "participants"}


@pytest.mark.parametrize(
    ("answers", "shown"),
    [
        ({}, ALWAYS),
        ({"service": "visit"}, ALWAYS | {"visit_focus"}),
        ({"service": "meeting"}, ALWAYS | {"visit_focus"}),
        ({"service": "trip"}, ALWAYS | {"trip_stage"}),
        ({"service": "trip", "trip_stage": "idea"}, ALWAYS | {"trip_stage"}),
        ({"service": "trip", "trip_stage": "booked"}, ALWAYS | {"trip_stage", "departure"}),
        # nesting: trip_stage is hidden, so its stale answer shows nothing
        ({"service": "visit", "trip_stage": "booked"}, ALWAYS | {"visit_focus"}),
        ({"trip_stage": "booked"}, ALWAYS),
    ],
)
def test_visible_fields_follow_nested_conditions(spec, answers, shown):
    visible = visible_fields(spec.all_fields, answers)
    inputs = {f.name for f in spec.inputs}
    assert visible & inputs == shown


def test_a_group_items_conditions_use_the_items_own_answers(spec):
    group = spec.field("participants")
    outer = visible_fields(spec.all_fields, {"service": "visit"})
    assert "diet_details" in visible_fields(group.children, {"diet": "other"}, outer, {})
    assert "diet_details" not in visible_fields(group.children, {"diet": "none"}, outer, {})
    assert "diet_details" not in visible_fields(group.children, {}, outer, {})


def test_a_group_item_condition_may_refer_to_a_shown_outer_field():
    definition = validate(
        base(
            "outer",
            [
                {
                    "title": "One",
                    "fields": [
                        {"name": "travel", "type": "yesno", "label": "Travelling?"},
                        {
                            "name": "people",
                            "type": "group",
                            "label": "People",
                            "fields": [
                                {"name": "who", "type": "text", "label": "Name"},
                                {
                                    "name": "passport",
                                    "type": "text",
                                    "label": "Passport",
                                    "show_if": {"travel": True},
                                },
                            ],
                        },
                    ],
                }
            ],
        ),
        "test",
    )
    spec = FormSpec(definition)
    children = spec.field("people").children
    for answers, shown in [({"travel": True}, True), ({"travel": False}, False), ({}, False)]:
        outer = visible_fields(spec.all_fields, answers)
        assert ("passport" in visible_fields(children, {"who": "Ada"}, outer, answers)) is shown


# --- over HTTP: helpers ----------------------------------------------------------------

SLUG = "multi"


def page_url(number: int, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/calls/{SLUG}/page/{number}" + (f"?{query}" if query else "")


def fill(client, number: int, data: dict, action: str = "continue", **args):
    url = page_url(number, **args)
    client.get(url)
    return client.post(url, {**data, "action": action})


def goes_to(response, path: str) -> bool:
    return response.status_code == 302 and response.headers["Location"].split("#")[0].endswith(path)


def error_beside(html: str, field_id: str) -> str | None:
    match = re.search(
        rf'id="{re.escape(field_id)}-error">\s*<span class="visually-hidden">[^<]*</span>'
        r"\s*([^<]*?)\s*</p>",
        html,
    )
    return unescape(match.group(1)) if match else None


def participant(index: int, first_name: str, diet: str, details: str = "") -> dict:
    data = {f"participants-{index}-first_name": first_name, f"participants-{index}-diet": diet}
    if details:
        data[f"participants-{index}-diet_details"] = details
    return data


def send(client):
    assert client.get(f"/calls/{SLUG}/check").status_code == 200
    response = client.post(f"/calls/{SLUG}/check", {})
    assert goes_to(response, f"/calls/{SLUG}/confirmation"), response.headers.get("Location")


def stored_answers(app) -> dict:
    from extensions import db
    from models import Submission

    with app.app_context():
        return db.session.scalars(select(Submission)).one().answers_by_field()


def submission_count(app) -> int:
    from extensions import db
    from models import Submission

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Submission))


@pytest.fixture
def multi(create_form):
    create_form(multi_page())


PAGE_1_VISIT = {"service": "visit", "contact_email": "ada@example.org"}
PAGE_1_TRIP = {"service": "trip", "contact_email": "ada@example.org"}
PAGE_1_MEETING = {"service": "meeting", "contact_email": "ada@example.org"}


# --- over HTTP: shown fields are required, hidden ones are not -------------------------


def test_a_field_shown_by_a_condition_is_required(app, client, multi):
    assert goes_to(fill(client, 1, PAGE_1_VISIT), page_url(2))
    response = fill(client, 2, {"notes": "hello"})
    assert response.status_code == 200
    html = client.last_html
    assert errors_in(html) == ["Answer this question."]
    assert error_beside(html, "visit_focus") == "Answer this question."
    assert error_beside(html, "trip_stage") is None  # hidden: not required
    assert 'value="hello"' in html


def test_a_hidden_required_field_is_not_required_through_to_the_submission(app, client, multi):
    assert goes_to(fill(client, 1, PAGE_1_MEETING), page_url(2))
    # trip_stage and departure are required but hidden for a meeting.
    assert goes_to(fill(client, 2, {"visit_focus": "Networks"}), page_url(3))
    assert goes_to(fill(client, 3, participant(0, "Ada", "none")), f"/calls/{SLUG}/check")
    send(client)
    answers = stored_answers(app)
    assert answers == {
        "service": "meeting",
        "contact_email": "ada@example.org",
        "visit_focus": "Networks",
        "participants": [{"first_name": "Ada", "diet": "none"}],
    }


def test_nested_conditions_over_http(app, client, multi):
    assert goes_to(fill(client, 1, PAGE_1_TRIP), page_url(2))

    # Only trip_stage is asked; departure waits for "booked".
    response = fill(client, 2, {})
    assert response.status_code == 200
    assert errors_in(client.last_html) == ["Select an option."]
    assert error_beside(client.last_html, "trip_stage") == "Select an option."
    assert error_beside(client.last_html, "visit_focus") is None

    # "booked" shows departure, which is then required.
    response = fill(client, 2, {"trip_stage": "booked"})
    assert response.status_code == 200
    assert errors_in(client.last_html) == ["Enter a date."]
    assert error_beside(client.last_html, "departure") == "Enter a date."

    # "idea" hides departure again: not required.
    assert goes_to(fill(client, 2, {"trip_stage": "idea"}), page_url(3))

    assert goes_to(
        fill(client, 2, {"trip_stage": "booked", "departure": "2027-05-01"}), page_url(3)
    )
    assert goes_to(fill(client, 3, participant(0, "Ada", "none")), f"/calls/{SLUG}/check")
    send(client)
    answers = stored_answers(app)
    assert answers["trip_stage"] == "booked"
    assert answers["departure"] == "2027-05-01"
    assert "visit_focus" not in answers


def test_an_answer_sent_for_a_hidden_field_is_not_stored(app, client, multi):
    # A stale or tampered page sends values for fields that are hidden for this service.
    assert goes_to(fill(client, 1, PAGE_1_VISIT), page_url(2))
    response = fill(
        client,
        2,
        {"visit_focus": "Libraries", "trip_stage": "booked", "departure": "not a date"},
    )
    assert goes_to(response, page_url(3)), errors_in(client.last_html)
    assert goes_to(fill(client, 3, participant(0, "Ada", "none")), f"/calls/{SLUG}/check")
    send(client)
    answers = stored_answers(app)
    assert answers["visit_focus"] == "Libraries"
    assert "trip_stage" not in answers and "departure" not in answers


def test_an_answer_to_a_field_hidden_by_a_later_change_is_not_stored(app, client, multi):
    assert goes_to(fill(client, 1, PAGE_1_TRIP), page_url(2))
    assert goes_to(
        fill(
            client,
            2,
            {"trip_stage": "booked", "departure": "2027-05-01", "notes": "window seat"},
        ),
        page_url(3),
    )
    assert goes_to(fill(client, 3, participant(0, "Ada", "none")), f"/calls/{SLUG}/check")
    check = client.get(f"/calls/{SLUG}/check").get_data(as_text=True)
    assert "1 May 2027" in check

    # The person goes back and changes the service: the trip questions no longer apply.
    response = fill(client, 1, PAGE_1_VISIT, **{"return": "check"})
    assert goes_to(response, f"/calls/{SLUG}/check")
    # The check page sends them to the question the new service asks.
    response = client.get(f"/calls/{SLUG}/check")
    assert response.status_code == 302 and page_url(2) in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert error_beside(page, "visit_focus") == "Answer this question."

    assert goes_to(
        fill(client, 2, {"visit_focus": "Reading clubs", "notes": "window seat"}), page_url(3)
    )
    check = client.get(f"/calls/{SLUG}/check").get_data(as_text=True)
    assert "1 May 2027" not in check and "Departure" not in check
    send(client)

    answers = stored_answers(app)
    assert answers == {
        "service": "visit",
        "contact_email": "ada@example.org",
        "visit_focus": "Reading clubs",
        "notes": "window seat",
        "participants": [{"first_name": "Ada", "diet": "none"}],
    }


# --- over HTTP: group items ------------------------------------------------------------


def to_page_3(client):
    assert goes_to(fill(client, 1, PAGE_1_MEETING), page_url(2))
    assert goes_to(fill(client, 2, {"visit_focus": "Networks"}), page_url(3))


def test_a_group_sub_field_is_required_only_when_its_condition_holds(app, client, multi):
    to_page_3(client)
    response = fill(client, 3, {**participant(0, "Ada", "none"), **participant(1, "Bo", "other")})
    assert response.status_code == 200
    html = client.last_html
    assert errors_in(html) == ["Answer this question."]
    assert error_beside(html, "participants-1-diet_details") == "Answer this question."
    assert error_beside(html, "participants-0-diet_details") is None
    # both items are still there
    assert 'value="Ada"' in html and 'value="Bo"' in html

    response = fill(
        client,
        3,
        {
            # Ada typed details, then chose "none": the details are not stored.
            **participant(0, "Ada", "none", details="vegan"),
            **participant(1, "Bo", "other", details="no nuts"),
        },
    )
    assert goes_to(response, f"/calls/{SLUG}/check"), errors_in(client.last_html)
    send(client)
    assert stored_answers(app)["participants"] == [
        {"first_name": "Ada", "diet": "none"},
        {"first_name": "Bo", "diet": "other", "diet_details": "no nuts"},
    ]


def test_a_group_items_own_fields_are_validated(app, client, multi):
    to_page_3(client)
    response = fill(client, 3, {"participants-0-diet": "fish"})
    assert response.status_code == 200
    html = client.last_html
    assert error_beside(html, "participants-0-first_name") == "Answer this question."
    assert error_beside(html, "participants-0-diet") == "Select one of the options offered."
    assert submission_count(app) == 0


def test_a_group_needs_its_minimum_and_blank_extra_items_are_ignored(app, client, multi):
    to_page_3(client)
    response = fill(client, 3, {"participants-0-first_name": "", "participants-1-first_name": ""})
    assert response.status_code == 200
    # The empty first item names what it needs; the empty extra one says nothing.
    html = client.last_html
    assert error_beside(html, "participants") is None
    assert error_beside(html, "participants-0-first_name") == "Answer this question."
    assert error_beside(html, "participants-0-diet") == "Select an option."
    assert error_beside(html, "participants-1-first_name") is None
    assert "Participant 1, First name: Answer this question." in html

    response = fill(client, 3, {**participant(0, "Ada", "none"), "participants-1-first_name": "  "})
    assert goes_to(response, f"/calls/{SLUG}/check"), errors_in(client.last_html)
    send(client)
    assert stored_answers(app)["participants"] == [{"first_name": "Ada", "diet": "none"}]


def item_names(html: str) -> list[str]:
    """First names in the group's items, in order, as shown on the page."""
    values = {}
    for match in re.finditer(r"<input[^>]*>", html):
        tag = match.group(0)
        name = re.search(r'name="participants-(\d+)-first_name"', tag)
        if name:
            value = re.search(r'value="([^"]*)"', tag)
            values[int(name.group(1))] = unescape(value.group(1)) if value else ""
    assert sorted(values) == list(range(len(values))), values
    return [values[i] for i in range(len(values))]


def test_add_another_adds_an_item_and_keeps_what_was_typed(app, client, multi):
    to_page_3(client)
    page = client.get(page_url(3)).get_data(as_text=True)
    assert item_names(page) == [""]
    assert 'value="add-participants"' in page
    assert 'value="remove-participants-0"' not in page  # at the minimum: nothing to remove

    response = fill(client, 3, participant(0, "Ada", "none"), action="add-participants")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(page_url(3) + "#participants-1")
    page = client.get(page_url(3)).get_data(as_text=True)
    assert item_names(page) == ["Ada", ""]
    assert errors_in(page) == []  # adding is not a check of the page
    assert 'value="remove-participants-1"' in page

    response = fill(
        client,
        3,
        {**participant(0, "Ada", "none"), **participant(1, "Bo", "none")},
        action="add-participants",
    )
    assert response.headers["Location"].endswith("#participants-2")
    page = client.get(page_url(3)).get_data(as_text=True)
    assert item_names(page) == ["Ada", "Bo", ""]
    assert 'value="add-participants"' not in page  # at the maximum of 3


def test_add_another_at_the_maximum_adds_nothing(app, client, multi):
    to_page_3(client)
    three = {
        **participant(0, "A", "none"),
        **participant(1, "B", "none"),
        **participant(2, "C", "none"),
    }
    response = fill(client, 3, three, action="add-participants")
    assert response.status_code == 302
    page = client.get(page_url(3)).get_data(as_text=True)
    assert item_names(page) == ["A", "B", "C"]


def test_remove_takes_out_that_item_only(app, client, multi):
    to_page_3(client)
    two = {**participant(0, "Ada", "none"), **participant(1, "Bo", "other", details="no nuts")}
    assert fill(client, 3, two, action="add-participants").status_code == 302
    page = client.get(page_url(3)).get_data(as_text=True)
    assert item_names(page) == ["Ada", "Bo", ""]

    response = fill(
        client, 3, {**two, "participants-2-first_name": ""}, action="remove-participants-0"
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(page_url(3) + "#participants")
    page = client.get(page_url(3)).get_data(as_text=True)
    assert item_names(page) == ["Bo", ""]
    assert 'value="no nuts"' in page

    response = fill(client, 3, participant(0, "Bo", "other", details="no nuts"), action="continue")
    assert goes_to(response, f"/calls/{SLUG}/check"), errors_in(client.last_html)
    send(client)
    assert stored_answers(app)["participants"] == [
        {"first_name": "Bo", "diet": "other", "diet_details": "no nuts"}
    ]


@pytest.mark.parametrize(
    "action", ["remove-participants-7", "remove-participants-x", "add-nothing"]
)
def test_a_tampered_group_action_changes_nothing_and_fails_nothing(app, client, multi, action):
    to_page_3(client)
    response = fill(client, 3, participant(0, "Ada", "none"), action=action)
    assert response.status_code == 302
    page = client.get(page_url(3)).get_data(as_text=True)
    assert item_names(page) == ["Ada"]


def test_more_items_than_the_maximum_are_refused_with_a_message(app, client, multi):
    to_page_3(client)
    four = {}
    for index, name in enumerate(["A", "B", "C", "D"]):
        four |= participant(index, name, "none")
    response = fill(client, 3, four)
    assert response.status_code == 200
    assert errors_in(client.last_html) == ["You can add at most 3."]
    assert error_beside(client.last_html, "participants") == "You can add at most 3."
    # Refused, so not kept (issue 14): the draft holds none of the four.
    from extensions import db
    from models import Draft

    with app.app_context():
        [draft] = db.session.scalars(select(Draft)).all()
        assert "participants" not in draft.answers
    assert submission_count(app) == 0


# --- the table shared with the browser (tests/show_if_cases.json) ---------------------------


@pytest.mark.parametrize("case", show_if_table.CASES, ids=show_if_table.case_id)
def test_the_shared_show_if_table_on_the_server(case):
    spec = FormSpec(validate(show_if_table.definition(), "show_if_cases.json"))
    assert show_if_table.shown_on_server(spec, case["enter"]) == set(case["shown"])


@pytest.mark.parametrize(
    ("target", "show_if", "message"),
    [
        (
            {"name": "town", "type": "text", "label": "Town"},
            {"town": ["Łódź"]},
            "'town' is a text question; a condition may refer only to a choice, "
            "multichoice, yesno question",
        ),
        (
            {
                "name": "answer",
                "type": "choice",
                "label": "A",
                "choices": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}],
            },
            {"answer": [True]},
            "'answer' never has the value(s) true (YAML reads a bare yes, no, true "
            'or false as a truth value: write "yes")',
        ),
    ],
)
def test_a_condition_the_browser_could_read_otherwise_is_refused(target, show_if, message):
    """Conditions refer only to questions whose answers both sides read alike."""
    follow = {"name": "follow", "type": "text", "label": "Follow", "show_if": show_if}
    with pytest.raises(DefinitionError) as caught:
        validate(base("refused", [{"title": "A", "fields": [target, follow]}]), "f.yaml")
    assert (
        f"f.yaml: pages[0].fields[1] (follow).show_if: {message}" in str(caught.value).splitlines()
    )


def test_an_unquoted_yes_as_a_choice_value_is_refused_with_the_reason():
    answer = {
        "name": "answer",
        "type": "choice",
        "label": "A",
        "choices": [{"value": True, "label": "Yes"}, {"value": "no", "label": "No"}],
    }
    with pytest.raises(DefinitionError) as caught:
        validate(base("refused", [{"title": "A", "fields": [answer]}]), "f.yaml")
    assert 'write the value in quotes, like "yes"' in str(caught.value)
