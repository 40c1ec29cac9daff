"""Structured definition problems (forms.problems) and the stored document as the input
format (forms.schema): every problem has a path to the setting that is wrong, a code and
its parameters; its message reads in the page's language; the file as read is a JSON-safe
document; and validating a normalised definition again changes nothing (old versions hold
normalised definitions)."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime

import pytest
import yaml

from forms.problems import MESSAGES, Problem
from forms.schema import (
    DefinitionError,
    check,
    checksum,
    language_gaps,
    load_file,
    read_document,
    validate,
)
from tests.conftest import DEMO_FORMS
from tests.definitions import all_types, base

DEMO_FILES = sorted(DEMO_FORMS.glob("*.yaml"))
TRANSLATED = ["pl", "sv", "de", "lt"]


# --- the demo calls: read, validated, validated again --------------------------------------


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_a_demo_file_is_a_json_safe_document_that_validates(path):
    document = read_document(path)
    assert json.loads(json.dumps(document)) == document  # nothing but JSON types
    assert check(document) == []
    normalised = validate(document, str(path))
    assert load_file(path) == normalised
    # YAML's own dates and date-times, read as ISO strings, are the same moments.
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert validate(raw, str(path)) == normalised
    assert checksum(validate(raw, str(path))) == checksum(normalised)


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_a_normalised_definition_validates_to_itself(path):
    """Old versions in the database hold normalised definitions: they must re-validate
    cleanly (a question's settings are in its `options` there) and to the same thing."""
    normalised = load_file(path)
    assert check(normalised) == []
    assert validate(normalised, "again") == normalised
    stored = json.loads(json.dumps(normalised))  # as a JSON column gives it back
    assert validate(stored, "stored") == normalised


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_a_json_round_trip_of_the_document_validates_identically(path):
    document = read_document(path)
    again = json.loads(json.dumps(document, ensure_ascii=False))
    assert validate(again, "json") == validate(document, "yaml")


def test_the_test_definitions_are_idempotent_too():
    normalised = validate(all_types(), "all-types")
    assert validate(normalised, "again") == normalised


def test_read_document_turns_yaml_dates_into_iso_strings(tmp_path):
    path = tmp_path / "dated.yaml"
    raw = all_types(opens_at=date(2027, 1, 1), closes_at=datetime(2027, 2, 1, 12, 30))
    raw["event"] = {"start": date(2027, 3, 1), "end": date(2027, 3, 2)}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    document = read_document(path)
    assert document["opens_at"] == "2027-01-01"
    assert document["closes_at"] == "2027-02-01T12:30:00"
    assert document["event"] == {"start": "2027-03-01", "end": "2027-03-02"}
    normalised = validate(document, "dated")
    assert normalised["opens_at"] == "2027-01-01T00:00:00+01:00"
    assert normalised["closes_at"] == "2027-02-01T12:30:00+01:00"
    assert normalised == validate(yaml.safe_load(path.read_text(encoding="utf-8")), "x")


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"slug: \xff\xfe\n", "document.not_utf8"),
        (b"slug: [unclosed\n", "document.not_yaml"),
        (b"- a\n- list\n", "document.not_mapping"),
    ],
)
def test_a_file_that_cannot_be_a_document_is_refused_with_a_problem(tmp_path, content, code):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(DefinitionError) as refused:
        read_document(path)
    [problem] = refused.value.problems
    assert (problem.path, problem.code) == ((), code)
    assert str(refused.value).startswith(f"{path}: ")


# --- each problem at the setting that is wrong ---------------------------------------------

NAME = {"name": "name", "type": "text", "label": "Name"}
SERVICE = {
    "name": "service",
    "type": "choice",
    "label": "Service",
    "choices": [{"value": "visit", "label": "Visit"}, {"value": "trip", "label": "Trip"}],
}


def one_page(*fields, **top) -> dict:
    return base("problems", [{"title": "Page", "fields": list(fields)}], **top)


