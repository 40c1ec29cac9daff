"""The reviewers' detail page over HTTP, on the real app and database: answers (blind review),
files behind authorization, scores with a weighted rubric, conflicts of interest, internal
comments and tags, transitions with comments and dates, history, CSRF."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from html import unescape

import pytest
from sqlalchemy import func, select

from tests.conftest import FormClient
from tests.definitions import base

PASSWORD = "correct horse battery staple"  # noqa: S105
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

GRANT_PAGES = [
    {
        "title": "Application",
        "fields": [
            {
                "name": "branch",
                "type": "text",
                "label": "Branch name",
                "required": True,
                "identifying": True,
            },
            {
                "name": "contact_email",
                "type": "email",
                "label": "Email",
                "required": True,
                "identifying": True,
            },
            {"name": "plan", "type": "textarea", "label": "Your plan", "required": True},
            {"name": "budget", "type": "file", "label": "Budget", "accept": ["pdf"]},
            {
                "name": "cv",
                "type": "file",
                "label": "CV of the coordinator",
                "accept": ["pdf"],
                "identifying": True,
            },
            {
                "name": "partners",
                "type": "group",
                "label": "Partners",
                "item_label": "Partner",
                "max": 3,
                "fields": [
                    {
                        "name": "organisation",
                        "type": "text",
                        "label": "Organisation",
                        "required": True,
                    },
                    {
                        "name": "person",
                        "type": "text",
                        "label": "Contact person",
                        "identifying": True,
                    },
                ],
            },
        ],
    }
]
RUBRIC = [
    {"key": "quality", "label": "Quality", "weight": 1},
    {"key": "impact", "label": {"en": "Impact", "pl": "Wpływ"}, "weight": 3},
]
REQUEST_PAGES = [
    {
        "title": "Request",
        "fields": [
            {"name": "town", "type": "text", "label": "Municipality", "required": True},
            {"name": "letter", "type": "file", "label": "Letter", "accept": ["pdf"]},
        ],
    }
]


# --- helpers ---------------------------------------------------------------------------


def grant_form(create_form, slug="grants", **extra):
    create_form(base(slug, GRANT_PAGES, rubric=RUBRIC, blind_review=True, capacity=1, **extra))


def request_form(create_form, slug="visits"):
    create_form(base(slug, REQUEST_PAGES, workflow="request-handling"))


def apply(app, slug: str, data: dict) -> tuple[int, FormClient]:
    """Send the public form as an applicant (files as (stream, name)); return the new
    submission's id and the applicant's browser."""
    client = FormClient(app.test_client())
    response = client.fill(slug, 1, data, content_type="multipart/form-data")
    assert response.status_code == 302, client.last_html[:800]
    client.get(f"/calls/{slug}/check")
    response = client.post(f"/calls/{slug}/check", {})
    assert response.status_code == 302, client.last_html[:800]
    from extensions import db
    from models import Submission

    with app.app_context():
        return db.session.scalar(select(func.max(Submission.id))), client


def grant_answers(branch="Filia 12", email="branch12@example.org", **extra) -> dict:
    return {
        "branch": branch,
        "contact_email": email,
        "plan": "Neighbourhood breakfasts\nand a language café.",
        "budget": (io.BytesIO(PDF), "budżet 2027.pdf"),
        "cv": (io.BytesIO(PDF), "cv-anna-kowalska.pdf"),
        "partners-0-organisation": "Dom Kultury",
        "partners-0-person": "Jan Przykładowy",
        "partners-1-organisation": "Szkoła nr 5",
        **extra,
    }


def staff(app, email: str, role: str = "call_manager", *forms: str) -> str:
    args = ["users", "create", email, "--role", role]
    for slug in forms:
        args += ["--form", slug]
    result = app.test_cli_runner().invoke(args=args, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    return email


def signed_in(app, email: str) -> FormClient:
    client = FormClient(app.test_client())
    client.get("/login")
    response = client.post("/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, "sign-in failed"
    return client


def page(client: FormClient, submission_id: int) -> str:
    response = client.get(f"/dashboard/submissions/{submission_id}")
    assert response.status_code == 200, response.status_code
    return unescape(response.get_data(as_text=True))


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def attachment_ids(app, submission_id: int) -> dict[str, int]:
    from extensions import db
    from models import Attachment

    with app.app_context():
        rows = db.session.scalars(
            select(Attachment).where(Attachment.submission_id == submission_id)
        )
        return {a.field: a.id for a in rows}


def score(client, submission_id, **values):
    url = f"/dashboard/submissions/{submission_id}"
    client.get(url)
    return client.post(f"{url}/scores", {f"score-{k}": v for k, v in values.items()})


def do(client, submission_id, action, data):
    """POST an action from the detail page, as a browser would after opening it."""
    url = f"/dashboard/submissions/{submission_id}"
    client.get(url)
    return client.post(f"{url}/{action}", data)


def act(client, submission_id, name, expected_state, **fields):
    """A move from the detail page; one that writes to the applicant is confirmed on the
    page that shows what it sends."""
    url = f"/dashboard/submissions/{submission_id}"
    client.get(url)
    response = client.post(
        f"{url}/transition", {"transition": name, "expected_state": expected_state, **fields}
    )
    if response.status_code == 200 and 'name="confirmed"' in client.last_html:
        response = client.post(f"{url}/transition", confirmation_fields(client.last_html))
    return response


def confirmation_fields(html: str) -> dict:
    """What the confirmation page's button sends (the move as written and the digest of
    what the page shows), without the CSRF token the client adds."""
    form = re.search(r'<form [^>]*class="action-row">.*?</form>', html, re.S)
    assert form, "no confirmation form"
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0))
    return {name: unescape(value) for name, value in fields if name != "csrf_token"}


def audit_actions(app, submission_id) -> list[str]:
    from extensions import db
    from models import AuditEntry

    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.submission_id == submission_id)
                .order_by(AuditEntry.id)
            )
        )


@pytest.fixture
def grants(app, create_form):
    """A blind-reviewed call with a rubric and one place, two applications, an admin, two
    reviewers of this call and one reviewer of another call."""
    grant_form(create_form)
    request_form(create_form)
    first, applicant = apply(app, "grants", grant_answers())
    second, _ = apply(app, "grants", grant_answers("Filia 7", "branch7@example.org"))
    people = {
        "admin": staff(app, "admin@example.org", "admin"),
        "rita": staff(app, "rita@example.org", "call_manager", "grants"),
        "sven": staff(app, "sven@example.org", "call_manager", "grants"),
        "other": staff(app, "other@example.org", "call_manager", "visits"),
    }
    return {"first": first, "second": second, "applicant": applicant, **people}


# --- the page --------------------------------------------------------------------------


def test_the_detail_page_shows_every_answer_in_form_order(app, grants):
    html = page(signed_in(app, grants["admin"]), grants["first"])
    text = text_of(html)
    assert "TEST-" in text and "Test call" in text and "Submitted" in text
    assert "Revision 1" in text
    year = datetime.now(UTC).year
    assert str(year) in text  # submitted at, in the call's time zone
    order = [
        "Branch name Filia 12",
        "Email branch12@example.org",
        "Your plan Neighbourhood breakfasts and a language café.",
        "Budget budżet 2027.pdf",
        "CV of the coordinator cv-anna-kowalska.pdf",
        "Partners Partner 1 Organisation: Dom Kultury Contact person: Jan Przykładowy "
        "Partner 2 Organisation: Szkoła nr 5",
    ]
    positions = [text.find(part) for part in order]
    assert all(p >= 0 for p in positions), list(zip(order, positions, strict=True))
    assert positions == sorted(positions)
    assert "Neighbourhood breakfasts<br>and a language café." in html


def test_blind_review_hides_identifying_answers_from_reviewers_but_not_admins(app, grants):
    reviewer = text_of(page(signed_in(app, grants["rita"]), grants["first"]))
    for secret in ("Filia 12", "branch12@example.org", "Jan Przykładowy", "cv-anna-kowalska"):
        assert secret not in reviewer
    assert "Hidden in blind review" in reviewer
    assert "Dom Kultury" in reviewer and "budżet 2027.pdf" in reviewer
    admin = text_of(page(signed_in(app, grants["admin"]), grants["first"]))
    for secret in ("Filia 12", "branch12@example.org", "Jan Przykładowy", "cv-anna-kowalska"):
        assert secret in admin


def test_a_reviewer_of_another_form_finds_nothing_by_guessing_ids(app, grants):
    other = signed_in(app, grants["other"])
    first = grants["first"]
    files = attachment_ids(app, first)
    base_url = f"/dashboard/submissions/{first}"
    assert other.get(base_url).status_code == 404
    assert other.get(f"{base_url}/attachments/{files['budget']}").status_code == 404
    assert other.get("/dashboard/submissions/999999").status_code == 404
    other.get("/dashboard/")
    token = other.csrf_token()  # a valid token: the refusal is not a CSRF one
    for action, data in [
        ("comments", {"body": "hello"}),
        ("tags", {"tag": "x"}),
        ("scores", {"score-quality": "5", "score-impact": "5"}),
        ("conflict", {"reason": "friend"}),
        ("transition", {"transition": "start_review", "expected_state": "submitted"}),
    ]:
        response = other.post(f"{base_url}/{action}", {**data, "csrf_token": token})
        assert response.status_code == 404, action
    assert audit_actions(app, first) == ["submission.submitted"]


# --- files -----------------------------------------------------------------------------


def test_a_reviewer_downloads_a_file_as_an_attachment_with_safe_headers(app, grants):
    rita = signed_in(app, grants["rita"])
    files = attachment_ids(app, grants["first"])
    html = page(rita, grants["first"])
    url = f"/dashboard/submissions/{grants['first']}/attachments/{files['budget']}"
    assert url in html
    response = rita.client.get(url)
    assert response.status_code == 200
    assert response.data == PDF
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''bud%C5%BCet%202027.pdf" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]


def test_file_downloads_are_refused_to_everyone_else(app, grants):
    first, second = grants["first"], grants["second"]
    files, others = attachment_ids(app, first), attachment_ids(app, second)
    url = f"/dashboard/submissions/{first}/attachments/{files['budget']}"
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert signed_in(app, grants["other"]).client.get(url).status_code == 404
    rita = signed_in(app, grants["rita"])
    # Another submission's file through this submission's address.
    guessed = f"/dashboard/submissions/{first}/attachments/{others['budget']}"
    assert rita.client.get(guessed).status_code == 404
    assert rita.client.get(f"/dashboard/submissions/{first}/attachments/999999").status_code == 404
    # A file answering an identifying question stays hidden in blind review, but not from admins.
    cv = f"/dashboard/submissions/{first}/attachments/{files['cv']}"
    assert rita.client.get(cv).status_code == 404
    assert signed_in(app, grants["admin"]).client.get(cv).status_code == 200


# --- scores ----------------------------------------------------------------------------


def stored_scores(app) -> list[tuple]:
    from extensions import db
    from models import Score

    with app.app_context():
        return [
            (s.submission_id, s.user_id, s.criterion, s.value)
            for s in db.session.scalars(select(Score).order_by(Score.id))
        ]


NOT_SCORES = [
    {"quality": "0", "impact": "3"},
    {"quality": "6", "impact": "3"},
    {"quality": "abc", "impact": "3"},
    {"quality": "2.5", "impact": "3"},
    {"quality": "", "impact": "3"},
    {"quality": "٣", "impact": "3"},  # an Arabic-Indic digit is a digit, not a score
    {"impact": "3"},
    {"quality": "-1", "impact": "99999999999999999999"},
]


def test_scores_are_whole_numbers_from_one_to_five(app, grants):
    # One call and its people for all the values (each set-up makes two applications).
    rita = signed_in(app, grants["rita"])
    for values in NOT_SCORES:
        response = score(rita, grants["first"], **values)
        assert response.status_code == 400, values
        assert "Score every criterion from 1 to 5." in unescape(rita.last_html), values
        assert stored_scores(app) == [], values


def test_a_score_sent_twice_in_one_field_is_refused_or_taken_never_an_error(app, grants):
    rita = signed_in(app, grants["rita"])
    url = f"/dashboard/submissions/{grants['first']}"
    rita.get(url)
    response = rita.client.post(
        f"{url}/scores",
        data={"csrf_token": rita.csrf_token(), "score-quality": ["5", "x"], "score-impact": "2"},
    )
    assert response.status_code in (302, 400)


def test_the_weighted_average_counts_every_reviewer_once(app, grants):
    first = grants["first"]
    rita, sven = signed_in(app, grants["rita"]), signed_in(app, grants["sven"])
    assert score(rita, first, quality="5", impact="1").status_code == 302  # (5 + 3) / 4 = 2
    assert score(sven, first, quality="2", impact="4").status_code == 302  # (2 + 12) / 4 = 3.5
    text = text_of(page(rita, first))
    assert "Weighted average: 2.75 from 2 reviewers" in text
    # Scoring again replaces the earlier scores.
    assert score(rita, first, quality="5", impact="5").status_code == 302  # 5
    assert "Weighted average: 4.25 from 2 reviewers" in text_of(page(rita, first))
    from services.scoring import weighted_average

    with app.app_context():
        result = weighted_average([first, grants["second"]])
    assert result == {first: (4.25, 2), grants["second"]: (None, 0)}
    assert len(stored_scores(app)) == 4
    assert audit_actions(app, first).count("submission.scored") == 3


def test_others_scores_stay_hidden_until_a_reviewer_has_scored(app, grants):
    first = grants["first"]
    rita, sven = signed_in(app, grants["rita"]), signed_in(app, grants["sven"])
    score(rita, first, quality="5", impact="1")
    before = text_of(page(sven, first))
    assert "1 reviewer has scored. You see the scores once you have saved yours." in before
    assert "Weighted average" not in before and "Scores by reviewer" not in before
    from models import User
    from services.scoring import weighted_average

    with app.app_context():
        from extensions import db

        sven_user = db.session.scalar(select(User).where(User.email == grants["sven"]))
        assert weighted_average([first], for_user=sven_user) == {first: (None, 1)}
    score(sven, first, quality="3", impact="3")
    after = text_of(page(sven, first))
    assert "Weighted average: 2.50 from 2 reviewers" in after and "rita@example.org" in after
    # Admins coordinate: they see the scores without scoring.
    assert "Weighted average: 2.50" in text_of(page(signed_in(app, grants["admin"]), first))


def test_a_form_can_show_scores_before_scoring(app, create_form):
    grant_form(create_form, slug="open-scores", hide_scores_until_scored=False)
    submission, _ = apply(app, "open-scores", grant_answers())
    rita = signed_in(app, staff(app, "rita@example.org", "call_manager", "open-scores"))
    sven = signed_in(app, staff(app, "sven@example.org", "call_manager", "open-scores"))
    score(rita, submission, quality="4", impact="4")
    assert "Weighted average: 4.00 from 1 reviewer" in text_of(page(sven, submission))


def test_the_hide_scores_flag_must_be_true_or_false():
    from forms.schema import DefinitionError, validate

    with pytest.raises(DefinitionError) as caught:
        validate(base("x", REQUEST_PAGES, hide_scores_until_scored="yes"), "x.yaml")
    assert "hide_scores_until_scored: must be true or false" in str(caught.value)


def test_a_conflict_of_interest_blocks_seeing_and_giving_scores(app, grants):
    first = grants["first"]
    rita, sven = signed_in(app, grants["rita"]), signed_in(app, grants["sven"])
    score(rita, first, quality="1", impact="1")
    score(sven, first, quality="5", impact="5")
    url = f"/dashboard/submissions/{first}"
    rita.get(url)
    assert rita.post(f"{url}/conflict", {"reason": "  "}).status_code == 400
    assert "Say briefly why" in unescape(rita.last_html)
    assert (
        rita.post(f"{url}/conflict", {"reason": "My sister runs this branch."}).status_code == 302
    )
    text = text_of(page(rita, first))
    assert "you do not see its scores and cannot score it" in text
    assert "Weighted average" not in text and "Save scores" not in text
    assert 'name="score-quality"' not in rita.last_html
    assert "rita@example.org: My sister runs this branch." in text
    assert score(rita, first, quality="5", impact="5").status_code == 400
    assert "conflict of interest" in unescape(rita.last_html)
    # Rita's earlier scores no longer count.
    assert "Weighted average: 5.00 from 1 reviewer" in text_of(page(sven, first))
    assert "submission.conflict_declared" in audit_actions(app, first)
    from extensions import db
    from models import User
    from services.scoring import weighted_average

    with app.app_context():
        rita_user = db.session.scalar(select(User).where(User.email == grants["rita"]))
        assert weighted_average([first]) == {first: (5.0, 1)}
        assert weighted_average([first], for_user=rita_user) == {first: (None, 1)}


# --- comments and tags -----------------------------------------------------------------


def test_internal_comments_and_tags_are_kept_and_never_shown_to_the_applicant(app, grants):
    first = grants["first"]
    rita = signed_in(app, grants["rita"])
    assert do(rita, first, "comments", {"body": "   "}).status_code == 400
    assert "Write the comment first." in unescape(rita.last_html)
    body = "Strong plan;\r\nask about the budget."
    assert do(rita, first, "comments", {"body": body}).status_code == 302
    assert do(rita, first, "tags", {"tag": "  Needs   VISIT "}).status_code == 302
    assert do(rita, first, "tags", {"tag": "needs visit"}).status_code == 302  # the same tag
    assert do(rita, first, "tags", {"tag": "shortlist"}).status_code == 302
    assert do(rita, first, "tags", {"tag": "x" * 61}).status_code == 400
    html = page(rita, first)
    assert "Strong plan;<br>ask about the budget." in html and "rita@example.org" in html
    assert '<span class="tag">needs visit</span>' in html
    from extensions import db
    from models import SubmissionTag, Tag

    with app.app_context():
        assert sorted(db.session.scalars(select(Tag.name))) == ["needs visit", "shortlist"]
        tag_id = db.session.scalar(select(Tag.id).where(Tag.name == "shortlist"))
    assert do(rita, first, f"tags/{tag_id}/remove", {}).status_code == 302
    assert do(rita, first, f"tags/{tag_id}/remove", {}).status_code == 302  # twice: no error
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SubmissionTag)) == 1
    history = text_of(page(rita, first))
    for line in ("Internal comment added", "Tag added: needs visit", "Tag removed: shortlist"):
        assert line in history
    # The applicant's pages never carry them.
    applicant = grants["applicant"]
    confirmation = applicant.get("/calls/grants/confirmation").get_data(as_text=True)
    links = re.findall(r'href="https?://formdesk\.test(/s/[^"]+)"', confirmation)
    if "applicant.status" in app.view_functions:  # the applicant's own page, once it exists
        assert links, "the confirmation shows no private link"
    public_pages = [confirmation]
    for link in links:
        response = applicant.get(link)
        assert response.status_code == 200
        public_pages.append(response.get_data(as_text=True))
    for html in public_pages:
        for secret in ("Strong plan", "needs visit", "rita@example.org", "Internal comment"):
            assert secret not in unescape(html)


# --- transitions and history -----------------------------------------------------------


def test_a_transition_with_a_comment_is_recorded_and_shown_in_the_history(app, grants):
    first = grants["first"]
    rita = signed_in(app, grants["rita"])
    assert (
        act(rita, first, "start_review", "submitted", comment="Looks complete.").status_code == 302
    )
    text = text_of(page(rita, first))
    assert "Done: Start review. The state is now: In review." in text
    row = re.search(
        r"<tr class=\"history-row\">(?:(?!</tr>).)*Start review(?:(?!</tr>).)*</tr>",
        rita.last_html,
        re.S,
    )
    assert row, "no history row for the move"
    cells = text_of(row.group(0))
    assert "rita@example.org" in cells and "Submitted → In review" in cells
    assert "Looks complete." in cells and str(datetime.now(UTC).year) in cells
    first_row = text_of(
        re.search(r'<tr class="history-row">.*?</tr>', rita.last_html, re.S).group(0)
    )
    assert "applicant" in first_row and "– → Submitted" in first_row
    from extensions import db
    from models import AuditEntry

    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "submission.transition")
        ).one()
        assert (entry.from_state, entry.to_state, entry.comment, entry.actor_type) == (
            "submitted",
            "in_review",
            "Looks complete.",
            "reviewer",
        )
        assert entry.actor_id is not None


def test_a_double_click_runs_the_transition_once(app, grants):
    first = grants["first"]
    rita = signed_in(app, grants["rita"])
    rita.get(f"/dashboard/submissions/{first}")
    token = rita.csrf_token()
    data = {"csrf_token": token, "transition": "start_review", "expected_state": "submitted"}
    url = f"/dashboard/submissions/{first}/transition"
    assert rita.client.post(url, data=data).status_code == 302
    again = rita.client.post(url, data=data)
    assert again.status_code == 409
    assert "already changed by someone else" in unescape(again.get_data(as_text=True))
    assert audit_actions(app, first).count("submission.transition") == 1
    # Without the state the person saw, nothing moves.
    rita.get(f"/dashboard/submissions/{first}")
    assert rita.post(url, {"transition": "accept"}).status_code == 409


def test_refusals_are_shown_as_clear_messages(app, grants):
    first, second = grants["first"], grants["second"]
    rita = signed_in(app, grants["rita"])
    act(rita, first, "start_review", "submitted")
    act(rita, second, "start_review", "submitted")
    response = act(rita, first, "request_completion", "in_review", comment="  ")
    assert response.status_code == 409
    assert "Write a comment: the applicant needs to know what to do." in unescape(rita.last_html)
    assert act(rita, first, "accept", "in_review").status_code == 302
    response = act(rita, second, "accept", "in_review", comment="Welcome")
    assert response.status_code == 409
    html = unescape(rita.last_html)
    assert "All 1 places are taken." in html
    assert ">Welcome</textarea>" in html  # what was typed is kept
    assert act(rita, second, "withdraw", "in_review").status_code == 409  # the applicant's move
    assert "You are not allowed to do this." in unescape(rita.last_html)


def test_scheduling_a_request_needs_a_valid_date(app, create_form):
    request_form(create_form)
    submission, _ = apply(app, "visits", {"town": "Exempelby"})
    vera = signed_in(app, staff(app, "vera@example.org", "call_manager", "visits"))
    html = page(vera, submission)
    assert 'type="date"' in html and "Schedule" in html and "Decline" in html
    assert act(vera, submission, "schedule", "received").status_code == 400
    assert "Choose the date." in unescape(vera.last_html)
    assert act(vera, submission, "schedule", "received", date="2027-02-30").status_code == 400
    response = act(vera, submission, "schedule", "received", date="2027-03-03", comment="At 10")
    assert response.status_code == 302
    text = text_of(page(vera, submission))
    assert "Schedule (date: 2027-03-03)" in text and "Received → Scheduled" in text


def test_every_action_needs_the_csrf_token(app, grants):
    first = grants["first"]
    rita = signed_in(app, grants["rita"])
    url = f"/dashboard/submissions/{first}"
    for action, data in [
        ("comments", {"body": "hello"}),
        ("tags", {"tag": "x"}),
        ("tags/1/remove", {}),
        ("scores", {"score-quality": "5", "score-impact": "5"}),
        ("conflict", {"reason": "friend"}),
        ("transition", {"transition": "start_review", "expected_state": "submitted"}),
    ]:
        assert rita.post(f"{url}/{action}", data, csrf=False).status_code == 400, action
    assert audit_actions(app, first) == ["submission.submitted"]


def test_what_changed_since_the_previous_revision(app, grants):
    """The applicant's edit (another change) keeps the earlier answers as a revision."""
    first = grants["first"]
    from extensions import db
    from models import Answer, AuditEntry, Submission, SubmissionRevision

    with app.app_context():
        submission = db.session.get(Submission, first)
        before = submission.answers_by_field()
        db.session.add(SubmissionRevision(submission_id=first, number=1, answers=before))
        for answer in submission.answers:
            if answer.field == "plan":
                answer.value = "Only breakfasts."
            if answer.field == "branch":
                answer.value = "Filia 12 (Bałuty)"
        db.session.add(Answer(submission_id=first, field="zzz_unknown", position=99, value="x"))
        submission.revision = 2
        db.session.add(
            AuditEntry(
                submission_id=first,
                form_id=submission.form_id,
                action="submission.edited",
                actor_type="applicant",
                from_state="submitted",
                to_state="submitted",
                data={"revision": 2, "previous_revision": 1},
            )
        )
        db.session.commit()
    text = text_of(page(signed_in(app, grants["rita"]), first))
    assert "What changed in revision 2" in text
    assert "Your plan Neighbourhood breakfasts and a language café. Only breakfasts." in text
    assert "Branch name Changed (hidden in blind review)" in text
    assert "Bałuty" not in text
    assert "applicant Answers changed by the applicant (revision 2)" in text
    assert "Filia 12 (Bałuty)" in text_of(page(signed_in(app, grants["admin"]), first))
