"""Every call in forms/definitions/, in every language it offers, driven as a person does it:
a browser answers every question and sends, then the test reads what the person gets (the
confirmation page, the receipt as a real SMTP server receives it, its PDF and DOCX, the
applicant's page) and asserts its language, the person's name, the state, the sender's name
and that no placeholder is raw or empty. Then staff take every transition of the call's
workflow in the dashboard (the applicant the ones that are theirs) and every email, letter and
page that results is read the same way (tests/journey_transitions.py).

Generic: a call added to forms/definitions/ is driven by the same code, and so is a call that
exists only in the database: one built from scratch on the builder's pages and published there
(test_the_journey_on_a_call_built_in_the_browser; its spec is read from its published
version, as the app reads it)."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from urllib.parse import urlparse

import pytest
from babel.dates import format_time
from sqlalchemy import text as sql_text

from tests.browser import ROOT
from tests.conftest import POSTGRES_BASE, _admin_execute
from tests.conftest_mail import SmtpServer
from tests.journey import (
    Journey,
    answer_lines,
    answers_missing,
    attachments,
    body_text,
    call,
    call_languages,
    docx_text,
    pdf_text,
    placeholder_problems,
    plan_for,
    sender_name,
    strict_message,
    typed_answers,
)
from tests.journey_transitions import Walk, Workflow, walk_everything_and_export
from tests.language_bank import foreign_sentences

STAFF_PASSWORD = "journey staff password 2030"  # noqa: S105 (test account)
REFERENCE = re.compile(r"\b[A-Z]{2,8}-\d{4}-\d{4}\b")


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def journey_database(live_server):
    """The server's database: its SQLite file, or on a PostgreSQL run a database of its own
    (each journey starts from the demo calls alone)."""
    if os.environ.get("FORMDESK_TEST_DATABASE") != "postgresql":
        yield f"sqlite:///{live_server.env['FORMDESK_INSTANCE_PATH']}/formdesk.db"
        return
    name = f"formdesk_journey_{os.getpid()}_{live_server.port}"
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    yield POSTGRES_BASE.rsplit("/", 1)[0] + "/" + name
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def journey_server(live_server, smtp_server, journey_database):
    """The app as `make run` serves it, its mail going to a real SMTP server, and an admin."""
    live_server.stop()
    live_server.env.update(
        FLASK_MAIL_SERVER="127.0.0.1",
        FLASK_MAIL_PORT=str(smtp_server.port),
        FLASK_MAIL_DEFAULT_SENDER="calls@formdesk.example.org",
        FLASK_FORMDESK_PUBLIC_URL=live_server.url,
        FLASK_FORMDESK_WORKER_POLL_SECONDS="0.5",
        DATABASE_URL=journey_database,
    )
    live_server.start(timeout=60)
    created = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "flask", "--app", "app", "users", "create",
         "journey-admin@example.org", "--role", "admin"],
        cwd=ROOT, env=live_server.env, input=f"{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n",
        text=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert created.returncode == 0, created.stdout + created.stderr
    return live_server


class Reader:
    """Reads a text meant for one person in one language and collects every problem."""

    def __init__(self, journey: Journey):
        self.journey = journey
        self.problems: list[str] = []
        self.read_texts: list[str] = []  # what was read, in order: the journey's record

    def read(self, where: str, text: str, *, must_contain: tuple[str, ...] = ()) -> str:
        self.read_texts.append(where)
        language = self.journey.language
        for sentence in foreign_sentences(text, language):
            self.problems.append(f"{where}: not in {language}: {sentence!r}")
        for problem in placeholder_problems(text):
            self.problems.append(f"{where}: {problem}")
        flat = " ".join(text.split())
        for wanted in must_contain:
            if " ".join(wanted.split()) not in flat:
                self.problems.append(f"{where}: does not say {wanted!r}")
        return text

    def read_for(self, where, text, case, name=False, sender=None, state=None) -> str:
        """Reading for the walk: `case` is one of the call's submissions; `state`, when
        given, is the one the text must name."""
        spec = self.journey.spec
        person = [case.plan.person] if name and spec.raw.get("applicant_name_field") else []
        if state:
            person.append(state_label(self.journey, state))
        if sender is not None:
            shown = sender_name(sender)
            if shown != organisation_name(self.journey):
                self.problems.append(f"{where}: sender {shown!r}")
        return self.read(f"{case.reference} {where}", text, must_contain=tuple(person))

    def record(self) -> None:
        """test-results/journeys/<call>-<language>.txt: every text read, then the problems."""
        folder = ROOT / "test-results" / "journeys"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{self.journey.spec.slug}-{self.journey.language}.txt"
        lines = [*self.read_texts, "", "problems:", *self.problems]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")

    def assert_none(self) -> None:
        self.record()
        assert not self.problems, "\n".join(self.problems)


def fill_and_send(page, journey: Journey, start: str | None = None) -> None:
    """`start`: where the call's page is (its preview link), when not at /calls/<slug>."""
    spec = journey.spec
    page.goto(start or f"{journey.base}/calls/{spec.slug}")
    assert page.locator("html").get_attribute("lang") == journey.language
    with page.expect_navigation():
        page.locator("a.button.start").click()
    for page_spec in spec.pages:
        assert path_of(page).endswith(f"/page/{page_spec.index + 1}"), page.url
        journey.answer_page(page, page_spec)
        with page.expect_navigation():
            page.locator('button[name="action"][value="continue"]').click()
        errors = page.locator(".error-summary")
        assert errors.count() == 0, f"page {page_spec.index + 1}: {errors.inner_text()}"
    assert path_of(page).endswith("/check"), page.url
    if journey.plan.change:
        change_from_check_page(page, journey)
    journey.check_page = page.locator("main").inner_text()
    journey.sent_at = datetime.now(UTC)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/confirmation"))