def rubric(*weights) -> list:
    return [{"key": f"c{i}", "label": f"Criterion {i}", "weight": w} for i, w in enumerate(weights)]


FIELD = ("pages", 0, "fields")
CASES = [
    pytest.param(
        one_page({**NAME, "show_if": {"service": "trip"}}, SERVICE),
        [((*FIELD, 0, "show_if"), "condition.not_earlier")],
        id="condition-on-a-later-question",
    ),
    pytest.param(
        one_page(SERVICE, {**NAME, "show_if": {"service": ["plane"]}}),
        [((*FIELD, 1, "show_if"), "condition.value_never")],
        id="condition-value-never-offered",
    ),
    pytest.param(
        one_page(NAME, {**NAME, "name": "town", "show_if": {"name": "x"}}),
        [((*FIELD, 1, "show_if"), "condition.wrong_type")],
        id="condition-on-a-text-question",
    ),
    pytest.param(
        one_page(NAME, rubric=rubric(1, 0)),
        [(("rubric", 1, "weight"), "rubric.weight_invalid")],
        id="rubric-weight-0",
    ),
    pytest.param(
        one_page(NAME, rubric=[*rubric(1), {"key": "c0", "label": "Again"}]),
        [(("rubric", 1, "key"), "rubric.key_twice")],
        id="rubric-key-twice",
    ),
    pytest.param(
        one_page(NAME, opens_at="2027-02-01T00:00", closes_at="2027-01-01T00:00"),
        [(("closes_at",), "closes_at.not_after_opens_at")],
        id="closing-before-opening",
    ),
    pytest.param(
        one_page({**NAME, "label": {"en": "Name", "fr": "Nom"}}),
        [((*FIELD, 0, "label"), "text.unknown_languages")],
        id="text-in-an-unknown-language",
    ),
    pytest.param(
        one_page(
            {
                **SERVICE,
                "choices": [{"value": "a", "label": {"en": "A", "xx": "?"}}],
            }
        ),
        [((*FIELD, 0, "choices", 0, "label"), "text.unknown_languages")],
        id="choice-label-in-an-unknown-language",
    ),
    pytest.param(
        one_page({**NAME, "name": "errors"}),
        [((*FIELD, 0, "name"), "name.reserved")],
        id="reserved-name-errors",
    ),
    pytest.param(
        one_page(
            {
                "name": "team",
                "type": "group",
                "label": "Team",
                "fields": [{**NAME, "name": "csrf_token"}],
            }
        ),
        [((*FIELD, 0, "fields", 0, "name"), "name.reserved")],
        id="reserved-name-csrf-token-in-a-group",
    ),
    pytest.param(
        one_page(NAME, NAME),
        [((*FIELD, 1, "name"), "name.twice")],
        id="name-twice",
    ),
    pytest.param(
        one_page({**NAME, "maxlength": 10}),
        [((*FIELD, 0, "maxlength"), "field.unknown_key")],
        id="unknown-question-key",
    ),
    pytest.param(
        one_page(NAME, colour="red"),
        [(("colour",), "key.unknown")],
        id="unknown-top-level-key",
    ),
    pytest.param(
        one_page({**NAME, "max_length": 0}),
        [((*FIELD, 0, "max_length"), "setting.whole")],
        id="bad-type-setting",
    ),
    pytest.param(
        one_page({**NAME, "rows": "six", "type": "textarea"}),
        [((*FIELD, 0, "rows"), "setting.whole")],
        id="bad-setting-kept-on-the-question",
    ),
    pytest.param(
        one_page({"name": "n", "type": "number", "label": "N", "min": 5, "max": 1}),
        [((*FIELD, 0, "min"), "setting.order")],
        id="min-above-max",
    ),
    pytest.param(
        one_page({**SERVICE, "widget": "slider"}),
        [((*FIELD, 0, "widget"), "setting.one_of")],
        id="widget-not-offered",
    ),
    pytest.param(
        one_page({**SERVICE, "choices": [{"value": True, "label": "Yes"}]}),
        [((*FIELD, 0, "choices", 0, "value"), "choices.truth_value")],
        id="bare-yes-as-a-choice",
    ),
    pytest.param(
        one_page({"name": "agree", "type": "consent"}),
        [((*FIELD, 0, "text"), "consent.text_missing")],
        id="consent-without-text",
    ),
    pytest.param(
        one_page({"type": "heading"}),
        [((*FIELD, 0, "text"), "block.text_missing")],
        id="heading-without-text",
    ),
    pytest.param(
        one_page({**NAME, "type": "e-mail"}),
        [((*FIELD, 0, "type"), "field.unknown_type")],
        id="unknown-type",
    ),
    pytest.param(
        one_page({**NAME, "required": "yes"}),
        [((*FIELD, 0, "required"), "truth.invalid")],
        id="required-not-true-or-false",
    ),
    pytest.param(
        one_page({**NAME, "label": "Name (optional)"}),
        [((*FIELD, 0, "label"), "text.says_optional")],
        id="label-says-optional",
    ),
    pytest.param(
        one_page({**NAME, "label": {"en": "Name", "pl": "Imię (nieobowiązkowe)"}}),
        [((*FIELD, 0, "label", "pl"), "text.says_optional")],
        id="label-says-optional-in-one-language",
    ),
    pytest.param(
        one_page(NAME, letters={"accepted": {"en": "Hello {secret}"}}),
        [(("letters", "accepted", "en"), "placeholder.unknown")],
        id="letter-with-an-unknown-placeholder",
    ),
    pytest.param(
        one_page(NAME, event={"start": "2027-05-02", "end": "2027-05-01"}),
        [(("event", "end"), "event.end_before_start")],
        id="event-ending-before-it-starts",
    ),
    pytest.param(
        one_page(NAME, contact={"name": "Ada"}),
        [(("contact", "email"), "contact.invalid")],
        id="contact-without-email",
    ),
    pytest.param(
        one_page(NAME, grace_minutes=1441),
        [(("grace_minutes",), "grace_minutes.invalid")],
        id="grace-more-than-a-day",
    ),
    pytest.param(
        one_page(NAME, timezone="Mars/Olympus"),
        [(("timezone",), "timezone.unknown")],
        id="unknown-time-zone",
    ),
]


