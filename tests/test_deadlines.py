"""Opening, closing and the grace period, at the second."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.conftest import errors_in
from tests.definitions import base

CLOSES = datetime(2027, 1, 21, 22, 59, 0, tzinfo=UTC)  # 23:59 in Warsaw
OPENS = datetime(2026, 11, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)
ONE_PAGE = [
    {
        "title": "Only",
        "fields": [
            {"name": "name", "type": "text", "label": "Name", "required": True},
        ],
    }
]


@pytest.fixture
def deadline_form(create_form):
    create_form(
        base("deadline", ONE_PAGE, opens_at=OPENS.isoformat(), closes_at=CLOSES.isoformat())
    )
    return "deadline"


def submit_at(client, moments: dict):
    """Fill the page at moments['start'] and send it at moments['send']."""
    with freeze_time(moments["start"]):
        filled = client.fill("deadline", 1, {"name": "Ewa"})
        client.get("/calls/deadline/check")
    with freeze_time(moments["send"]):
        return filled, client.post("/calls/deadline/check", {})


def test_one_second_before_closing_is_accepted(client, deadline_form):
    filled, sent = submit_at(client, {"start": CLOSES - 5 * SECOND, "send": CLOSES - SECOND})
    assert filled.status_code == 302
    assert sent.headers["Location"].endswith("/confirmation")


def test_exactly_at_closing_is_accepted(client, deadline_form):
    _filled, sent = submit_at(client, {"start": CLOSES - SECOND, "send": CLOSES})
    assert sent.headers["Location"].endswith("/confirmation")


def test_one_second_after_closing_without_a_draft_is_refused(client, deadline_form):
    with freeze_time(CLOSES - 10 * SECOND):
        client.get("/calls/deadline/page/1")  # the page was opened in time…
    with freeze_time(CLOSES + SECOND):  # …but the first answers arrive too late
        response = client.post("/calls/deadline/page/1", {"name": "Ewa", "action": "continue"})
    assert response.status_code == 403
    assert "closed on 21 January 2027, 23:59" in client.last_html
    assert errors_in(client.last_html) == []


def test_started_before_closing_and_sent_within_grace_is_accepted(app, client, deadline_form):
    grace = timedelta(minutes=app.config["FORMDESK_GRACE_MINUTES"])
    _filled, sent = submit_at(client, {"start": CLOSES - SECOND, "send": CLOSES + grace})
    assert sent.headers["Location"].endswith("/confirmation")


def test_sent_after_the_grace_period_is_refused_and_nothing_is_stored(app, client, deadline_form):
    grace = timedelta(minutes=app.config["FORMDESK_GRACE_MINUTES"])
    _filled, sent = submit_at(client, {"start": CLOSES - SECOND, "send": CLOSES + grace + SECOND})
    assert sent.status_code == 403
    with app.app_context():
        from models import Submission

        assert Submission.query.count() == 0


def test_started_after_closing_gets_no_grace(client, deadline_form):
    with freeze_time(CLOSES + SECOND):
        response = client.get("/calls/deadline/page/1")
    assert response.status_code == 403


def test_before_opening_the_form_says_when_it_opens_and_accepts_nothing(client, deadline_form):
    with freeze_time(OPENS - SECOND):
        page = client.get("/calls/deadline/page/1")
        assert page.status_code == 403
        assert "opens on 1 November 2026" in client.last_html
        posted = client.client.post("/calls/deadline/page/1", data={"name": "Ewa"})
        assert posted.status_code in (400, 403)


def test_the_list_shows_open_upcoming_and_recently_closed_calls(client, create_form):
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    day = timedelta(days=1)
    for slug, opens, closes in [
        ("open-call", now - day, now + day),
        ("upcoming-call", now + day, now + 10 * day),
        ("recent-call", now - 10 * day, now - day),
        ("old-call", now - 100 * day, now - 60 * day),
    ]:
        create_form(
            base(
                slug,
                ONE_PAGE,
                title=slug.replace("-", " ").title(),
                opens_at=opens.isoformat(),
                closes_at=closes.isoformat(),
            )
        )
    with freeze_time(now):
        html = client.get("/?lang=en").get_data(as_text=True)
    assert html.index("Open now") < html.index("Open Call") < html.index("Opening soon")
    assert html.index("Opening soon") < html.index("Upcoming Call") < html.index("Recently closed")
    assert html.index("Recently closed") < html.index("Recent Call")
    assert "Old Call" not in html
