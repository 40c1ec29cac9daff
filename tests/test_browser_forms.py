"""A person in a real browser (chromium) fills in the demo calls on a real server.

Locators go by role and label (`get_by_role`, `get_by_label`), the way assistive technology
finds things: a field a test cannot find by its label is a field a screen reader user cannot
find either."""

from __future__ import annotations

import re

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the `browser` fixture reports it: a skip here, a failure on CI
    Page = expect = None

TOL_TITLE_SV = "Förfrågan till det regionala resurscentrumet för Toleransprojektet"
TOL_TITLE_EN = "Request to the regional resource centre for the Tolerance Project"


def mark_document(page: Page) -> None:
    """Mark the current document; `still_same_document` proves no page load happened since."""
    page.evaluate("window.__formdeskMark = true")


def still_same_document(page: Page) -> bool:
    return page.evaluate("window.__formdeskMark === true")


def question(page: Page, legend: str):
    """A radio or checkbox question: a fieldset (role group) named by its legend."""
    return page.get_by_role("group", name=legend, exact=True)


def language_switcher(page: Page):
    """The navigation holding the language links (its own name is translated)."""
    return page.get_by_role("navigation").filter(has=page.locator("a[hreflang]"))


def answer(page: Page, question_text: str):
    """On "check your answers": the answer shown beside a question."""
    term = page.get_by_role("term").filter(has_text=re.compile(f"^{re.escape(question_text)}$"))
    return page.locator(".summary-row").filter(has=term).get_by_role("definition").first


