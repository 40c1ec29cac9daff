"""Accessibility in a real browser (Debian's chromium driven by Playwright).

- axe-core (from npm, tests/js) finds no violation of its WCAG 2.0/2.1 A and AA rules on any
  public page in every language the page is offered in, in the error state too, nor on the
  dashboard and admin pages;
- a person completes a form with a conditional question using the keyboard alone, and every
  element they reach shows where the focus is;
- no page scrolls sideways at 320 CSS px (400 % zoom of a 1280 px window) or at 640 CSS px
  (200 % zoom).

One server serves the whole module: the demo calls plus a recently closed and an upcoming
call, an admin and a reviewer account (made with the real `flask users create`)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

from tests.browser import ROOT, flask_server
from tests.conftest import DEMO_FORMS, need

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the `browser` fixture reports it: a skip here, a failure on CI
    Page = expect = None

AXE_JS = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ALL_LANGUAGES = ["en", "pl", "sv", "de", "lt"]
STAFF_LANGUAGES = ["en", "pl", "sv"]
ADMIN = "admin@example.org"
PASSWORD = "a long test password, not a real one"  # noqa: S105

# Answers that pass validation, by field name (choices by value). Fields inside a group are
# filled in its first item ("participants-0-first_name").
ANSWERS = {
    "msas": {
        "branch_name": "Filia nr 12",
        "branch_address-street": "ul. Przykładowa 5",
        "branch_address-postcode": "90-001",
        "branch_address-town": "Łódź",
        "contact_name": "Zofia Żółtowska",
        "contact_email": "zofia@example.org",
        "contact_phone": "+48 42 123 45 67",
        "experience_residents": "Od lat prowadzimy kluby sąsiedzkie i warsztaty dla mieszkańców.",
        "experience_foreigners": "Mamy klub rozmów po polsku dla osób z Ukrainy i z Wietnamu.",
        "motivation": "Chcemy stworzyć miejsce spotkań dla sąsiadów różnych narodowości tutaj.",
        "consent": True,
    },
    "tolerance-requests": {
        "service": "supervision",
        "target_groups": "staff",
        "preferred_date": "2030-03-15",
        "participants": "12",
        "municipality": "Exempelstad kommun",
        "contact_name": "Sara Lind",
        "contact_email": "sara@example.org",
    },
    "study-visit-stralsund": {
        "country": "SE",
        "organisation_name": "Exempelby kommun",
        "contact_name": "Karin Exempelsson",
        "contact_email": "karin@example.org",
        "participants-0-first_name": "Karin",
        "participants-0-last_name": "Exempelsson",
        "participants-0-participant_email": "karin@example.org",
        "participants-0-arrival_date": "2030-04-17",
        "participants-0-departure_date": "2030-04-21",
        "participants-0-dietary": "none",
        "participants-0-accommodation": "yes",
        "consent": True,
    },
}


def error_prefix(language: str) -> str:
    """What the page title starts with when the page shows errors ("Error:" translated)."""
    if language == "en":
        return "Error:"
    po = ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        return read_po(f, locale=language).get("Error:").string


def demo_calls() -> dict[str, dict]:
    calls = {}
    for path in sorted(DEMO_FORMS.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        calls[raw["slug"]] = raw
    return calls


DEMO = demo_calls()


# --- the server --------------------------------------------------------------------------


def _flask(server, *args: str, stdin: str = "") -> str:
    result = subprocess.run(  # noqa: S603  (our own command line)
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=server.env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"flask {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def _extra_calls(folder: Path) -> None:
    """A call that closed yesterday and one that opens in a month (from the Swedish demo)."""
    now = datetime.now(UTC)
    base = DEMO["tolerance-requests"]
    for slug, opens, closes in (
        ("closed-call", now - timedelta(days=60), now - timedelta(days=1)),
        ("upcoming-call", now + timedelta(days=30), now + timedelta(days=90)),
    ):
        raw = {**base, "slug": slug, "reference_prefix": slug[:3].upper()}
        raw["opens_at"] = opens.strftime("%Y-%m-%dT%H:%M")
        raw["closes_at"] = closes.strftime("%Y-%m-%dT%H:%M")
        (folder / f"{slug}.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("a11y")
    (root / "uploads").mkdir()
    forms = root / "forms"  # the demo calls and two more, published when the server starts
    forms.mkdir()
    for path in DEMO_FORMS.glob("*.yaml"):
        shutil.copy(path, forms / path.name)
    _extra_calls(forms)
    server = flask_server(root / "instance", root / "uploads", root / "server.log")
    server.env["FLASK_FORMDESK_FORMS_DIR"] = str(forms)
    server.start(timeout=60)
    try:
        _flask(
            server, "users", "create", ADMIN, "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n"
        )
        yield server
    finally:
        server.stop()
        print(f"--- server log ({server.log}) ---\n{server.log_tail(60)}")  # shown on failure


@pytest.fixture(scope="module")
def axe_source() -> str:
    need(AXE_JS.is_file(), f"axe-core is not installed ({AXE_JS}): run `npm ci --prefix tests/js`")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture
def visitor(browser, axe_source):
    """A fresh profile whose pages carry axe from their start (an init script is cheaper than
    adding it to each page), whatever the page's Content-Security-Policy says: the policy
    itself stays strict."""
    ctx = browser.new_context(
        locale="en-GB", viewport={"width": 1100, "height": 900}, bypass_csp=True
    )
    ctx.set_default_timeout(10_000)
    ctx.add_init_script(script=axe_source)
    yield ctx
    ctx.close()


# --- axe ---------------------------------------------------------------------------------

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary
      .replace(/\\s+/g, ' '))}));
}"""


