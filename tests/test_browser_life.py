"""The life of a call in a real browser (Debian's chromium through Playwright): axe finds no
WCAG 2.0/2.1 A or AA violation on its pages (the builder's Test it, Dates and status,
History and their confirmations, the preview link's pages with the Test banner, the
archived call's page), in English and Polish, in their error states too; none of them
scrolls sideways at 320 CSS px. Everything is done with forms and links: no script needed."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.browser import flask_server
from tests.conftest import DEMO_FORMS, need
from tests.test_browser_accessibility import (
    ADMIN,
    ANSWERS,
    AXE_JS,
    DEMO,
    PASSWORD,
    WIDE,
    Audit,
    _flask,
    fill_page,
    sign_in,
    submit_page,
)

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the `browser` fixture reports it: a skip here, a failure on CI
    Page = expect = None

SLUG = "tolerance-requests"
BUILD = f"/dashboard/build/{SLUG}"
CONFIRM = 'main form:has(input[name="confirm"]) button[type=submit]'  # "yes, do it"
EXTEND = f'form[action$="{BUILD}/status/extend"] button[type=submit]'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("life")
    (root / "uploads").mkdir()
    forms = root / "forms"
    forms.mkdir()
    for path in DEMO_FORMS.glob("*.yaml"):
        shutil.copy(path, forms / path.name)
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


@pytest.fixture
def audit():
    need(AXE_JS.is_file(), f"axe-core is not installed ({AXE_JS}): run `npm ci --prefix tests/js`")
    return Audit(AXE_JS.read_text(encoding="utf-8"))


@pytest.fixture
def visitor(browser, audit):
    """A fresh profile whose pages carry axe (the page's CSP stays as it is)."""
    ctx = browser.new_context(
        locale="en-GB", viewport={"width": 1100, "height": 900}, bypass_csp=True
    )
    ctx.set_default_timeout(10_000)
    ctx.add_init_script(script=audit.axe_source)
    yield ctx
    ctx.close()


def _through_preview(page: Page, link: str, audit, language: str) -> None:
    """The preview link's pages, as an applicant sees them, with the Test banner."""
    audit.visit(page, f"{link}?lang={language}", f"preview: the call [{language}]")
    expect(page.locator(".test-banner")).to_be_visible()
    with page.expect_navigation():
        page.locator("a.button.start").click()
    submit_page(page)  # empty: errors beside the questions
    audit.check(page, f"preview: page 1 with errors [{language}]")
    for _ in range(len(DEMO[SLUG]["pages"])):
        fill_page(page, ANSWERS[SLUG])
        submit_page(page)
        if "/check" in page.url:
            break
    audit.check(page, f"preview: check your answers [{language}]")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    audit.check(page, f"preview: confirmation [{language}]")
    expect(page.locator(".reference")).to_contain_text("TEST-")


def test_the_life_pages_have_no_accessibility_violations(site, visitor, audit):
    page = visitor.new_page()
    for language in ("en", "pl"):
        visitor.clear_cookies()
        sign_in(page, site.url, language)
        audit.visit(page, f"{site.url}{BUILD}/test", f"test it [{language}]")
        for _ in range(2):  # the first link, or (Polish) a new one; then a new one again
            with page.expect_navigation():
                page.locator(f'form[action$="{BUILD}/test/link"] button').click()
            if page.locator(CONFIRM).count():
                audit.check(page, f"replace the link? [{language}]")
                with page.expect_navigation():
                    page.locator(CONFIRM).click()
            audit.check(page, f"test it, with the new link [{language}]")
        link = page.locator(".resume-link a").get_attribute("href")

        preview = visitor.browser.new_context(locale="en-GB", bypass_csp=True)
        preview.add_init_script(script=audit.axe_source)
        _through_preview(preview.new_page(), link, audit, language)
        preview.close()

        audit.visit(page, f"{site.url}/dashboard/submissions?tests=1", f"tests listed [{language}]")
        expect(page.locator(".tag-test").first).to_be_visible()
        audit.visit(page, f"{site.url}{BUILD}/test/delete", f"delete tests? [{language}]")
        with page.expect_navigation():
            page.locator(CONFIRM).click()
        audit.check(page, f"tests deleted [{language}]")

        audit.visit(page, f"{site.url}{BUILD}/status", f"dates and status [{language}]")
        audit.visit(page, f"{site.url}{BUILD}/status/close", f"close now? [{language}]")
        audit.visit(page, f"{site.url}{BUILD}/status/extend", f"extend [{language}]")
        page.locator("#closes_at").fill("2020-01-01T10:00")
        with page.expect_navigation():
            page.locator(EXTEND).click()
        audit.check(page, f"extend with an error [{language}]")
        expect(page.locator("#closes_at")).to_have_attribute(
            "aria-describedby", re.compile("closes_at-error")
        )
        page.locator("#closes_at").fill("2031-01-31T23:59")
        with page.expect_navigation():
            page.locator(EXTEND).click()
        audit.check(page, f"extend: what will happen [{language}]")
        audit.visit(page, f"{site.url}{BUILD}/status/archive", f"archive? [{language}]")
        with page.expect_navigation():
            page.locator(CONFIRM).click()
        audit.check(page, f"archived [{language}]")
        audit.visit(page, f"{site.url}/calls/{SLUG}?lang={language}", f"archived call [{language}]")
        audit.visit(page, f"{site.url}/dashboard/", f"overview with an archived call [{language}]")
        audit.visit(page, f"{site.url}{BUILD}/status/unarchive", f"unarchive? [{language}]")
        with page.expect_navigation():
            page.locator(CONFIRM).click()
        audit.visit(page, f"{site.url}{BUILD}/history", f"history [{language}]")
        expect(page.locator("main table tbody tr").first).to_be_visible()
    audit.assert_clean()


def test_no_life_page_scrolls_sideways_at_320_px(site, browser):
    ctx = browser.new_context(locale="en-GB", viewport={"width": 320, "height": 700})
    page = ctx.new_page()
    problems = []
    try:
        sign_in(page, site.url, "pl")
        for path in ("/test", "/test/delete", "/status", "/status/close", "/status/extend"):
            page.goto(f"{site.url}{BUILD}{path}")
            found = page.evaluate(WIDE)
            if found["scroll"] > 320 or found["wide"]:
                problems.append(f"{path}: {found}")
        page.goto(f"{site.url}{BUILD}/history")
        found = page.evaluate(WIDE)
        if found["scroll"] > 320 or found["wide"]:
            problems.append(f"/history: {found}")
    finally:
        ctx.close()
    assert not problems, "pages wider than the window:\n" + "\n".join(problems)