def press(page: Page, name: str) -> None:
    """Press a button and wait for the page it leads to, which must not be an error page."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=name, exact=True).click()
    status = navigation.value.status if navigation.value else 200
    assert status < 400, (
        f"{name!r} led to HTTP {status} at {page.url}:\n" + page.locator("body").inner_text()
    )


def test_a_tolerance_request_goes_from_the_list_of_calls_to_a_reference(live_server, page):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name=TOL_TITLE_SV).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TOL_TITLE_SV)
    expect(page.locator("html")).to_have_attribute("lang", "sv")

    # The language switcher is a list of links, each named in its own language.
    switcher = language_switcher(page)
    expect(switcher.get_by_role("link", name="Svenska")).to_have_attribute("aria-current", "true")
    switcher.get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/calls/tolerance-requests\?lang=en$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TOL_TITLE_EN)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("button", name="Start now").click()
    expect(page).to_have_url(re.compile(r"/calls/tolerance-requests/page/1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your request")
    expect(page.get_by_text("Step 1 of 2")).to_be_visible()

    # --- conditional questions appear and disappear without a page load -------------------
    service = question(page, "What would you like help with?")
    trip_stage = question(page, "How far have you got with planning the trip?")
    departure = page.get_by_label("Date of departure for Poland")
    visit_focus = page.get_by_label("What would you particularly like to see or learn about")
    expect(trip_stage).to_be_hidden()
    expect(departure).to_be_hidden()
    expect(visit_focus).to_be_hidden()
    # Nothing is marked invalid before anything was sent (aria-invalid="None" would read as
    # "invalid" to a screen reader: unknown values count as true).
    for name in ("Number of participants", "Preferred date"):
        field = page.get_by_label(name, exact=True)
        expect(field).not_to_have_attribute("aria-invalid", re.compile(".*"))
        expect(field).not_to_have_attribute("aria-describedby", "None")

    mark_document(page)
    service.get_by_label("Help with planning and carrying out the study trip to Poland").check()
    expect(trip_stage).to_be_visible()
    expect(departure).to_be_hidden()
    trip_stage.get_by_label("The trip is booked").check()
    expect(departure).to_be_visible()

    service.get_by_label("A study visit to us in Exempelby").check()
    expect(trip_stage).to_be_hidden()
    expect(departure).to_be_hidden()  # nested: hidden because its parent question is hidden
    expect(visit_focus).to_be_visible()

    service.get_by_label("Help with planning and carrying out the study trip to Poland").check()
    expect(trip_stage).to_be_visible()
    expect(departure).to_be_visible()  # the "booked" answer was kept while hidden
    expect(visit_focus).to_be_hidden()
    trip_stage.get_by_label("We have started planning").check()
    expect(departure).to_be_hidden()
    trip_stage.get_by_label("The trip is booked").check()
    expect(departure).to_be_visible()
    assert still_same_document(page), "showing and hiding questions reloaded the page"

    # --- a required answer is missing: error summary with focus, linking to the field -------
    question(page, "Which target groups is the request about?").get_by_label(
        "Teachers and other school staff"
    ).check()
    page.get_by_label("Preferred date", exact=True).fill("2030-03-15")
    page.get_by_label("Number of participants").fill("12")
    page.get_by_label("Message (optional)", exact=True).fill("Vi planerar resan till Kraków i maj.")
    press(page, "Continue")

    summary = page.get_by_role("alert").filter(has=page.get_by_text("There is a problem"))
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert page.evaluate("document.activeElement === document.querySelector('.error-summary')"), (
        "the error summary does not have focus"
    )
    expect(page).to_have_title(re.compile(r"^Error: "))
    links = summary.get_by_role("link")
    expect(links).to_have_count(1)
    expect(links.first).to_have_attribute("href", "#trip_departure")
    expect(trip_stage).to_be_visible()  # conditional answers survive the round trip
    expect(trip_stage.get_by_label("The trip is booked")).to_be_checked()
    expect(page.get_by_label("Number of participants")).to_have_value("12")
    expect(departure).to_have_attribute("aria-invalid", "true")
    error_id = departure.get_attribute("aria-describedby")
    assert error_id and page.locator(f"#{error_id}").inner_text().strip(), (
        "the field's error message is not tied to it with aria-describedby"
    )
    links.first.click()
    expect(departure).to_be_focused()

    departure.fill("2030-05-04")
    press(page, "Continue")

    # --- page 2 ---------------------------------------------------------------------------
    # (a redirect keeps the fragment of the error summary link the person followed)
    expect(page).to_have_url(re.compile(r"/calls/tolerance-requests/page/2(#.*)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Contact details")
    page.get_by_label("Municipality").fill("Exempelstad kommun")
    page.get_by_label("Contact person").fill("Sara Lind")
    page.get_by_label("Email address").fill("sara.lind@example.se")
    press(page, "Continue")

    # --- check your answers, change one, send ---------------------------------------------
    expect(page).to_have_url(re.compile(r"/calls/tolerance-requests/check(#.*)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers before sending")
    expect(answer(page, "What would you like help with?")).to_have_text(
        "Help with planning and carrying out the study trip to Poland"
    )
    expect(answer(page, "How far have you got with planning the trip?")).to_have_text(
        "The trip is booked"
    )
    expect(answer(page, "Email address")).to_have_text("sara.lind@example.se")
    expect(page.get_by_role("main")).not_to_contain_text("What would you particularly like")
    expect(answer(page, "Number of participants")).to_have_text("12")

    page.get_by_role("link", name="Change Number of participants").click()
    expect(page).to_have_url(re.compile(r"/page/1\?return=check#participants$"))
    participants = page.get_by_label("Number of participants")
    expect(participants).to_be_focused()  # the link leads to the question itself
    expect(participants).to_have_value("12")
    participants.fill("25")
    press(page, "Continue")  # straight back to the check page, not on to page 2
    expect(page).to_have_url(re.compile(r"/calls/tolerance-requests/check(#.*)?$"))
    expect(answer(page, "Number of participants")).to_have_text("25")

    # A radio question's change link leads to its first option, too.
    page.get_by_role("link", name="Change What would you like help with?").click()
    expect(
        question(page, "What would you like help with?").get_by_label(
            "On-site supervision of staff in questions of teaching and learning"
        )
    ).to_be_focused()
    press(page, "Continue")
    expect(page).to_have_url(re.compile(r"/calls/tolerance-requests/check(#.*)?$"))

    press(page, "Send")
    expect(page).to_have_url(re.compile(r"/calls/tolerance-requests/confirmation(#.*)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Request received")
    reference = page.locator(".reference").inner_text()
    assert re.fullmatch(r"TOL-\d{4}-\d{4}", reference), reference


def test_a_second_participant_is_added_and_removed_in_the_study_visit_form(live_server, page):
    page.goto(live_server.url + "/calls/study-visit-stralsund")
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("Your delegation's country").select_option(label="Sweden")
    page.get_by_label("Organisation", exact=True).fill("Exempelby kommun")
    page.get_by_label("Contact person", exact=True).fill("Karin Exempelsson")
    page.get_by_label("Contact person's email address").fill("karin@example.se")
    press(page, "Continue")
    expect(page.get_by_role("heading", level=1)).to_have_text("Participants")

    first = page.get_by_role("group", name="Participant 1", exact=True)
    second = page.get_by_role("group", name="Participant 2", exact=True)
    expect(second).to_have_count(0)
    expect(first.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)  # min 1
    first.get_by_label("First name").fill("Karin")
    first.get_by_label("Last name").fill("Exempelsson")

    press(page, "Add another")
    expect(page).to_have_url(re.compile(r"/page/2#participants-1$"))
    expect(second).to_be_visible()
    expect(first.get_by_label("First name")).to_have_value("Karin")  # typed answers kept
    expect(second.get_by_label("First name")).to_have_value("")

    # A question inside one item depends on that item's answer only.
    second.get_by_label("First name").fill("Lars")
    second.get_by_label("Other (e.g. allergies)").check()
    expect(second.get_by_label("Details of dietary needs")).to_be_visible()
    expect(first.get_by_label("Details of dietary needs")).to_be_hidden()

    press(page, "Remove Participant 2")
    expect(second).to_have_count(0)
    expect(first).to_be_visible()
    expect(first.get_by_label("First name")).to_have_value("Karin")
    expect(first.get_by_label("Last name")).to_have_value("Exempelsson")
    expect(page.get_by_role("button", name="Add another")).to_be_visible()


def test_a_saved_application_opens_from_its_resume_link_in_another_browser(
    live_server, browser, page
):
    page.goto(live_server.url + "/calls/msas")
    # A Swedish browser on a call in Polish and English: English, not the call's Polish.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    language_switcher(page).get_by_role("link", name="English").click()
    page.get_by_role("button", name="Start now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your branch")
    page.get_by_label("Branch name").fill("Filia nr 12 Biblioteki Miejskiej")
    page.get_by_label("Street and number").fill("ul. Przykładowa 5")
    page.get_by_label("Postcode").fill("90-001")
    page.get_by_label("Town").fill("Łódź")
    page.get_by_label("Contact person").fill("Zofia Żółtowska")
    press(page, "Save and continue later")  # half filled: email and phone still missing

    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers are saved")
    resume_url = page.locator(".resume-link a").get_attribute("href")
    assert resume_url and re.fullmatch(re.escape(live_server.url) + r"/resume/\S+", resume_url)

    other = browser.new_context(locale="en-GB")  # another device: no cookies, no session
    try:
        assert other.cookies() == []
        elsewhere = other.new_page()
        elsewhere.goto(resume_url)
        expect(elsewhere).to_have_url(re.compile(r"/calls/msas/page/1$"))
        expect(elsewhere.get_by_label("Branch name")).to_have_value(
            "Filia nr 12 Biblioteki Miejskiej"
        )
        expect(elsewhere.get_by_label("Street and number")).to_have_value("ul. Przykładowa 5")
        expect(elsewhere.get_by_label("Postcode")).to_have_value("90-001")
        expect(elsewhere.get_by_label("Town")).to_have_value("Łódź")
        expect(elsewhere.get_by_label("Country")).to_have_value("PL")
        expect(elsewhere.get_by_label("Contact person")).to_have_value("Zofia Żółtowska")
        expect(elsewhere.get_by_label("Email address")).to_have_value("")
        # ...and can go on from there: the draft now belongs to this browser too.
        elsewhere.get_by_label("Email address").fill("zofia@example.pl")
        elsewhere.get_by_label("Phone number").fill("+48 42 123 45 67")
        with elsewhere.expect_navigation():
            elsewhere.get_by_role("button", name="Continue", exact=True).click()
        expect(elsewhere).to_have_url(re.compile(r"/calls/msas/page/2$"))
    finally:
        other.close()
