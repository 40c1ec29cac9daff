"""The applicant's page behind the secret link, over HTTP on the real app: state and the
organiser's message, files, actions behind a confirmation, and versioned edits."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from tests.conftest import FormClient, errors_in
from tests.definitions import base

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PAGES = [
    {
        "title": "About you",
        "fields": [
            {"name": "name", "type": "text", "label": "Name", "required": True},
            {"name": "email", "type": "email", "label": "Email", "required": True},
            {"name": "plan", "type": "textarea", "label": "Plan", "max_length": 200},
            {"name": "cv", "type": "file", "label": "CV", "accept": ["pdf"], "max_size_mb": 1},
        ],
    }
]
GROUP_PAGE = [
    {
        "title": "People",
        "fields": [
            {
                "name": "people",
                "type": "group",
                "label": "People",
                "min": 1,
                "max": 5,
                "fields": [
                    {"name": "first_name", "type": "text", "label": "First name", "required": True},
                ],
            },
            {"name": "email", "type": "email", "label": "Email", "required": True},
        ],
    }
]


# --- helpers ---------------------------------------------------------------------------


def text_of(html: str) -> str:
    """The page's visible text on one line, entities decoded."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def apply(app, slug: str, data: dict, language: str | None = None) -> tuple[str, int]:
    """Send an application like a browser; return the secret token and the submission id."""
    client = FormClient(app.test_client())
    if language:
        client.get(f"/?lang={language}")
    files = {k: v for k, v in data.items() if isinstance(v, tuple)}
    response = client.fill(slug, 1, data, content_type="multipart/form-data" if files else None)
    assert response.status_code == 302, errors_in(client.last_html)
    client.get(f"/calls/{slug}/check")
    response = client.post(f"/calls/{slug}/check", {})
    assert response.status_code == 302, client.last_html[:300]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    match = re.search(r"https?://[^/\"]+/s/([A-Za-z0-9_-]+)", page)
    assert match, "the confirmation page shows no private link"
    token = match.group(1)
    with app.app_context():
        from services.submissions import find_submission

        return token, find_submission(token).id


def person(name: str, **extra) -> dict:
    return {"name": name, "email": f"{name.lower()}@example.org", **extra}


def move(app, submission_id: int, name: str, kind: str = "reviewer", **kwargs) -> str:
    from services.transitions import Actor, transition

    with app.app_context():
        return transition(submission_id, name, Actor(kind), **kwargs).state


def state_of(app, submission_id: int) -> str:
    from extensions import db
    from models import Submission

    with app.app_context():
        return db.session.get(Submission, submission_id).state


def audit(app, submission_id: int) -> list[tuple[str, str | None, dict]]:
    from extensions import db
    from models import AuditEntry

    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.submission_id == submission_id)
            .order_by(AuditEntry.id)
        )
        return [(e.action, e.to_state, dict(e.data or {})) for e in entries]


def confirm(client: FormClient, token: str, name: str):
    """The action's confirmation page, then its button."""
    page = client.get(f"/s/{token}/actions/{name}")
    assert page.status_code == 200, page.status_code
    return client.post(f"/s/{token}/actions/{name}", {"expected_state": hidden_state(page)})


def hidden_state(response) -> str:
    html = response.get_data(as_text=True)
    return re.search(r'name="expected_state" value="([^"]*)"', html).group(1)


@pytest.fixture
def review(create_form):
    create_form(base("review", PAGES, capacity=1, workflow="application-review"))
    return "review"


# --- the page --------------------------------------------------------------------------


def test_the_confirmation_shows_the_private_link_that_opens_the_application(app, review):
    token, _id = apply(app, review, person("Ada"))
    html = text_of(FormClient(app.test_client()).get(f"/s/{token}").get_data(as_text=True))
    assert re.search(r"Your application TEST-\d{4}-0001", html)
    assert "Test call" in html and "Submitted" in html and "Ada" in html
    assert "Change your answers" in html and "Withdraw" in html