@pytest.mark.parametrize(("document", "expected"), CASES)
def test_a_bad_document_gives_the_exact_path_and_code(document, expected):
    problems = check(document)
    assert [(p.path, p.code) for p in problems] == expected, [str(p) for p in problems]
    with pytest.raises(DefinitionError) as refused:
        validate(document, "bad.yaml")
    assert refused.value.problems == problems
    assert str(refused.value).splitlines() == [f"bad.yaml: {p}" for p in problems]


def test_a_setting_in_a_normalised_question_is_named_where_it_is():
    normalised = validate(one_page(NAME), "ok")
    normalised["pages"][0]["fields"][0]["options"]["max_length"] = 0
    normalised["pages"][0]["fields"][0]["options"]["colour"] = "red"
    problems = check(normalised)
    assert [(p.path, p.code) for p in problems] == [
        ((*FIELD, 0, "options", "colour"), "field.unknown_key"),
        ((*FIELD, 0, "options", "max_length"), "setting.whole"),
    ]


def test_the_cli_line_names_the_questions_on_the_way():
    group = {
        "name": "team",
        "type": "group",
        "label": "Team",
        "fields": [{**NAME, "max_length": 0}],
    }
    [problem] = check(one_page(group))
    assert problem.where == "pages[0].fields[0].fields[0].max_length"
    assert str(problem) == (
        "pages[0].fields[0] (team).fields[0] (name).max_length: must be a whole number ≥ 1"
    )


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        "text",
        {"pages": [{"fields": [None, 3, {"type": ["x"]}, {"type": "text", "name": 5}]}]},
        {"pages": [{"fields": [{"type": "choice", "name": "c", "label": "C", "choices": "a"}]}]},
        {"pages": "x", "rubric": [None, {"key": 3}], "letters": [], "event": 5, "title": 4},
        {"pages": [{"fields": [{**NAME, "show_if": {"any": [None, 3, {"x": 1}]}}]}]},
        {"pages": [{"fields": [{**NAME, "options": [1]}, {**NAME, "name": "b", "options": {}}]}]},
        {"languages": "en", "contact": [], "organisation": "x", "capacity": "3"},
        {"pages": [{"fields": [{**SERVICE, "choices": [{"value": [1], "label": 3}]}]}]},
        {"pages": [{"fields": [{"type": "country", "name": "c", "label": "C", "countries": [1]}]}]},
    ],
)
def test_check_never_raises(document):
    problems = check(document)
    assert problems and all(isinstance(p, Problem) for p in problems)
    assert "document.not_checked" not in [p.code for p in problems], [str(p) for p in problems]
    for problem in problems:
        assert problem.code in MESSAGES
        str(problem)  # renders


