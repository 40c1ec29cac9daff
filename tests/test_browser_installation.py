"""The installation's settings page in a real browser (Debian's chromium) against the app
served by `flask run`: axe finds nothing on it (empty, refused, saved), it is used with the
keyboard alone, and the public page then shows the logo and the name; a screenshot of that
page is kept for a person to look at (FORMDESK_SCREENSHOTS, else the test's folder)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import need
from tests.test_browser_accessibility import AXE_JS, Audit, named, tab_to
from tests.test_browser_staff import ADMIN, PASSWORD, flask, new_page, sign_in
from tests.test_installation import png

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture reports it
    expect = None

NAME = "Gmina Przykładowo"


@pytest.fixture
def audit():
    need(AXE_JS.is_file(), f"axe-core is not installed ({AXE_JS}): run `npm ci --prefix tests/js`")
    return Audit(AXE_JS.read_text(encoding="utf-8"))


def test_the_settings_page_is_used_with_the_keyboard_and_names_the_public_page(
    live_server,
    browser,
    audit,
    tmp_path,
):
    flask(
        live_server,
        "users",
        "create",
        ADMIN,
        "--role",
        "admin",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(60, 20))
    page = new_page(browser)
    sign_in(page, live_server.url, ADMIN)
    page.goto(f"{live_server.url}/dashboard/admin/settings?lang=en")
    audit.check(page, "settings page")

    # Keyboard alone: Tab to each field, type; a colour too light is refused beside it.
    tab_to(page, named("name_default"))
    page.keyboard.type(NAME)
    tab_to(page, named("accent"))
    page.keyboard.type("#7fa7d9")
    tab_to(page, named("logo"))
    page.locator("#logo").set_input_files(str(logo))
    with page.expect_navigation():
        page.keyboard.press("Shift+Tab")  # back to a text field: Enter sends the form
        page.keyboard.press("Enter")
    expect(page.locator("#accent-error")).to_contain_text("contrast of 2.")
    expect(page.locator("#accent-error")).to_contain_text("4.5:1")
    audit.check(page, "settings page with an error")

    page.locator("#accent").fill("")
    tab_to(page, named("accent"))
    page.keyboard.type("#7a1f5c")
    page.locator("#logo").set_input_files(str(logo))  # a refused page keeps no file
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text("Saved: the installation's settings.")
    audit.check(page, "settings page saved")

    # In Polish, with a refusal: the message in the page's language, still nothing for axe.
    page.goto(f"{live_server.url}/dashboard/admin/settings?lang=pl")
    page.locator("#accent").fill("#ffdd00")
    with page.expect_navigation():
        page.get_by_role("button", name="Zapisz ustawienia").click()
    expect(page.locator("#accent-error")).to_contain_text("kontrast 1.34:1")
    audit.check(page, "settings page with an error [pl]")
    # 320 CSS px (400 % zoom): nothing wider than the window.
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(f"{live_server.url}/dashboard/admin/settings?lang=en")

    public = new_page(browser)
    public.goto(f"{live_server.url}/?lang=en")
    header_logo = public.locator("header img.brand-logo")
    expect(header_logo).to_have_attribute("alt", NAME)
    assert public.evaluate("document.querySelector('header img.brand-logo').naturalWidth") == 60
    # The accent colour, from the generated stylesheet (the policy allows no inline style).
    background = "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
    assert public.evaluate(background) == "rgb(122, 31, 92)"
    expect(public.locator("footer")).to_contain_text(f"{NAME} runs this service.")
    expect(public).to_have_title(re.compile(f"{NAME}$"))
    audit.check(public, "public page with a logo")
    folder = Path(os.environ.get("FORMDESK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    public.screenshot(path=str(folder / "installation-public-page.png"), full_page=True)
    page.screenshot(path=str(folder / "installation-settings.png"), full_page=True)
    audit.assert_clean()