def test_state_and_decision_comment_in_the_applicants_language(app, review):
    token, submission_id = apply(app, review, person("Łucja"), language="pl")
    move(app, submission_id, "start_review")
    move(app, submission_id, "request_completion", comment="Dodaj adres filii, proszę.")
    client = FormClient(app.test_client())  # a new browser: the language the person applied in
    response = client.get(f"/s/{token}")
    html = text_of(response.get_data(as_text=True))
    assert response.status_code == 200
    assert '<html lang="pl">' in response.get_data(as_text=True)
    assert "Prośba o uzupełnienie" in html
    assert "Dodaj adres filii, proszę." in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"  # see tests/test_security.py
    # The language switcher still works.
    html = text_of(client.get(f"/s/{token}?lang=en").get_data(as_text=True))
    assert "Completion requested" in html and "Prośba o uzupełnienie" not in html


def test_an_old_comment_is_not_shown_as_the_current_message(app, review):
    token, submission_id = apply(app, review, person("Ada"))
    move(app, submission_id, "start_review")
    move(app, submission_id, "request_completion", comment="Add the branch address.")
    move(app, submission_id, "resubmit", kind="applicant")
    html = text_of(FormClient(app.test_client()).get(f"/s/{token}").get_data(as_text=True))
    assert "In review" in html and "Add the branch address." not in html
    move(app, submission_id, "accept", comment="Welcome to the zone!")
    html = text_of(FormClient(app.test_client()).get(f"/s/{token}").get_data(as_text=True))
    assert "Accepted" in html and "Welcome to the zone!" in html


def test_internal_comments_are_never_shown(app, review):
    from extensions import db
    from models import InternalComment, User

    token, submission_id = apply(app, review, person("Ada"))
    move(app, submission_id, "start_review")
    with app.app_context():
        user = User(email="rev@example.org", password_hash="x", role="reviewer")  # noqa: S106
        db.session.add(user)
        db.session.flush()
        db.session.add(
            InternalComment(
                submission_id=submission_id, user_id=user.id, body="SECRET: weak budget"
            )
        )
        db.session.commit()
    html = FormClient(app.test_client()).get(f"/s/{token}").get_data(as_text=True)
    assert "SECRET" not in html and "weak budget" not in html


def test_unknown_token_is_a_plain_404(app, review):
    apply(app, review, person("Ada"))
    client = FormClient(app.test_client())
    fake = "/s/not-a-real-token-0123456789abcdefghijklmnopqrstu"
    unknown = client.get(fake)
    elsewhere = client.get("/no-such-page")
    assert unknown.status_code == 404
    # The same page as any unknown address (apart from the address itself).
    assert unknown.get_data(as_text=True).replace(fake, "") == elsewhere.get_data(
        as_text=True
    ).replace("/no-such-page", "")
    for path in ("edit", "edit/1", "attachments/1", "actions/withdraw"):
        assert client.get(f"/s/unknown/{path}").status_code == 404
    assert client.get("/s/" + "x" * 500).status_code == 404


def test_the_scheduled_date_is_shown_for_a_request(app, create_form):
    create_form(base("req", PAGES, workflow="request-handling"))
    token, submission_id = apply(app, "req", person("Exempelby"))
    move(app, submission_id, "schedule", scheduled_for=date(2027, 3, 3), comment="We come at 10.")
    html = text_of(FormClient(app.test_client()).get(f"/s/{token}").get_data(as_text=True))
    assert "Scheduled" in html and "3 March 2027" in html and "We come at 10." in html
    assert "Withdraw request" in html


# --- files -----------------------------------------------------------------------------


