"""Driving the call builder (/dashboard/build/) in a real browser, as an organiser does it:
one page at a time, by its links, labels and buttons, never by posting to it directly.

Shared by tests/test_browser_builder_journey.py (a call built from scratch, changed and
republished) and tests/test_journeys.py (the generic journey on a call built here). Each
step checks that the page took it (no error summary) and says which page refused what."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture reports it
    expect = None


def by_id(page, element_id: str):
    """An element by its id, which on the builder's pages often holds dots (title.en)."""
    return page.locator(f'[id="{element_id}"]')


def no_problem(page, where: str) -> None:
    """The page shows no error summary and no message beside a field."""
    shown = page.locator(".error-summary, .error-message")
    if shown.count():
        raise AssertionError(f"{where}: the builder refused it ({page.url}):\n"
                             + "\n".join(t.strip() for t in shown.all_inner_texts()))  # fmt: skip


def click_and_wait(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def sign_in(page, base: str, email: str, password: str, language: str = "en") -> None:
    page.goto(f"{base}/login?lang={language}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    click_and_wait(page, page.locator("main form button[type=submit]"))
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))


def fill_texts(page, name: str, texts: dict[str, str]) -> None:
    """A text in each language, side by side: the inputs <name>.<language>."""
    for language, words in texts.items():
        by_id(page, f"{name}.{language}").fill(words)


