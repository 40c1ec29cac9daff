"""Issue #16's "must show", in a real browser (Debian's chromium through Playwright), on the
app served as `make run` serves it, its mail going to a real SMTP server.

An admin builds a NEW call from scratch on the builder's pages only (English and Polish, a
conditional question, a file question, a repeatable group, every required setting), looks
at the builder's preview of its pages in both languages, sends a test submission through the
call's preview link and publishes it. An applicant applies (with a file). The admin renames a
question (its label; its key stays), adds another and republishes; a second applicant applies.
Then, reading the dashboard and the export as staff do (and the first applicant's own page):
the first submission shows its own questions with its answers (the renamed question under its
old label, its answer attached), the second shows the new ones; the export has one column per
question key, named as it is now, with the first answer in the renamed column; the test
submission is marked as a test, listed only among the tests, and counted and exported nowhere."""

from __future__ import annotations

import csv
import io
import re

from tests.browser import ROOT
from tests.builder_browser import (
    SMALL_GRANTS,
    TITLE,
    Builder,
    build_small_grants,
    click_and_wait,
    sign_in,
)
from tests.journey import Journey, call_from_database, plan_for
from tests.test_journeys import (  # noqa: F401 (the fixtures: journey_server and its parts)  # noqa: F401 (fixtures)
    REFERENCE,
    STAFF_PASSWORD,
    fill_and_send,
    journey_database,
    journey_server,
    receipt_for,
    smtp_server,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture reports it
    expect = None

ADMIN = "journey-admin@example.org"
TEST_REFERENCE = re.compile(r"\bTEST-[A-Z0-9-]+\b")
OLD_LABEL = {"en": "Project summary", "pl": "Streszczenie projektu"}
NEW_LABEL = {"en": "Project description", "pl": "Opis przedsięwzięcia"}
AMOUNT = {"en": "Amount requested in euro", "pl": "Wnioskowana kwota w euro"}


def apply(browser, base: str, spec, language: str, start: str | None = None) -> Journey:
    """A person applies in the browser (tests/journey.py answers every shown question, a
    file in the file question, two items in the group) and reads the reference."""
    journey = Journey(spec, plan_for(spec, language), base)
    journey.plan.change = None  # no change from the check page here (test_journeys does it)
    context = browser.new_context(locale=language, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        fill_and_send(page, journey, start=start)
        confirmation = page.locator("main").inner_text()
        found = TEST_REFERENCE.search(confirmation) if start else REFERENCE.search(confirmation)
        assert found, f"no reference on the confirmation page:\n{confirmation}"
        journey.reference = found.group(0)
        journey.confirmation = confirmation
        status = page.locator('a[href*="/s/"]')
        journey.status_link = status.first.get_attribute("href") if status.count() else ""
    finally:
        context.close()
    return journey


def texts_of(answers) -> list[str]:
    """Every typed answer (a group's items too), as one line, at most 60 characters."""
    if isinstance(answers, dict):
        return [words for value in answers.values() for words in texts_of(value)]
    if isinstance(answers, list):
        return [words for value in answers for words in texts_of(value)]
    if isinstance(answers, str) and answers not in ("yes", "no", "file"):
        return [" ".join(answers.split())[:60]]
    return []


def submission_page(page, base: str, reference: str, tests: bool = False) -> str:
    """The submission's page in the dashboard, found by its reference in the list."""
    page.goto(f"{base}/dashboard/submissions?q={reference}" + ("&tests=1" if tests else ""))
    click_and_wait(page, page.get_by_role("link", name=reference, exact=True).first)
    return page.locator("main").inner_text()


def export_table(page, url: str) -> list[list[str]]:
    """A CSV export as staff download it (the page's session)."""
    response = page.request.get(url)
    assert response.ok, response.status
    return list(csv.reader(io.StringIO(response.text().lstrip("\ufeff"))))


def test_an_admin_builds_publishes_and_changes_a_call_in_the_browser(
    journey_server,  # noqa: F811 (the fixture imported above)
    smtp_server,  # noqa: F811 (the fixture imported above)
    browser,
):
    base = journey_server.url
    database = journey_server.env["DATABASE_URL"]
    context = browser.new_context(locale="en-GB", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, base, ADMIN, STAFF_PASSWORD)
    builder = Builder(page, base, SMALL_GRANTS)
    try:
        # -- the admin builds the call, previews it, tests it and makes it live -------------
        build_small_grants(builder)
        shown = {language: builder.preview(1, language) for language in ("en", "pl")}
        assert "Contact name" in shown["en"] and "Do you apply for an organisation?" in shown["en"]
        assert "Imię i nazwisko osoby kontaktowej" in shown["pl"]
        assert "Czy składasz wniosek za organizację?" in shown["pl"]
        second = {language: builder.preview(2, language) for language in ("en", "pl")}
        for language, words in (("en", "Team members"), ("pl", "Członkowie zespołu")):
            assert words in second[language] and OLD_LABEL[language] in second[language]
        assert "Budget" in second["en"] and "Budżet" in second["pl"]

        # the preview link shows the draft (not published yet): a test, in Polish
        link = builder.preview_link()
        test = apply(browser, base, call_from_database(database, SMALL_GRANTS, draft=True),
                     "pl", start=link)  # fmt: skip
        builder.publish()
        spec_v1 = call_from_database(database, SMALL_GRANTS)

        # -- an applicant applies to version 1, with a file ----------------------------------
        first = apply(browser, base, spec_v1, "en")
        receipt_for(smtp_server.inbox, first)  # the receipt reaches a real SMTP server

        # -- the admin renames a question, adds one and republishes --------------------------
        builder.relabel("summary", NEW_LABEL)
        builder.add_question("amount", "number", AMOUNT, page=2)
        changes = builder.publish()
        flat = " ".join(changes.split())
        assert f"“{OLD_LABEL['en']}” becomes “{NEW_LABEL['en']}”" in flat, changes
        assert "Questions added" in flat and AMOUNT["en"] in flat, changes
        # who is already in the call: one sent submission (the test is not counted)
        assert "1 sent submission keeps its questions and answers" in flat, changes
        spec_v2 = call_from_database(database, SMALL_GRANTS)
        assert spec_v2.raw != spec_v1.raw
        second_person = apply(browser, base, spec_v2, "en")

        # -- what staff read -------------------------------------------------------------------
        summary, amount = builder.keys["summary"], builder.keys["amount"]
        old = submission_page(page, base, first.reference)
        assert OLD_LABEL["en"] in old and NEW_LABEL["en"] not in old, old
        assert AMOUNT["en"] not in old
        assert "journey.pdf" in old  # the file question's answer
        missing = [words for words in texts_of(first.answers) if words not in " ".join(old.split())]
        assert not missing, f"the first submission's page lacks {missing}"
        assert first.answers[summary] and first.answers[builder.keys["team"]]
        new = submission_page(page, base, second_person.reference)
        assert NEW_LABEL["en"] in new and OLD_LABEL["en"] not in new, new
        assert AMOUNT["en"] in new
        missing = [w for w in texts_of(second_person.answers) if w not in " ".join(new.split())]
        assert not missing, f"the second submission's page lacks {missing}"

        # the first applicant's own page: their questions (version 1) and their answers
        person = browser.new_context(locale="en-GB")
        mine = person.new_page()
        mine.goto(first.status_link)
        own = " ".join(mine.locator("main").inner_text().split())
        person.close()
        assert OLD_LABEL["en"] in own and NEW_LABEL["en"] not in own and AMOUNT["en"] not in own
        assert " ".join(str(first.answers[summary]).split())[:60] in own, own

        # the test: marked as one, in the list of tests only; in no count, no export
        tested = submission_page(page, base, test.reference, tests=True)
        assert test.reference in tested
        page.goto(f"{base}/dashboard/submissions?form={SMALL_GRANTS}&tests=1")
        listed = page.locator("main").inner_text()
        assert test.reference in listed and first.reference not in listed  # tests only
        row = page.locator("tr", has=page.get_by_role("link", name=test.reference, exact=True))
        expect(row.locator(".tag-test")).to_be_visible()
        page.goto(f"{base}/dashboard/submissions?form={SMALL_GRANTS}")
        listed = page.locator("main").inner_text()
        assert test.reference not in listed, "a test in the call's list of submissions"
        assert first.reference in listed and second_person.reference in listed

        page.goto(f"{base}/dashboard/")
        heading = page.get_by_role("heading", name=TITLE["en"])
        overview = page.locator("section.overview", has=heading)
        submitted = overview.locator("tr", has=page.get_by_role("link", name="Submitted"))
        expect(submitted.locator("td")).to_have_text("2")  # the two applicants, not the test
        csv_link = overview.get_by_role("link", name="CSV").first.get_attribute("href")

        table = export_table(page, base + csv_link)
        header = table[0]
        assert NEW_LABEL["en"] in header and AMOUNT["en"] in header, header
        assert OLD_LABEL["en"] not in " ".join(header)  # a column per key, named as it is now
        exported = [row for row in table[1:] if row]
        assert len(exported) == 2, exported
        assert not any(test.reference in row for row in table), "the test is exported"
        old_row = next(row for row in exported if first.reference in row)
        new_row = next(row for row in exported if second_person.reference in row)
        words = " ".join(str(first.answers[summary]).split())
        assert " ".join(old_row[header.index(NEW_LABEL["en"])].split()) == words  # attached
        assert old_row[header.index(AMOUNT["en"])] == ""  # not asked on version 1
        assert new_row[header.index(AMOUNT["en"])] == str(second_person.answers[amount])
    finally:
        keep_last_page(page)
        context.close()


def keep_last_page(page) -> None:
    """test-results/builder-journey.{png,html}: the page the test ended on (a failure's)."""
    folder = ROOT / "test-results"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / "builder-journey.png"), full_page=True)
    (folder / "builder-journey.html").write_text(page.content(), encoding="utf-8")
