"""The show_if table (tests/show_if_cases.json) in chromium: the page the app renders, with
its own script (static/js/formdesk.js), shows exactly the questions the server's evaluator
shows (the same table runs against forms/conditions.py in tests/test_conditions.py).

Chromium asks for http://formdesk.test/…; Playwright hands each request to the app's Flask
test client and returns its answer unchanged."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests import show_if_table

PAGE = f"http://formdesk.test/calls/{show_if_table.SLUG}/page/1"
ENTER = """([name, value]) => {
  const inputs = [...document.querySelectorAll(`[name="${name}"]`)];
  const first = inputs[0];
  if (first.type === "radio") { inputs.forEach(i => { i.checked = i.value === value; }); }
  else if (first.type === "checkbox") {
    inputs.forEach(i => { i.checked = value.includes(i.value); });
  }
  else { first.value = value; }
  first.dispatchEvent(new Event("change", {bubbles: true}));
}"""
SHOWN = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter(i => /(^|-)if_/.test(i.name) && i.closest(".form-group").checkVisibility())
  .map(i => i.name)"""


def routed_page(app, browser, locale: str = "en-GB"):
    """A browser page whose requests the app's test client answers."""
    client = app.test_client()

    def answer(route):
        request = route.request
        parts = urlsplit(request.url)
        response = client.open(
            parts.path + (f"?{parts.query}" if parts.query else ""),
            method=request.method,
            data=request.post_data_buffer,
            content_type=request.headers.get("content-type"),
        )
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        route.fulfill(status=response.status_code, headers=headers, body=response.get_data())

    context = browser.new_context(locale=locale)
    context.route("http://formdesk.test/**", answer)
    return context, context.new_page()


@pytest.fixture
def conditions_page(app, browser, create_form):
    create_form(show_if_table.definition())
    context, page = routed_page(app, browser)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, errors
    context.close()


def test_the_shared_show_if_table_in_the_browser(conditions_page):
    page, errors = conditions_page
    different = []
    for case in show_if_table.CASES:
        assert page.goto(PAGE).status == 200
        for name, value in case["enter"].items():
            page.evaluate(ENTER, [name, value])
        shown = set(page.evaluate(SHOWN))
        if shown != set(case["shown"]):
            different.append((case["enter"], sorted(shown), sorted(case["shown"])))
    assert errors == []
    assert different == [], "the page script and forms/conditions.py disagree:\n" + "\n".join(
        map(str, different)
    )
