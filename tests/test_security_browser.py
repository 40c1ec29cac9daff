"""The Content-Security-Policy in a real browser (Debian's chromium): the pages served by the
app, with the app's own headers, show no policy violation; our script still runs; and the
admin's email preview (an `<iframe sandbox srcdoc>`, which inherits the page's policy) shows
the email with its one allowed style.

Chromium asks for http://formdesk.test/…; Playwright hands each request to the Flask test
client of a signed-in admin and returns its answer unchanged (status, headers, body)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.definitions import VALID_ALL_TYPES, all_types

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture reports it: a skip here, a failure on CI
    expect = None

CHECK_FOCUS = "() => document.activeElement && document.activeElement.className"
LISTEN = (
    "document.addEventListener('securitypolicyviolation', e => {"
    " (window.top.__csp = window.top.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI);"
    "});"
)


@pytest.fixture
def served(app, browser, create_form):
    """A browser page whose requests the app answers as the signed-in admin."""
    from tests.test_applicant import apply
    from tests.test_review_detail import signed_in, staff

    create_form(all_types())
    apply(app, "all-types", {**VALID_ALL_TYPES, "name": "Åsa <b>Lind</b>"})
    admin = signed_in(app, staff(app, "admin@example.org", "admin"))

    def answer(route):
        request = route.request
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = admin.client.open(
            path,
            method=request.method,
            data=request.post_data_buffer,
            content_type=request.headers.get("content-type"),
        )
        headers = {
            k: v for k, v in response.headers.items() if k.lower() not in ("content-length",)
        }
        route.fulfill(status=response.status_code, headers=headers, body=response.get_data())

    context = browser.new_context(locale="en-GB")
    context.route("http://formdesk.test/**", answer)
    page = context.new_page()
    page.add_init_script(LISTEN)
    console = []
    page.on("console", lambda message: console.append(message.text))
    yield page, console
    context.close()


def violations(page, console) -> list[str]:
    reported = page.evaluate("() => window.__csp || []")
    return reported + [line for line in console if "Content Security Policy" in line]


def test_the_email_preview_shows_the_message_under_the_policy(app, served):
    from extensions import db
    from models import OutboxMessage

    page, console = served
    with app.app_context():
        message_id = db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id))
    response = page.goto(f"http://formdesk.test/dashboard/admin/outbox/{message_id}")
    assert response.status == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    body = page.frame_locator("iframe.email-preview").locator("body")
    expect(body).to_contain_text("TEST-")
    assert "sans-serif" in body.evaluate("b => getComputedStyle(b).fontFamily")
    assert body.locator("b").count() == 0  # the applicant's markup is text there too
    assert violations(page, console) == []


def test_public_pages_run_our_script_and_break_no_rule(served):
    page, console = served
    for path in ("/", "/calls/all-types", "/calls/all-types/page/1"):
        assert page.goto(f"http://formdesk.test{path}").status == 200, path
    page.get_by_role("button", name="Continue", exact=True).click()  # required answers missing
    expect(page.locator(".error-summary")).to_be_visible()
    # formdesk.js moved the focus to the error summary: the script ran under script-src 'self'.
    assert "error-summary" in page.evaluate(CHECK_FOCUS)
    assert violations(page, console) == []
