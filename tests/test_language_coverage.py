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
        # Each text is named, with the language it lacks: title.de, pages[0].title.de…
        line = f"{path}: title.{code}: has no text in '{code}', which the call offers"
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
    where = f"{path}: workflow: '{dropped}' is offered but"
    assert (
        f"{where} the label of state '{state}' has no text in it "
        f"(workflows/definitions/{source.name})" in output
    ), output
    step = workflow["transitions"][0]["name"]
    assert (
        f"{where} the label of action '{step}' has no text in it "
        f"(workflows/definitions/{source.name})" in output
    ), output


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
        gaps = [str(gap) for gap in language_gaps(definition, workflow, emails, letters)]
        assert all(gap.startswith(f"languages: '{language}' is offered but") for gap in gaps)
        said = "\n".join(gaps)
        assert "the email 'receipt' has no text in it (mail/defaults.yaml)" in said
        sent_by_decision = [
            effect[6:]
            for step in workflow.transitions
            for effect in step.effects
            if effect.startswith("email:") and effect[6:] not in emails
        ]
        for event in sent_by_decision:  # events with no text of their own use `decision`
            assert f"the email '{event}' has no text in it (mail/defaults.yaml)" in said
        own_letters = set(definition.get("letters") or {})
        lettered = {
            s.target for s in workflow.transitions if "document:decision_letter" in s.effects
        }
        bare = {state: {"en": texts["en"]} for state, texts in letters.items()}
        gaps = [str(gap) for gap in language_gaps(definition, workflow, default_texts(), bare)]
        for code in definition["languages"]:
            said = " ".join(gap for gap in gaps if f"'{code}' is offered" in gap)
            for state in lettered:
                named = (
                    f"letters: '{code}' is offered but the decision letter for '{state}' "
                    "has no text in it (documents/letters.yaml)" in said
                )
                assert named == (state not in own_letters and code != "en"), gaps


# --- every email of every call, in every language ----------------------------------------------

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
APPLICANT = "Anna Kowalska-Žukauskienė"


def templates_in(texts: object, language: str) -> list[dict]:
    """Every {subject, body} written for `language` under an event (at any depth, so texts
    split further, e.g. per state, are found too)."""
    if not isinstance(texts, dict):
        return []
    if set(texts) >= {"subject", "body"}:
        return []
    found = []
    for key, value in texts.items():
        if key == language and isinstance(value, dict) and {"subject", "body"} <= set(value):
            found.append(value)
        else:
            found += templates_in(value, language)
    return found


def pattern_of(template: str) -> re.Pattern:
    """The template as a regular expression: each placeholder a group (a repeated one must
    repeat the same value), the words between them literally."""
    parts, seen, end = [], set(), 0
    for match in PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[end : match.start()]))
        name = match.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
        seen.add(name)
        end = match.end()
    parts.append(re.escape(template[end:]))
    return re.compile("".join(parts), re.DOTALL)


def filled_from(text: str, template: str) -> dict[str, str] | None:
    match = pattern_of(template).fullmatch(text)
    return match.groupdict() if match else None


def read_message(row, may_be_empty: set[str]) -> dict[str, str]:
    """The values the message was filled with, after checking it is exactly its language's
    text (not another language's) with every placeholder filled."""
    from mail.texts import default_texts

    texts = default_texts().get(row.kind) or default_texts()["decision"]
    where = f"{row.kind} in {row.language} ({row.idempotency_key})"
    for raw in (row.subject, row.text_body):
        assert not PLACEHOLDER.search(raw), f"{where}: a raw placeholder in {raw!r}"
    for template in templates_in(texts, row.language):
        subject = filled_from(row.subject, " ".join(template["subject"].split()))
        body = filled_from(row.text_body, template["body"])
        if subject is not None and body is not None:
            values = {**subject, **body}
            empty = sorted(n for n, v in values.items() if not v.strip() and n not in may_be_empty)
            assert not empty, f"{where}: empty placeholder(s) {empty}:\n{row.text_body}"
            return values
    raise AssertionError(f"{where}: not the {row.language} text:\n{row.subject}\n{row.text_body}")