def path_of(page) -> str:
    """The page's path: a redirect keeps the fragment of the page before it."""
    return urlparse(page.url).path


def change_from_check_page(page, journey: Journey) -> None:
    """Change an answer that decides which questions show, answer what it reveals, and come
    back to the check page with the new answers."""
    name, value = journey.plan.change
    journey.plan.changed = True
    if value:
        journey.plan.choice[name] = value
    page.locator(f'a[href*="return=check"][href$="#{name}"], '
                 f'a[href*="return=check"][href$="#{name}-0"]').first.click()  # fmt: skip
    page.wait_for_url(re.compile(r"/page/\d+"))
    while not path_of(page).endswith("/check"):
        number = int(re.search(r"/page/(\d+)", path_of(page)).group(1))
        page_spec = journey.spec.pages[number - 1]
        journey.answer_page(page, page_spec)
        with page.expect_navigation():
            page.locator('button[name="action"][value="continue"]').click()
        errors = page.locator(".error-summary")
        assert errors.count() == 0, f"after the change: {errors.inner_text()}"
    shown = page.locator("main").inner_text()
    label = _choice_label(journey, name, value) if value else journey.answers[name]
    assert label in shown, f"the check page does not show the changed answer {label!r}"


def _choice_label(journey: Journey, name: str, value: str) -> str:
    for page_spec in journey.spec.pages:
        for f in page_spec.fields:
            if f.name == name:
                if f.type == "yesno":  # posted "yes" or "no": the page says Yes or No
                    from babel.support import Translations

                    words = Translations.load(ROOT / "translations", [journey.language])
                    return words.gettext("Yes" if value == "yes" else "No")
                for choice in f.options.get("choices", []):
                    if str(choice["value"]) == value:
                        return f.localise(choice["label"], journey.language)
    raise KeyError(name)


def state_label(journey: Journey, state: str) -> str:
    import yaml

    path = ROOT / "workflows" / "definitions" / f"{journey.spec.workflow}.yaml"
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    labels = workflow["states"][state]["label"]
    assert journey.language in labels, f"state {state} has no {journey.language} label"
    return labels[journey.language]


def organisation_name(journey: Journey) -> str:
    name = journey.spec.raw["organisation"]["name"]
    return journey.spec.localise(name, journey.language) if isinstance(name, dict) else name


