"""The dashboard in a real browser (Debian's chromium): the page ends with its footer (no
blank space under it, long page or short), and "select all" selects the page's rows."""

from __future__ import annotations

import pytest

from tests.test_browser_review import PASSWORD, apply_to_msas, review_server  # noqa: F401

# How far the page reaches below the footer's bottom edge, in CSS pixels.
SPACE_UNDER_FOOTER = """() => {
  const footer = document.querySelector('.site-footer').getBoundingClientRect();
  const page = Math.max(document.documentElement.scrollHeight, window.innerHeight);
  return page - (footer.bottom + window.scrollY);
}"""


@pytest.fixture
def signed_in(review_server, page):  # noqa: F811 (the fixture imported above)
    for branch in ("Filia Bałuty", "Filia Widzew", "Filia Górna"):
        apply_to_msas(review_server, branch)
    page.goto(review_server.url + "/login?lang=en")
    page.fill("input[name=email]", "rita@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/**")
    return review_server.url


def test_nothing_follows_the_footer_and_select_all_selects_the_rows(signed_in, page):
    for path in (
        "/dashboard/",  # long, with the charts' tables for screen readers
        "/dashboard/submissions",
        "/dashboard/submissions?q=nothing-matches-this",  # shorter than the window
    ):
        page.goto(signed_in + path)
        assert page.evaluate(SPACE_UNDER_FOOTER) <= 1, path

    page.goto(signed_in + "/dashboard/submissions?form=msas")
    every = page.get_by_label("Select every submission on this page")
    rows = page.locator("input[name=submission]")
    assert rows.count() == 3
    every.check()
    assert all(rows.nth(i).is_checked() for i in range(3))
    rows.nth(1).uncheck()
    assert not every.is_checked()
    assert every.evaluate("box => box.indeterminate")
    every.check()
    every.uncheck()
    assert not any(rows.nth(i).is_checked() for i in range(3))
