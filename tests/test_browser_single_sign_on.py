"""Single sign-on in a real browser (Debian's chromium): the app served by `flask run`,
configured with a real OpenID Connect provider (oauth2-mock-server, tests/conftest_oidc.py),
its emails received by a real SMTP server. The person clicks "Sign in with …", is sent
through the provider and comes back signed in, or refused with a clear message. The sign-in
page with the button and the refusal page have no axe violations."""

from __future__ import annotations

import re

import pytest

from tests.conftest import need
from tests.conftest_mail import SmtpServer
from tests.test_browser_accessibility import AXE_JS, Audit, button, tab_to
from tests.test_browser_staff import (
    ADMIN,
    PASSWORD,
    flask,
    link_in_email,
    new_page,
    sign_in,
    submit,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture reports it: a skip here, a failure on CI
    expect = None

BUTTON = "Sign in with Test IdP"


@pytest.fixture
def mail_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def audit():
    need(AXE_JS.is_file(), f"axe-core is not installed ({AXE_JS}): run `npm ci --prefix tests/js`")
    return Audit(AXE_JS.read_text(encoding="utf-8"))


@pytest.fixture
def sso_site(live_server, mail_server, oidc_provider):
    """The live server with single sign-on through the test's provider, mail through the
    test's SMTP server, and an admin account."""
    live_server.stop()
    live_server.env.update({"FLASK_" + k: v for k, v in oidc_provider.settings().items()})
    live_server.env["FLASK_MAIL_SERVER"] = "127.0.0.1"
    live_server.env["FLASK_MAIL_PORT"] = str(mail_server.port)
    live_server.env["FLASK_MAIL_DEFAULT_SENDER"] = "calls@formdesk.example.org"
    live_server.start(timeout=60)
    flask(
        live_server, "users", "create", ADMIN, "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    return live_server


def test_an_invited_reviewer_signs_in_through_the_provider(
    sso_site,
    browser,
    mail_server,
    oidc_provider,
    audit,
):
    admin = new_page(browser)
    sign_in(admin, sso_site.url, ADMIN)
    admin.goto(f"{sso_site.url}/dashboard/admin/staff/invite?lang=en")
    admin.locator("#email").fill("rita@example.org")
    admin.get_by_label("Reviewer: reads, scores and comments on the chosen calls").check()
    admin.locator("#language").select_option("en")
    submit(admin, "Send the invitation")
    expect(admin.locator(".notice")).to_contain_text("The invitation is sent to rita@example.org")

    # Rita follows the emailed link and, instead of choosing a password, uses her
    # organisation's account; the provider says who she is.
    oidc_provider.issue(email="rita@example.org", email_verified=True, name="Rita Reviewer")
    rita = new_page(browser)
    rita.goto(link_in_email(mail_server, 1, "rita@example.org"))
    audit.check(rita, "invitation page with the single sign-on button")
    tab_to(rita, button(BUTTON))  # reached with the keyboard, its focus visible
    with rita.expect_navigation(url=re.compile(r"/dashboard/?$")):
        rita.keyboard.press("Enter")
    expect(rita.locator("body")).to_contain_text("rita@example.org")

    # The invitation is accepted: the link no longer works, the list shows her as active.
    admin.goto(f"{sso_site.url}/dashboard/admin/staff/audit")
    expect(admin.locator("main")).to_contain_text("Signed in with single sign-on")
    expect(admin.locator("main")).to_contain_text("Accepted the invitation")

    # Next time from the sign-in page.
    again = new_page(browser)
    again.goto(f"{sso_site.url}/login?lang=en")
    audit.check(again, "sign-in page with the single sign-on button")
    with again.expect_navigation(url=re.compile(r"/dashboard/?$")):
        again.get_by_role("link", name=BUTTON).click()
    audit.assert_clean()


def test_someone_without_an_invitation_and_a_deactivated_account_are_refused(
    sso_site,
    browser,
    oidc_provider,
    audit,
):
    oidc_provider.issue(email="mallory@example.org", email_verified=True)
    mallory = new_page(browser)
    mallory.goto(f"{sso_site.url}/login?lang=en")
    mallory.get_by_role("link", name=BUTTON).click()
    expect(mallory.get_by_role("heading", level=1)).to_have_text("You cannot sign in this way")
    expect(mallory.get_by_role("alert")).to_contain_text(
        "No staff account was invited for this address (mallory@example.org)."
    )
    audit.check(mallory, "single sign-on refusal page")
    mallory.goto(f"{sso_site.url}/dashboard/")
    expect(mallory).to_have_url(re.compile(r"/login"))

    flask(
        sso_site,
        "users",
        "create",
        "rita@example.org",
        "--role",
        "reviewer",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )
    flask(sso_site, "users", "deactivate", "rita@example.org")
    oidc_provider.issue(email="rita@example.org", email_verified=True)
    rita = new_page(browser)
    rita.goto(f"{sso_site.url}/login?lang=sv")
    rita.get_by_role("link", name="Logga in med Test IdP").click()
    expect(rita.get_by_role("alert")).to_contain_text("Det här personalkontot är inaktiverat.")
    audit.check(rita, "single sign-on refusal page in Swedish")
    audit.assert_clean()
