"""The person is told what really happened, per workflow and state: the confirmation page,
the receipt as a real SMTP server receives it, and the receipt's PDF and DOCX copies.

Every demo call in forms/definitions/ is sent through the real app in every language it
offers, answered generically from its definition: a confirmed place or the waiting list
with its position (events), a review after the deadline (applications), a reply by a date
(requests)."""

from __future__ import annotations

import email.policy
import io
import re
from datetime import timedelta
from pathlib import Path

import docx
import pypdf
import pytest
import yaml

from tests.conftest import DEMO_FORMS, FormClient
from tests.conftest_mail import deliver
from tests.definitions import window

DEMO_CALLS = {
    raw["slug"]: raw
    for raw in (yaml.safe_load(p.read_text(encoding="utf-8")) for p in DEMO_FORMS.glob("*.yaml"))
}
CALL_LANGUAGES = [(slug, lang) for slug, raw in DEMO_CALLS.items() for lang in raw["languages"]]
REVIEW_AFTER_DEADLINE = "will review what you sent after the deadline"


# --- answering any call from its definition ------------------------------------------------


def field_answer(field, language: str) -> dict[str, str]:
    """Form data answering one question validly, whatever its type (groups: two items)."""
    name, kind, options = field.name, field.type, field.options
    example = field.kind.example_post(field)
    if example is not None:
        return {name + suffix: value for suffix, value in example.items()}
    if kind == "group":
        data = {}
        for index in range(min(2, options.get("max", 2))):
            for child in field.children:
                if child.is_input:
                    for key, value in field_answer(child, language).items():
                        data[f"{name}-{index}-{key}"] = value
        return data
    if kind == "file":
        return {}  # an upload is not needed to know what happened
    if kind in ("choice", "multichoice"):
        return {name: field.kind.choice_pairs(field, language)[0][0]}
    if kind == "yesno":
        return {name: "yes"}
    if kind == "consent":
        return {name: "y"}
    if kind == "email":
        return {name: f"{name.replace('_', '.')}@example.org"}
    if kind == "phone":
        return {name: "+48 600 100 200"}
    if kind == "number":
        return {name: str(options.get("min", 1))}
    if kind == "date":
        return {name: str(options.get("min", "2030-01-15"))}
    text = "Anna Przykładowa-Müller"
    if kind == "textarea":
        text = "Ein Beispiel, przykład, exempel. " * 3
    return {name: text[: options.get("max_length", len(text))]}


def send(app, slug: str, language: str) -> str:
    """Answer every page like a browser and send; the confirmation page's HTML."""
    from forms.published import spec_for
    from services.catalog import find_form

    with app.app_context():
        spec = spec_for(find_form(slug).current_version)
        pages = [
            {k: v for f in page.fields if f.is_input for k, v in field_answer(f, language).items()}
            for page in spec.pages
        ]
    client = FormClient(app.test_client())
    client.get(f"/calls/{slug}?lang={language}")
    for number, data in enumerate(pages, start=1):
        response = client.fill(slug, number, data)
        assert response.status_code == 302, (slug, number, client.last_html[:2000])
    client.get(f"/calls/{slug}/check")
    response = client.post(f"/calls/{slug}/check", {})
    assert response.status_code == 302, client.last_html[:2000]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def page_text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return " ".join(re.sub(r"<[^>]+>", " ", main).replace("&#39;", "'").split())


def flat(text: str) -> str:
    return " ".join(text.split())


def receipt_parts(message) -> dict[str, str]:
    """Subject, plain text, and the text of the attached PDF and DOCX copies."""
    strict = email.message_from_bytes(message.as_bytes(), policy=email.policy.strict)
    # Spaces flattened: how headers are folded is the mail layer's (issue 13, headers).
    parts = {
        "subject": flat(str(strict["Subject"])),
        "body": strict.get_body(("plain",)).get_content(),
    }
    for attachment in strict.iter_attachments():
        data = attachment.get_content()
        if attachment.get_content_type() == "application/pdf":
            reader = pypdf.PdfReader(io.BytesIO(data))
            parts["pdf"] = "\n".join(p.extract_text() for p in reader.pages)
        elif attachment.get_filename("").endswith(".docx"):
            document = docx.Document(io.BytesIO(data))
            cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
            parts["docx"] = "\n".join([p.text for p in document.paragraphs] + cells)
    return parts