class Audit:
    """Runs axe on page after page and collects what it finds, so one failing test lists
    every problem on every page at once."""

    def __init__(self, axe_source: str):
        self.axe_source = axe_source
        self.problems: list[str] = []
        self.pages = 0

    def check(self, page: Page, what: str) -> None:
        if not page.evaluate("typeof window.axe === 'object'"):
            page.add_script_tag(content=self.axe_source)
        self.pages += 1
        for violation in page.evaluate(AXE_RUN, WCAG_TAGS):
            nodes = "\n      ".join(violation["nodes"])
            self.problems.append(
                f"{what} ({page.url}): {violation['id']} [{violation['impact']}] "
                f"{violation['help']}\n      {nodes}"
            )
        self._check_structure(page, what)

    def _check_structure(self, page: Page, what: str) -> None:
        """What axe's WCAG rules leave out: one h1, no skipped heading level, a language."""
        levels = page.eval_on_selector_all(
            "h1, h2, h3, h4, h5, h6",
            "hs => hs.filter(h => h.getClientRects().length).map(h => Number(h.tagName[1]))",
        )
        if levels.count(1) != 1:
            self.problems.append(f"{what} ({page.url}): {levels.count(1)} h1 headings")
        for before, after in zip(levels, levels[1:], strict=False):
            if after > before + 1:
                self.problems.append(f"{what} ({page.url}): heading h{before} → h{after}")
        if not page.evaluate("document.documentElement.lang"):
            self.problems.append(f"{what} ({page.url}): no lang on <html>")

    def visit(self, page: Page, url: str, what: str) -> None:
        response = page.goto(url)
        assert response is not None
        self.check(page, what)

    def assert_clean(self) -> None:
        assert self.pages, "no page was checked"
        assert not self.problems, (
            f"{len(self.problems)} accessibility problem(s) on {self.pages} pages:\n"
            + "\n".join(self.problems)
        )


@pytest.fixture
def audit(axe_source):
    return Audit(axe_source)


# --- helpers -------------------------------------------------------------------------------


def submit_page(page: Page, button: str = "continue") -> None:
    with page.expect_navigation():
        page.locator(f'button[name="action"][value="{button}"]').click()


def fill_page(page: Page, answers: dict) -> None:
    """Fill what this page asks of `answers` (by field name), as a mouse user would."""
    for name, value in answers.items():
        field = page.locator(f'[name="{name}"]')
        if not field.count() or not field.first.is_visible():
            continue
        kind = field.first.evaluate("e => e.tagName === 'SELECT' ? 'select' : e.type")
        if kind == "select":
            field.select_option(value)
        elif kind == "radio" or (kind == "checkbox" and value is not True):
            page.locator(f'[name="{name}"][value="{value}"]').check()
        elif kind == "checkbox":
            field.check()
        else:
            field.fill(value)


def complete_form(page: Page, base: str, slug: str, language: str) -> None:
    """From the first page to "check your answers"."""
    page.goto(f"{base}/calls/{slug}/page/1?lang={language}")
    for _ in range(len(DEMO[slug]["pages"])):
        fill_page(page, ANSWERS[slug])
        submit_page(page)
        if "/check" in page.url:
            return
    pytest.fail(f"{slug} did not reach the check page: {page.url}\n{page.inner_text('main')}")