@dataclass
class Builder:
    """One organiser's browser tab on one call in the builder."""

    page: object
    base: str
    slug: str
    keys: dict[str, str] = field(default_factory=dict)  # our name for a question → its key
    places_of: dict[str, str] = field(default_factory=dict)  # … → its place in addresses (0.2)

    @property
    def home(self) -> str:
        return f"{self.base}/dashboard/build/{self.slug}/"

    # ---- the call -------------------------------------------------------------------------

    def create(self, title: str, language: str, *, demo: str | None = None) -> None:
        """From the calls list: Create a call, from scratch (or from a demo call)."""
        page = self.page
        page.goto(f"{self.base}/dashboard/build/")
        click_and_wait(page, page.locator('a[href$="/dashboard/build/new"]').first)
        if demo:
            page.locator("#source-demo").check()
            page.locator("#demo").select_option(demo)
        else:
            page.locator("#source-blank").check()
        page.locator("#slug").fill(self.slug)
        page.locator("#title").fill(title)
        page.locator("#language").select_option(language)
        click_and_wait(page, page.get_by_role("button", name="Create the call"))
        no_problem(page, "create a call")
        expect(page.locator("h1")).to_have_text(title)

    def task(self, name: str) -> None:
        """Open a task from the call's task list, by its link text."""
        self.page.goto(self.home)
        click_and_wait(self.page, self.page.get_by_role("link", name=name, exact=True))

    def save_settings(self, where: str) -> None:
        click_and_wait(self.page, self.page.locator('main form button[value="save"]'))
        no_problem(self.page, where)
        expect(self.page.get_by_role("status")).to_contain_text("Saved")

    def languages(self, languages: list[str], default: str) -> None:
        self.task("Languages")
        for box in self.page.locator('input[name="languages"]').all():
            if (box.get_attribute("value") in languages) != box.is_checked():
                box.click()
        self.page.locator("#default_language").select_option(default)
        self.save_settings("Languages")

    def details(self, values: dict) -> None:
        """Call details: texts as {language: words}, the others as strings; a question
        setting (applicant_email_field) as the question's key."""
        self.task("Call details")
        self._fill_settings(values)
        self.save_settings("Call details")

    def dates(self, opens: str, closes: str, timezone: str | None = None) -> None:
        """opens/closes as 'YYYY-MM-DD HH:MM' in the call's time zone."""
        self.task("Dates")
        if timezone:
            self.page.locator("#timezone").select_option(timezone)
        for name, moment in (("opens_at", opens), ("closes_at", closes)):
            day, time = moment.split()
            by_id(self.page, f"{name}.date").fill(day)
            by_id(self.page, f"{name}.time").fill(time)
        self.save_settings("Dates")

    def places(self, capacity: int | None) -> None:
        self.task("Places")
        self.page.locator("#capacity").fill("" if capacity is None else str(capacity))
        self.save_settings("Places")

    def what_happens_next(self, workflow: str) -> None:
        self.task("What happens next")
        self.page.locator(f"#workflow-{workflow}").check()
        self.save_settings("What happens next")

    def declaration(self, label: dict[str, str], text: dict[str, str]) -> None:
        self.task("Declaration")
        fill_texts(self.page, "label", label)
        fill_texts(self.page, "text", text)
        click_and_wait(self.page, self.page.locator("main form.builder-form button[type=submit]"))
        no_problem(self.page, "Declaration")

    def _fill_settings(self, values: dict) -> None:
        for name, value in values.items():
            if isinstance(value, dict):
                fill_texts(self.page, name, value)
            elif by_id(self.page, name).evaluate("e => e.tagName") == "SELECT":
                by_id(self.page, name).select_option(value)
            else:
                by_id(self.page, name).fill(value)

    # ---- questions ------------------------------------------------------------------------

    def questions(self) -> None:
        self.task("Questions")
        expect(self.page.locator("h1")).to_have_text("Questions")

    def page_title(self, number: int, title: dict[str, str]) -> None:
        """The title of page `number` (1, 2…); a page after the last is added."""
        self.questions()
        count = self.page.locator("section.builder-page").count()
        if number > count:
            click_and_wait(self.page, self.page.get_by_role("link", name="Add a page"))
        else:
            click_and_wait(
                self.page,
                self.page.locator(f"#page-{number - 1}").get_by_role(
                    "link", name="Change the page's title"
                ),
            )
        fill_texts(self.page, "title", title)
        click_and_wait(self.page, self.page.get_by_role("button", name="Save", exact=True))
        no_problem(self.page, f"page {number}'s title")

    def add_question(
        self,
        name: str,
        kind: str,
        label: dict[str, str],
        *,
        page: int = 1,
        group: str | None = None,
        required: bool = True,
        settings: dict | None = None,
        choices: list[dict] | None = None,
    ) -> str:
        """Add a question of type `kind` to page `page` (or to each item of the group we
        called `group`); returns its key, as the builder made it from the first label."""
        if group is None:
            self.questions()
            link = self.page.get_by_role("link", name=f"Add a question to page {page}")
        else:
            self.open_question(group)
            link = self.page.get_by_role("link", name="Add a question to each item")
        click_and_wait(self.page, link)
        self.page.locator(f"#type-{kind}").check()
        click_and_wait(self.page, self.page.get_by_role("button", name="Continue"))
        fill_texts(self.page, "label", label)
        for index, choice in enumerate(choices or []):
            if index and not by_id(self.page, f"choice-{index}-label.en").count():
                click_and_wait(
                    self.page, self.page.get_by_role("button", name="Add another choice")
                )
            for language, words in choice.items():
                by_id(self.page, f"choice-{index}-label.{language}").fill(words)
        self._fill_question_settings(settings or {})
        required_box = self.page.locator("#required-box")
        if required_box.count() and required_box.is_checked() != required:
            required_box.click()
        click_and_wait(self.page, self.page.locator('main form button[value="save"]'))
        expect(self.page).to_have_url(re.compile(r"/questions/q/[0-9-]+\?saved=1$"))
        if kind != "group":  # a new group is saved with one problem: no questions in it yet
            no_problem(self.page, f"add the question {name}")
            expect(self.page.get_by_role("status")).to_contain_text("Saved.")
        key = self.page.locator("main > p.hint code, main p.hint code").first.inner_text().strip()
        self.keys[name] = key
        self.places_of[name] = self.page.url.split("/questions/q/", 1)[1].split("?")[0]
        return key

    def _fill_question_settings(self, settings: dict) -> None:
        for key, value in settings.items():
            if isinstance(value, dict):
                fill_texts(self.page, key, value)
            elif isinstance(value, bool):
                box = by_id(self.page, f"{key}-box")
                if box.is_checked() != value:
                    box.click()
            elif by_id(self.page, key).evaluate("e => e.tagName") == "SELECT":
                by_id(self.page, key).select_option(value)
            else:
                by_id(self.page, key).fill(str(value))

    def open_question(self, name: str) -> None:
        self.page.goto(f"{self.home}questions/q/{self.places_of[name]}")

    def relabel(self, name: str, label: dict[str, str]) -> None:
        """Rename a question: its label texts change, its key stays."""
        self.questions()
        item = self.page.locator(f'[id="q-{self.places_of[name]}"] > a')
        click_and_wait(self.page, item)
        fill_texts(self.page, "label", label)
        click_and_wait(self.page, self.page.locator('main form button[value="save"]'))
        no_problem(self.page, f"rename {name}")
        expect(self.page.locator("main")).to_contain_text(self.keys[name])

    def show_only_when(self, name: str, control: str, answers: list[str]) -> None:
        """The condition picker: show the question `name` only when the earlier question
        `control` has one of `answers` (as the picker words them, e.g. "Yes")."""
        self.open_question(name)
        click_and_wait(self.page, self.page.get_by_role("link", name="Change when it is shown"))
        fieldset = self.page.locator(f'[id="condition-{self.keys[control]}"]')
        for words in answers:
            fieldset.get_by_label(words, exact=True).check()
        click_and_wait(self.page, self.page.get_by_role("button", name="Save the condition"))
        no_problem(self.page, f"the condition of {name}")
        self.open_question(name)
        expect(self.page.locator("main")).to_contain_text("Only when an earlier answer says so.")

    def preview(self, page_number: int, language: str) -> str:
        """The builder's preview of a draft page in a language: its text."""
        self.questions()
        section = self.page.locator(f"#page-{page_number - 1}")
        click_and_wait(self.page, section.get_by_role("link", name="Preview this page"))
        if f"language={language}" not in self.page.url:
            switcher = self.page.get_by_label("Language of the preview")
            click_and_wait(self.page, switcher.locator(f'a[href*="language={language}"]'))
        expect(self.page.locator(".builder-preview-page")).to_be_visible()
        return self.page.locator(".builder-preview-page").inner_text()

    # ---- test it, make it live ------------------------------------------------------------

    def preview_link(self) -> str:
        """Test it: a new shareable preview link (the token is shown once)."""
        self.task("Preview link and test submissions")
        expect(self.page.locator("h1")).to_have_text("Test it")
        click_and_wait(self.page, self.page.locator('form[action$="/test/link"] button'))
        confirm = self.page.locator('main form:has(input[name="confirm"]) button[type=submit]')
        if confirm.count():
            click_and_wait(self.page, confirm)
        no_problem(self.page, "a preview link")
        return self.page.locator(".resume-link a").get_attribute("href")

    def publish(self) -> str:
        """Make it live: publish the draft; returns the page's text (what changed)."""
        self.task("Make it live")
        no_problem(self.page, "make it live")
        before = self.page.locator("main").inner_text()
        click_and_wait(self.page, self.page.get_by_role("button", name="Publish"))
        expect(self.page.locator("h1")).to_have_text("The call is live")
        return before


