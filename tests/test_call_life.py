"""The life of a call (issue #16, part 3), through the real app: the preview link and test
submissions, closing early, extending, archiving, the history, who may do it, and what
publishing means for people already in the call."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import FormClient, errors_in
from tests.definitions import VALID_ALL_TYPES, all_types, window
from tests.test_review_detail import signed_in, staff

SLUG = "life"
ZONE = ZoneInfo("Europe/Warsaw")


def event_call(**extra) -> dict:
    """One page of every field type, one place, first come first served."""
    return all_types(
        SLUG,
        reference_prefix="LIFE",
        workflow="event-registration",
        capacity=1,
        languages=["en", "pl"],
        **extra,
    )


def admin_client(app) -> FormClient:
    return signed_in(app, staff(app, "admin@example.org", "admin"))


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def make_link(admin: FormClient) -> str:
    admin.get(f"/dashboard/build/{SLUG}/test")
    response = admin.post(f"/dashboard/build/{SLUG}/test/link", {})
    assert response.status_code == 200, response.status_code
    match = re.search(r'href="(http://formdesk\.test/preview/[^"]+)"', admin.last_html)
    assert match, "the new link is shown"
    return match.group(1).removeprefix("http://formdesk.test")


def apply_through(client: FormClient, base: str, answers: dict | None = None) -> str:
    """Fill the one page at `base` (/calls/<slug> or /preview/<token>) and send; returns
    the confirmation page."""
    client.get(f"{base}/page/1")
    response = client.post(f"{base}/page/1", {**(answers or VALID_ALL_TYPES), "action": "continue"})
    assert response.status_code == 302, errors_in(client.last_html)
    assert response.headers["Location"].endswith(f"{base}/check")
    client.get(f"{base}/check")
    response = client.post(f"{base}/check", {})
    assert response.status_code == 302, (response.status_code, text_of(client.last_html)[:400])
    return client.get(response.headers["Location"]).get_data(as_text=True)


def submissions(app) -> list:
    with app.app_context():
        from models import Submission

        return [
            SimpleNamespace(
                id=s.id,
                reference=s.reference,
                is_test=s.is_test,
                state=s.state,
                version=s.form_version_id,
            )
            for s in Submission.query.order_by(Submission.id)
        ]


def form_id(app) -> int:
    with app.app_context():
        from models import Form

        return Form.query.filter_by(slug=SLUG).one().id


# --- preview link and test submissions ---------------------------------------------------


def test_a_test_submission_is_marked_left_out_of_everything_and_deleted_in_one_go(app, create_form):
    create_form(event_call())
    admin = admin_client(app)
    preview = make_link(admin)

    tester = FormClient(app.test_client())
    page = tester.get(preview).get_data(as_text=True)
    assert "Test — not a real application" in page
    confirmation = apply_through(tester, preview)
    assert "Test — not a real application" in confirmation
    test_reference = re.search(r"TEST-LIFE-\d{4}-[0-9A-F]{6}", confirmation).group(0)

    applicant = FormClient(app.test_client())
    real = apply_through(applicant, f"/calls/{SLUG}")
    real_reference = re.search(r"LIFE-\d{4}-0001", real).group(0)  # the test took no number

    found = {s.reference: s for s in submissions(app)}
    assert found[test_reference].is_test and not found[real_reference].is_test
    # The one place went to the real applicant: the test took none.
    assert found[real_reference].state == "confirmed"
    with app.app_context():
        from models import Draft, OutboxMessage, Submission, User
        from services.capacity import seats_taken
        from services.dashboard.overview import form_overviews
        from services.exports import export_rows
        from workflows.lookup import workflow_of

        real_row = Submission.query.filter_by(reference=real_reference).one()
        assert seats_taken(form_id(app), workflow_of(real_row)) == 1
        overview = form_overviews(User.query.filter_by(email="admin@example.org").one())[0]
        assert sum(overview.counts.values()) == 1
        assert sum(count for _day, count in overview.per_day) == 1
        exported = "\n".join(str(row) for row in export_rows(form_id(app)))
        assert real_reference in exported and test_reference not in exported
        assert Draft.query.filter_by(is_test=True).count() == 1
        receipts = {m.subject for m in OutboxMessage.query.filter_by(kind="receipt")}
        assert any(s.startswith("TEST") for s in receipts)
        assert any(not s.startswith("TEST") for s in receipts)
        # Reviewers are told of real submissions only.
        notices = OutboxMessage.query.filter_by(kind="new_submission").all()
        assert all(m.submission_id == real_row.id for m in notices)

    listing = text_of(admin.get("/dashboard/submissions").get_data(as_text=True))
    assert real_reference in listing and test_reference not in listing
    tests_only = text_of(admin.get("/dashboard/submissions?tests=1").get_data(as_text=True))
    assert test_reference in tests_only and real_reference not in tests_only
    assert "Test" in tests_only

    confirm = admin.get(f"/dashboard/build/{SLUG}/test/delete")
    assert confirm.status_code == 200
    assert "1 test submission" in text_of(confirm.get_data(as_text=True))
    assert admin.post(f"/dashboard/build/{SLUG}/test/delete", {}).status_code == 200
    assert len(submissions(app)) == 2  # not without confirming
    done = admin.post(f"/dashboard/build/{SLUG}/test/delete", {"confirm": "yes"})
    assert done.status_code == 200
    left = submissions(app)
    assert [s.reference for s in left] == [real_reference]
    with app.app_context():
        from models import AuditEntry, Draft, OutboxMessage

        test_id = found[test_reference].id
        assert OutboxMessage.query.filter_by(submission_id=test_id).count() == 0
        assert AuditEntry.query.filter_by(submission_id=test_id).count() == 0
        assert Draft.query.filter_by(is_test=True).count() == 0
        assert OutboxMessage.query.filter_by(submission_id=left[0].id).count() >= 1

    history = text_of(admin.get(f"/dashboard/build/{SLUG}/history").get_data(as_text=True))
    assert "Preview link made" in history and "Test submissions deleted: 1" in history
    assert "admin@example.org" in history


def test_a_preview_link_works_before_the_call_opens_and_a_new_one_replaces_it(app, create_form):
    create_form(event_call(**window(opens_in=timedelta(days=3), closes_in=timedelta(days=9))))
    applicant = FormClient(app.test_client())
    assert applicant.get(f"/calls/{SLUG}/page/1").status_code == 403  # not open yet

    admin = admin_client(app)
    first = make_link(admin)
    tester = FormClient(app.test_client())
    assert "TEST-LIFE-" in apply_through(tester, first)

    # Replacing asks first, then the old link opens nothing.
    replace = admin.post(f"/dashboard/build/{SLUG}/test/link", {})
    assert "stops working" in text_of(replace.get_data(as_text=True))
    admin.post(f"/dashboard/build/{SLUG}/test/link", {"confirm": "yes"})
    second = re.search(r'href="http://formdesk\.test(/preview/[^"]+)"', admin.last_html).group(1)
    assert second != first
    assert FormClient(app.test_client()).get(first).status_code == 404
    assert FormClient(app.test_client()).get(second).status_code == 200
    assert FormClient(app.test_client()).get("/preview/nonsense").status_code == 404
    history = text_of(admin.get(f"/dashboard/build/{SLUG}/history").get_data(as_text=True))
    assert "New preview link made" in history


# --- dates and status ----------------------------------------------------------------------


def test_closing_early_makes_the_public_form_refuse(app, create_form):
    create_form(event_call())
    admin = admin_client(app)
    page = admin.get(f"/dashboard/build/{SLUG}/status/close").get_data(as_text=True)
    assert "Close the call now?" in unescape(page)
    assert (
        admin.post(f"/dashboard/build/{SLUG}/status/close", {"confirm": "yes"}).status_code == 302
    )

    applicant = FormClient(app.test_client())
    assert applicant.get(f"/calls/{SLUG}/page/1").status_code == 403
    assert "closed" in text_of(applicant.get(f"/calls/{SLUG}").get_data(as_text=True))
    with app.app_context():
        from models import Form

        form = Form.query.filter_by(slug=SLUG).one()
        assert form.current_version.number == 2
        assert form.current_version.closes_at <= datetime.now(UTC)
    # Closing again: a message, not an error page.
    again = admin.post(f"/dashboard/build/{SLUG}/status/close", {"confirm": "yes"})
    assert again.status_code == 400 and "already closed" in text_of(again.get_data(as_text=True))
    history = text_of(admin.get(f"/dashboard/build/{SLUG}/history").get_data(as_text=True))
    assert "Closed early" in history


def test_extending_keeps_a_draft_started_before_closing_alive_past_the_old_deadline(
    app, create_form
):
    create_form(event_call())
    applicant = FormClient(app.test_client())
    applicant.get(f"/calls/{SLUG}/page/1")
    response = applicant.post(f"/calls/{SLUG}/page/1", {**VALID_ALL_TYPES, "action": "continue"})
    assert response.status_code == 302
    applicant.get(f"/calls/{SLUG}/check")  # the page with Send, left open
    # The old deadline passed two hours ago, grace and all; the draft began before it.
    with app.app_context():
        from extensions import db
        from models import Draft, Form

        form = Form.query.filter_by(slug=SLUG).one()
        first_version = form.current_version_id
        form.current_version.closes_at = datetime.now(UTC) - timedelta(hours=2)
        draft = Draft.query.one()
        draft.started_at = datetime.now(UTC) - timedelta(hours=3)
        db.session.commit()
    assert applicant.post(f"/calls/{SLUG}/check", {}).status_code == 403

    admin = admin_client(app)
    new_time = (datetime.now(ZONE) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    confirm = admin.post(f"/dashboard/build/{SLUG}/status/extend", {"closes_at": new_time})
    assert confirm.status_code == 200
    assert "instead of" in text_of(confirm.get_data(as_text=True))
    done = admin.post(
        f"/dashboard/build/{SLUG}/status/extend", {"closes_at": new_time, "confirm": "yes"}
    )
    assert done.status_code == 302

    response = applicant.post(f"/calls/{SLUG}/check", {})
    assert response.status_code == 302
    [sent] = submissions(app)
    assert sent.version == first_version  # the questions it started on
    history = text_of(admin.get(f"/dashboard/build/{SLUG}/history").get_data(as_text=True))
    assert "Deadline extended from" in history


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the new closing date and time."),
        ("next tuesday", "Enter a date and time like 2027-01-31 23:59."),
        ("2027-02-30T10:00", "Enter a date and time like 2027-01-31 23:59."),
        ("99999-01-01T00:00", "Enter a date and time like 2027-01-31 23:59."),
        ("2020-01-01T10:00", "The closing time must be after the opening time."),
        ("x" * 5000, "Enter a date and time like 2027-01-31 23:59."),
    ],
)
def test_bad_dates_get_a_message_beside_the_field(app, create_form, typed, message):
    create_form(event_call())
    admin = admin_client(app)
    response = admin.post(f"/dashboard/build/{SLUG}/status/extend", {"closes_at": typed})
    assert response.status_code == 400
    assert errors_in(admin.last_html) == [message]


def test_a_deadline_in_the_past_or_earlier_than_now_and_closing_before_opening_are_refused(
    app, create_form
):
    create_form(event_call(**window(opens_in=timedelta(days=3), closes_in=timedelta(days=9))))
    admin = admin_client(app)
    url = f"/dashboard/build/{SLUG}/status/extend"

    def said(moment: datetime) -> list[str]:
        response = admin.post(
            url, {"closes_at": moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")}
        )
        assert response.status_code == 400
        return errors_in(admin.last_html)

    now = datetime.now(UTC)
    assert said(now + timedelta(days=1)) == ["The closing time must be after the opening time."]
    assert said(now + timedelta(days=5)) == [
        "The new closing time must be later than the one in force now."
    ]
    with app.app_context():
        from extensions import db
        from models import Form

        version = Form.query.filter_by(slug=SLUG).one().current_version
        version.opens_at = now - timedelta(days=9)
        db.session.commit()
    assert said(now - timedelta(hours=1)) == ["The new closing time is in the past."]
    # Closing a call that has not opened: said on the page, nothing changes.
    with app.app_context():
        from extensions import db
        from models import Form

        version = Form.query.filter_by(slug=SLUG).one().current_version
        version.opens_at = now + timedelta(days=3)
        db.session.commit()
    response = admin.post(f"/dashboard/build/{SLUG}/status/close", {"confirm": "yes"})
    assert response.status_code == 400
    assert "before it opens" in text_of(response.get_data(as_text=True))


def test_an_archived_call_leaves_the_public_list_but_stays_in_the_dashboard(app, create_form):
    create_form(event_call())
    admin = admin_client(app)
    visitor = FormClient(app.test_client())
    assert "Test call" in visitor.get("/").get_data(as_text=True)

    assert "Archive the call?" in admin.get(f"/dashboard/build/{SLUG}/status/archive").get_data(
        as_text=True
    )
    response = admin.post(f"/dashboard/build/{SLUG}/status/archive", {"confirm": "yes"})
    assert response.status_code == 302

    assert "Test call" not in visitor.get("/").get_data(as_text=True)
    gone = visitor.get(f"/calls/{SLUG}")
    assert gone.status_code == 404
    assert "no longer available" in gone.get_data(as_text=True)
    assert visitor.get(f"/calls/{SLUG}/page/1").status_code == 404
    dashboard = text_of(admin.get("/dashboard/").get_data(as_text=True))
    assert "Test call" in dashboard and "Archived" in dashboard

    admin.post(f"/dashboard/build/{SLUG}/status/unarchive", {"confirm": "yes"})
    assert "Test call" in visitor.get("/").get_data(as_text=True)
    history = text_of(admin.get(f"/dashboard/build/{SLUG}/history").get_data(as_text=True))
    assert "Archived" in history and "Unarchived" in history


# --- access --------------------------------------------------------------------------------


def life_urls(app) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("life."):
            continue
        url = rule.build({"slug": SLUG}, append_unknown=False)[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            urls.append((method, url))
    return urls


def test_a_reviewer_without_management_rights_gets_403_on_every_life_route(app, create_form):
    create_form(event_call())
    urls = life_urls(app)
    assert len(urls) >= 12
    reviewer = signed_in(app, staff(app, "rev@example.org", "reviewer", SLUG))
    reviewer.get("/dashboard/")
    token = reviewer.csrf_token()
    for method, url in urls:
        if method == "GET":
            response = reviewer.client.get(url)
        else:
            response = reviewer.client.post(url, data={"csrf_token": token, "confirm": "yes"})
        assert response.status_code == 403, (method, url, response.status_code)
    manager = signed_in(app, staff(app, "manager@example.org", "call_manager", SLUG))
    for method, url in urls:
        if method == "GET":
            assert manager.client.get(url).status_code in (200, 302), url
    anonymous = FormClient(app.test_client())
    assert anonymous.get(f"/dashboard/build/{SLUG}/history").status_code == 302  # sign in


def test_life_posts_refuse_a_missing_csrf_token(app, create_form):
    create_form(event_call())
    admin = admin_client(app)
    for method, url in life_urls(app):
        if method == "POST":
            assert admin.client.post(url, data={"confirm": "yes"}).status_code == 400, url
    assert submissions(app) == []


# --- publishing a call that has people in it, and the deadline rules ----------------------


def test_publishing_impact_counts_real_drafts_and_submissions_per_version(app, create_form):
    create_form(event_call())
    apply_through(FormClient(app.test_client()), f"/calls/{SLUG}")
    started = FormClient(app.test_client())
    started.get(f"/calls/{SLUG}/page/1")
    started.post(f"/calls/{SLUG}/page/1", {"name": "Half", "action": "continue"})
    admin = admin_client(app)
    apply_through(FormClient(app.test_client()), make_link(admin))
    with app.app_context():
        from models import Form
        from services.call_life import publishing_impact

        impact = publishing_impact(Form.query.filter_by(slug=SLUG).one())
        assert impact.next_number == 2
        assert [(v.number, v.drafts, v.submissions) for v in impact.versions] == [(1, 1, 1)]
        assert impact.anyone


def test_the_call_s_own_grace_applies_else_the_installation_s(app_context):
    from services.deadlines import grace_minutes_of, window_of

    now = datetime.now(UTC)
    closed = now - timedelta(minutes=20)
    version = SimpleNamespace(opens_at=now - timedelta(days=1), closes_at=closed, definition={})
    started = now - timedelta(hours=1)
    assert not window_of(version).accepts(started, now)  # 15 minutes by default
    version.definition = {"grace_minutes": 30}
    assert window_of(version).accepts(started, now)
    assert grace_minutes_of({"grace_minutes": True}) is None
    assert grace_minutes_of({"grace_minutes": 5000}) is None
    assert grace_minutes_of({"grace_minutes": "10"}) is None


def test_the_impact_macro_says_what_each_will_see(app):
    from services.call_life import PublishingImpact, VersionPeople

    with app.test_request_context("/"):
        macro = app.jinja_env.get_template("builder/_impact.html").module.impact_summary
        nobody = text_of(str(macro(PublishingImpact(next_number=1))))
        assert "Nobody has started or sent an application yet" in nobody
        some = text_of(
            str(macro(PublishingImpact(3, [VersionPeople(1, 0, 4), VersionPeople(2, 2, 1)])))
        )
        assert "2 applications in progress continue with the questions they started on" in some
        assert "5 sent submissions keep their questions and answers" in some
        assert "People who start after publishing answer version 3." in some


def test_the_digest_leaves_test_submissions_out(app, create_form):
    create_form(event_call())
    admin = admin_client(app)
    apply_through(FormClient(app.test_client()), make_link(admin))
    with app.app_context():
        from extensions import db
        from models import OutboxMessage, User
        from services.notifications import send_digests

        User.query.filter_by(email="admin@example.org").one().notify = "daily"
        db.session.commit()
        assert send_digests() == 0  # the only submission of the day is a test
        assert OutboxMessage.query.filter_by(kind="digest").count() == 0
    apply_through(FormClient(app.test_client()), f"/calls/{SLUG}")
    with app.app_context():
        from models import OutboxMessage
        from services.notifications import send_digests

        assert send_digests() == 1
        [digest] = OutboxMessage.query.filter_by(kind="digest").all()
        assert "LIFE-" in digest.text_body and "TEST-LIFE-" not in digest.text_body


def test_a_test_draft_saved_for_later_resumes_through_the_preview_link_only(app, create_form):
    create_form(event_call())
    preview = make_link(admin_client(app))
    tester = FormClient(app.test_client())
    tester.get(f"{preview}/page/1")
    response = tester.post(
        f"{preview}/page/1", {"name": "Tess", "email": "tess@example.org", "action": "save"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/saved")
    saved = tester.get(f"{preview}/saved").get_data(as_text=True)
    assert "Test — not a real application" in saved
    resume = re.search(r'href="http://formdesk\.test(/preview/[^"]+/resume/[^"]+)"', saved)
    draft_token = resume.group(1).rsplit("/", 1)[1]
    with app.app_context():
        from models import OutboxMessage

        assert OutboxMessage.query.filter_by(kind="resume").count() == 0  # nothing emailed

    other = FormClient(app.test_client())
    assert other.get(f"/resume/{draft_token}").status_code == 404  # not as a real draft
    response = other.get(resume.group(1))
    assert response.status_code == 302 and f"{preview}/page/1" in response.headers["Location"]
    page = other.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="Tess"' in page
    # And the public form does not pick it up as a draft of its own.
    public = other.get(f"/calls/{SLUG}/page/1").get_data(as_text=True)
    assert 'value="Tess"' not in public


def _edit_draft(app, change: dict) -> None:
    """An edit made in the builder and not published: the draft's title, say."""
    with app.app_context():
        from models import Form, User
        from services import call_drafts

        form = Form.query.filter_by(slug=SLUG).one()
        draft = call_drafts.draft_of(form)
        call_drafts.save_draft(
            form,
            {**draft.document, **change},
            revision=draft.revision,
            user=User.query.filter_by(email="admin@example.org").one(),
            summary="title changed",
        )