def sign_in(page: Page, base: str, language: str) -> None:
    page.goto(f"{base}/login?lang={language}")
    page.locator("#email").fill(ADMIN)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))


# --- axe over every page ---------------------------------------------------------------------


def test_form_pages_have_no_accessibility_violations_in_every_language(site, visitor, audit):
    """Each page of each demo call in each of its languages, empty and after sending it
    empty (error summary, messages beside the questions)."""
    page = visitor.new_page()
    for slug, raw in DEMO.items():
        for language in raw["languages"]:
            for number in range(1, len(raw["pages"]) + 1):
                what = f"{slug} page {number} [{language}]"
                audit.visit(page, f"{site.url}/calls/{slug}/page/{number}?lang={language}", what)
                expect(page.locator("html")).to_have_attribute("lang", language)
                submit_page(page)
                if page.locator(".error-summary").count():
                    expect(page.locator(".error-summary")).to_be_focused()
                    expect(page).to_have_title(re.compile("^" + error_prefix(language) + " "))
                    audit.check(page, what + " with errors")
            visitor.clear_cookies()  # the next language starts without a draft
    audit.assert_clean()


def test_other_public_pages_have_no_accessibility_violations_in_every_language(
    site, visitor, audit
):
    page = visitor.new_page()
    for language in ALL_LANGUAGES:
        for path, what in (
            ("/", "list of calls"),
            ("/accessibility", "accessibility statement"),
            ("/privacy", "privacy notice"),
            ("/no-such-page", "404"),
            ("/resume/not-a-valid-token", "resume link not valid"),
        ):
            audit.visit(page, f"{site.url}{path}?lang={language}", f"{what} [{language}]")
            expect(page.locator("html")).to_have_attribute("lang", language)
        footer = page.get_by_role("contentinfo")
        for link in footer.get_by_role("link").all():
            assert link.get_attribute("href") in ("/accessibility", "/privacy")
        expect(footer.get_by_role("link")).to_have_count(2)
    for slug, raw in {**DEMO, "closed-call": DEMO["tolerance-requests"]}.items():
        for language in raw["languages"]:
            audit.visit(page, f"{site.url}/calls/{slug}?lang={language}", f"call {slug}")
    for slug in ("closed-call", "upcoming-call"):
        audit.visit(page, f"{site.url}/calls/{slug}/page/1?lang=en", f"{slug}: not open")
    # A call without the page's language is listed in the browser's (en-GB) or its own; its
    # title says which (lang), so a screen reader reads it with the right voice.
    page.goto(f"{site.url}/?lang=de")
    title = page.get_by_role("link", name=DEMO["msas"]["title"]["en"])
    expect(title).to_have_attribute("lang", "en")
    title = page.get_by_role("link", name=DEMO["study-visit-stralsund"]["title"]["de"])
    expect(title).to_have_attribute("lang", "de")
    audit.assert_clean()


def test_check_confirmation_saved_and_applicant_pages_have_no_violations(site, visitor, audit):
    page = visitor.new_page()
    for slug, raw in DEMO.items():
        page.goto(f"{site.url}/calls/{slug}/page/1?lang={raw['languages'][0]}")
        fill_page(page, ANSWERS[slug])
        submit_page(page, "save")
        audit.check(page, f"{slug} saved")
        complete_form(page, site.url, slug, raw["languages"][0])
        for language in raw["languages"]:
            audit.visit(page, f"{site.url}/calls/{slug}/check?lang={language}", f"{slug} check")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        for language in raw["languages"]:
            url = f"{site.url}/calls/{slug}/confirmation?lang={language}"
            audit.visit(page, url, f"{slug} confirmation")
        status_url = page.locator(".resume-link a").get_attribute("href")
        for language in raw["languages"]:
            audit.visit(page, f"{status_url}?lang={language}", f"{slug} applicant's page")
        audit.visit(page, f"{status_url}/edit", f"{slug} applicant changes answers")
        audit.visit(page, f"{status_url}/edit/1", f"{slug} applicant changes page 1")
        answers = "main form input:is([type=text], [type=email], [type=date], [type=number])"
        for field in page.locator(answers).all():
            if field.is_visible():
                field.fill("")
        submit_page(page)
        audit.check(page, f"{slug} applicant changes page 1, with errors")
        expect(page.locator(".error-summary")).to_be_focused()
    audit.assert_clean()