def test_files_download_only_through_their_own_submissions_link(app, review):
    token_a, _a = apply(app, review, person("Ada", cv=(io.BytesIO(PDF), "ada-cv.pdf")))
    token_b, b = apply(app, review, person("Bea", cv=(io.BytesIO(PDF), "bea-cv.pdf")))
    from models import Attachment

    with app.app_context():
        ids = {a.original_name: a.id for a in Attachment.query.all()}
    client = FormClient(app.test_client())
    html = client.get(f"/s/{token_a}").get_data(as_text=True)
    assert f"/s/{token_a}/attachments/{ids['ada-cv.pdf']}" in html
    response = client.get(f"/s/{token_a}/attachments/{ids['ada-cv.pdf']}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "ada-cv.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # A's link never opens B's file, nor a file that does not exist.
    assert client.get(f"/s/{token_a}/attachments/{ids['bea-cv.pdf']}").status_code == 404
    assert client.get(f"/s/{token_a}/attachments/999999").status_code == 404
    assert client.get(f"/s/{token_b}/attachments/{ids['bea-cv.pdf']}").status_code == 200


# --- actions ---------------------------------------------------------------------------


def test_withdraw_asks_first_then_applies_once(app, review):
    token, submission_id = apply(app, review, person("Ada"))
    client = FormClient(app.test_client())
    page = client.get(f"/s/{token}/actions/withdraw")
    reference = re.search(r"TEST-\d{4}-0001", page.get_data(as_text=True)).group(0)
    assert f"Are you sure you want to withdraw {reference}?" in text_of(page.get_data(as_text=True))
    assert state_of(app, submission_id) == "submitted"  # asking changes nothing

    # Without the CSRF token: refused, nothing changes.
    response = client.post(
        f"/s/{token}/actions/withdraw", {"expected_state": "submitted"}, csrf=False
    )
    assert response.status_code == 400
    assert state_of(app, submission_id) == "submitted"

    client.get(f"/s/{token}/actions/withdraw")
    token_value = client.csrf_token()
    form = {"expected_state": "submitted", "csrf_token": token_value}
    first = client.post(f"/s/{token}/actions/withdraw", form)
    assert first.status_code == 302 and first.headers["Location"].endswith(f"/s/{token}")
    second = client.post(f"/s/{token}/actions/withdraw", form)  # a double click
    assert second.status_code == 409
    assert "already changed" in text_of(second.get_data(as_text=True))
    assert state_of(app, submission_id) == "withdrawn"
    withdrawals = [e for e in audit(app, submission_id) if e[1] == "withdrawn"]
    assert len(withdrawals) == 1
    html = text_of(client.get(f"/s/{token}").get_data(as_text=True))
    assert "Withdrawn" in html and "Change your answers" not in html
    assert f"/s/{token}/actions/withdraw" not in client.last_html


def test_an_action_not_open_to_the_applicant_is_refused(app, review):
    token, submission_id = apply(app, review, person("Ada"))
    client = FormClient(app.test_client())
    assert client.get(f"/s/{token}/actions/accept").status_code == 409
    client.get(f"/s/{token}/actions/withdraw")  # a page with a CSRF token
    csrf = client.csrf_token()
    for name in ("accept", "start_review", "resubmit", "nonsense"):
        response = client.post(
            f"/s/{token}/actions/{name}", {"expected_state": "submitted", "csrf_token": csrf}
        )
        assert response.status_code == 409, name
    assert state_of(app, submission_id) == "submitted"


def test_a_withdrawal_gives_the_place_to_the_waitlisted(app, review):
    token_a, a = apply(app, review, person("Ada"))
    token_b, b = apply(app, review, person("Bea"))
    for submission_id in (a, b):
        move(app, submission_id, "start_review")
    move(app, a, "accept")
    move(app, b, "waitlist")
    client = FormClient(app.test_client())
    page = client.get(f"/s/{token_a}/actions/withdraw")
    assert "next person on the waiting list" in text_of(page.get_data(as_text=True))
    assert confirm(client, token_a, "withdraw").status_code == 302
    assert state_of(app, a) == "withdrawn"
    assert state_of(app, b) == "accepted"
    html = text_of(FormClient(app.test_client()).get(f"/s/{token_b}").get_data(as_text=True))
    assert "Accepted" in html


@pytest.fixture
def event(create_form):
    create_form(
        base("event", GROUP_PAGE, capacity=2, workflow="event-registration", seats_field="people")
    )
    return "event"


def people(*names, email="group@example.org") -> dict:
    return {**{f"people-{i}-first_name": n for i, n in enumerate(names)}, "email": email}


def test_an_offered_place_is_confirmed_and_the_waiting_list_can_be_left(app, event):
    token_a, a = apply(app, event, people("A", "B"))
    token_b, b = apply(app, event, people("C"))
    token_c, c = apply(app, event, people("D"))
    assert [state_of(app, s) for s in (a, b, c)] == ["confirmed", "waitlisted", "waitlisted"]
    client = FormClient(app.test_client())
    html = text_of(client.get(f"/s/{token_b}").get_data(as_text=True))
    assert "Leave the waiting list" in html and "Confirm the offered place" not in html

    assert confirm(client, token_a, "cancel").status_code == 302
    assert [state_of(app, s) for s in (a, b, c)] == ["cancelled", "offered", "offered"]

    html = text_of(client.get(f"/s/{token_b}").get_data(as_text=True))
    assert "Place offered" in html and "Confirm before" in html
    assert "Confirm the offered place" in html
    assert confirm(client, token_b, "confirm_offer").status_code == 302
    assert state_of(app, b) == "confirmed"
    assert "Confirm before" not in text_of(client.get(f"/s/{token_b}").get_data(as_text=True))

    token_d, d = apply(app, event, people("E"))  # no seat left: waiting list
    assert state_of(app, d) == "waitlisted"
    assert confirm(client, token_d, "leave_waitlist").status_code == 302
    assert state_of(app, d) == "cancelled"


def test_an_expired_offer_cannot_be_confirmed(app, event):
    from extensions import db
    from models import Submission
    from models.types import utcnow

    token_a, a = apply(app, event, people("A", "B"))
    token_b, b = apply(app, event, people("C"))
    client = FormClient(app.test_client())
    confirm(client, token_a, "cancel")
    assert state_of(app, b) == "offered"
    with app.app_context():
        db.session.get(Submission, b).offer_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    html = text_of(client.get(f"/s/{token_b}").get_data(as_text=True))
    assert "time to confirm this place has passed" in html
    assert "Confirm the offered place" not in html
    client.get(f"/s/{token_b}/actions/cancel")  # a page with a CSRF token
    response = client.post(f"/s/{token_b}/actions/confirm_offer", {"expected_state": "offered"})
    assert response.status_code == 409
    assert "time to confirm this place has passed" in text_of(response.get_data(as_text=True))
    assert state_of(app, b) == "offered"


# --- editing ---------------------------------------------------------------------------


def edit(client: FormClient, token: str, data: dict, page: int = 1, **kwargs):
    """Change one page, then return the summary response."""
    url = f"/s/{token}/edit/{page}"
    client.get(url)
    return client.post(url, {"action": "continue", **data}, **kwargs)


def save(client: FormClient, token: str):
    client.get(f"/s/{token}/edit")
    return client.post(f"/s/{token}/edit", {"revision": revision_on(client.last_html)})


def revision_on(html: str) -> str:
    return re.search(r'name="revision" value="(\d+)"', html).group(1)


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ({"name": "Ada\x00"}, "Remove the invisible control characters"),
        ({"name": "Ada\nLovelace"}, "Write this answer on one line."),
        ({"plan": "x" * 201}, "Use at most 200 characters"),
    ],
)
def test_an_edit_refuses_what_the_first_time_refuses(app, review, changed, message):
    """The edit pages share the public edge: a refused answer is neither kept in the
    workspace draft nor saved, and the page says why beside the question."""
    from extensions import db
    from models import Draft, Submission

    token, submission_id = apply(app, review, person("Ada", plan="Reading club"))
    client = FormClient(app.test_client())
    response = edit(client, token, {**person("Ada", plan="Reading club"), **changed})
    assert response.status_code == 200
    assert any(m.startswith(message) for m in errors_in(client.last_html))
    with app.app_context():
        for draft in db.session.scalars(select(Draft)):
            assert draft.answers.get("name") == "Ada"
            assert draft.answers.get("plan") == "Reading club"
        assert db.session.get(Submission, submission_id).answers_by_field()["name"] == "Ada"