def new_submission(version, spec, language: str, state: str | None = None):
    """A submission as `submit` leaves it (secret link, name, email), in `state`."""
    from extensions import db
    from models import Answer, Submission
    from models.types import utcnow
    from services.tokens import new_submission_token
    from services.transitions import initial_state
    from workflows.engine import get_workflow

    nonce, _token, token_hash = new_submission_token()
    count = db.session.query(Submission).count() + 1
    submission = Submission(
        form_id=version.form_id,
        form_version_id=version.id,
        reference=f"{spec.raw['reference_prefix']}-2030-{count:04d}",
        token_hash=token_hash,
        token_nonce=nonce,
        seats=1,
        language=language,
        applicant_email="anna@example.org",
        started_at=utcnow(),
        submitted_at=utcnow(),
    )
    # Whichever question the greeting takes the name from: every name-like one holds it.
    names = {spec.raw.get("applicant_name_field")} | {
        f.name
        for f in spec.inputs
        if f.type == "text" and ("name" in f.name or "contact" in f.name)
    }
    answers = {name: APPLICANT for name in names if name}
    answers[spec.applicant_email_field] = "anna@example.org"
    submission.answers = [
        Answer(field=key, position=index, value=value)
        for index, (key, value) in enumerate(answers.items())
    ]
    submission.form_version = version
    submission.state = state or initial_state(submission, get_workflow(spec.workflow))
    db.session.add(submission)
    db.session.flush()
    return submission


def sent_to(submission_id: int) -> list:
    from extensions import db
    from models import OutboxMessage

    return list(
        db.session.query(OutboxMessage)
        .filter_by(submission_id=submission_id)
        .order_by(OutboxMessage.id)
    )


@pytest.mark.parametrize("slug", sorted(CALLS))
def test_every_email_of_every_call_is_written_in_each_of_its_languages(app, create_form, slug):
    """Through the code that writes them (services.notifications via the workflow's
    transitions), every email the call can send, in every language it offers: exactly that
    language's text, every placeholder filled, the state and the call's title in that
    language."""
    from datetime import date

    from extensions import db
    from forms.published import spec_for
    from models import FormVersion
    from services import notifications
    from services.drafts import start_draft
    from services.transitions import Actor, transition
    from workflows.engine import get_workflow

    raw = CALLS[slug]
    checked = set()
    for language in raw["languages"]:
        # A call of its own per language: each starts with all its places free.
        version_id = create_form(raw, slug=f"{slug}-{language}")
        with app.app_context():
            version = db.session.get(FormVersion, version_id)
            spec = spec_for(version)
            workflow = get_workflow(spec.workflow)
            title = spec.raw["title"].get(language) or spec.raw["title"]["*"]

            submission = new_submission(version, spec, language)
            notifications.submission_received(submission)
            draft, token = start_draft(version, language)
            draft.answers = {spec.applicant_email_field: "anna@example.org"}
            db.session.flush()
            notifications.draft_saved(draft, token)
            db.session.commit()
            receipt = sent_to(submission.id)
            assert [row.kind for row in receipt] == ["receipt"]
            values = read_message(receipt[0], may_be_empty=set())
            assert (
                values.get("form_title", title) == title
                and values.get("name", APPLICANT) == APPLICANT
            )
            from models import OutboxMessage

            resume = (
                db.session.query(OutboxMessage).filter_by(kind="resume", language=language).all()
            )
            assert len(resume) == 1
            read_message(resume[0], may_be_empty=set())
            checked |= {("receipt", language), ("resume", language)}

            for step in workflow.transitions:
                emails = [e.split(":", 1)[1] for e in step.effects if e.startswith("email:")]
                if not emails:
                    continue
                submission = new_submission(version, spec, language, state=step.sources[0])
                db.session.commit()
                actor = Actor(step.actors[0])
                comment = None if actor.kind == "system" else "—"
                transition(
                    submission.id,
                    step.name,
                    actor,
                    comment=comment,
                    scheduled_for=date(2030, 4, 19) if step.needs_date else None,
                )
                rows = sent_to(submission.id)
                # a step that frees or returns a place may be followed by its offer
                follow = _emails_of(workflow, workflow.capacity and workflow.capacity.promote)
                own = sorted(
                    row.kind for row in rows if row.kind not in follow or row.kind in emails
                )
                assert own == sorted(emails), step.name
                for row in rows:
                    assert row.language == language
                    values = read_message(row, may_be_empty=set() if comment else {"comment"})
                    if row.kind not in emails:
                        checked.add((row.kind, language))
                        continue
                    label = workflow.states[step.target]["label"]
                    assert values.get("state", label.get(language)) == label.get(
                        language, label.get("*")
                    )
                    assert values.get("form_title", title) == title
                    assert values.get("name", APPLICANT) == APPLICANT
                    checked.add((row.kind, language))
    sent = {
        e.split(":", 1)[1]
        for s in get_workflow_of(raw).transitions
        for e in s.effects
        if e.startswith("email:")
    }
    assert checked == {
        (event, code) for event in sent | {"receipt", "resume"} for code in raw["languages"]
    }