def receipt_for(inbox, journey: Journey, timeout: float = 90):
    """The receipt as the SMTP server received it, parsed strictly."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for envelope in list(inbox.envelopes):
            if journey.email in envelope.rcpt_tos:
                message = strict_message(envelope.content)
                if journey.reference in str(message["Subject"]):
                    return message
        time.sleep(0.2)
    raise AssertionError(f"no receipt for {journey.reference} to {journey.email}")


def journeys() -> list[tuple[str, str]]:
    """Every call in every language on SQLite; on the PostgreSQL run each call in its default
    language only (the database does not change with the language; CI time does)."""
    if os.environ.get("FORMDESK_TEST_DATABASE") != "postgresql":
        return call_languages()
    return [(slug, language) for slug, language in call_languages()
            if language == call(slug).default_language]  # fmt: skip


@pytest.mark.parametrize(("slug", "language"), journeys())
def test_a_person_applies_and_reads_what_they_get(
    journey_server, smtp_server, browser, slug, language
):
    a_person_applies_and_reads_what_they_get(
        journey_server, smtp_server, browser, call(slug), language
    )


# The call built in the browser offers English (its default) and Polish; on the PostgreSQL
# run, as for the demo calls, its default language only.
BUILT_LANGUAGES = (
    ["en"] if os.environ.get("FORMDESK_TEST_DATABASE") == "postgresql" else ["en", "pl"]
)


@pytest.mark.parametrize("language", BUILT_LANGUAGES)
def test_the_journey_on_a_call_built_in_the_browser(journey_server, smtp_server, browser, language):
    """The same journey, on a call that exists only in the database: built from scratch on
    the builder's pages (tests/builder_browser.py: two languages, a yes-or-no question that
    shows another, a file, a repeatable group) and published there. Its spec is read from
    its published version, as the app reads it."""
    from tests.builder_browser import SMALL_GRANTS, Builder, build_small_grants, sign_in
    from tests.journey import call_from_database

    context = browser.new_context(locale="en-GB", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, journey_server.url, "journey-admin@example.org", STAFF_PASSWORD)
    builder = Builder(page, journey_server.url, SMALL_GRANTS)
    build_small_grants(builder)
    builder.publish()
    context.close()
    spec = call_from_database(journey_server.env["DATABASE_URL"], SMALL_GRANTS)
    assert sorted(spec.languages) == ["en", "pl"]
    a_person_applies_and_reads_what_they_get(journey_server, smtp_server, browser, spec, language)


def a_person_applies_and_reads_what_they_get(journey_server, smtp_server, browser, spec, language):
    journey = Journey(spec, plan_for(spec, language), journey_server.url)
    context = browser.new_context(locale=language, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    reader = Reader(journey)

    fill_and_send(page, journey)
    confirmation = page.locator("main").inner_text()
    journey.reference = REFERENCE.search(confirmation).group(0)
    journey.status_link = page.locator('a[href*="/s/"]').first.get_attribute("href")
    receipt = receipt_for(smtp_server.inbox, journey)
    state = applicant_state(page, journey, reader)
    label = state_label(journey, state)
    # what really happened, in the state's own words, wherever it is told
    reader.read("confirmation page", confirmation, must_contain=(journey.reference, label))
    shown, written = sender_name(receipt), organisation_name(journey)
    if shown != written:
        reader.problems.append(f"receipt: sender {shown!r}, the call says {written!r}")
    name = [journey.plan.person] if spec.raw.get("applicant_name_field") else []
    reader.read("receipt subject", str(receipt["Subject"]), must_contain=(journey.reference,))
    reader.read("receipt", body_text(receipt), must_contain=(journey.reference, label, *name))
    files = attachments(receipt)
    pdfs = [data for filename, data in files.items() if filename.endswith(".pdf")]
    docxs = [data for filename, data in files.items() if filename.endswith(".docx")]
    assert len(pdfs) == 1 and len(docxs) == 1, f"receipt attachments: {sorted(files)}"
    for kind, text in (("receipt PDF", pdf_text(pdfs[0])), ("receipt DOCX", docx_text(docxs[0]))):
        reader.read(kind, text, must_contain=(journey.reference, label, *name))
    # Each answer given from its field type's example reads as that type shows it, wherever
    # the person and the staff read it.
    lines = answer_lines(journey)
    for where, text in (
        ("check page", journey.check_page),
        ("receipt", body_text(receipt)),
        ("receipt PDF", pdf_text(pdfs[0])),
        ("receipt DOCX", docx_text(docxs[0])),
    ):
        for line in answers_missing(text, lines):
            reader.problems.append(f"{where}: lacks the answer {line!r}")

    walk = Walk(
        journey,
        Workflow.named(spec.workflow),
        staff_signed_in(context, journey_server.url, language),
        smtp_server.inbox,
        reader.read_for,
        journey_server.env["DATABASE_URL"],
    )
    walk.seen_mail[journey.email] = 1  # the receipt, read above
    read_typed_answers_as_staff(walk, journey, reader)
    try:
        walk_everything_and_export(walk)
    finally:
        reader.read_texts += [f"taken: {name} {reference}" for name, reference in walk.taken]
        reader.record()
    taken = {name for name, _ in walk.taken}
    everything = {t.name for t in walk.workflow.transitions}
    assert taken == everything, f"transitions never taken: {sorted(everything - taken)}"
    context.close()
    reader.assert_none()


def read_typed_answers_as_staff(walk: Walk, journey: Journey, reader: Reader) -> None:
    """The submission's dashboard page and the call's CSV export hold each answer given from
    its type's example: the page as the type shows it, the export as its cell."""
    typed = typed_answers(journey)
    if not typed:
        return
    staff = walk.staff
    staff.goto(f"{journey.base}/dashboard/submissions?q={journey.reference}")
    with staff.expect_navigation():
        staff.get_by_role("link", name=journey.reference, exact=True).first.click()
    detail = staff.locator("main").inner_text()
    for line in answers_missing(detail, answer_lines(journey)):
        reader.problems.append(f"dashboard: lacks the answer {line!r}")
    with walk._engine().connect() as connection:
        form_id = connection.execute(
            sql_text("SELECT id FROM forms WHERE slug = :slug"), {"slug": journey.spec.slug}
        ).scalar_one()
    url = f"{journey.base}/dashboard/exports/{form_id}.csv?lang={journey.language}"
    table = list(csv.reader(io.StringIO(staff.request.get(url).text().lstrip("\ufeff"))))
    row = next((r for r in table if journey.reference in r), None)
    assert row is not None, f"the export has no row for {journey.reference}"
    for f, stored in typed:
        cell = f.kind.spreadsheet_value(stored, f, journey.language)
        wanted = cell.isoformat() if hasattr(cell, "isoformat") else str(cell)
        if wanted not in row:
            reader.problems.append(f"export: {f.name} is {wanted!r} nowhere in {row}")