def expected(app, slug: str, language: str, state: str, **words):
    """The words the state must show, in the call's language, from the workflow."""
    from flask_babel import force_locale, gettext

    from workflows.engine import get_workflow

    with app.app_context(), force_locale(language):
        workflow = get_workflow(DEMO_CALLS[slug]["workflow"])
        return workflow.state_label(state, language), {
            key: gettext(text, **values) for key, (text, values) in words.items()
        }


def received(smtp, count: int) -> list:
    return smtp.inbox.wait_for(count)


# --- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize(("slug", "language"), CALL_LANGUAGES)
def test_every_call_tells_its_first_state_on_the_page_in_the_receipt_and_its_copies(
    app, create_form, smtp, slug, language
):
    """Whatever the workflow, the page, the email, the PDF and the DOCX name the state the
    submission is really in and say the same thing about what comes next."""
    create_form(DEMO_CALLS[slug], **window())
    page = page_text(send(app, slug, language))
    deliver(app)
    (message,) = received(smtp, 1)
    parts = receipt_parts(message)
    from extensions import db
    from models import Submission
    from workflows.outcome import outcome_of

    with app.app_context():
        submission = db.session.query(Submission).one()
        outcome = outcome_of(submission, language)
    assert outcome.next_steps, "a first state always says what comes next"
    assert outcome.heading in page and outcome.heading in parts["subject"]
    for where in ("body", "pdf", "docx"):
        assert outcome.state_label in flat(parts[where]), where
    for sentence in outcome.next_steps:
        assert sentence in page
        assert sentence in flat(parts["body"])
        for where in ("pdf", "docx"):
            assert sentence in flat(parts[where]), (where, sentence)
    if language != "en":
        assert REVIEW_AFTER_DEADLINE not in page + parts["body"]


def test_an_event_registrant_reads_a_confirmed_place_never_a_review(app, create_form, smtp):
    create_form(DEMO_CALLS["study-visit-stralsund"], **window())
    page = page_text(send(app, "study-visit-stralsund", "en"))
    assert "Your place is confirmed" in page
    assert "Status: Confirmed" in page
    assert "2 places are booked for you." in page  # the delegation's two participants
    assert REVIEW_AFTER_DEADLINE not in page
    deliver(app)
    parts = receipt_parts(received(smtp, 1)[0])
    assert parts["subject"].startswith("Registration: study visit in Stralsund")
    assert "Your place is confirmed" in parts["subject"]
    assert "Status: Confirmed\n2 places are booked for you." in parts["body"]
    assert REVIEW_AFTER_DEADLINE not in parts["body"]
    for where in ("pdf", "docx"):
        assert "Confirmed" in parts[where] and "2 places are booked for you." in flat(parts[where])


@pytest.mark.parametrize("language", ["en", "pl", "de"])
def test_a_full_event_puts_the_next_ones_on_the_waiting_list_with_their_position(
    app, create_form, smtp, language
):
    """Two seats: the first delegation (two people) fills them; the next two wait, second
    behind first, and each is told their number, in their language."""
    create_form(DEMO_CALLS["study-visit-stralsund"], capacity=2, **window())
    pages = [page_text(send(app, "study-visit-stralsund", language)) for _ in range(3)]
    deliver(app)
    messages = received(smtp, 3)
    assert len(messages) == 3
    by_reference = {}
    for message in messages:
        parts = receipt_parts(message)
        by_reference[re.search(r"\(([A-Z]+-\d{4}-\d{4})\)$", parts["subject"]).group(1)] = parts
    references = sorted(by_reference)
    confirmed, first, second = (by_reference[r] for r in references)

    label, words = expected(
        app,
        "study-visit-stralsund",
        language,
        "waitlisted",
        heading=("You are on the waiting list", {}),
        one=("You are number %(position)d on the waiting list.", {"position": 1}),
        two=("You are number %(position)d on the waiting list.", {"position": 2}),
    )
    assert words["heading"] in pages[1] and words["one"] in pages[1]
    assert words["heading"] in pages[2] and words["two"] in pages[2]
    assert words["heading"] not in pages[0]
    for parts, number in ((first, "one"), (second, "two")):
        assert words["heading"] in parts["subject"]
        assert label in parts["body"] and words[number] in flat(parts["body"])
        for where in ("pdf", "docx"):
            assert label in parts[where] and words[number] in flat(parts[where]), where
    assert words["heading"] not in confirmed["subject"]
    assert label not in confirmed["body"]
    if language == "en":
        assert "If 2 places become free, we will offer them to you by email." in first["body"]
        assert "You will then have 48 hours to confirm." in first["body"]
    # A calendar entry only for the seat really held.
    calendars = {
        re.search(r"\(([A-Z]+-\d{4}-\d{4})\)$", flat(str(m["Subject"]))).group(1): [
            part for part in m.walk() if part.get_content_type() == "text/calendar"
        ]
        for m in messages
    }
    assert [len(calendars[r]) for r in references] == [1, 0, 0]


