"""`flask forms load` and `flask forms export` with calls kept in the database: every demo
call makes the round trip file -> database -> file -> another database unchanged, and a load
never overwrites work done in the browser unless told to (--force), saying so."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from tests.conftest import DEMO_FORMS
from tests.definitions import base
from tests.test_definitions import load, loadable, published, write

DEMO_SLUGS = sorted(
    yaml.safe_load(path.read_text(encoding="utf-8"))["slug"] for path in DEMO_FORMS.glob("*.yaml")
)


def export(app, *args: str):
    return app.test_cli_runner().invoke(args=["forms", "export", *args])


def force_load(app, directory: Path):
    return app.test_cli_runner().invoke(
        args=["forms", "load", "--directory", str(directory), "--force"]
    )


def clear(app) -> None:
    """Empty every table, as a fresh database is (the `clean_database` fixture's work)."""
    from sqlalchemy import text

    from extensions import db

    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                connection.execute(text("UPDATE forms SET current_version_id = NULL"))
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608


def current(app, slug: str):
    """(document, normalised definition, origin, number) of the call's current version."""
    from extensions import db
    from forms.published import spec_for
    from models import Form

    with app.app_context():
        form = db.session.scalar(select(Form).where(Form.slug == slug))
        version = form.current_version
        spec = spec_for(version)
        return copy.deepcopy(version.definition), spec.raw, version.origin, version.number


def user(app, email: str = "editor@example.org", role: str = "admin") -> int:
    from extensions import db
    from models import User

    with app.app_context():
        person = User(email=email, name=email.split("@")[0], password_hash="-", role=role)  # noqa: S106
        db.session.add(person)
        db.session.commit()
        return person.id


# --- the round trip ------------------------------------------------------------------------


def test_every_demo_call_makes_the_round_trip_unchanged(app, tmp_path):
    from forms.schema import check, read_document

    result = load(app, DEMO_FORMS)
    assert result.exit_code == 0, result.output
    assert sorted(line.split()[1] for line in result.output.splitlines()) == DEMO_SLUGS
    first = {slug: current(app, slug) for slug in DEMO_SLUGS}
    for slug, (document, _, origin, number) in first.items():
        path = next(p for p in DEMO_FORMS.glob("*.yaml") if p.read_text().count(f"slug: {slug}\n"))
        assert document == read_document(path), slug  # the document as written
        assert (origin, number) == ("file", 1)
        assert check(document) == [], slug  # a published version re-validates cleanly

    out = tmp_path / "exported"
    result = export(app, "--directory", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [f"{slug}.yaml" for slug in DEMO_SLUGS]
    result = export(app, "--directory", str(tmp_path / "published"), "--published")
    assert result.exit_code == 0, result.output
    for slug in DEMO_SLUGS:  # nothing edited in the browser: the draft is the version
        assert (out / f"{slug}.yaml").read_text() == (
            tmp_path / "published" / f"{slug}.yaml"
        ).read_text()

    # Loading the export into the same database changes nothing.
    result = load(app, out)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"unchanged {slug}" for slug in DEMO_SLUGS]

    clear(app)  # a fresh database
    result = load(app, out)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"created {slug} (version 1)" for slug in DEMO_SLUGS]
    for slug in DEMO_SLUGS:
        document, definition, _, _ = current(app, slug)
        assert document == first[slug][0], slug
        assert definition == first[slug][1], slug


def test_export_keeps_strings_yaml_would_read_as_something_else(app, tmp_path):
    from cli.forms import as_yaml

    tricky = [
        "yes",
        "no",
        "on",
        "off",
        "null",
        "~",
        "09:30",
        "2027-01-21",
        "1e3",
        "0x10",
        "010",
        "2027-01-21T10:00",
        "true",
        "- a",
        "a: b",
        "#x",
        "",
        " padded ",
        "@at",
        "3.0",
    ]
    fields = [
        {"name": "when", "type": "text", "label": {"en": "09:30", "pl": "yes"}},
        {
            "name": "pick",
            "type": "choice",
            "label": "2027-01-21",
            "choices": [{"value": "yes", "label": "no"}, {"value": "off", "label": "on"}],
        },
    ]
    document = base("tricky", [{"title": "null", "fields": fields}], languages=["en", "pl"])
    document["description"] = {"en": "1e3", "pl": "0x10"}
    write(tmp_path / "in", "tricky.yaml", document)
    result = load(app, tmp_path / "in")
    assert result.exit_code == 0, result.output
    result = export(app, "tricky", "--directory", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    written = (tmp_path / "out" / "tricky.yaml").read_text(encoding="utf-8")
    stored, definition, _, _ = current(app, "tricky")
    assert yaml.safe_load(written) == stored
    assert stored["pages"][0]["fields"][1]["choices"][0]["value"] == "yes"
    assert {"values": tricky} == yaml.safe_load(as_yaml({"values": tricky}))
    keys = {key: key for key in tricky}  # a language "no", a letter for state "on"…
    assert yaml.safe_load(as_yaml(keys)) == keys

    clear(app)
    result = load(app, tmp_path / "out")
    assert result.exit_code == 0, result.output
    again, definition_again, _, _ = current(app, "tricky")
    assert (again, definition_again) == (stored, definition)


def test_export_to_standard_output_and_of_an_unknown_call(app):
    assert load(app, DEMO_FORMS).exit_code == 0
    result = export(app, "msas")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.output)["slug"] == "msas"
    result = export(app, "msas", "nope")
    assert result.exit_code != 0
    assert "no such call: nope" in result.output
    from services.call_drafts import create_call

    with app.app_context():
        create_call(
            slug="fresh", user=None, source="blank", copy_from=None, title="F", language="en"
        )
    result = export(app, "fresh")
    assert result.exit_code == 0 and yaml.safe_load(result.output)["slug"] == "fresh"
    result = export(app, "fresh", "--published")
    assert result.exit_code != 0
    assert "fresh has no published version" in result.output