# --- grace_minutes ---------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [0, 15, 1440])
def test_grace_minutes_is_kept_when_given(minutes):
    assert validate(one_page(NAME, grace_minutes=minutes), "g")["grace_minutes"] == minutes


def test_grace_minutes_is_left_out_when_not_given():
    """Stored only when given, so definitions without it keep their checksum."""
    assert "grace_minutes" not in validate(one_page(NAME), "g")


@pytest.mark.parametrize("minutes", [-1, 1441, True, "15", 7.5])
def test_a_wrong_grace_minutes_is_refused(minutes):
    problems = check(one_page(NAME, grace_minutes=minutes))
    assert [(p.path, p.code) for p in problems] == [(("grace_minutes",), "grace_minutes.invalid")]


# --- language gaps, each text by its path -------------------------------------------------


def test_a_text_lacking_an_offered_language_is_named_by_its_input_path(app):
    from mail.texts import default_texts
    from workflows.engine import get_workflow

    field = {
        "name": "service",
        "type": "choice",
        "label": {"en": "Service", "pl": "Usługa"},
        "choices": [
            {"value": "a", "label": {"en": "A", "pl": "A"}},
            {"value": "b", "label": {"en": "B"}},
        ],
    }
    document = base("gaps", [{"title": {"en": "P", "pl": "S"}, "fields": [field]}])
    document["languages"] = ["en", "pl"]
    document["description"] = {"en": "Call", "pl": "Nabór"}
    with app.app_context():
        workflow = get_workflow(document["workflow"])
        normalised = validate(document, "gaps")
        gaps = language_gaps(normalised, workflow, default_texts(), {"decision": {"*": "x"}})
        assert [(p.path, p.code) for p in gaps] == [
            ((*FIELD, 0, "choices", 1, "label", "pl"), "language.text_missing")
        ]
        assert str(gaps[0]).startswith(
            "pages[0].fields[0] (service).choices[1].label.pl: has no text in 'pl'"
        )
        # In a normalised document the choices are in the question's options.
        again = language_gaps(
            normalised, workflow, default_texts(), {"decision": {"*": "x"}}, normalised
        )
        assert [p.path for p in again] == [(*FIELD, 0, "options", "choices", 1, "label", "pl")]


# --- the messages ----------------------------------------------------------------------------


def test_a_problem_renders_its_path_and_its_english_message_outside_an_app():
    problem = Problem(("pages", 0, "fields", 2, "label", "pl"), "text.required", {})
    assert problem.where == "pages[0].fields[2].label.pl"
    assert problem.message() == "is required"
    assert str(problem) == "pages[0].fields[2].label.pl: is required"
    listed = Problem(("rubric", 1, "weight"), "text.unknown_languages", {"languages": ["fr", "xx"]})
    assert listed.where == "rubric[1].weight"
    assert listed.message() == "unknown language(s) fr, xx"
    assert Problem(("closes_at",), "closes_at.not_after_opens_at", {}).where == "closes_at"