def staff_signed_in(context, base: str, language: str):
    """An admin in the dashboard, in the call's language (staff read the call's language)."""
    page = context.new_page()
    page.goto(f"{base}/login?lang={language}")
    page.locator("#email").fill("journey-admin@example.org")
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/dashboard"))
    return page


def applicant_state(page, journey: Journey, reader: Reader) -> str:
    """The applicant's page: its state label, in the journey's language, and the time it was
    sent in the call's time zone. Returns the state's name."""
    import yaml

    page.goto(journey.status_link)
    text = page.locator("main").inner_text()
    path = ROOT / "workflows" / "definitions" / f"{journey.spec.workflow}.yaml"
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    shown = [
        name
        for name, state in workflow["states"].items()
        if state["label"].get(journey.language, "\0").casefold() in text.casefold()
    ]
    assert shown, f"the applicant's page names no state in {journey.language}:\n{text}"
    reader.read("applicant's page", text, must_contain=(journey.reference,))
    local = journey.sent_at.astimezone(journey.spec.timezone)
    times = {format_time(t, "HH:mm") for t in (local, local.replace(second=0))}
    if re.search(r"\b\d{1,2}[:.]\d{2}\b", text) and not any(t in text for t in times):
        reader.problems.append(f"applicant's page: no time in {journey.spec.timezone.key}")
    return shown[0]