# --- refusing to overwrite the browser's work ---------------------------------------------


def _save_in_browser(app, slug: str, change: dict, email: str = "editor@example.org"):
    from extensions import db
    from models import Form, User
    from services import call_drafts

    person_id = user(app, email)
    with app.app_context():
        form = db.session.scalar(select(Form).where(Form.slug == slug))
        draft = call_drafts.draft_of(form)
        document = {**copy.deepcopy(draft.document), **change}
        call_drafts.save_draft(
            form,
            document,
            revision=draft.revision,
            user=db.session.get(User, person_id),
            summary="test edit",
        )
        return person_id


def versions_count(app) -> int:
    from extensions import db
    from models import FormVersion

    with app.app_context():
        return db.session.scalar(select(func.count(FormVersion.id)))


def test_load_refuses_to_overwrite_unpublished_browser_edits_and_publishes_nothing(app, tmp_path):
    write(tmp_path, "one.yaml", loadable("one"))
    write(tmp_path, "two.yaml", loadable("two"))
    assert load(app, tmp_path).exit_code == 0
    _save_in_browser(app, "one", {"title": {"en": "Edited in the browser", "pl": "Zmieniony"}})

    # The file of "one" changed too, so loading it would overwrite the browser's edits.
    write(tmp_path, "one.yaml", loadable("one", title={"en": "One, in the file", "pl": "Raz"}))
    changed = loadable("two", title={"en": "Two, changed", "pl": "Dwa"})
    write(tmp_path, "two.yaml", changed)  # a good change beside the refused file
    result = load(app, tmp_path)
    assert result.exit_code != 0
    message = result.output
    assert "one" in message and "editor@example.org" in message
    assert "revision 2" in message
    assert "--force" in message and "flask forms export one" in message
    import re

    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", message), message  # when
    assert published(app) == {"one": [1], "two": [1]}  # nothing at all
    with app.app_context():
        from extensions import db
        from models import Form

        draft = db.session.scalar(select(Form).where(Form.slug == "one")).draft
        assert draft.edited_in_browser
        assert draft.document["title"]["en"] == "Edited in the browser"

    result = force_load(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert "overwrit" in result.output.lower() and "one" in result.output
    assert published(app) == {"one": [1, 2], "two": [1, 2]}
    with app.app_context():
        draft = db.session.scalar(select(Form).where(Form.slug == "one")).draft
        assert not draft.edited_in_browser
        assert draft.document == loadable("one", title={"en": "One, in the file", "pl": "Raz"}) | {
            "opens_at": draft.document["opens_at"],
            "closes_at": draft.document["closes_at"],
        }
    # The file is the call again: an ordinary load finds nothing to do.
    result = load(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["unchanged one", "unchanged two"]


def test_an_unchanged_file_beside_browser_edits_is_unchanged_and_the_edits_stay(app, tmp_path):
    """Loading a folder where one call's file is still its current version publishes
    nothing for it and keeps its browser edits: nothing would be overwritten."""
    write(tmp_path, "one.yaml", loadable("one"))
    write(tmp_path, "two.yaml", loadable("two"))
    assert load(app, tmp_path).exit_code == 0
    _save_in_browser(app, "one", {"title": {"en": "Edited in the browser", "pl": "Zmieniony"}})
    write(tmp_path, "two.yaml", loadable("two", title={"en": "Two, changed", "pl": "Dwa"}))
    result = load(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["updated two (version 2)", "unchanged one"]
    assert published(app) == {"one": [1], "two": [1, 2]}
    with app.app_context():
        from extensions import db
        from models import Form

        draft = db.session.scalar(select(Form).where(Form.slug == "one")).draft
        assert draft.edited_in_browser
        assert draft.document["title"]["en"] == "Edited in the browser"


def _publish_in_browser(app, slug: str, change: dict, email: str = "publisher@example.org"):
    from extensions import db
    from models import Form, User
    from services import call_drafts

    person_id = _save_in_browser(app, slug, change, email)
    with app.app_context():
        form = db.session.scalar(select(Form).where(Form.slug == slug))
        draft = call_drafts.draft_of(form)
        version = call_drafts.publish_draft(
            form, revision=draft.revision, user=db.session.get(User, person_id)
        )
        return version.number


def test_load_refuses_a_file_that_differs_from_a_version_published_in_the_browser(app, tmp_path):
    definition = loadable("one")
    write(tmp_path, "one.yaml", definition)
    assert load(app, tmp_path).exit_code == 0
    browser_title = {"en": "Published in the browser", "pl": "Opublikowany"}
    assert _publish_in_browser(app, "one", {"title": browser_title}) == 2

    result = load(app, tmp_path)
    assert result.exit_code != 0
    assert "one" in result.output and "version 2" in result.output
    assert "publisher@example.org" in result.output
    assert "--force" in result.output and "flask forms export one" in result.output
    assert published(app) == {"one": [1, 2]}

    # The file made equal to the browser's version: unchanged, not refused.
    from extensions import db
    from models import Form

    with app.app_context():
        browser_document = db.session.scalar(
            select(Form).where(Form.slug == "one")
        ).current_version.definition
    write(tmp_path, "one.yaml", browser_document)
    result = load(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["unchanged one"]

    # The old file with --force: a new version, and the output says what was overwritten.
    write(tmp_path, "one.yaml", definition)
    result = force_load(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert "overwrit" in result.output.lower()
    assert published(app) == {"one": [1, 2, 3]}
    assert current(app, "one")[2] == "file"


def test_an_export_of_browser_edits_loads_back_without_force(app, tmp_path):
    """The way out the refusal names: export, then load the export."""
    write(tmp_path / "files", "one.yaml", loadable("one"))
    assert load(app, tmp_path / "files").exit_code == 0
    _save_in_browser(app, "one", {"title": {"en": "Draft in browser", "pl": "Szkic"}})
    # The unchanged file publishes nothing and keeps the browser's edits.
    assert load(app, tmp_path / "files").output.splitlines() == ["unchanged one"]
    assert export(app, "one", "--directory", str(tmp_path / "files")).exit_code == 0
    result = load(app, tmp_path / "files")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["updated one (version 2)"]
    document = current(app, "one")[0]
    assert document["title"]["en"] == "Draft in browser"


# --- old rows: the normalised definition stored before drafts -----------------------------


def test_a_version_holding_the_normalised_definition_is_the_same_call(app, create_form, tmp_path):
    """Versions published before drafts existed hold the normalised definition (the
    create_form fixture still publishes that way): the spec is the same as from the
    document, and loading the unchanged file publishes nothing."""
    from forms.schema import read_document, validate

    for path in sorted(DEMO_FORMS.glob("*.yaml")):
        document = read_document(path)
        normalised = validate(copy.deepcopy(document), str(path))
        create_form(normalised)
        stored, definition, _, number = current(app, document["slug"])
        assert stored == normalised and number == 1
        assert definition == validate(copy.deepcopy(document), "file")
    result = load(app, DEMO_FORMS)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"unchanged {slug}" for slug in DEMO_SLUGS]
    assert published(app) == {slug: [1] for slug in DEMO_SLUGS}


def test_a_broken_file_is_named_and_publishes_nothing(app, tmp_path):
    write(tmp_path, "one.yaml", loadable("one"))
    write(tmp_path, "two.yaml", base("two", [], workflow="no-such-workflow"))
    result = load(app, tmp_path)
    assert result.exit_code != 0
    assert "two.yaml" in result.output
    assert published(app) == {}
    assert versions_count(app) == 0


@pytest.mark.parametrize("option", [[], ["--force"]])
def test_load_of_a_missing_folder_is_refused(app, tmp_path, option):
    result = app.test_cli_runner().invoke(
        args=["forms", "load", "--directory", str(tmp_path / "nope"), *option]
    )
    assert result.exit_code != 0
    assert "no such folder" in result.output


def test_a_save_in_the_browser_during_a_load_is_not_overwritten(app, tmp_path, monkeypatch):
    """The browser saves after the load checked the file and before it wrote: the load
    publishes nothing and says so; the browser's edit stays (another connection saves, as a
    second process would)."""
    import threading

    from services import call_drafts

    write(tmp_path, "one.yaml", loadable("one"))
    assert load(app, tmp_path).exit_code == 0
    write(tmp_path, "one.yaml", loadable("one", title={"en": "From the file", "pl": "Z pliku"}))
    checked = call_drafts.refusal_for_file

    def check_then_someone_saves(document):
        found = checked(document)
        done = threading.Thread(
            target=_save_in_browser,
            args=(app, "one", {"title": {"en": "From the browser", "pl": "Z przeglądarki"}}),
        )
        done.start()
        done.join()
        return found

    monkeypatch.setattr(call_drafts, "refusal_for_file", check_then_someone_saves)
    result = load(app, tmp_path)
    assert result.exit_code != 0, (result.output, published(app))
    assert "one was saved in the browser while the files were loaded" in result.output
    assert published(app) == {"one": [1]}
    from extensions import db
    from models import Form

    with app.app_context():
        draft = db.session.scalar(select(Form).where(Form.slug == "one")).draft
        assert draft.edited_in_browser
        assert draft.document["title"]["en"] == "From the browser"
