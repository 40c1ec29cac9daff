"""Issue #16's "must show", in a real browser (Debian's chromium through Playwright), on the
app served as `make run` serves it with its mail going to a real SMTP server."""

from __future__ import annotations

from tests.builder_browser import SMALL_GRANTS, Builder, build_small_grants, sign_in
from tests.test_journeys import (  # noqa: F401 (fixtures)
    STAFF_PASSWORD,
    journey_database,
    journey_server,
    smtp_server,
)

ADMIN = "journey-admin@example.org"


def test_an_admin_builds_a_call_in_the_browser(journey_server, browser):
    context = browser.new_context(locale="en-GB", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, journey_server.url, ADMIN, STAFF_PASSWORD)
    builder = Builder(page, journey_server.url, SMALL_GRANTS)
    try:
        build_small_grants(builder)
    finally:
        page.screenshot(path="/tmp/j16_last.png", full_page=True)
        open("/tmp/j16_last.html", "w").write(page.content())