def _bulk_pages(page: Page, base: str, audit: Audit, language: str) -> None:
    """The bulk confirmation with nothing chosen (errors), then with an action that applies."""
    page.goto(f"{base}/dashboard/submissions")
    with page.expect_navigation():
        page.locator("form.bulk button[type=submit]").click()
    audit.check(page, f"bulk confirmation with errors [{language}]")
    expect(page.locator(".error-summary")).to_be_focused()
    page.goto(f"{base}/dashboard/submissions")
    for index in range(1, page.locator("#bulk-action option").count()):
        page.goto(f"{base}/dashboard/submissions")
        page.locator("table.submissions tbody input[type=checkbox]").first.check()
        page.locator("#bulk-action").select_option(index=index)
        page.locator("#bulk-comment").fill("Checked.")
        with page.expect_navigation() as navigation:
            page.locator("form.bulk button[type=submit]").click()
        if navigation.value.status == 200:
            audit.check(page, f"bulk confirmation [{language}]")
            return
    pytest.fail("no bulk action could be confirmed")


def _decision_confirmation(page: Page, base: str, audit: Audit, language: str) -> None:
    """The page that shows a decision's email before it is sent (declining a request),
    then "Change" back: nothing is taken."""
    page.goto(f"{base}/dashboard/submissions")
    links = [a.get_attribute("href") for a in page.locator("table.submissions tbody a").all()]
    for link in links:
        page.goto(base + link)
        decline = page.locator("form.transition", has=page.locator('input[value="decline"]'))
        if decline.count():
            with page.expect_navigation():
                decline.locator("button[type=submit]").click()
            audit.check(page, f"decision confirmation [{language}]")
            with page.expect_navigation():
                page.locator('button[name="decision"][value="change"]').click()
            return
    pytest.fail("no submission can be declined")


def _admin_pages(page: Page, base: str, audit: Audit, language: str, full: bool) -> None:
    audit.visit(page, f"{base}/dashboard/admin/", f"admin [{language}]")
    audit.visit(page, f"{base}/dashboard/admin/emails", f"email texts [{language}]")
    audit.visit(page, f"{base}/dashboard/admin/background", f"background work [{language}]")
    audit.visit(page, f"{base}/dashboard/admin/outbox", f"outbox [{language}]")
    if not full:
        return
    page.locator("table.outbox a").first.click()
    page.wait_for_load_state()
    audit.check(page, f"outbox message [{language}]")
    page.goto(f"{base}/dashboard/admin/emails")
    page.locator("table.email-texts a").first.click()
    page.wait_for_load_state()
    audit.check(page, f"email text [{language}]")
    page.locator("#subject").fill("{not_a_placeholder}")
    with page.expect_navigation():
        page.locator('button[value="preview"]').click()
    audit.check(page, f"email text with errors [{language}]")


def _reviewer_pages(page: Page, base: str, audit: Audit, language: str) -> None:
    """A call's Reviewers page (review assignment), its error state and its preview."""
    audit.visit(page, f"{base}/dashboard/calls/msas/reviewers", f"reviewers [{language}]")
    page.locator("#per_submission").fill("x")
    with page.expect_navigation():
        page.locator("#per_submission").press("Enter")
    audit.check(page, f"reviewers with an error [{language}]")
    expect(page.locator("#per_submission")).to_have_attribute("aria-invalid", "true")
    page.locator("#per_submission").fill("2")
    with page.expect_navigation():
        page.locator("#per_submission").press("Enter")
    audit.check(page, f"automatic assignment preview [{language}]")


