"""Every language a call offers is covered everywhere, generic over the calls in
forms/definitions/ (a call added later is checked the same way): the language a visitor
gets, the workflow's labels, every email a workflow sends and every letter, in every
language of the call; a definition offering a language its texts lack is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from config import LANGUAGES
from tests.conftest import DEMO_FORMS

CALLS = {
    raw["slug"]: raw
    for raw in (
        yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(DEMO_FORMS.glob("*.yaml"))
    )
}


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([a-z]+)"', html).group(1)


@pytest.mark.parametrize("slug", sorted(CALLS))
def test_a_visitor_whose_languages_the_call_lacks_gets_english_else_the_calls_own(
    create_form, client, slug
):
    raw = CALLS[slug]
    create_form(raw)
    lacking = [code for code in LANGUAGES if code not in raw["languages"]]
    expected = "en" if "en" in raw["languages"] else raw["default_language"]
    for code in lacking:
        # What chromium sends with a Swedish (German, …) locale.
        header = f"{code}-{code.upper()},{code};q=0.9"
        for path in (f"/calls/{slug}", f"/calls/{slug}/page/1"):
            html = client.get(path, headers={"Accept-Language": header}).get_data(as_text=True)
            assert html_lang(html) == expected, (slug, code, path)
    for code in raw["languages"]:  # a language the call has is kept
        html = client.get(f"/calls/{slug}", headers={"Accept-Language": code}).get_data(
            as_text=True
        )
        assert html_lang(html) == code
    # No stated preference (robots, some tools): the call's own language.
    assert html_lang(client.get(f"/calls/{slug}").get_data(as_text=True)) == raw["default_language"]


# --- refused at load -------------------------------------------------------------------------


def load(app, forms_dir: Path) -> str:
    """What `flask forms load --directory` says (the start-up load runs the same check)."""
    result = app.test_cli_runner().invoke(args=["forms", "load", "--directory", str(forms_dir)])
    return result.output


def write(path: Path, raw: dict) -> Path:
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_demo_calls_load_as_they_are(app, tmp_path):
    for slug, raw in CALLS.items():
        write(tmp_path / f"{slug}.yaml", raw)
    output = load(app, tmp_path)
    assert all(f"created {slug}" in output for slug in CALLS), output


@pytest.mark.parametrize("slug", sorted(CALLS))
def test_a_call_offering_a_language_its_own_texts_lack_is_refused(app, tmp_path, slug):
    raw = dict(CALLS[slug], languages=list(LANGUAGES))
    path = write(tmp_path / f"{slug}.yaml", raw)
    output = load(app, tmp_path)
    assert "created" not in output
    for code in LANGUAGES:
        line = f"{path}: languages: '{code}' is offered but lacks the definition's own texts at"
        assert (line in output) == (code not in CALLS[slug]["languages"]), output


@pytest.mark.parametrize("slug", sorted(CALLS))
def test_a_call_whose_workflow_lacks_one_of_its_languages_is_refused(
    app, tmp_path, monkeypatch, slug
):
    raw = CALLS[slug]
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    source = Path(app.config["FORMDESK_WORKFLOWS_DIR"]) / f"{raw['workflow']}.yaml"
    workflow = yaml.safe_load(source.read_text(encoding="utf-8"))
    dropped = raw["languages"][-1]
    state = next(iter(workflow["states"]))
    del workflow["states"][state]["label"][dropped]
    del workflow["transitions"][0]["label"][dropped]
    write(workflows / source.name, workflow)
    monkeypatch.setitem(app.config, "FORMDESK_WORKFLOWS_DIR", str(workflows))
    forms = tmp_path / "forms"
    forms.mkdir()
    path = write(forms / f"{slug}.yaml", raw)
    output = load(app, forms)
    assert "created" not in output
    assert f"{path}: languages: '{dropped}' is offered but lacks " in output
    assert f"the label of state '{state}' (workflows/definitions/{source.name})" in output
    step = workflow["transitions"][0]["name"]
    assert f"the label of action '{step}' (workflows/definitions/{source.name})" in output


def test_emails_and_letters_missing_a_language_are_named():
    from forms.schema import language_gaps, load_file
    from mail.texts import default_texts
    from workflows.engine import parse

    root = Path(__file__).resolve().parent.parent
    for path in sorted(DEMO_FORMS.glob("*.yaml")):
        definition = load_file(path)
        source = root / "workflows" / "definitions" / f"{definition['workflow']}.yaml"
        workflow = parse(yaml.safe_load(source.read_text(encoding="utf-8")), str(source))
        letters = yaml.safe_load((root / "documents" / "letters.yaml").read_text("utf-8"))
        assert language_gaps(definition, workflow, default_texts(), letters) == []
        language = definition["languages"][-1]
        emails = {event: dict(texts) for event, texts in default_texts().items()}
        del emails["receipt"][language]
        del emails["decision"][language]
        gaps = language_gaps(definition, workflow, emails, letters)
        assert len(gaps) == 1 and f"'{language}' is offered but lacks" in gaps[0]
        assert "the email 'receipt' (mail/defaults.yaml)" in gaps[0]
        sent_by_decision = [
            effect[6:]
            for step in workflow.transitions
            for effect in step.effects
            if effect.startswith("email:") and effect[6:] not in emails
        ]
        for event in sent_by_decision:  # events with no text of their own use `decision`
            assert f"the email '{event}' (mail/defaults.yaml)" in gaps[0]
        own_letters = set(definition.get("letters") or {})
        lettered = {
            s.target for s in workflow.transitions if "document:decision_letter" in s.effects
        }
        bare = {state: {"en": texts["en"]} for state, texts in letters.items()}
        gaps = language_gaps(definition, workflow, default_texts(), bare)
        for code in definition["languages"]:
            said = " ".join(gap for gap in gaps if f"'{code}' is offered" in gap)
            for state in lettered:
                named = f"the decision letter for '{state}' (documents/letters.yaml)" in said
                assert named == (state not in own_letters and code != "en"), gaps
