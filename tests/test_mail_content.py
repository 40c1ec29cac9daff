"""What emails carry, read as a mail program would: every message through the real SMTP
server (aiosmtpd), parsed with Python's email package and `policy.strict` (a defect in a
header is an error, not a guess)."""

from __future__ import annotations

import email
import email.policy
import re
import secrets
import sys
from html import unescape

import pytest
import yaml

from config import LANGUAGES
from mail.texts import default_texts
from tests.conftest import DEMO_FORMS, ROOT, demo_definition
from tests.conftest_mail import deliver, shown_sender_name
from tests.definitions import base, window

WORKFLOWS = ROOT / "workflows" / "definitions"
DEMO_CALLS = sorted(
    yaml.safe_load(path.read_text(encoding="utf-8"))["slug"] for path in DEMO_FORMS.glob("*.yaml")
)
ONE_PAGE = [
    {
        "title": "You",
        "fields": [
            {"name": "contact_name", "type": "text", "label": "Name", "required": True},
            {"name": "email", "type": "email", "label": "Email", "required": True},
        ],
    }
]


def strictly(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.strict)


def publish(create_form, raw: dict) -> int:
    return create_form({**raw, **window()})


def resume_email(app, version_id: int, language: str, address: str = "anna@example.org"):
    """A person saves their answers for later: the event that needs least of a call (only
    an email question), so it runs on any call; every email has the same sender."""
    from extensions import db
    from forms.published import spec_for
    from models import Draft, FormVersion
    from services.notifications import draft_saved
    from services.tokens import hash_token

    with app.app_context():
        spec = spec_for(db.session.get(FormVersion, version_id))
        token = secrets.token_urlsafe(32)
        draft = Draft(
            form_version_id=version_id,
            token_hash=hash_token(token),
            language=language,
            answers={spec.applicant_email_field: address},
        )
        db.session.add(draft)
        db.session.flush()
        draft_saved(draft, token)
        db.session.commit()


def organisation_names(raw: dict) -> dict[str, str]:
    name = raw["organisation"]["name"]
    languages = raw["languages"]
    if isinstance(name, str):
        return dict.fromkeys(languages, name)
    return {lang: name.get(lang) or name[raw["default_language"]] for lang in languages}


@pytest.mark.parametrize("slug", DEMO_CALLS)
def test_the_sender_is_named_exactly_as_each_call_writes_it(app, create_form, smtp, slug):
    raw = demo_definition(slug)
    version_id = publish(create_form, raw)
    names = organisation_names(raw)
    for language in names:
        resume_email(app, version_id, language, f"{language}@example.org")
    deliver(app)
    smtp.inbox.wait_for(len(names))
    by_recipient = {str(message["To"]): message for message in map(strictly, smtp.inbox.envelopes)}
    for language, name in names.items():
        sender = by_recipient[f"{language}@example.org"]["From"].addresses[0]
        assert (sender.display_name, sender.addr_spec) == (name, "calls@formdesk.example.org")


LONG_NAMES = {
    # 90 characters and more, letters outside ASCII, commas, quotes and brackets.
    "sv": "Regionalt resurscentrum för tolerans, demokrati och mänskliga rättigheter "
    "i Östergötlands län",
    "de": "Kommunalpartnerschaft für Integration „Ostseeküste“ (Hansestadt Stralsund, "
    "Amt für Bürgerdienste)",
    "lt": "Klaipėdos miesto savivaldybės administracijos Socialinės paramos skyrius, "
    "Užsieniečių integracijos poskyris",
    "pl": "Fundacja Przykładowa Łódź, Oddział Śródmieście – Międzynarodowa Strefa "
    "Aktywności Sąsiedzkiej",
}


def test_long_names_outside_ascii_arrive_whole(app, create_form, smtp):
    assert all(len(name) >= 90 for name in LONG_NAMES.values())
    languages = sorted(LONG_NAMES)
    raw = base(
        "longname",
        ONE_PAGE,
        languages=languages,
        default_language="sv",
        title=dict.fromkeys(languages, "Ansökan"),
        organisation={"name": LONG_NAMES},
        applicant_email_field="email",
    )
    version_id = publish(create_form, raw)
    for language in languages:
        resume_email(app, version_id, language, f"{language}@example.org")
    deliver(app)
    smtp.inbox.wait_for(len(languages))
    for envelope in smtp.inbox.envelopes:
        headers = envelope.content.split(b"\r\n\r\n", 1)[0]
        assert all(len(line) <= 78 for line in headers.split(b"\r\n"))  # folded, RFC 5322
        message = strictly(envelope)  # no defect in any header
        language = str(message["To"]).split("@")[0]
        [sender] = message["From"].addresses
        assert sender.addr_spec == "calls@formdesk.example.org"
        assert "\ufffd" not in sender.display_name  # no character cut in two
        assert shown_sender_name(envelope.content) == LONG_NAMES[language]
        if sys.version_info >= (3, 13, 4):  # the parser's fix for gh-128110
            assert sender.display_name == LONG_NAMES[language]