def test_every_code_has_a_message_with_the_parameters_the_checker_gives():
    """Each template formats with the parameters its problems carry (seen in CASES)."""
    for param in CASES:
        document, _expected = param.values
        for problem in check(copy.deepcopy(document)):
            assert problem.code in MESSAGES
            assert "%(" not in str(problem), problem


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(app, language):
    from flask_babel import force_locale

    params = {
        "byte": 3,
        "error": "x",
        "known": ["en", "pl"],
        "language": "lt",
        "zone": "Mars/Olympus",
        "workflow": "w",
        "field": "f",
        "languages": ["fr"],
        "unknown": ["{x}"],
        "allowed": ["{reference}"],
        "key": "k",
        "type": "text",
        "name": "n",
        "reserved": ["errors"],
        "types": ["choice"],
        "values": ["'v'"],
        "minimum": "1",
        "choices": ["radio", "select"],
        "low": "min",
        "high": "max",
        "codes": ["XX"],
        "value": "a",
        "state": "accepted",
        "source": "s.yaml",
        "action": "accept",
        "event": "receipt",
    }
    untranslated = []
    with app.test_request_context(), force_locale(language):
        for code in MESSAGES:
            problem = Problem(("title",), code, params)
            if problem.message() == problem.english():
                untranslated.append(code)
    assert untranslated == []


@pytest.mark.parametrize(
    ("language", "words"),
    [("pl", "wymagane"), ("sv", "obligatorisk"), ("de", "erforderlich"), ("lt", "privaloma")],
)
def test_a_problem_reads_in_the_pages_language(app, language, words):
    from flask_babel import force_locale

    [problem] = check(one_page(NAME, title=None))
    assert problem.path == ("title",)
    with app.test_request_context(), force_locale(language):
        assert words in problem.message().lower()
    # …and the CLI line stays English, whatever the locale.
    with app.test_request_context(), force_locale(language):
        assert str(problem) == "title: is required"


def test_a_version_published_before_a_rule_of_style_still_reads():
    """Versions published before labels were refused for saying "(optional)" hold such
    labels: read again as published, only rules that change the meaning apply."""
    old = validate(read_document(DEMO_FORMS / "msas.yaml"), "msas")
    old["pages"][0]["fields"][0]["label"] = {"en": "Branch (optional)", "pl": "Filia"}
    assert [p.code for p in check(old)] == ["text.says_optional"]
    assert check(old, published=True) == []
    assert validate(old, "stored", published=True) == old
    old["pages"][0]["fields"][0]["name"] = "errors"  # a real problem is still one
    assert [p.code for p in check(old, published=True)] == ["name.reserved"]


JUNK = [
    None,
    0,
    -1,
    1.5,
    True,
    "",
    "x",
    "yes",
    "en",
    "errors",
    [],
    [None],
    {},
    {"a": 1},
    [1, "a"],
    {"en": 3},
    "2027-13-45",
    ["en", {"x": 1}],
    {"any": 3},
]


def _places(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, (*path, index))


def test_any_damage_to_a_document_is_a_problem_never_a_crash_and_any_valid_one_is_idempotent():
    """Documents a builder could send: a demo call (as read and as normalised) with one to
    three values replaced by junk. The checker must name a problem, not fail, and what it
    accepts must validate to itself."""
    import random

    documents = [read_document(path) for path in DEMO_FILES]
    documents += [validate(document, "n") for document in list(documents)]
    chance = random.Random(16)  # noqa: S311  (repeatable damage, not a secret)
    for _ in range(600):
        document = copy.deepcopy(chance.choice(documents))
        for _ in range(chance.randint(1, 3)):
            *parents, last = chance.choice([p for p in _places(document) if p])
            node = document
            for part in parents:
                node = node[part]
            node[last] = copy.deepcopy(chance.choice(JUNK))
        problems = check(document)
        assert "document.not_checked" not in {p.code for p in problems}, [str(p) for p in problems]
        if not problems:
            normalised = validate(document, "fuzzed")
            assert validate(normalised, "again") == normalised
