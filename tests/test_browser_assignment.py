"""Review assignment in a real browser (chromium): a call manager assigns submissions in
bulk from the list and automatically from the call's Reviewers page (with the keyboard
alone), a reviewer finds their assignments first and scores one, and the manager sees the
progress. axe finds no violation on any page of it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.browser import ROOT
from tests.conftest import need
from tests.test_browser_accessibility import AXE_JS, Audit, named, tab_to
from tests.test_browser_review import apply_to_msas

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture reports it
    expect = None

PASSWORD = "a long assignment password"  # noqa: S105 (test accounts)
MANAGER, REVIEWER = "maria@example.org", "rex@example.org"


def create_user(server, email: str, role: str) -> None:
    created = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "flask", "--app", "app", "users", "create", email]
        + ["--role", role, "--form", "msas"],
        cwd=ROOT,
        env=server.env,
        input=f"{PASSWORD}\n{PASSWORD}\n",
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stdout + created.stderr


@pytest.fixture
def assignment_server(live_server):
    live_server.stop()
    live_server.env["FLASK_FORMDESK_MIN_FILL_SECONDS"] = "0"
    live_server.start(timeout=60)
    create_user(live_server, MANAGER, "call_manager")
    create_user(live_server, REVIEWER, "reviewer")
    return live_server


@pytest.fixture
def audit():
    need(AXE_JS.is_file(), f"axe-core is not installed ({AXE_JS}): run `npm ci --prefix tests/js`")
    return Audit(AXE_JS.read_text(encoding="utf-8"))


def person(browser):
    """A fresh profile carrying axe (the page's Content-Security-Policy stays strict)."""
    ctx = browser.new_context(
        locale="en-GB", viewport={"width": 1100, "height": 900}, bypass_csp=True
    )
    ctx.set_default_timeout(10_000)
    ctx.add_init_script(path=str(AXE_JS))
    return ctx


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login?lang=en")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))


def test_a_manager_assigns_a_reviewer_scores_and_the_manager_sees_progress(
    assignment_server, browser, audit
):
    base = assignment_server.url
    references = [apply_to_msas(assignment_server, f"Filia nr {n}")[0] for n in (3, 5, 8)]
    manager_ctx, reviewer_ctx = person(browser), person(browser)
    try:
        manager = manager_ctx.new_page()
        sign_in(manager, base, MANAGER)
        audit.check(manager, "overview")

        # in bulk: two submissions of the list to the reviewer, previewed first
        manager.goto(base + "/dashboard/submissions?form=msas")
        for reference in references[:2]:
            manager.get_by_label(f"Select {reference}").check()
        manager.get_by_label("Reviewer", exact=True).select_option(label=REVIEWER)
        manager.get_by_role("button", name="Assign…").click()
        expect(manager.locator("h1")).to_have_text(f"Assign 2 submissions to {REVIEWER}?")
        audit.check(manager, "bulk assignment preview")
        manager.get_by_role("button", name="Assign", exact=True).click()
        expect(manager.locator("h1")).to_have_text(f"2 submissions assigned to {REVIEWER}")
        audit.check(manager, "bulk assignment done")

        # automatically, with the keyboard alone: one reviewer per submission fills the third
        manager.goto(base + "/dashboard/")
        manager.get_by_role("link", name="Reviewers: assignments and progress").click()
        audit.check(manager, "reviewers page")
        tab_to(manager, named("per_submission"))
        manager.keyboard.press("Control+A")
        manager.keyboard.type("1")
        manager.keyboard.press("Enter")
        expect(manager.locator("main")).to_contain_text("assignment will be made.")
        audit.check(manager, "automatic assignment preview")
        focused = tab_to(manager, lambda f: f["text"] == "Make these assignments")
        assert focused["tag"] == "button"
        manager.keyboard.press("Enter")
        expect(manager.locator("main")).to_contain_text("Assignments made:")
        audit.check(manager, "reviewers page after assigning")

        # the reviewer: assignments first, scores one
        reviewer = reviewer_ctx.new_page()
        sign_in(reviewer, base, REVIEWER)
        reviewer.goto(base + "/dashboard/submissions?lang=en")
        rows = reviewer.locator("tbody tr")
        assert "assigned to you" in rows.first.inner_text().lower()  # shown in capitals
        audit.check(reviewer, "reviewer's list")
        reviewer.get_by_label("Assigned to me").check()
        reviewer.get_by_role("button", name="Apply filters").click()
        mine = [rows.nth(i).inner_text() for i in range(rows.count())]
        assert mine and all("assigned to you" in row.lower() for row in mine)
        first = re.search(r"MSAS-\d{4}-\d{4}", mine[0]).group(0)
        reviewer.get_by_role("link", name=first).click()
        audit.check(reviewer, "submission page (reviewer)")
        for criterion in (
            "Experience with residents",
            "Experience with foreigners",
            "Motivation and ideas for the zone",
        ):
            reviewer.get_by_role("group", name=re.compile(criterion)).get_by_label("4").check()
        reviewer.get_by_role("button", name=re.compile("Save (my )?scores", re.I)).click()
        expect(reviewer.locator("main")).to_contain_text("Your scores are saved.")

        # the manager sees the progress, and the submission's page names the reviewer
        manager.reload()
        row = manager.locator("tr", has=manager.get_by_role("rowheader", name=REVIEWER))
        cells = row.locator("td").all_inner_texts()
        assigned = int(cells[0])
        assert assigned >= 2 and cells[1:] == ["1", str(assigned - 1), "0"]
        manager.goto(base + "/dashboard/submissions?form=msas")
        manager.get_by_role("link", name=first).click()
        expect(manager.get_by_label(REVIEWER)).to_be_checked()
        audit.check(manager, "submission page (manager)")
    finally:
        manager_ctx.close()
        reviewer_ctx.close()
    audit.assert_clean()