def get_workflow_of(raw: dict):
    from workflows.engine import parse

    source = (
        Path(__file__).resolve().parent.parent
        / "workflows"
        / "definitions"
        / f"{raw['workflow']}.yaml"
    )
    return parse(yaml.safe_load(source.read_text(encoding="utf-8")), str(source))


# --- decision letters --------------------------------------------------------------------------


def words_of(template: str) -> list[str]:
    """The fixed words of a letter text: what lies between its placeholders."""
    return [" ".join(part.split()) for part in PLACEHOLDER.split(template)[::2] if part.strip()]


def letter_template(raw: dict, state: str, language: str) -> str:
    own = (raw.get("letters") or {}).get(state)
    if own:
        return own if isinstance(own, str) else own[language]
    root = Path(__file__).resolve().parent.parent
    defaults = yaml.safe_load((root / "documents" / "letters.yaml").read_text(encoding="utf-8"))
    return (defaults.get(state) or defaults["decision"])[language]


LETTERED = [
    slug
    for slug, raw in CALLS.items()
    if any("document:" in e for s in get_workflow_of(raw).transitions for e in s.effects)
]


@pytest.mark.parametrize("slug", sorted(LETTERED))
def test_every_decision_letter_exists_in_each_language_of_the_call(app, create_form, slug):
    """The PDF and the DOCX letter of every decision that makes one, in every language the
    call offers, made by the documents layer: each holds its language's fixed words, the
    decision's label in that language and the person's name."""
    import io

    import docx
    import pypdf

    from documents.letters import make_letters
    from documents.store import read
    from extensions import db
    from forms.published import spec_for
    from models import AuditEntry, FormVersion
    from services.transitions import Actor, transition

    raw = CALLS[slug]
    workflow = get_workflow_of(raw)
    made = set()
    for language in raw["languages"]:
        version_id = create_form(raw, slug=f"{slug}-{language}")
        with app.app_context():
            version = db.session.get(FormVersion, version_id)
            spec = spec_for(version)
            for step in workflow.transitions:
                if not any(e.startswith("document:") for e in step.effects):
                    continue
                submission = new_submission(version, spec, language, state=step.sources[0])
                db.session.commit()
                actor = Actor(step.actors[0])
                transition(
                    submission.id, step.name, actor, comment=None if actor.kind == "system" else "—"
                )
                entry = (
                    db.session.query(AuditEntry)
                    .filter_by(submission_id=submission.id, to_state=step.target)
                    .one()
                )
                documents = {d.kind: read(d) for d in make_letters(entry)}
                db.session.commit()
                assert set(documents) == {"letter_pdf", "letter_docx"}, (step.name, language)
                pdf = " ".join(
                    " ".join(page.extract_text().split())
                    for page in pypdf.PdfReader(io.BytesIO(documents["letter_pdf"])).pages
                )
                word = " ".join(
                    " ".join(p.text.split())
                    for p in docx.Document(io.BytesIO(documents["letter_docx"])).paragraphs
                )
                label = workflow.states[step.target]["label"]
                label = label.get(language) or label["*"]
                for text in (pdf, word):
                    for words in words_of(letter_template(raw, step.target, language)):
                        assert words in text, (step.name, language, words, text)
                    assert APPLICANT in text
                    assert label in text or "{state}" not in letter_template(
                        raw, step.target, language
                    )
                made.add((step.name, language))
    steps = {
        s.name for s in workflow.transitions if any(e.startswith("document:") for e in s.effects)
    }
    assert made == {(name, code) for name in steps for code in raw["languages"]}


def test_every_email_and_letter_text_exists_in_every_language_of_the_installation():
    """Reviewers' emails (new_submission, digest) follow the reader, not a call: every event
    an email can be about, and every default letter, in every installation language."""
    from mail.texts import SYSTEM_EVENTS, MissingText, default_text, default_texts

    for event in sorted(set(SYSTEM_EVENTS) | set(default_texts())):
        for language in LANGUAGES:
            text = default_text(event, language)
            assert text.subject.strip() and text.body.strip(), (event, language)
    with pytest.raises(MissingText):
        default_text("receipt", "fr")  # never another language's text instead
    root = Path(__file__).resolve().parent.parent
    letters = yaml.safe_load((root / "documents" / "letters.yaml").read_text(encoding="utf-8"))
    for state, texts in letters.items():
        assert set(texts) == set(LANGUAGES), state
    # Staff read every workflow's labels in the dashboard's language, whatever the call offers.
    for source in sorted((root / "workflows" / "definitions").glob("*.yaml")):
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
        labels = {f"state {n}": s["label"] for n, s in raw["states"].items()}
        labels |= {f"action {t['name']}": t["label"] for t in raw["transitions"]}
        for where, label in labels.items():
            assert set(label) == set(LANGUAGES), (source.name, where)