def test_an_edit_is_versioned_and_logged(app, review):
    from extensions import db
    from models import Submission, SubmissionRevision

    token, submission_id = apply(app, review, person("Ada", plan="Reading club"))
    client = FormClient(app.test_client())
    response = edit(client, token, person("Ada", plan="Reading club and language café"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/s/{token}/edit")
    summary = text_of(client.get(f"/s/{token}/edit").get_data(as_text=True))
    assert "Reading club and language café" in summary
    # Not saved yet: the application is unchanged.
    with app.app_context():
        assert db.session.get(Submission, submission_id).answers_by_field()["plan"] == (
            "Reading club"
        )
    response = save(client, token)
    assert response.status_code == 302
    assert "Your changes are saved." in text_of(client.get(f"/s/{token}").get_data(as_text=True))

    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        assert submission.revision == 2
        assert submission.answers_by_field()["plan"] == "Reading club and language café"
        revisions = SubmissionRevision.query.filter_by(submission_id=submission_id).all()
        assert [(r.number, r.answers["plan"]) for r in revisions] == [(1, "Reading club")]
    edited = [e for e in audit(app, submission_id) if e[0] == "submission.edited"]
    assert len(edited) == 1
    assert edited[0][2]["changed"] == ["plan"] and edited[0][2]["revision"] == 2

    # A second edit: revision 3, the email changes on the submission too.
    edit(client, token, person("Ada", plan="Reading club and language café", email="n@ex.org"))
    save(client, token)
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        assert submission.revision == 3 and submission.applicant_email == "n@ex.org"
        numbers = [
            r.number for r in SubmissionRevision.query.filter_by(submission_id=submission_id)
        ]
        assert sorted(numbers) == [1, 2]


def test_saving_without_a_change_changes_nothing(app, review):
    token, submission_id = apply(app, review, person("Ada"))
    client = FormClient(app.test_client())
    response = save(client, token)
    assert response.status_code == 409
    assert "not changed any answer" in text_of(response.get_data(as_text=True))
    assert [e[0] for e in audit(app, submission_id)] == ["submission.submitted"]


def test_a_stale_summary_saves_nothing(app, review):
    token, submission_id = apply(app, review, person("Ada"))
    first = FormClient(app.test_client())
    edit(first, token, person("Ada", plan="First window"))
    first.get(f"/s/{token}/edit")
    stale_revision = revision_on(first.last_html)
    assert save(first, token).status_code == 302
    edit(first, token, person("Ada", plan="Again"))
    first.get(f"/s/{token}/edit")
    response = first.post(f"/s/{token}/edit", {"revision": stale_revision})
    assert response.status_code == 409
    edited = [e for e in audit(app, submission_id) if e[0] == "submission.edited"]
    assert len(edited) == 1


def test_edits_are_refused_once_decided_or_closed(app, review):
    from extensions import db
    from models import FormVersion
    from models.types import utcnow

    token, submission_id = apply(app, review, person("Ada"))
    move(app, submission_id, "start_review")
    client = FormClient(app.test_client())
    assert "Change your answers" not in text_of(client.get(f"/s/{token}").get_data(as_text=True))
    for url in (f"/s/{token}/edit", f"/s/{token}/edit/1"):
        response = client.get(url)
        assert response.status_code == 403
        assert "no longer be changed" in text_of(response.get_data(as_text=True))

    token_b, b = apply(app, review, person("Bea"))
    client.get(f"/s/{token_b}/edit/1")  # editing begins while the call is open
    csrf = client.csrf_token()
    with app.app_context():
        version = db.session.scalars(select(FormVersion)).one()
        version.closes_at = utcnow() - timedelta(hours=1)  # past the grace period too
        db.session.commit()
    assert "Change your answers" not in text_of(client.get(f"/s/{token_b}").get_data(as_text=True))
    response = client.post(
        f"/s/{token_b}/edit/1", {"action": "continue", **person("Changed"), "csrf_token": csrf}
    )
    assert response.status_code == 403
    assert "the call is closed" in text_of(response.get_data(as_text=True))
    assert [e[0] for e in audit(app, b)] == ["submission.submitted"]


def test_an_edit_begun_before_the_deadline_may_be_saved_in_the_grace_period(app, review):
    from extensions import db
    from models import FormVersion
    from models.types import utcnow

    token, submission_id = apply(app, review, person("Ada"))
    client = FormClient(app.test_client())
    edit(client, token, person("Ada", plan="Last minute"))
    client.get(f"/s/{token}/edit")
    with client.client.session_transaction() as session:  # the edit began 5 minutes ago…
        began = (utcnow() - timedelta(minutes=5)).isoformat()
        entry = session["applicant_edit"][str(submission_id)]
        session["applicant_edit"] = {str(submission_id): {**entry, "started": began}}
    with app.app_context():  # …and the call closed 1 minute ago
        version = db.session.scalars(select(FormVersion)).one()
        version.closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = client.post(f"/s/{token}/edit", {"revision": revision_on(client.last_html)})
    assert response.status_code == 302, text_of(response.get_data(as_text=True))
    assert state_of(app, submission_id) == "submitted"
    # Someone starting only now, after the deadline, cannot.
    assert FormClient(app.test_client()).get(f"/s/{token}/edit").status_code == 403


def test_completion_request_edit_and_resubmit_back_to_review(app, review):
    from extensions import db
    from models import FormVersion, Submission
    from models.types import utcnow

    token, submission_id = apply(app, review, person("Ada"))
    move(app, submission_id, "start_review")
    move(app, submission_id, "request_completion", comment="Add your plan.")
    with app.app_context():  # review happens after the deadline: the request still allows it
        db.session.scalars(select(FormVersion)).one().closes_at = utcnow() - timedelta(days=2)
        db.session.commit()
    client = FormClient(app.test_client())
    html = text_of(client.get(f"/s/{token}").get_data(as_text=True))
    assert "Add your plan." in html and "Change your answers" in html
    edit(client, token, person("Ada", plan="A reading club on Tuesdays"))
    summary = text_of(client.get(f"/s/{token}/edit").get_data(as_text=True))
    assert "Save changes and send to the organiser" in summary
    response = client.post(f"/s/{token}/edit", {"revision": revision_on(client.last_html)})
    assert response.status_code == 302
    assert state_of(app, submission_id) == "in_review"
    actions = [(e[0], e[1], e[2].get("transition")) for e in audit(app, submission_id)]
    assert actions[-2:] == [
        ("submission.edited", "completion_requested", None),
        ("submission.transition", "in_review", "resubmit"),
    ]
    with app.app_context():
        assert db.session.get(Submission, submission_id).revision == 2
    html = text_of(client.get(f"/s/{token}").get_data(as_text=True))
    assert "In review" in html and "Add your plan." not in html


def test_bad_input_on_an_edit_keeps_the_answers_and_never_fails(app, review):
    from extensions import db
    from models import Submission

    token, submission_id = apply(app, review, person("Ada"))
    client = FormClient(app.test_client())
    response = edit(client, token, {"name": "", "email": "not-an-email", "plan": "Kept plan"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert errors_in(html)[0] == "Answer this question."
    assert errors_in(html)[1].startswith("Enter an email address")
    assert "Kept plan" in html and "not-an-email" in html
    # Coming back to the summary sends the person to the page that needs attention.
    response = client.get(f"/s/{token}/edit")
    assert response.status_code == 302 and "/edit/1?review=1" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kept plan" in page and "There is a problem" in page

    # Tampered or missing values: refused, never a server error.
    for form in ({"revision": "abc"}, {"revision": ""}, {}):
        client.get(f"/s/{token}/edit/1")
        assert client.post(f"/s/{token}/edit", form).status_code in (302, 409)
    for data in ({"action": "remove-people-99"}, {"action": "x" * 5000}, {"plan": "y" * 5000}):
        response = client.post(f"/s/{token}/edit/1", {**person("Ada"), **data})
        assert response.status_code in (200, 302)
    assert client.get(f"/s/{token}/edit/99").status_code == 404
    assert client.get(f"/s/{token}/edit/0").status_code == 404
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        assert submission.revision == 1 and submission.answers_by_field()["name"] == "Ada"


def test_discarding_an_edit_leaves_the_application_as_it_was(app, review):
    token, submission_id = apply(app, review, person("Ada"))
    client = FormClient(app.test_client())
    edit(client, token, person("Ada", plan="Maybe"))
    client.get(f"/s/{token}/edit")
    response = client.post(f"/s/{token}/edit/discard", {})
    assert response.status_code == 302
    summary = text_of(client.get(f"/s/{token}/edit").get_data(as_text=True))
    assert "Maybe" not in summary
    assert [e[0] for e in audit(app, submission_id)] == ["submission.submitted"]


def test_an_edit_can_replace_the_file_and_keeps_the_old_one_for_the_reviewers(app, review):
    from extensions import db
    from models import Attachment, Submission, SubmissionRevision

    token, submission_id = apply(app, review, person("Ada", cv=(io.BytesIO(PDF), "old.pdf")))
    client = FormClient(app.test_client())
    response = edit(
        client,
        token,
        {**person("Ada"), "cv": (io.BytesIO(PDF + b"%new"), "new.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, errors_in(client.last_html)
    assert save(client, token).status_code == 302
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        names = {
            a.original_name: a.id for a in Attachment.query.filter_by(submission_id=submission_id)
        }
        assert set(names) == {"old.pdf", "new.pdf"}
        assert submission.answers_by_field()["cv"]["attachment"] == names["new.pdf"]
        revision = SubmissionRevision.query.filter_by(submission_id=submission_id).one()
        assert revision.answers["cv"]["attachment"] == names["old.pdf"]
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert f"/attachments/{names['new.pdf']}" in html
    assert client.get(f"/s/{token}/attachments/{names['new.pdf']}").data == PDF + b"%new"
    edited = [e for e in audit(app, submission_id) if e[0] == "submission.edited"]
    assert edited[0][2]["changed"] == ["cv"]


def test_more_participants_than_free_seats_are_refused(app, event):
    from extensions import db
    from models import Submission

    token, submission_id = apply(app, event, people("A"))
    apply(app, event, people("B"))  # the event is now full
    client = FormClient(app.test_client())
    edit(client, token, people("A", "Z"))
    response = save(client, token)
    assert response.status_code == 409
    assert "not enough free places" in text_of(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Submission, submission_id).seats == 1


def test_fewer_participants_give_the_freed_seat_to_the_waiting_list(app, event):
    from extensions import db
    from models import Submission

    token, a = apply(app, event, people("A", "B"))
    _token, b = apply(app, event, people("C"))
    assert state_of(app, b) == "waitlisted"
    client = FormClient(app.test_client())
    edit(client, token, people("A"))
    assert save(client, token).status_code == 302
    with app.app_context():
        assert db.session.get(Submission, a).seats == 1
    assert state_of(app, b) == "offered"


def test_parallel_clicks_on_withdraw_apply_once(app, review):
    from concurrent.futures import ThreadPoolExecutor

    token, submission_id = apply(app, review, person("Ada"))
    clients = []
    for _ in range(8):
        client = FormClient(app.test_client())
        client.get(f"/s/{token}/actions/withdraw")
        clients.append(client)
    url = f"/s/{token}/actions/withdraw"
    with ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(lambda c: c.post(url, {"expected_state": "submitted"}).status_code, clients)
        )
    assert sorted(codes) == [302] + [409] * 7
    assert [e[1] for e in audit(app, submission_id)].count("withdrawn") == 1
