"""A reviewer in the browser: signs in, filters, scores, accepts one application and
rejects another; each applicant's private page then shows the decision."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.browser import ROOT
from tests.test_concurrency import Browserless

PASSWORD = "a long reviewer password"  # noqa: S105 (test account)
LONG = "Od lat prowadzimy zajęcia dla mieszkańców i mieszkanek dzielnicy, także po ukraińsku."


@pytest.fixture
def review_server(live_server):
    live_server.stop()
    live_server.env["FLASK_FORMDESK_MIN_FILL_SECONDS"] = "0"  # the robot check is not tested here
    live_server.start(timeout=60)
    created = subprocess.run(  # noqa: S603 (our own command line)
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "app",
            "users",
            "create",
            "rita@example.org",
            "--role",
            "call_manager",
            "--all-forms",
        ],
        cwd=ROOT,
        env=live_server.env,
        input=f"{PASSWORD}\n{PASSWORD}\n",
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    return live_server


def apply_to_msas(server, branch: str, language: str = "en") -> tuple[str, str]:
    """An application through HTTP, as a browser would post it; returns (reference, link)."""
    person = Browserless(server.url)
    person.get(f"/calls/msas/page/1?lang={language}")
    person.post(
        "/calls/msas/page/1",
        {
            "branch_name": branch,
            "branch_address-street": "ul. Przykładowa 1",
            "branch_address-postcode": "90-001",
            "branch_address-town": "Łódź",
            "branch_address-country": "PL",
            "contact_name": "Ewa Nowak",
            "contact_email": f"{branch.split()[-1]}@example.org",
            "contact_phone": "+48 42 123 45 67",
            "action": "continue",
        },
    )
    person.post(
        "/calls/msas/page/2",
        {
            "experience_residents": LONG,
            "experience_foreigners": LONG,
            "motivation": LONG,
            "action": "continue",
        },
    )
    person.post("/calls/msas/page/3", {"consent": "y", "action": "continue"})
    person.get("/calls/msas/check")
    _status, url = person.post("/calls/msas/check", {})
    assert url.endswith("/confirmation"), person.html[:400]
    reference = re.search(r"MSAS-\d{4}-\d{4}", person.html).group(0)
    link = re.search(r'href="(http://[^"]+/s/[^"]+)"', person.html).group(1)
    return reference, link


def test_a_reviewer_decides_and_applicants_see_their_decisions(review_server, page):
    accepted_ref, accepted_link = apply_to_msas(review_server, "Filia nr 12")
    rejected_ref, rejected_link = apply_to_msas(review_server, "Filia nr 7")
    base = review_server.url

    page.goto(base + "/login?lang=en")
    page.get_by_label("Email address").fill("rita@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(base + "/dashboard/submissions?lang=en")
    page.get_by_label("Search").fill(accepted_ref)
    page.get_by_role("button", name=re.compile("Filter|Search|Show", re.I)).first.click()
    rows = page.locator("tbody tr")
    assert rows.count() == 1 and accepted_ref in rows.first.inner_text()

    decide(page, accepted_ref, "accept", "Welcome to the zone!", score=True)
    page.goto(base + "/dashboard/submissions?lang=en")
    decide(page, rejected_ref, "reject", "Not this time: we had three stronger applications.")

    for link, state, comment in (
        (accepted_link, "Accepted", "Welcome to the zone!"),
        (rejected_link, "Not accepted", "Not this time: we had three stronger applications."),
    ):
        page.goto(link + "?lang=en")
        text = page.locator("main").inner_text()
        assert state in text and comment in text


def decide(page, reference: str, action: str, comment: str, score: bool = False) -> None:
    page.get_by_role("link", name=reference).click()
    take(page, "Start review", "")
    if score:
        for criterion in (
            "Experience with residents",
            "Experience with foreigners",
            "Motivation and ideas for the zone",
        ):
            page.get_by_role("group", name=re.compile(criterion)).get_by_label("4").check()
        page.get_by_role("button", name=re.compile("Save (my )?scores", re.I)).click()
        assert "Weighted average: 4.00 from 1 reviewer" in page.locator("main").inner_text()
    take(page, {"accept": "Accept", "reject": "Reject"}[action], comment)
    state = {"accept": "Accepted", "reject": "Not accepted"}[action]
    assert state in page.locator("main").inner_text()


def take(page, label: str, comment: str) -> None:
    """A move from the detail page; one that writes to the applicant is confirmed on the
    page that shows the email first."""
    form = page.locator("form", has=page.get_by_role("button", name=label, exact=True))
    if comment:
        form.get_by_role("textbox").first.fill(comment)
    form.get_by_role("button", name=label, exact=True).click()
    confirm = page.get_by_role("button", name="Confirm and send")
    if confirm.count():
        if comment:
            assert comment in page.locator(".email-body").inner_text()
        confirm.click()


def test_a_decision_is_checked_then_confirmed_without_javascript(review_server, browser):
    """The reviewer reads the email in the applicant's language (Polish) before it goes,
    and confirms it, with JavaScript off."""
    reference, link = apply_to_msas(review_server, "Filia nr 3", language="pl")
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(review_server.url + "/login?lang=en")
        page.get_by_label("Email address").fill("rita@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(review_server.url + "/dashboard/submissions?lang=en")
        page.get_by_role("link", name=reference).click()
        take(page, "Start review", "")
        form = page.locator("form", has=page.get_by_role("button", name="Accept", exact=True))
        form.get_by_role("textbox").first.fill("Zapraszamy na spotkanie\n12 stycznia.")
        form.get_by_role("button", name="Accept", exact=True).click()

        main = page.locator("main")
        assert "Check before you confirm: Accept" in main.inner_text()
        assert "Przyjęte" in page.locator(".email-subject").inner_text()
        body = page.locator(".email-body")
        assert body.get_attribute("lang") == "pl"
        assert body.inner_text().startswith("Dzień dobry")
        assert "Zapraszamy na spotkanie\n12 stycznia." in body.inner_text()
        page.get_by_role("button", name="Confirm and send").click()
        assert "The state is now: Accepted." in main.inner_text()
        page.goto(link + "?lang=pl")
        assert "Przyjęte" in page.locator("main").inner_text()
    finally:
        context.close()
