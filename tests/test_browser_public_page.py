"""The public form page's script in chromium, on pages the app renders (requests answered by
its test client): the character count in GOV.UK's words, told to screen readers once typing
pauses; the focus on a group item just added (on the real server)."""

from __future__ import annotations

import pytest

from tests.conftest import demo_definition
from tests.test_browser_conditions import routed_page

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture reports it: a skip here, a failure on CI
    expect = None

BASE = "http://formdesk.test"


@pytest.fixture
def public_page(app, browser, create_form):
    for slug in ("msas", "study-visit-stralsund"):
        create_form(demo_definition(slug))
    context, page = routed_page(app, browser)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


@pytest.mark.parametrize(
    ("lang", "typed", "visible", "heard"),
    [
        ("en", 10, "You have 2,990 characters remaining", "You have 2,990 characters remaining"),
        ("pl", 3001, "Masz o 1 znak za dużo", "Masz o 1 znak za dużo"),
        ("pl", 2998, "Pozostały 2 znaki", "Pozostały 2 znaki"),
    ],
)
def test_the_character_count_follows_typing_and_is_heard_once_it_pauses(
    public_page, lang, typed, visible, heard
):
    page = public_page
    page.goto(f"{BASE}/?lang={lang}")
    page.goto(f"{BASE}/calls/msas/page/2")
    box = page.locator("#experience_residents")
    counter = page.locator("#experience_residents-counter")
    live = counter.locator("xpath=following-sibling::*[@aria-live='polite'][1]")
    expect(live).to_have_text("")  # nothing is announced when the page opens
    expect(counter).to_have_attribute("aria-hidden", "true")  # heard from the live region
    box.fill("ż" * (typed - 1))
    box.press_sequentially("ż")
    expect(counter).to_have_text(visible)
    expect(live).to_have_text(counter.inner_text())
    assert " ".join(live.inner_text().split()) == heard
    assert ("error-message" in counter.get_attribute("class")) == (typed > 3000)


def test_the_first_question_of_an_added_group_item_takes_the_focus(live_server, page):
    """On the real server: "Add another" answers with a redirect to the new item's anchor."""
    page.goto(f"{live_server.url}/?lang=de")
    page.goto(f"{live_server.url}/calls/study-visit-stralsund/page/2")
    page.get_by_role("button", name="Weiteren Eintrag hinzufügen").click()
    page.wait_for_url("**/page/2#participants-1")
    expect(page.locator("#participants-1-first_name")).to_be_focused()
