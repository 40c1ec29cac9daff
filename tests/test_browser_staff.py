"""Staff management and two-factor sign-in in a real browser (Debian's chromium), against the
app served by `flask run` whose emails go to a real SMTP server (aiosmtpd) in this process:
the links in them are followed as a person would. Every new page is checked with axe (zero
violations) and the invitation is accepted with the keyboard alone."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pyotp
import pytest

from tests.browser import ROOT
from tests.conftest import need
from tests.conftest_mail import SmtpServer
from tests.test_browser_accessibility import AXE_JS, Audit, named, tab_to

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the `browser` fixture reports it: a skip here, a failure on CI
    Page = expect = None

ADMIN = "ada@example.org"
PASSWORD = "a long test password, not a real one"  # noqa: S105
NEW_PASSWORD = "plum violin harbour sandal"  # noqa: S105
LINK = re.compile(r"https?://[^\s]+/(?:invitation|password-reset)/[A-Za-z0-9_-]+")


@pytest.fixture
def mail_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def site(live_server, mail_server):
    """The live server sending through the test's SMTP server, with an admin account."""
    live_server.stop()
    live_server.env["FLASK_MAIL_SERVER"] = "127.0.0.1"
    live_server.env["FLASK_MAIL_PORT"] = str(mail_server.port)
    live_server.env["FLASK_MAIL_DEFAULT_SENDER"] = "calls@formdesk.example.org"
    live_server.start(timeout=60)
    flask(
        live_server, "users", "create", ADMIN, "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    return live_server


@pytest.fixture
def audit():
    need(AXE_JS.is_file(), f"axe-core is not installed ({AXE_JS}): run `npm ci --prefix tests/js`")
    return Audit(AXE_JS.read_text(encoding="utf-8"))


def flask(server, *args: str, stdin: str = "") -> str:
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


def new_page(browser) -> Page:
    """A browser of its own (a fresh context: no cookies). axe is injected whatever the
    page's Content-Security-Policy says (bypass_csp); the policy itself stays strict."""
    context = browser.new_context(
        locale="en-GB", viewport={"width": 1100, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    if AXE_JS.is_file():
        context.add_init_script(path=str(AXE_JS))
    return context.new_page()


def sign_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login?lang=en")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def link_in_email(mail_server, count: int, recipient: str) -> str:
    messages = mail_server.inbox.wait_for(count, timeout=60)
    assert len(messages) >= count, "the email did not arrive"
    message = messages[count - 1]
    assert message["To"] == recipient
    return LINK.search(message.get_body(("plain",)).get_content()).group(0)


def submit(page: Page, label: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=label).click()


def test_an_admin_invites_a_reviewer_who_accepts_by_the_emailed_link(
    site, browser, mail_server, audit
):
    admin = new_page(browser)
    sign_in(admin, site.url, ADMIN)
    admin.goto(f"{site.url}/dashboard/admin/staff/?lang=en")
    audit.check(admin, "staff list")
    admin.get_by_role("link", name="Invite someone").click()
    audit.check(admin, "invite page")
    submit(admin, "Send the invitation")  # empty: the error beside the field
    expect(admin.locator("#email-error")).to_contain_text("Enter the person's email address.")
    audit.check(admin, "invite page with errors")
    admin.locator("#email").fill("rita@example.org")
    admin.get_by_label("Reviewer: reads, scores and comments on the chosen calls").check()
    admin.get_by_label("msas").check()
    admin.locator("#language").select_option("en")
    submit(admin, "Send the invitation")
    expect(admin.locator(".notice")).to_contain_text("The invitation is sent to rita@example.org")

    link = link_in_email(mail_server, 1, "rita@example.org")
    rita = new_page(browser)
    rita.goto(link)
    audit.check(rita, "invitation page")
    # With the keyboard alone: Tab to each field, type, Enter sends.
    tab_to(rita, named("name"))
    rita.keyboard.type("Rita Reviewer")
    tab_to(rita, named("new"))
    rita.keyboard.type(NEW_PASSWORD)
    tab_to(rita, named("repeat"))
    rita.keyboard.type(NEW_PASSWORD)
    with rita.expect_navigation():
        rita.keyboard.press("Enter")
    expect(rita).to_have_url(re.compile(r"/dashboard/?$"))
    expect(rita.locator("body")).to_contain_text("rita@example.org")

    used = new_page(browser)
    response = used.goto(link)
    assert response.status == 410
    expect(used.locator("main")).to_contain_text(
        "This invitation was used already. Sign in with your email and password."
    )
    audit.check(used, "refused link page")

    admin.goto(f"{site.url}/dashboard/admin/staff/")
    row = admin.locator("tr", has_text="rita@example.org")
    expect(row).to_contain_text("Reviewer")
    expect(row).to_contain_text("msas")
    row.get_by_role("link").click()
    audit.check(admin, "person page")
    admin.goto(f"{site.url}/dashboard/admin/staff/audit")
    expect(admin.locator("main")).to_contain_text("Accepted the invitation")
    audit.check(admin, "staff audit log")
    audit.assert_clean()


def test_deactivating_someone_ends_their_open_session(site, browser):
    flask(
        site,
        "users",
        "create",
        "rita@example.org",
        "--role",
        "reviewer",
        "--all-forms",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )
    rita = new_page(browser)  # a second browser (its own context): Rita's
    sign_in(rita, site.url, "rita@example.org")
    expect(rita).to_have_url(re.compile(r"/dashboard/?$"))

    admin = new_page(browser)
    sign_in(admin, site.url, ADMIN)
    admin.goto(f"{site.url}/dashboard/admin/staff/")
    admin.locator("tr", has_text="rita@example.org").get_by_role("link").click()
    submit(admin, "Deactivate and sign out everywhere")
    expect(admin.locator(".notice")).to_contain_text(
        "rita@example.org is deactivated and signed out everywhere."
    )

    rita.goto(f"{site.url}/dashboard/submissions")
    expect(rita).to_have_url(re.compile(r"/login"))
    sign_in(rita, site.url, "rita@example.org")
    expect(rita.locator(".error-summary")).to_contain_text(
        "The email address or the password is not right."
    )


def test_a_password_is_reset_by_the_emailed_link_once(site, browser, mail_server, audit):
    page = new_page(browser)
    page.goto(f"{site.url}/login?lang=en")
    page.get_by_role("link", name="Forgot your password?").click()
    audit.check(page, "reset request page")
    page.locator("#email").fill(ADMIN)
    submit(page, "Send the link")
    expect(page.locator(".notice")).to_contain_text("If this address belongs to an account")
    audit.check(page, "reset request answered")

    link = link_in_email(mail_server, 1, ADMIN)
    page.goto(link)
    audit.check(page, "new password page")
    page.locator("#new").fill("short")
    page.locator("#repeat").fill("short")
    submit(page, "Save the new password")
    expect(page.locator("#new-error")).to_contain_text("at least 12")
    page.locator("#new").fill("")
    page.locator("#repeat").fill("")
    page.locator("h1").click()  # then with the keyboard alone
    tab_to(page, named("new"))
    page.keyboard.type(NEW_PASSWORD)
    tab_to(page, named("repeat"))
    page.keyboard.type(NEW_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Your password is changed")

    sign_in(page, site.url, ADMIN, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    again = new_page(browser)
    assert again.goto(link).status == 410
    expect(again.locator("main")).to_contain_text("This link was used already.")
    audit.assert_clean()


def test_two_factor_enrolment_then_sign_in_with_a_totp_code(site, browser, audit):
    page = new_page(browser)
    sign_in(page, site.url, ADMIN)
    page.goto(f"{site.url}/account/password")
    page.get_by_role("link", name="Manage two-factor sign-in").click()
    audit.check(page, "two-factor page")
    submit(page, "Set up two-factor sign-in")
    expect(page.locator(".qr-code svg")).to_be_visible()
    audit.check(page, "two-factor set-up page")
    secret = page.locator(".totp-secret").inner_text().replace(" ", "")
    page.locator("#code").fill("000000")
    submit(page, "Turn on two-factor sign-in")
    expect(page.locator("#code-error")).to_contain_text("This code is not right.")
    page.locator("#code").fill(pyotp.TOTP(secret).now())
    submit(page, "Turn on two-factor sign-in")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    audit.check(page, "recovery codes")

    page.get_by_role("button", name=re.compile("Sign out")).first.click()
    sign_in(page, site.url, ADMIN)
    expect(page).to_have_url(re.compile(r"/login/code$"))
    audit.check(page, "code page")
    page.locator("#code").fill("123456")
    submit(page, "Sign in")
    expect(page.locator("#code-error")).to_contain_text("This code is not right.")
    audit.check(page, "code page with an error")
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the enrolment used the current step
    page.locator("#code").fill("")
    page.locator("h1").click()  # start from the page, then with the keyboard alone
    tab_to(page, named("code"))
    page.keyboard.type(code)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))

    other = new_page(browser)  # the same code again, elsewhere: refused
    sign_in(other, site.url, ADMIN)
    other.locator("#code").fill(code)
    submit(other, "Sign in")
    expect(other.locator("#code-error")).to_contain_text("This code was used already.")
    audit.assert_clean()
