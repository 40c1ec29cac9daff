"""Save and resume, and requests a person or an attacker could send: never a 500, never
lost answers."""

import re

from tests.conftest import FormClient, errors_in
from tests.definitions import VALID_ALL_TYPES, all_types, multi_page


def resume_link(html: str) -> str:
    return re.search(r'href="(http://formdesk\.test/resume/[^"]+)"', html).group(1)


def test_save_and_resume_from_another_browser(app, client, create_form):
    create_form(multi_page())
    client.fill("multi", 1, {"service": "visit", "contact_email": "half@example.org"})
    saved = client.fill("multi", 2, {"notes": "Half written"}, action="save")
    assert saved.headers["Location"].endswith("/calls/multi/saved")
    link = resume_link(client.get("/calls/multi/saved").get_data(as_text=True))

    other = FormClient(app.test_client())
    resumed = other.get(link.replace("http://formdesk.test", ""))
    assert resumed.status_code == 302
    # Page 1 was valid, page 2 was saved unfinished: resume lands on page 2.
    assert resumed.headers["Location"].endswith("/calls/multi/page/2")
    page = other.get("/calls/multi/page/2").get_data(as_text=True)
    assert "Half written" in page
    page1 = other.get("/calls/multi/page/1").get_data(as_text=True)
    assert "half@example.org" in page1


def test_an_unknown_resume_link_says_so(client):
    response = client.get("/resume/not-a-real-token")
    assert response.status_code == 404
    assert "This link is not valid" in client.last_html


def test_a_resume_link_stops_working_once_the_application_is_sent(app, client, create_form):
    create_form(all_types())
    client.fill("all-types", 1, VALID_ALL_TYPES, action="save")
    link = resume_link(client.get("/calls/all-types/saved").get_data(as_text=True))
    client.get("/calls/all-types/check")
    client.post("/calls/all-types/check", {})
    assert client.get(link.replace("http://formdesk.test", "")).status_code == 404


def test_missing_csrf_token_shows_the_answers_again_and_stores_nothing(app, client, create_form):
    create_form(all_types())
    response = client.client.post(
        "/calls/all-types/page/1", data={**VALID_ALL_TYPES, "action": "continue"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This page had expired" in html
    assert "Zażółć Gęślą" in html and "person@example.org" in html
    with app.app_context():
        from models import Draft

        assert Draft.query.count() == 0
    # The page shown carries a fresh token: sending again works.
    client.last_html = html
    again = client.post("/calls/all-types/page/1", {**VALID_ALL_TYPES, "action": "continue"})
    assert again.status_code == 302


def test_wrong_csrf_token_is_refused(client, create_form):
    create_form(all_types())
    response = client.post(
        "/calls/all-types/page/1", {**VALID_ALL_TYPES, "csrf_token": "forged", "action": "continue"}
    )
    assert response.status_code == 400
    assert "This page had expired" in client.last_html


def test_csrf_is_checked_on_the_final_submit(app, client, create_form):
    create_form(all_types())
    client.fill("all-types", 1, VALID_ALL_TYPES)
    response = client.post("/calls/all-types/check", {"csrf_token": "forged"})
    assert response.status_code == 400
    with app.app_context():
        from models import Submission

        assert Submission.query.count() == 0


def test_a_huge_body_gets_a_clear_page_not_a_crash(app, client, create_form):
    create_form(all_types())
    client.get("/calls/all-types/page/1")
    huge = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/calls/all-types/page/1", {"story": huge, "action": "continue"})
    assert response.status_code == 413
    assert "too large" in client.last_html


def test_a_very_long_text_field_is_refused_with_the_count(client, create_form):
    create_form(all_types())
    response = client.fill("all-types", 1, {**VALID_ALL_TYPES, "name": "ż" * 100_000})
    assert response.status_code == 200
    assert "Use at most 40 characters (you used 100,000)." in errors_in(client.last_html)
    assert "person@example.org" in client.last_html


def test_tampered_actions_and_unknown_fields_are_ignored(app, client, create_form):
    create_form(multi_page())
    client.fill("multi", 1, {"service": "visit", "contact_email": "a@example.org"})
    client.fill("multi", 2, {"visit_focus": "Libraries"})
    for action in ("remove-participants-99", "remove-participants-x", "add-nothing", "drop table"):
        response = client.fill(
            "multi",
            3,
            {
                "participants-0-first_name": "Ola",
                "participants-0-diet": "none",
                "is_admin": "1",
                "state": "accepted",
            },
            action=action,
        )
        assert response.status_code in (200, 302)
    client.get("/calls/multi/check")
    client.post("/calls/multi/check", {})
    with app.app_context():
        from models import Submission

        submission = Submission.query.one()
        assert submission.state == "submitted"
        assert set(submission.answers_by_field()) == {
            "service",
            "contact_email",
            "visit_focus",
            "participants",
        }


def test_sending_twice_stores_one_submission(app, client, create_form):
    create_form(all_types())
    client.fill("all-types", 1, VALID_ALL_TYPES)
    client.get("/calls/all-types/check")
    token = client.csrf_token()
    first = client.post("/calls/all-types/check", {"csrf_token": token})
    second = client.post("/calls/all-types/check", {"csrf_token": token})
    assert first.status_code == 302 and second.status_code == 302
    with app.app_context():
        from models import Submission

        assert Submission.query.count() == 1


def test_unknown_pages_and_calls_are_404_pages(client, create_form):
    create_form(all_types())
    assert client.get("/calls/all-types/page/0").status_code == 404
    assert client.get("/calls/all-types/page/9").status_code == 404
    assert client.get("/calls/no-such-call").status_code == 404
    assert "Page not found" in client.last_html