# ---- the call the tests build from scratch -----------------------------------------------------

SMALL_GRANTS = "small-grants-2031"
TITLE = {"en": "Small grants 2031", "pl": "Małe granty 2031"}


def build_small_grants(builder: Builder) -> None:
    """A new call in English and Polish, from scratch, every required setting filled on the
    builder's pages: a conditional question (the organisation's name, shown only to those
    who apply for one), a file question (the budget) and a repeatable group (the team)."""
    builder.create(TITLE["en"], "en")
    builder.languages(["en", "pl"], "en")
    builder.page_title(1, {"en": "About you", "pl": "O tobie"})
    builder.add_question(
        "name", "text", {"en": "Contact name", "pl": "Imię i nazwisko osoby kontaktowej"}
    )
    builder.add_question("email", "email", {"en": "Contact email", "pl": "E-mail do kontaktu"})
    builder.add_question(
        "as_organisation",
        "yesno",
        {"en": "Do you apply for an organisation?", "pl": "Czy składasz wniosek za organizację?"},
    )
    builder.add_question(
        "organisation", "text", {"en": "Organisation name", "pl": "Nazwa organizacji"}
    )
    builder.show_only_when("organisation", "as_organisation", ["Yes"])
    builder.page_title(2, {"en": "Your project", "pl": "Twój projekt"})
    builder.add_question(
        "summary", "textarea", {"en": "Project summary", "pl": "Streszczenie projektu"}, page=2
    )
    builder.add_question("budget", "file", {"en": "Budget", "pl": "Budżet"}, page=2)
    builder.add_question(
        "team",
        "group",
        {"en": "Team members", "pl": "Członkowie zespołu"},
        page=2,
        settings={"min": 1, "max": 5},
    )
    builder.add_question(
        "member", "text", {"en": "Member name", "pl": "Imię i nazwisko członka"}, group="team"
    )
    builder.details(
        {
            "title": TITLE,
            "description": {
                "en": "Grants of up to 5000 euro for neighbourhood projects.",
                "pl": "Granty do 5000 euro na projekty sąsiedzkie.",
            },
            "reference_prefix": "SG",
            "organisation.name": {"en": "Example Foundation", "pl": "Fundacja Przykładowa"},
            "contact.name": "Anna Przykładowa",
            "contact.email": "grants@example.org",
            "applicant_email_field": builder.keys["email"],
            "applicant_name_field": builder.keys["name"],
        }
    )
    builder.dates("2026-11-01 00:00", "2031-12-31 23:59", "Europe/Warsaw")
    builder.places(3)
    builder.what_happens_next("application-review")
    builder.declaration(
        {"en": "Declaration", "pl": "Oświadczenie"},
        {
            "en": "I confirm that the information I gave is true.",
            "pl": "Potwierdzam, że podane przeze mnie informacje są prawdziwe.",
        },
    )