@pytest.mark.parametrize("slug", DEMO_CALLS)
def test_automatic_emails_say_so_and_their_html_part_has_language_and_title(
    app, create_form, smtp, slug
):
    raw = demo_definition(slug)
    version_id = publish(create_form, raw)
    for language in raw["languages"]:
        resume_email(app, version_id, language, f"{language}@example.org")
    deliver(app)
    smtp.inbox.wait_for(len(raw["languages"]))
    for envelope in smtp.inbox.envelopes:
        message = strictly(envelope)
        language = str(message["To"]).split("@")[0]
        # RFC 3834: autoresponders ("I am on leave") do not answer it.
        assert message["Auto-Submitted"] == "auto-generated"
        html = message.get_body(preferencelist=("html",)).get_content()
        # The language the text is written in (English where the installation has none).
        written_in = language if language in default_texts()["resume"] else "en"
        assert f'<html lang="{written_in}">' in html
        title = re.search(r"<title>([^<]*)</title>", html).group(1)
        assert unescape(title) == str(message["Subject"]).strip() != ""


# --- no email is written before its data is complete ------------------------------------------

OPTIONAL_PLACEHOLDERS = {"comment"}  # a reviewer's message to the applicant may be empty


def empty_placeholders(template: str, filled: str) -> list[str]:
    """The placeholders of `template` that came out empty in `filled` ("Confirm it before
    , otherwise…"): the template's words around each placeholder must match, what stands
    in the placeholder's place is its value."""
    from forms.placeholders import PLACEHOLDER

    names, pattern, end = [], "", 0
    for match in PLACEHOLDER.finditer(template):
        pattern += re.escape(template[end : match.start()]) + "(.*?)"
        names.append(match.group(1))
        end = match.end()
    found = re.fullmatch(pattern + re.escape(template[end:]), filled, re.DOTALL)
    assert found, f"the text does not match its template:\n{filled}"
    return [
        name
        for name, value in zip(names, found.groups(), strict=True)
        if not value.strip() and name not in OPTIONAL_PLACEHOLDERS
    ]


def paths_to_every_state(workflow) -> dict[str, tuple[str, list]]:
    """For each state: an initial state and the transitions that lead from it there."""
    paths = {choice.target: (choice.target, []) for choice in workflow.initial}
    queue = list(paths)
    while queue:
        state = queue.pop(0)
        start, steps = paths[state]
        for step in workflow.transitions:
            if state in step.sources and step.target not in paths:
                paths[step.target] = (start, [*steps, step])
                queue.append(step.target)
    return paths


def new_submission(version_id: int, state: str, language: str, number: int) -> int:
    """A submission as the form would store it (the call's name and email answers), in
    one of its workflow's initial states."""
    from extensions import db
    from forms.published import spec_for
    from models import Answer, FormVersion, Submission
    from models.types import utcnow
    from services.tokens import new_submission_token

    version = db.session.get(FormVersion, version_id)
    spec = spec_for(version)
    nonce, _token, token_hash = new_submission_token()
    address = f"person{number}@example.org"
    # Every short text answered (the organisation's name too), the person's name last.
    answers = {
        field.name: "Hansestadt Beispielstadt" for field in spec.inputs if field.type == "text"
    }
    answers[spec.applicant_email_field] = address
    if spec.raw.get("applicant_name_field"):
        answers[spec.raw["applicant_name_field"]] = f"Person {number}"
    submission = Submission(
        form_id=version.form_id,
        form_version_id=version.id,
        reference=f"T-{number:04d}",
        token_hash=token_hash,
        token_nonce=nonce,
        state=state,
        language=language,
        applicant_email=address,
        started_at=utcnow(),
        answers=[Answer(field=k, position=i, value=v) for i, (k, v) in enumerate(answers.items())],
    )
    db.session.add(submission)
    db.session.commit()
    return submission.id


def take(submission_id: int, step) -> None:
    from datetime import date

    from services.transitions import Actor, transition

    transition(
        submission_id,
        step.name,
        Actor(step.actors[0]),
        comment="Please add the budget." if step.comment_required else None,
        scheduled_for=date(2030, 3, 4) if step.needs_date else None,
    )


def calls_for_every_workflow() -> list[str]:
    """Each demo call, and for a shipped workflow no demo call uses, a call of our own."""
    used = {
        yaml.safe_load(path.read_text(encoding="utf-8"))["workflow"]
        for path in DEMO_FORMS.glob("*.yaml")
    }
    shipped = sorted(path.stem for path in WORKFLOWS.glob("*.yaml"))
    return DEMO_CALLS + [f"workflow:{name}" for name in shipped if name not in used]


