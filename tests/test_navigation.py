"""Moving through a multi-page form: progress, back, skipped pages, change links."""

from tests.definitions import base, multi_page

PARTICIPANT = {"participants-0-first_name": "Jonas", "participants-0-diet": "none"}


def fill_all(client):
    client.fill("multi", 1, {"service": "visit", "contact_email": "a@example.org"})
    client.fill("multi", 2, {"visit_focus": "Reading promotion"})
    return client.fill("multi", 3, PARTICIPANT)


def test_pages_show_progress_and_lead_to_check_your_answers(client, create_form):
    create_form(multi_page())
    assert "Step 1 of 3" in client.get("/calls/multi/page/1").get_data(as_text=True)
    first = client.fill("multi", 1, {"service": "visit", "contact_email": "a@example.org"})
    assert first.headers["Location"].endswith("/calls/multi/page/2")
    assert "Step 2 of 3" in client.get("/calls/multi/page/2").get_data(as_text=True)
    assert "<title>Details (step 2 of 3)" in client.last_html
    last = fill_all(client)
    assert last.headers["Location"].endswith("/calls/multi/check")


def test_back_keeps_what_was_typed_without_validating(client, create_form):
    create_form(multi_page())
    client.fill("multi", 1, {"service": "visit", "contact_email": "a@example.org"})
    back = client.fill("multi", 2, {"notes": "typed before going back"}, action="back")
    assert back.headers["Location"].endswith("/calls/multi/page/1")
    assert "typed before going back" in client.get("/calls/multi/page/2").get_data(as_text=True)


def test_a_page_whose_questions_are_all_hidden_is_skipped(client, create_form):
    pages = [
        {
            "title": "First",
            "fields": [
                {
                    "name": "kind",
                    "type": "choice",
                    "label": "Kind",
                    "required": True,
                    "choices": [
                        {"value": "group", "label": "Group"},
                        {"value": "solo", "label": "Solo"},
                    ],
                },
            ],
        },
        {
            "title": "Group details",
            "fields": [
                {
                    "name": "size",
                    "type": "number",
                    "label": "Size",
                    "required": True,
                    "show_if": {"kind": ["group"]},
                },
            ],
        },
        {"title": "Last", "fields": [{"name": "note", "type": "text", "label": "Note"}]},
    ]
    create_form(base("skip", pages))
    solo = client.fill("skip", 1, {"kind": "solo"})
    assert solo.headers["Location"].endswith("/calls/skip/page/3")
    assert "Step 2 of 2" in client.get("/calls/skip/page/3").get_data(as_text=True)
    back = client.fill("skip", 3, {}, action="back")
    assert back.headers["Location"].endswith("/calls/skip/page/1")
    group = client.fill("skip", 1, {"kind": "group"})
    assert group.headers["Location"].endswith("/calls/skip/page/2")


def test_change_link_returns_to_check_your_answers(client, create_form):
    create_form(multi_page())
    fill_all(client)
    check = client.get("/calls/multi/check").get_data(as_text=True)
    assert 'href="/calls/multi/page/2?return=check#visit_focus"' in check
    changed = client.post(
        "/calls/multi/page/2?return=check", {"visit_focus": "Changed focus", "action": "continue"}
    )
    assert changed.headers["Location"].endswith("/calls/multi/check")
    assert "Changed focus" in client.get("/calls/multi/check").get_data(as_text=True)


def test_check_sends_back_to_a_page_that_became_incomplete(client, create_form):
    create_form(multi_page())
    fill_all(client)
    # Switching to the study trip makes a new required question appear on page 2.
    client.post(
        "/calls/multi/page/1?return=check",
        {"service": "trip", "contact_email": "a@example.org", "action": "continue"},
    )
    response = client.get("/calls/multi/check")
    assert response.headers["Location"].endswith("/calls/multi/page/2?review=1")
    page = client.get("/calls/multi/page/2?review=1").get_data(as_text=True)
    assert "Select an option." in page


def test_a_value_posted_for_a_hidden_question_is_not_stored(app, client, create_form):
    create_form(multi_page())
    client.fill("multi", 1, {"service": "visit", "contact_email": "a@example.org"})
    client.fill(
        "multi", 2, {"visit_focus": "Focus", "trip_stage": "booked", "departure": "2027-05-01"}
    )
    client.fill("multi", 3, PARTICIPANT)
    client.get("/calls/multi/check")
    client.post("/calls/multi/check", {})
    with app.app_context():
        from models import Submission

        answers = Submission.query.one().answers_by_field()
    assert "trip_stage" not in answers and "departure" not in answers
    assert answers["participants"] == [{"first_name": "Jonas", "diet": "none"}]