def test_dashboard_and_admin_pages_have_no_accessibility_violations(site, visitor, audit):
    """Every staff page in English; the main ones in Polish and Swedish too."""
    page = visitor.new_page()
    # Two submissions to list, open and act on.
    for slug in ("tolerance-requests", "msas"):
        complete_form(page, site.url, slug, "en")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()

    page.goto(f"{site.url}/login")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()  # empty: errors
    audit.check(page, "sign-in with errors")
    expect(page.locator(".error-summary")).to_be_focused()
    for language in STAFF_LANGUAGES:
        visitor.clear_cookies()
        audit.visit(page, f"{site.url}/login?lang={language}", f"sign-in [{language}]")
        sign_in(page, site.url, language)
        # The language chosen before signing in is kept (the session is renewed at sign-in).
        expect(page.locator("html")).to_have_attribute("lang", language)
        audit.check(page, f"overview [{language}]")
        _reviewer_pages(page, site.url, audit, language)
        audit.visit(page, f"{site.url}/dashboard/submissions", f"submissions [{language}]")
        detail_url = page.locator("table.submissions tbody a").first.get_attribute("href")
        audit.visit(page, site.url + detail_url, f"submission detail [{language}]")
        with page.expect_navigation():
            page.locator('form[action$="/tags"] button').click()  # no tag typed
        audit.check(page, f"submission detail with an error [{language}]")
        expect(page).to_have_title(re.compile("^" + error_prefix(language) + " "))
        expect(page.locator("#tag")).to_have_attribute("aria-invalid", "true")
        _decision_confirmation(page, site.url, audit, language)
        audit.visit(page, f"{site.url}/account/password", f"password [{language}]")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").first.click()  # the password's
        audit.check(page, f"password with errors [{language}]")
        if language == "en":
            _bulk_pages(page, site.url, audit, language)
        if language != "sv":
            _admin_pages(page, site.url, audit, language, full=language == "en")
    audit.assert_clean()


# --- reflow: 320 CSS px and 200 % zoom --------------------------------------------------------

WIDE = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    const box = e.getBoundingClientRect();
    return box.width && box.right > width + 1
      && !e.parentElement.closest('.table-scroll, .visually-hidden');
  });
  return {scroll: document.documentElement.scrollWidth, width,
          wide: wide.slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className)};
}"""


def _too_wide(page: Page, width: int, what: str) -> list[str]:
    found = page.evaluate(WIDE)
    if found["scroll"] > width or found["wide"]:
        return [f"{width} px, {what} ({page.url}): {found}"]
    return []


def _reflow_problems(site, browser, width: int, every_page: bool) -> list[str]:
    ctx = browser.new_context(locale="en-GB", viewport={"width": width, "height": 700})
    page = ctx.new_page()
    problems = []
    try:
        for path in ("/", "/calls/msas", "/accessibility", "/privacy", "/login"):
            page.goto(site.url + path)
            problems += _too_wide(page, width, path)
        for slug, raw in DEMO.items():
            for number in range(1, len(raw["pages"]) + 1 if every_page else 2):
                page.goto(f"{site.url}/calls/{slug}/page/{number}?lang={raw['languages'][0]}")
                submit_page(page)  # with its error messages
                problems += _too_wide(page, width, f"{slug} page {number}")
        complete_form(page, site.url, "study-visit-stralsund", "de")
        problems += _too_wide(page, width, "check your answers")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        problems += _too_wide(page, width, "confirmation")
        page.goto(page.locator(".resume-link a").get_attribute("href"))
        problems += _too_wide(page, width, "applicant's page")
        sign_in(page, site.url, "pl")
        problems += _too_wide(page, width, "overview")
        page.goto(f"{site.url}/dashboard/submissions")
        problems += _too_wide(page, width, "submissions")
        page.locator("table.submissions tbody a").first.click()
        page.wait_for_load_state()
        problems += _too_wide(page, width, "submission detail")
        admin = (
            "/dashboard/admin/emails",
            "/dashboard/admin/outbox",
            "/account/password",
            "/dashboard/calls/msas/reviewers",
        )
        for path in admin if every_page else ():
            page.goto(site.url + path)
            problems += _too_wide(page, width, path)
    finally:
        ctx.close()
    return problems


def test_no_page_scrolls_sideways_at_320_px_or_at_200_percent_zoom(site, browser):
    """WCAG 1.4.10: at 320 CSS px (a 1280 px window zoomed to 400 %) and at 640 CSS px
    (200 %), nothing but a wide table in its own scrolling box is wider than the window."""
    problems = _reflow_problems(site, browser, 320, every_page=True)
    problems += _reflow_problems(site, browser, 640, every_page=False)
    assert not problems, "pages wider than the window:\n" + "\n".join(problems)


# --- keyboard only --------------------------------------------------------------------------

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  const label = e.labels && e.labels.length ? e.labels[0].innerText.trim() : '';
  return {tag: e.tagName.toLowerCase(), name: e.getAttribute('name') || '', value: e.value || '',
          text: (e.innerText || '').trim(), label: label, id: e.id,
          outlined: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                    || style.boxShadow !== 'none'};
}"""


