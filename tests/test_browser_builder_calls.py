"""The call builder in a real browser (chromium): an admin creates a call from a demo call,
changes its dates on a settings page, and makes it live; the public page shows it. axe
finds no violation on the builder's pages."""

from __future__ import annotations

import pytest

from tests.conftest import need
from tests.test_browser_accessibility import AXE_JS, Audit
from tests.test_browser_assignment import PASSWORD, create_user, person, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture reports it
    expect = None

ADMIN = "root@example.org"


@pytest.fixture
def audit():
    need(AXE_JS.is_file(), f"axe-core is not installed ({AXE_JS}): run `npm ci --prefix tests/js`")
    return Audit(AXE_JS.read_text(encoding="utf-8"))


def test_an_admin_creates_a_call_from_a_demo_call_and_publishes_it(live_server, browser, audit):
    create_user(live_server, ADMIN, "admin")
    base = live_server.url
    ctx = person(browser)
    try:
        page = ctx.new_page()
        sign_in(page, base, ADMIN)
        page.get_by_role("link", name="Build calls").click()
        audit.check(page, "calls list")
        page.get_by_role("link", name="Create a call").click()
        page.get_by_label("A demo call").check()
        page.get_by_label("Demo call", exact=True).select_option("study-visit-stralsund")
        page.get_by_label("Address").fill("visit-2031")
        page.get_by_label("Title").fill("Study visit 2031")
        page.get_by_label("Default language").select_option("en")
        audit.check(page, "new call")
        page.get_by_role("button", name="Create the call").click()
        expect(page.locator("h1")).to_have_text("Study visit 2031")
        audit.check(page, "task list")

        page.get_by_role("link", name="Dates").click()
        page.locator("#closes_at\\.date").fill("2031-05-31")
        page.locator("#closes_at\\.time").fill("18:00")
        audit.check(page, "dates")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_contain_text("Saved")

        for section in ("Call details", "Languages", "Places", "What happens next"):
            page.goto(base + "/dashboard/build/visit-2031/")
            page.get_by_role("link", name=section).click()
            audit.check(page, section)

        # At 320 px nothing needs scrolling sideways.
        page.set_viewport_size({"width": 320, "height": 800})
        for path in ("", "settings/details", "settings/dates", "settings/next", "publish"):
            page.goto(base + "/dashboard/build/visit-2031/" + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 320, (path, width)
        page.set_viewport_size({"width": 1100, "height": 900})

        page.goto(base + "/dashboard/build/visit-2031/")
        page.get_by_role("link", name="Make it live").click()
        audit.check(page, "make it live")
        page.get_by_role("button", name="Publish").click()
        expect(page.locator("h1")).to_have_text("The call is live")
        audit.check(page, "published")
        page.locator("a[href$='/calls/visit-2031']").click()
        expect(page.locator("h1")).to_contain_text("Study visit 2031")
    finally:
        ctx.close()
    assert not audit.problems, "\n".join(audit.problems)
    assert PASSWORD
