"""Form definitions: `forms.schema.validate` names the source, the place, the field and the
problem; the demo files validate; `flask forms load` publishes created / updated / unchanged
forms, keeps old submissions on the version they answered, and a broken file publishes
nothing."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from forms.published import spec_for
from forms.schema import DefinitionError, load_file, validate
from tests.conftest import DEMO_FORMS, errors_in
from tests.definitions import all_types, base, multi_page

# --- helpers ---------------------------------------------------------------------------


def problems_of(raw: dict, source: str = "forms/definitions/test.yaml") -> list[str]:
    """The problems as the CLI prints them (English, one line each, after the source)."""
    with pytest.raises(DefinitionError) as caught:
        validate(raw, source)
    error = caught.value
    assert error.source == source
    # The message is one line per problem, each naming the source first.
    assert str(error).splitlines() == [f"{source}: {p}" for p in error.problems]
    return [str(problem) for problem in error.problems]


def one_page(*fields: dict, **top) -> dict:
    definition = base("test-form", [{"title": "Page", "fields": list(fields)}])
    definition.update(top)
    return definition


NAME = {"name": "name", "type": "text", "label": "Name"}
SERVICE = {
    "name": "service",
    "type": "choice",
    "label": "Service",
    "choices": [{"value": "visit", "label": "Visit"}, {"value": "trip", "label": "Trip"}],
}
MEMBER = {"name": "member", "type": "yesno", "label": "Member?"}


# --- validate: each problem named precisely --------------------------------------------


def test_the_documented_example_unknown_type(tmp_path):
    definition = one_page(
        NAME,
        {"name": "branch", "type": "text", "label": "Branch"},
        {"name": "phone", "type": "phone", "label": "Phone"},
        {"name": "email", "type": "e-mail", "label": "Email"},
    )
    path = tmp_path / "msas.yaml"
    path.write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    [line] = str(caught.value).splitlines()
    assert line.startswith(f"{path}: pages[0].fields[3] (email).type: unknown type 'e-mail'")
    assert "known:" in line and " email, " in line  # says which types there are


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            [NAME, {**NAME, "label": "Again"}],
            "pages[0].fields[1] (name).name: the name 'name' is used twice",
            id="duplicate-name",
        ),
        pytest.param(
            [
                {
                    "name": "people",
                    "type": "group",
                    "label": "People",
                    "fields": [NAME, {**NAME, "label": "Again"}],
                }
            ],
            "pages[0].fields[0] (people).fields[1] (name).name: the name 'name' is used twice",
            id="duplicate-name-in-group",
        ),
        pytest.param(
            [NAME, {"name": "people", "type": "group", "label": "People", "fields": [NAME]}],
            "pages[0].fields[1] (people).fields[0] (name).name: the name 'name' is used twice",
            id="group-child-repeats-a-form-field",
        ),
        pytest.param(
            [{"name": "Name", "type": "text", "label": "Name"}],
            "pages[0].fields[0] (Name).name: must be lowercase letters, digits and '_'",
            id="bad-field-name",
        ),
        pytest.param(
            [{**NAME, "show_if": {"service": ["trip"]}}, SERVICE],
            "pages[0].fields[0] (name).show_if: refers to 'service', which is not an earlier field",
            id="show-if-later-field",
        ),
        pytest.param(
            [SERVICE, {**NAME, "show_if": {"servce": ["trip"]}}],
            "pages[0].fields[1] (name).show_if: refers to 'servce', which is not an earlier field",
            id="show-if-unknown-field",
        ),
        pytest.param(
            [{**NAME, "show_if": {"name": ["x"]}}],
            "pages[0].fields[0] (name).show_if: refers to 'name', which is not an earlier field",
            id="show-if-itself",
        ),
        pytest.param(
            [SERVICE, {**NAME, "show_if": {"service": ["trip", "plane"]}}],
            "pages[0].fields[1] (name).show_if: 'service' never has the value(s) 'plane'",
            id="show-if-value-not-offered",
        ),
        pytest.param(
            [SERVICE, {**NAME, "show_if": {"any": [{"service": "trip"}, {"service": "bus"}]}}],
            "pages[0].fields[1] (name).show_if: 'service' never has the value(s) 'bus'",
            id="show-if-any-value-not-offered",
        ),
        pytest.param(
            [MEMBER, {**NAME, "show_if": {"member": "yes"}}],
            "pages[0].fields[1] (name).show_if: 'member' never has the value(s) 'yes'",
            id="show-if-yesno-needs-true-false",
        ),
        pytest.param(
            [
                {
                    "name": "outer",
                    "type": "group",
                    "label": "Outer",
                    "fields": [
                        {"name": "inner", "type": "group", "label": "Inner", "fields": [NAME]}
                    ],
                }
            ],
            "pages[0].fields[0] (outer).fields[0] (inner).type: "
            "a group cannot contain a group field",
            id="group-in-group",
        ),
        pytest.param(
            [{"name": "agree", "type": "consent"}],
            "pages[0].fields[0] (agree).text: a consent field needs 'text': "
            "the exact words the person agrees to",
            id="consent-without-text",
        ),
        pytest.param(
            [{"name": "agree", "type": "consent", "text": ""}],
            "pages[0].fields[0] (agree).text: a consent field needs 'text': "
            "the exact words the person agrees to",
            id="consent-with-empty-text",
        ),
        pytest.param(
            [{**NAME, "label": {"pl": "Imię", "fr": "Nom"}}],
            "pages[0].fields[0] (name).label: unknown language(s) fr",
            id="label-in-unknown-language",
        ),
        pytest.param(
            [{**NAME, "maxlength": 10}],
            "pages[0].fields[0] (name).maxlength: unknown key 'maxlength' for type 'text'",
            id="unknown-key",
        ),
        pytest.param(
            [{"name": "name", "type": "text"}],
            "pages[0].fields[0] (name).label: is required",
            id="missing-label",
        ),
        pytest.param(
            [{**NAME, "pattern": "[a-z"}],
            "pages[0].fields[0] (name).pattern: is not a valid regular expression",
            id="bad-pattern",
        ),
        pytest.param(
            [{"name": "people", "type": "number", "label": "People", "min": 10, "max": 1}],
            "pages[0].fields[0] (people).min: 'min' is greater than 'max'",
            id="number-min-above-max",
        ),
        pytest.param(
            [{**SERVICE, "choices": [{"value": "a", "label": "A"}, {"value": "a", "label": "B"}]}],
            "pages[0].fields[0] (service).choices[1].value: value 'a' appears twice",
            id="choice-twice",
        ),
        pytest.param(
            [{"name": "day", "type": "date", "label": "Day", "min": "2027-02-30"}],
            "pages[0].fields[0] (day).min: must be a date like 2027-03-14",
            id="date-min-not-a-date",
        ),
    ],
)
def test_a_field_problem_names_its_place_field_and_problem(fields, expected):
    problems = problems_of(one_page(*fields))
    assert any(p.startswith(expected) for p in problems), problems


def test_the_same_name_on_two_pages_is_refused():
    definition = base(
        "two-pages", [{"title": "One", "fields": [NAME]}, {"title": "Two", "fields": [NAME]}]
    )
    assert problems_of(definition) == [
        "pages[1].fields[0] (name).name: the name 'name' is used twice"
    ]


def test_show_if_may_refer_to_a_field_on_an_earlier_page():
    definition = base(
        "two-pages",
        [
            {"title": "One", "fields": [SERVICE]},
            {"title": "Two", "fields": [{**NAME, "show_if": {"service": "trip"}}]},
        ],
    )
    normalised = validate(definition, "test")
    # A single value is normalised to a list of values.
    assert normalised["pages"][1]["fields"][0]["show_if"] == {"service": ["trip"]}


def test_a_show_if_on_a_later_page_may_not_refer_forward():
    definition = base(
        "two-pages",
        [
            {"title": "One", "fields": [{**NAME, "show_if": {"service": "trip"}}]},
            {"title": "Two", "fields": [SERVICE]},
        ],
    )
    assert problems_of(definition) == [
        "pages[0].fields[0] (name).show_if: refers to 'service', which is not an earlier field"
    ]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("slug", "Bad Slug!", "slug: must be lowercase letters, digits and '-'"),
        ("slug", "", "slug: must be lowercase letters, digits and '-'"),
        ("slug", "-starts-with-dash", "slug: must be lowercase letters, digits and '-'"),
        ("reference_prefix", "ms", "reference_prefix: must be 2–8 capital letters, like MSAS"),
        ("languages", ["en", "fr"], "languages: unknown language 'fr'"),
        ("languages", [], "languages: must be a list from"),
        ("default_language", "de", "default_language: must be one of 'languages'"),
        ("timezone", "Europe/Nowhere", "timezone: unknown time zone 'Europe/Nowhere'"),
        ("opens_at", "next monday", "opens_at: must be a date-time like 2027-01-21T23:59"),
        ("capacity", 0, "capacity: must be a whole number ≥ 1"),
        ("capacity", True, "capacity: must be a whole number ≥ 1"),
        ("workflow", "Review Please", "workflow: must name a workflow"),
        ("applicant_email_field", "name", "applicant_email_field: 'name' is not an email field"),
        ("colour_scheme", "dark", "colour_scheme: unknown key"),
        ("pages", [], "pages: must be a non-empty list of pages with fields"),
        ("title", None, "title: is required"),
    ],
)
def test_a_top_level_problem_names_the_key_and_the_problem(key, value, expected):
    definition = all_types()
    definition[key] = value
    problems = problems_of(definition)
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_is_reported_at_once():
    definition = one_page(
        {"name": "x", "type": "e-mail", "label": "X"},
        {"name": "agree", "type": "consent"},
        slug="Bad!",
        languages=["en", "xx"],
    )
    problems = problems_of(definition)
    assert len(problems) == 4, problems
    assert problems[0].startswith("slug:")
    assert problems[1] == "languages: unknown language 'xx'"
    assert problems[2].startswith("pages[0].fields[0] (x).type: unknown type 'e-mail'")
    assert problems[3].startswith("pages[0].fields[1] (agree).text: a consent field needs 'text'")


def test_a_file_that_is_not_a_mapping_or_not_yaml_is_refused(tmp_path):
    listing = tmp_path / "list.yaml"
    listing.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_file(listing)
    assert str(caught.value).startswith(f"{listing}: the file must be a mapping")

    broken = tmp_path / "broken.yaml"
    broken.write_text("slug: [unclosed\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_file(broken)
    assert str(caught.value).startswith(f"{broken}: not valid YAML")


# --- times -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "written", "normalised"),
    [
        ("Europe/Warsaw", "2027-01-21T23:59", "2027-01-21T23:59:00+01:00"),  # winter
        ("Europe/Warsaw", "2027-06-30T23:59", "2027-06-30T23:59:00+02:00"),  # summer time
        ("Europe/Stockholm", "2027-03-01T12:00", "2027-03-01T12:00:00+01:00"),
        ("Europe/Vilnius", "2027-03-01T12:00", "2027-03-01T12:00:00+02:00"),
        ("Europe/Warsaw", "2027-01-21T23:59:00+00:00", "2027-01-21T23:59:00+00:00"),  # kept
        ("Europe/Warsaw", "2027-01-21T23:59:00Z", "2027-01-21T23:59:00+00:00"),
    ],
)
def test_times_without_an_offset_are_read_in_the_forms_time_zone(zone, written, normalised):
    definition = all_types(timezone=zone, opens_at="2026-01-01T00:00", closes_at=written)
    assert validate(definition, "test")["closes_at"] == normalised


def test_a_yaml_date_is_midnight_in_the_forms_time_zone(tmp_path):
    path = tmp_path / "dated.yaml"
    text = yaml.safe_dump(all_types(), allow_unicode=True)
    text = re.sub(r"(?m)^opens_at:.*$", "opens_at: 2027-01-01", text)
    text = re.sub(r"(?m)^closes_at:.*$", "closes_at: 2027-02-01", text)
    path.write_text(text, encoding="utf-8")
    definition = load_file(path)
    assert definition["opens_at"] == "2027-01-01T00:00:00+01:00"
    assert definition["closes_at"] == "2027-02-01T00:00:00+01:00"


@pytest.mark.parametrize(
    ("opens_at", "closes_at"),
    [
        ("2027-02-01T00:00", "2027-01-01T00:00"),
        ("2027-01-01T12:00", "2027-01-01T12:00"),
        # 12:00 in Warsaw is 11:00 UTC: closing at 11:30 UTC is after opening…
        # …but closing at 10:30 UTC is before it.
        ("2027-01-01T12:00", "2027-01-01T10:30:00+00:00"),
    ],
)
def test_closing_before_or_at_opening_is_refused(opens_at, closes_at):
    problems = problems_of(all_types(opens_at=opens_at, closes_at=closes_at))
    assert problems == ["closes_at: must be after opens_at"]


def test_closing_after_opening_across_offsets_is_accepted():
    definition = all_types(opens_at="2027-01-01T12:00", closes_at="2027-01-01T11:30:00+00:00")
    assert validate(definition, "test")["closes_at"] == "2027-01-01T11:30:00+00:00"


def test_an_unknown_time_zone_is_reported_even_when_one_time_has_an_offset():
    # One time with an offset and one without cannot be compared: report the zone, not crash.
    definition = all_types(
        timezone="Mars/Olympus", opens_at="2027-01-01T00:00Z", closes_at="2027-02-01T00:00"
    )
    problems = problems_of(definition)
    assert problems == ["timezone: unknown time zone 'Mars/Olympus', use e.g. Europe/Warsaw"]


# --- the demo definitions --------------------------------------------------------------

DEMO_FILES = sorted(DEMO_FORMS.glob("*.yaml"))


def test_there_are_demo_definitions():
    assert len(DEMO_FILES) >= 3


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_every_demo_definition_validates(app, path):
    from workflows.engine import known_workflows

    definition = load_file(path)
    with app.app_context():
        assert definition["workflow"] in known_workflows()
    assert definition["default_language"] in definition["languages"]
    # Every time carries its offset after loading.
    for key in ("opens_at", "closes_at"):
        assert datetime.fromisoformat(definition[key]).utcoffset() is not None
    # Fictional contact addresses only.
    assert definition["contact"]["email"].endswith("example.org")


# --- flask forms load ------------------------------------------------------------------


def write(directory: Path, name: str, definition: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump(definition, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def load(app, directory: Path):
    return app.test_cli_runner().invoke(args=["forms", "load", "--directory", str(directory)])


def published(app) -> dict[str, list[int]]:
    """Version numbers of every form, by slug."""
    from extensions import db
    from models import Form, FormVersion

    with app.app_context():
        rows = db.session.execute(
            select(Form.slug, FormVersion.number)
            .join(FormVersion, FormVersion.form_id == Form.id)
            .order_by(Form.slug, FormVersion.number)
        ).all()
        result: dict[str, list[int]] = {}
        for slug, number in rows:
            result.setdefault(slug, []).append(number)
        return result


def loadable(slug: str, **extra) -> dict:
    """all_types leaves some Swedish out on purpose (its fallbacks are tested); a file that
    loads must cover every language it offers (forms.schema.language_gaps)."""
    return all_types(slug, languages=["en", "pl"], **extra)


def test_load_reports_created_unchanged_and_updated(app, tmp_path):
    write(tmp_path, "one.yaml", loadable("one"))
    write(tmp_path, "two.yaml", multi_page("two"))

    result = load(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["created one (version 1)", "created two (version 1)"]
    assert published(app) == {"one": [1], "two": [1]}

    result = load(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["unchanged one", "unchanged two"]
    assert published(app) == {"one": [1], "two": [1]}

    changed = loadable("one")
    changed["title"] = {"en": "A renamed call", "pl": "Nowa nazwa"}
    write(tmp_path, "one.yaml", changed)
    result = load(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["updated one (version 2)", "unchanged two"]
    assert published(app) == {"one": [1, 2], "two": [1]}


def test_loaded_times_are_stored_in_utc(app, tmp_path):
    write(
        tmp_path,
        "one.yaml",
        loadable("one", opens_at="2026-01-01T00:00", closes_at="2027-01-21T23:59"),
    )
    assert load(app, tmp_path).exit_code == 0
    from extensions import db
    from models import FormVersion

    with app.app_context():
        version = db.session.scalars(select(FormVersion)).one()
        assert version.closes_at == datetime(2027, 1, 21, 22, 59, tzinfo=UTC)
        assert version.opens_at == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)


def test_a_comment_or_key_order_change_is_not_a_new_version(app, tmp_path):
    definition = loadable("one")
    path = write(tmp_path, "one.yaml", definition)
    assert load(app, tmp_path).exit_code == 0
    reordered = dict(reversed(list(definition.items())))
    text = yaml.safe_dump(reordered, allow_unicode=True, sort_keys=False)
    path.write_text("# edited by hand\n" + text, "utf-8")
    result = load(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["unchanged one"]
    assert published(app) == {"one": [1]}


@pytest.mark.parametrize(
    ("files", "named", "problem"),
    [
        pytest.param(
            {"broken.yaml": "slug: [unclosed\n"}, "broken.yaml", "not valid YAML", id="yaml"
        ),
        pytest.param(
            {"broken.yaml": {"type_error": True}},
            "broken.yaml",
            "pages[0].fields[0] (name).type: unknown type 'txt'",
            id="field",
        ),
        pytest.param(
            {"broken.yaml": {"workflow": "no-such-workflow"}},
            "broken.yaml",
            "workflow: no workflow named 'no-such-workflow'",
            id="workflow",
        ),
        pytest.param(
            {"broken.yaml": {"slug": "good"}},
            "slug 'good' is used by more than one file",
            "",
            id="same-slug-twice",
        ),
    ],
)
def test_a_broken_file_publishes_nothing_and_names_the_file(app, tmp_path, files, named, problem):
    write(tmp_path, "a-good.yaml", all_types("good"))
    for name, content in files.items():
        if isinstance(content, str):
            (tmp_path / name).write_text(content, "utf-8")
            continue
        definition = all_types("broken")
        if content.pop("type_error", False):
            definition["pages"][0]["fields"] = [{"name": "name", "type": "txt", "label": "N"}]
        write(tmp_path, name, {**definition, **content})

    result = load(app, tmp_path)
    assert result.exit_code != 0
    assert named in result.output
    assert problem in result.output
    assert published(app) == {}  # not even the good file


def test_a_broken_edit_keeps_the_published_version(app, tmp_path):
    write(tmp_path, "one.yaml", loadable("one"))
    assert load(app, tmp_path).exit_code == 0
    broken = loadable("one", closes_at="2000-01-01T00:00")
    write(tmp_path, "one.yaml", broken)
    result = load(app, tmp_path)
    assert result.exit_code != 0
    assert "one.yaml: closes_at: must be after opens_at" in result.output
    assert published(app) == {"one": [1]}


def test_a_folder_that_does_not_exist_is_an_error(app, tmp_path):
    result = load(app, tmp_path / "typo")
    assert result.exit_code != 0
    assert "typo" in result.output


# --- versions keep old submissions' questions ------------------------------------------


def test_editing_a_definition_publishes_version_2_and_old_submissions_keep_version_1(
    app, client, tmp_path
):
    original = one_page(
        {"name": "name", "type": "text", "label": "Branch name", "required": True},
        {"name": "email", "type": "email", "label": "Email", "required": True},
    )
    write(tmp_path, "test-form.yaml", original)
    assert load(app, tmp_path).exit_code == 0

    # Someone applies on version 1.
    response = client.fill("test-form", 1, {"name": "Filia 7", "email": "f7@example.org"})
    assert response.status_code == 302, errors_in(client.last_html)
    client.get("/calls/test-form/check")
    assert client.post("/calls/test-form/check", {}).status_code == 302

    # Someone else starts on version 1 and has not sent it yet.
    slow = type(client)(app.test_client())
    assert slow.get("/calls/test-form/page/1").status_code == 200
    slow.post("/calls/test-form/page/1", {"name": "Filia 9", "action": "save"})

    edited = copy.deepcopy(original)
    edited["pages"][0]["fields"][0]["label"] = "Name of the branch library"
    edited["pages"][0]["fields"].append(
        {"name": "why", "type": "textarea", "label": "Why?", "required": True}
    )
    write(tmp_path, "test-form.yaml", edited)
    result = load(app, tmp_path)
    assert result.output.splitlines() == ["updated test-form (version 2)"]

    from extensions import db
    from models import Form, FormVersion, Submission

    with app.app_context():
        form = db.session.scalars(select(Form)).one()
        versions = {v.number: v for v in form.versions}
        assert form.current_version.number == 2
        submission = db.session.scalars(select(Submission)).one()
        assert submission.form_version_id == versions[1].id
        # A version keeps the document as written; its spec is the normalised form.
        as_json = json.loads(json.dumps(original, default=str))
        assert validate(versions[1].definition, "v1") == validate(as_json, "test")
        assert validate(versions[2].definition, "v2") == validate(edited, "test")
        first_fields = spec_for(versions[1]).pages[0].fields
        assert [f.name for f in first_fields] == ["name", "email"]
        assert first_fields[0].raw["label"] == {"*": "Branch name"}
        assert submission.answers_by_field() == {"name": "Filia 7", "email": "f7@example.org"}
        assert db.session.scalar(select(func.count()).select_from(FormVersion)) == 2

    # A new applicant sees version 2.
    fresh = type(client)(app.test_client())
    page = fresh.get("/calls/test-form/page/1").get_data(as_text=True)
    assert "Name of the branch library" in page and "Why?" in page

    # The person who started on version 1 finishes it without the new question.
    page = slow.get("/calls/test-form/page/1").get_data(as_text=True)
    assert "Branch name" in page and "Why?" not in page
    response = slow.post("/calls/test-form/page/1", {"name": "Filia 9", "email": "f9@example.org"})
    assert response.status_code == 302, errors_in(slow.last_html)
    slow.get("/calls/test-form/check")
    assert slow.post("/calls/test-form/check", {}).status_code == 302
    with app.app_context():
        late = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
        assert late.form_version.number == 1
        assert late.answers_by_field() == {"name": "Filia 9", "email": "f9@example.org"}


def test_a_spec_knows_whether_any_question_takes_a_file_inside_a_group_too():
    """Submitting skips the attachment lookup for calls that take no file (forms.spec)."""
    from forms.spec import FormSpec

    def spec(*fields) -> FormSpec:
        return FormSpec(base("files", [{"title": "Only", "fields": list(fields)}]))

    text = {"name": "name", "type": "text", "label": "Name"}
    cv = {"name": "cv", "type": "file", "label": "CV", "accept": ["pdf"]}
    team = {"name": "team", "type": "group", "label": "Team", "fields": [dict(text), cv]}
    assert not spec(text).takes_files
    assert spec(text, cv).takes_files
    assert spec(text, team).takes_files