def test_the_preview_link_shows_the_draft_s_edits_and_tests_keep_their_questions(app, create_form):
    create_form(event_call())
    admin = admin_client(app)
    preview = make_link(admin)
    _edit_draft(app, {"title": {"en": "Draft title", "pl": "Tytuł roboczy"}})
    test_page = text_of(admin.get(f"/dashboard/build/{SLUG}/test").get_data(as_text=True))
    assert "The link shows the call's draft" in test_page

    tester = FormClient(app.test_client())
    assert "Draft title" in tester.get(preview).get_data(as_text=True)
    assert "Draft title" not in FormClient(app.test_client()).get(f"/calls/{SLUG}").get_data(
        as_text=True
    )
    confirmation = apply_through(tester, preview)
    assert "Draft title" in confirmation
    [test] = submissions(app)
    with app.app_context():
        from extensions import db
        from models import Form, FormVersion

        version = db.session.get(FormVersion, test.version)
        assert version.number < 0 and version.is_preview and version.origin == "preview"
        form = Form.query.filter_by(slug=SLUG).one()
        assert [v.number for v in form.versions] == [1]  # the preview is no version of it

    # The draft changes again: the test keeps the questions it answered.
    _edit_draft(app, {"title": {"en": "Second title", "pl": "Drugi tytuł"}})
    assert [s.version for s in submissions(app)] == [test.version]
    detail = admin.get(f"/dashboard/submissions/{test.id}")
    assert detail.status_code == 200 and "Test" in text_of(detail.get_data(as_text=True))
    history = text_of(admin.get(f"/dashboard/build/{SLUG}/history").get_data(as_text=True))
    assert "Draft saved: title changed" in history

    admin.get(f"/dashboard/build/{SLUG}/test/delete")
    admin.post(f"/dashboard/build/{SLUG}/test/delete", {"confirm": "yes"})
    assert submissions(app) == []


def test_a_draft_with_problems_gives_a_preview_not_ready_page_and_says_why(app, create_form):
    create_form(event_call())
    admin = admin_client(app)
    preview = make_link(admin)
    _edit_draft(app, {"closes_at": "2020-01-01T00:00"})  # before it opens
    response = FormClient(app.test_client()).get(preview)
    assert response.status_code == 409
    assert "This preview is not ready yet" in response.get_data(as_text=True)
    test_page = text_of(admin.get(f"/dashboard/build/{SLUG}/test").get_data(as_text=True))
    assert "does not pass the checks yet" in test_page and "closes_at" in test_page


def test_a_published_version_that_fails_today_s_checks_gives_a_message_not_a_500(app, create_form):
    create_form(all_types(SLUG, reference_prefix="LIFE"))  # offers 'sv' without its texts
    admin = admin_client(app)
    admin.get(f"/dashboard/build/{SLUG}/status/close")
    response = admin.post(f"/dashboard/build/{SLUG}/status/close", {"confirm": "yes"})
    assert response.status_code == 400
    assert "does not pass the checks any more" in text_of(response.get_data(as_text=True))
    with app.app_context():
        from models import Form

        assert [v.number for v in Form.query.filter_by(slug=SLUG).one().versions] == [1]