def tab_to(page: Page, wanted, backwards: bool = False, limit: int = 60) -> dict:
    """Press Tab (or Shift+Tab) until the focused element matches `wanted`; every element
    passed on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            continue
        assert focused["outlined"], f"the focus is not visible on {focused}"
        if wanted(focused):
            return focused
    pytest.fail(f"Tab never reached the element wanted on {page.url}")


def named(name: str, value: str | None = None):
    return lambda f: f["name"] == name and (value is None or f["value"] == value)


def button(text: str):
    return lambda f: f["tag"] in ("button", "a") and f["text"] == text


def type_date(page: Page, field, iso: str) -> None:
    """Type a date into the focused date field, whose parts come in the browser's own order
    (month/day/year in an English-US chromium): try the orders until the value is right,
    clearing the parts with Backspace and Shift+Tab in between."""
    year, month, day = iso.split("-")
    for order in ((month, day, year), (day, month, year), (year, month, day)):
        page.keyboard.type("".join(order))
        if field.input_value() == iso:
            return
        for _ in range(2):
            page.keyboard.press("Backspace")
            page.keyboard.press("Shift+Tab")
        page.keyboard.press("Backspace")
    pytest.fail(f"could not type {iso} into the date field")


def press_and_wait(page: Page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def test_a_form_with_a_conditional_question_is_completed_with_the_keyboard_alone(site, browser):
    ctx = browser.new_context(locale="en-GB", viewport={"width": 1100, "height": 900})
    try:
        page = ctx.new_page()
        page.goto(f"{site.url}/calls/tolerance-requests?lang=en")
        first = tab_to(page, lambda f: True)
        assert first["text"] == "Skip to main content", f"the skip link is not first: {first}"
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()
        tab_to(page, button("Start now"))
        press_and_wait(page, "Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Your request")

        # Radios: Space chooses the focused option, arrow keys move the choice.
        tab_to(page, named("service"))
        page.keyboard.press("Space")
        for _ in range(3):
            page.keyboard.press("ArrowDown")
        expect(page.get_by_label("Help with planning and carrying out the study")).to_be_checked()
        trip_stage = page.get_by_role("group", name="How far have you got with planning the trip?")
        expect(trip_stage).to_be_visible()  # the conditional question appeared

        tab_to(page, named("target_groups", "staff"))
        page.keyboard.press("Space")
        tab_to(page, named("trip_stage"))
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        expect(trip_stage.get_by_label("The trip is booked")).to_be_checked()
        departure = page.get_by_label("Date of departure for Poland")
        expect(departure).to_be_visible()

        # Past the date of departure (left empty on purpose) to the other answers…
        tab_to(page, named("preferred_date"))
        type_date(page, page.get_by_label("Preferred date", exact=True), "2030-03-15")
        tab_to(page, named("participants"))
        page.keyboard.type("12")
        # …and back with Shift+Tab to check the date that was typed.
        tab_to(page, named("preferred_date"), backwards=True)
        expect(page.get_by_label("Preferred date", exact=True)).to_have_value("2030-03-15")
        tab_to(page, button("Continue"))
        press_and_wait(page, "Enter")

        # The error summary has the focus; its link leads to the question.
        summary = page.locator(".error-summary")
        expect(summary).to_be_focused()
        tab_to(page, lambda f: f["tag"] == "a" and "Date of departure" in f["text"])
        page.keyboard.press("Enter")
        expect(departure).to_be_focused()
        type_date(page, departure, "2030-05-04")
        tab_to(page, button("Continue"))
        press_and_wait(page, "Enter")

        expect(page.get_by_role("heading", level=1)).to_have_text("Contact details")
        for name, text in (
            ("municipality", "Exempelstad kommun"),
            ("contact_name", "Sara Lind"),
            ("contact_email", "sara.lind@example.org"),
        ):
            tab_to(page, named(name))
            page.keyboard.type(text)
        tab_to(page, button("Continue"))
        press_and_wait(page, "Enter")

        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Check your answers before sending"
        )
        expect(page.locator("main")).to_contain_text("The trip is booked")
        tab_to(page, button("Send"))
        press_and_wait(page, "Space")
        expect(page.get_by_role("heading", level=1)).to_have_text("Request received")
        expect(page.locator(".reference")).to_have_text(re.compile(r"^TOL-\d{4}-\d{4}$"))
    finally:
        ctx.close()