# --- dates and time zones ----------------------------------------------------------------------


def test_moments_are_written_in_each_languages_own_way():
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from moments import local_date, local_time_in, zone_name

    berlin = ZoneInfo("Europe/Berlin")
    moment = datetime(2030, 3, 31, 21, 59, tzinfo=ZoneInfo("UTC"))  # 23:59 in Berlin
    assert local_time_in(moment, berlin, "de") == "31. März 2030, 23:59"
    assert local_date(date(2030, 3, 31), "de") == "31. März 2030"
    assert local_date(date(2030, 3, 31), "lt") == "2030 m. kovo 31 d."
    assert local_time_in(moment, berlin, "en") == "31 March 2030, 23:59"
    assert local_time_in(moment, berlin, "pl") == "31 marca 2030, 23:59"
    assert zone_name(berlin, "de") == "Mitteleuropäische Zeit"
    assert zone_name(berlin, "en") == "Central European Time"
    assert zone_name(ZoneInfo("Europe/Warsaw"), "pl") == "czas środkowoeuropejski"


@pytest.mark.parametrize("slug", sorted(CALLS))
def test_a_calls_deadline_shows_its_time_zone_by_name_in_each_language(create_form, client, slug):
    from zoneinfo import ZoneInfo

    from babel.dates import format_date, get_timezone_name

    raw = CALLS[slug]
    create_form(raw)
    zone = ZoneInfo(raw["timezone"])
    closes = date_of(raw["closes_at"])
    for language in raw["languages"]:
        html = client.get(f"/calls/{slug}?lang={language}").get_data(as_text=True)
        assert raw["timezone"] not in html, (slug, language)  # "Europe/Berlin" means little
        assert get_timezone_name(zone, locale=language) in html, (slug, language)
        day = format_date(closes, "long", locale="en_GB" if language == "en" else language)
        assert day in html, (slug, language, day)


def date_of(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value).date()


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_error_pages_title_is_in_the_pages_language(client, language):
    html = client.get(f"/no-such-page?lang={language}").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    heading = re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)).strip()
    assert title.startswith(heading + " "), (title, heading)  # "Seite nicht gefunden (404) – …"
    if language != "en":
        assert "Not Found" not in title and "Page not found" not in title


def test_the_email_text_editor_offers_every_language_of_the_installation(app, client, create_form):
    from tests.test_admin_mail import ADMIN, _create_user
    from tests.test_auth import sign_in

    for raw in CALLS.values():
        create_form(raw)
    _create_user(app, ADMIN, "admin")
    sign_in(client, ADMIN)
    html = client.get("/dashboard/admin/emails?lang=en").get_data(as_text=True)
    for code, name in LANGUAGES.items():
        assert f"/dashboard/admin/emails/all/receipt/{code}" in html, code
        assert name in html
        page = client.get(f"/dashboard/admin/emails/all/offered/{code}")
        assert page.status_code == 200, code
    german = client.get("/dashboard/admin/emails/all/offered/de").get_data(as_text=True)
    assert "Ein Platz ist für Sie frei geworden" in german  # the German default to start from


def test_the_first_start_refuses_a_call_its_texts_do_not_cover(tmp_path):
    from app import create_app
    from forms.schema import DefinitionError

    forms = tmp_path / "forms"
    forms.mkdir()
    raw = CALLS["tolerance-requests"]
    path = write(forms / "tolerance-requests.yaml", dict(raw, languages=[*raw["languages"], "lt"]))
    with pytest.raises(DefinitionError) as refused:
        create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "k" * 40,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'first.db'}",
                "FORMDESK_FORMS_DIR": str(forms),
                "FORMDESK_LOAD_FORMS_ON_START": True,
                "FORMDESK_EMBEDDED_WORKER": False,
            }
        )
    assert f"{path}: title.lt: has no text in 'lt', which the call offers" in str(refused.value)


def _emails_of(workflow, step_name: str | None) -> set[str]:
    if not step_name:
        return set()
    step = next(t for t in workflow.transitions if t.name == step_name)
    return {e.split(":", 1)[1] for e in step.effects if e.startswith("email:")}