def test_a_request_is_told_by_when_the_reply_comes(app, create_form, smtp):
    from zoneinfo import ZoneInfo

    from babel.dates import format_date

    create_form(DEMO_CALLS["tolerance-requests"], **window())
    page = page_text(send(app, "tolerance-requests", "sv"))
    from extensions import db
    from models import Submission

    with app.app_context():
        sent = db.session.query(Submission).one().submitted_at
    day = (sent + timedelta(days=14)).astimezone(ZoneInfo("Europe/Stockholm")).date()
    promise = f"Vi svarar senast {format_date(day, 'd MMMM y', locale='sv')}."
    assert "Förfrågan mottagen" in page and "Status: Mottagen" in page and promise in page
    assert "granskar" not in page and "efter sista ansökningsdagen" not in page
    deliver(app)
    parts = receipt_parts(received(smtp, 1)[0])
    assert parts["subject"].startswith("Förfrågan till det regionala resurscentrumet")
    assert "Förfrågan mottagen" in parts["subject"]
    assert promise in parts["body"] and promise in flat(parts["pdf"])


def test_an_application_is_told_it_is_reviewed_after_the_deadline(app, create_form, smtp):
    create_form(DEMO_CALLS["msas"])  # closes 21 January 2030, 23:59 in Warsaw
    page = page_text(send(app, "msas", "pl"))
    assert "Otrzymaliśmy Twoje zgłoszenie" in page and "Status: Złożone" in page
    assert "21 stycznia 2030, 23:59" in page
    deliver(app)
    parts = receipt_parts(received(smtp, 1)[0])
    assert "Stan: Złożone" in parts["body"] and "21 stycznia 2030, 23:59" in parts["body"]


def test_a_waiting_state_must_say_by_when_a_reply_comes(tmp_path: Path):
    from workflows.engine import WorkflowError, parse

    raw = {
        "initial": "new",
        "states": {"new": {"label": "New", "awaits": "reply"}},
        "transitions": [],
    }
    with pytest.raises(WorkflowError, match="reply_within_days"):
        parse(raw, "w.yaml")
    raw["states"]["new"]["awaits"] = "something"
    with pytest.raises(WorkflowError, match="'awaits' must be one of"):
        parse(raw, "w.yaml")
    raw["states"]["new"] = {"label": "New", "awaits": "reply", "reply_within_days": 10}
    assert parse(raw, "w.yaml").reply_within_days("new") == 10


# --- "save and continue later" says the link was emailed only when it is ----------------------

EMAILED = "We have also sent this link by email to"


def save_half(client, create_form, email: str | None) -> str:
    from tests.definitions import multi_page

    create_form(multi_page(), applicant_email_field="contact_email")
    answers = {"service": "visit", **({"contact_email": email} if email else {})}
    client.fill("multi", 1, answers, action="save")
    return page_text(client.get("/calls/multi/saved").get_data(as_text=True))


def test_the_saved_page_says_where_the_link_was_emailed_and_it_arrives(
    app, client, create_form, smtp
):
    page = save_half(client, create_form, "half@example.org")
    assert f"{EMAILED} half@example.org." in page
    link = re.search(r"(http://formdesk\.test/resume/\S+)", page).group(1)
    deliver(app)
    (message,) = received(smtp, 1)
    assert message["To"] == "half@example.org"
    assert link in message.get_body(("plain",)).get_content()


def test_the_saved_page_claims_no_email_without_an_address(app, client, create_form, smtp):
    assert EMAILED not in save_half(client, create_form, None)
    deliver(app)
    assert smtp.inbox.messages == []


def test_the_saved_page_claims_no_email_when_no_mail_server_is_set(app, client, create_form):
    """Without a mail server the message is only written to a file on the server."""
    assert not app.config.get("MAIL_SERVER")
    assert EMAILED not in save_half(client, create_form, "half@example.org")