def call_for(case: str) -> dict:
    if not case.startswith("workflow:"):
        return demo_definition(case)
    return base(
        "own-workflow",
        ONE_PAGE,
        workflow=case.partition(":")[2],
        applicant_email_field="email",
        applicant_name_field="contact_name",
    )


@pytest.mark.parametrize("case", calls_for_every_workflow())
def test_no_transition_writes_an_email_with_an_empty_placeholder(app, create_form, case):
    from extensions import db
    from forms.published import spec_for
    from mail.texts import text_for
    from models import OutboxMessage
    from workflows.engine import get_workflow

    raw = call_for(case)
    raw["capacity"] = 1000  # places for every path the test takes
    version_id = publish(create_form, raw)
    number, checked = 0, set()
    with app.app_context():
        from models import FormVersion

        version = db.session.get(FormVersion, version_id)
        form_id, workflow = version.form_id, get_workflow(spec_for(version).workflow)
        paths = paths_to_every_state(workflow)
        for language in raw["languages"]:
            for step in workflow.transitions:
                for source in step.sources:
                    number += 1
                    start, steps = paths[source]
                    submission_id = new_submission(version_id, start, language, number)
                    for earlier in steps:
                        take(submission_id, earlier)
                    before = db.session.scalar(db.select(db.func.max(OutboxMessage.id))) or 0
                    take(submission_id, step)
                    for message in db.session.scalars(
                        db.select(OutboxMessage).where(OutboxMessage.id > before)
                    ):
                        text = text_for(message.kind, message.language, form_id)
                        where = f"{step.name} from {source} ({message.kind}, {language})"
                        assert empty_placeholders(text.body, message.text_body) == [], where
                        assert empty_placeholders(text.subject, message.subject) == [], where
                        checked.add((step.name, message.kind))
    emailing = {
        s.name for s in workflow.transitions if any(e.startswith("email:") for e in s.effects)
    }
    assert {name for name, _kind in checked} == emailing  # every email was seen


# --- the greeting -----------------------------------------------------------------------------

NAMED_GREETING = {
    "en": "Hello {},",
    "pl": "Dzień dobry, {},",
    "sv": "Hej {},",
    "de": "Guten Tag {},",
    "lt": "Laba diena, {},",
}
NEUTRAL_GREETING = {
    "en": "Hello,",
    "pl": "Dzień dobry,",
    "sv": "Hej,",
    "de": "Guten Tag,",
    "lt": "Laba diena,",
}


def receipt_language(language: str) -> str:
    """The greeting is in the language the receipt's text is written in: English where the
    installation has no text in the applicant's (its first line matches the rest)."""
    return language if language in default_texts()["receipt"] else "en"


def receipt_first_line(app, version_id: int, language: str, number: int) -> str:
    from extensions import db
    from models import OutboxMessage, Submission
    from services.notifications import submission_received

    with app.app_context():
        submission_id = new_submission(version_id, "received", language, number)
        submission_received(db.session.get(Submission, submission_id))
        db.session.commit()
        message = db.session.scalar(
            db.select(OutboxMessage)
            .where(OutboxMessage.kind == "receipt")
            .order_by(OutboxMessage.id.desc())
        )
        return message.text_body.splitlines()[0]


@pytest.mark.parametrize("slug", DEMO_CALLS)
def test_the_receipt_greets_the_contact_person(app, create_form, slug):
    """Not the organisation ("Hello Hansestadt Beispielstadt,"): the person the call asks
    for in `applicant_name_field`, else no name at all."""
    raw = demo_definition(slug)
    version_id = publish(create_form, raw)
    for number, language in enumerate(raw["languages"], start=1):
        written_in = receipt_language(language)
        if raw.get("applicant_name_field"):
            expected = NAMED_GREETING[written_in].format(f"Person {number}")
        else:
            expected = NEUTRAL_GREETING[written_in]
        assert receipt_first_line(app, version_id, language, number) == expected


def test_without_a_name_question_the_greeting_is_neutral_in_every_language(app, create_form):
    languages = list(LANGUAGES)
    raw = base(
        "noname",
        [{"title": "You", "fields": [{"name": "email", "type": "email", "label": "Email"}]}],
        languages=languages,
        title=dict.fromkeys(languages, "Call"),
        applicant_email_field="email",
    )
    version_id = publish(create_form, raw)
    for number, language in enumerate(languages, start=1):
        expected = NEUTRAL_GREETING[receipt_language(language)]
        assert receipt_first_line(app, version_id, language, number) == expected


def test_the_greeting_in_each_installation_language(app):
    from forms.placeholders import greeting

    with app.app_context():
        for language in LANGUAGES:
            assert greeting("", language) == NEUTRAL_GREETING[language]
            assert greeting("Anna Nowak", language) == NAMED_GREETING[language].format("Anna Nowak")
