"""The dashboard's overview, list of submissions (filters, search, sorting, pages) and bulk
transitions, through the real app with staff accounts created by the CLI."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from tests.conftest import FormClient
from tests.definitions import base
from tests.test_auth import PASSWORD, sign_in

FIELDS = [
    {
        "title": "Only",
        "fields": [
            {
                "name": "name",
                "type": "text",
                "label": "Name",
                "required": True,
                "identifying": True,
            },
            {"name": "town", "type": "text", "label": "Town"},
            {"name": "story", "type": "textarea", "label": "Story"},
        ],
    }
]
RUBRIC = [
    {"key": "quality", "label": "Quality", "weight": 1},
    {"key": "fit", "label": "Fit", "weight": 3},
]
ROW = re.compile(r'href="/dashboard/submissions/(\d+)">([A-Z]+-\d{4}-\d{4})</a>')


# --- Helpers --------------------------------------------------------------------------------------


@pytest.fixture
def calls(app, create_form):
    """Two calls: Alfa (capacity 2, a rubric) and Beta (in Stockholm's time zone)."""
    create_form(
        base(
            "alfa",
            FIELDS,
            reference_prefix="ALFA",
            capacity=2,
            rubric=RUBRIC,
            title={"en": "Alfa call"},
        )
    )
    create_form(
        base(
            "beta",
            FIELDS,
            reference_prefix="BETA",
            timezone="Europe/Stockholm",
            title={"en": "Beta call"},
        )
    )
    return "alfa", "beta"


_numbers: dict[str, int] = {}


def add(
    app,
    slug: str,
    count: int = 1,
    *,
    state: str = "submitted",
    at: datetime | None = None,
    name: str = "Person",
    town: str = "",
    story: str = "",
    step: timedelta = timedelta(0),
) -> list[int]:
    """Submissions written directly with the models: cheap, for lists and pages."""
    from extensions import db
    from models import Answer, Form, Submission

    at = at or datetime(2027, 1, 5, 12, tzinfo=UTC)
    ids = []
    with app.app_context():
        form = db.session.query(Form).filter_by(slug=slug).one()
        prefix = form.current_version.definition["reference_prefix"]
        for index in range(count):
            number = db.session.query(Submission).filter_by(form_id=form.id).count() + 1
            moment = at + step * index
            submission = Submission(
                form_id=form.id,
                form_version_id=form.current_version_id,
                reference=f"{prefix}-{moment.year}-{number:04d}",
                token_hash=secrets.token_hex(32),
                state=state,
                language="en",
                started_at=moment,
                submitted_at=moment,
            )
            values = {
                "name": f"{name} {number}" if count > 1 else name,
                "town": town,
                "story": story,
            }
            submission.answers = [
                Answer(field=key, position=position, value=value)
                for position, (key, value) in enumerate(values.items())
                if value
            ]
            db.session.add(submission)
            db.session.commit()
            ids.append(submission.id)
    return ids


def staff(app, email: str, role: str = "call_manager", *forms: str) -> str:
    args = ["users", "create", email, "--role", role]
    for slug in forms:
        args += ["--form", slug]
    result = app.test_cli_runner().invoke(args=args, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    return email


def signed_in(app, email: str) -> FormClient:
    client = FormClient(app.test_client())
    assert sign_in(client, email).status_code == 302
    return client


@pytest.fixture
def alfa_reviewer(app, calls):
    return signed_in(app, staff(app, "ada@example.org", "call_manager", "alfa"))


@pytest.fixture
def admin(app, calls):
    return signed_in(app, staff(app, "root@example.org", "admin"))


def listed(client: FormClient, query: str = "") -> list[str]:
    response = client.get("/dashboard/submissions" + query)
    assert response.status_code == 200, client.last_html[:800]
    return [reference for _id, reference in ROW.findall(client.last_html)]


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def states(app, ids: list[int]) -> list[str]:
    from extensions import db
    from models import Submission

    with app.app_context():
        return [db.session.get(Submission, i).state for i in ids]


# --- Access ---------------------------------------------------------------------------------------


def test_anonymous_visitors_reach_no_dashboard_page(app, calls, client):
    add(app, "alfa")
    for url in ("/dashboard/", "/dashboard/submissions", "/dashboard/submissions?q=a"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    client.get("/login")  # a valid CSRF token, still not signed in
    token = client.csrf_token()
    for url in ("/dashboard/bulk", "/dashboard/bulk/apply"):
        data = {"action": "start_review", "submission": "1", "csrf_token": token}
        response = client.post(url, data)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_reviewer_sees_only_the_calls_assigned_to_them(app, calls, alfa_reviewer):
    add(app, "alfa", 2, story="shared word")
    add(app, "beta", 2, story="shared word secretbeta")
    overview = alfa_reviewer.get("/dashboard/").get_data(as_text=True)
    assert "Alfa call" in overview and "Beta call" not in overview
    assert listed(alfa_reviewer) == ["ALFA-2027-0002", "ALFA-2027-0001"]
    assert all(r.startswith("ALFA") for r in listed(alfa_reviewer, "?q=shared"))
    assert listed(alfa_reviewer, "?q=secretbeta") == []
    assert listed(alfa_reviewer, "?q=BETA") == []
    # Naming the other call in the filter shows nothing of it.
    assert all(r.startswith("ALFA") for r in listed(alfa_reviewer, "?form=beta"))
    assert "no such call among yours" in alfa_reviewer.last_html
    assert "Beta call" not in alfa_reviewer.last_html


def test_an_admin_sees_every_call(app, calls, admin):
    add(app, "alfa")
    add(app, "beta")
    overview = admin.get("/dashboard/").get_data(as_text=True)
    assert "Alfa call" in overview and "Beta call" in overview
    assert sorted(r[:4] for r in listed(admin)) == ["ALFA", "BETA"]
    assert [r[:4] for r in listed(admin, "?form=beta")] == ["BETA"]


def test_a_reviewer_cannot_move_submissions_of_another_call(app, calls, alfa_reviewer):
    from extensions import db
    from models import AuditEntry

    beta = add(app, "beta", 2)
    alfa_reviewer.get("/dashboard/submissions")
    forged = {"action": "start_review", "submission": [str(i) for i in beta]}
    response = alfa_reviewer.post("/dashboard/bulk", forged)
    assert response.status_code == 400 and "Select at least one submission" in text_of(
        alfa_reviewer.last_html
    )
    assert "BETA" not in alfa_reviewer.last_html
    alfa_reviewer.get("/dashboard/submissions")
    forged.update({f"state-{i}": "submitted" for i in beta})
    response = alfa_reviewer.post("/dashboard/bulk/apply", forged)
    assert response.status_code == 200
    assert "2 selected submissions are not available to you" in text_of(alfa_reviewer.last_html)
    assert "BETA" not in alfa_reviewer.last_html
    assert states(app, beta) == ["submitted", "submitted"]
    with app.app_context():
        assert db.session.query(AuditEntry).filter_by(action="submission.transition").count() == 0


# --- Overview -------------------------------------------------------------------------------------


def test_overview_counts_capacity_and_an_accessible_chart_of_the_last_30_days(
    app, calls, alfa_reviewer
):
    now = datetime.now(UTC)
    add(app, "alfa", 3, at=now - timedelta(days=2))
    add(app, "alfa", 2, state="accepted", at=now - timedelta(days=1))
    add(app, "alfa", 1, at=now - timedelta(days=40))  # older than the chart
    html = alfa_reviewer.get("/dashboard/").get_data(as_text=True)
    text = text_of(html)
    assert "Places taken: 2 of 2" in text
    assert re.search(r'<meter[^>]*max="2"[^>]*value="2"', html)
    assert re.search(
        r'<svg class="day-chart" role="img"[^>]*aria-labelledby="chart-title-\d+ '
        r'chart-desc-\d+"',
        html,
    )
    assert "5 submissions, most on" in text
    assert html.count('class="chart-bar"') == 2
    # The same numbers as a table for screen readers: 30 days, two with submissions.
    table = html[html.index('<div class="visually-hidden">\n      <table>') :]
    counts = re.findall(r"<td>(\d+)</td>", table[: table.index("</table>")])
    assert len(counts) == 30 and sorted(int(c) for c in counts if c != "0") == [2, 3]
    # Strict CSP ahead: no inline styles or scripts.
    assert "style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    # Counts per state link to the filtered list.
    assert 'href="/dashboard/submissions?form=alfa&amp;state=accepted"' in html


# --- Filters, search, sorting, pages ------------------------------------------------------------


def test_filter_by_call_and_state(app, calls, admin):
    add(app, "alfa", 2)
    add(app, "alfa", 1, state="in_review")
    add(app, "beta", 1, state="in_review")
    assert len(listed(admin, "?state=in_review")) == 2
    assert [r[:4] for r in listed(admin, "?form=alfa&state=in_review")] == ["ALFA"]
    assert len(listed(admin, "?form=alfa")) == 3
    assert "In review" in admin.last_html


def test_date_filters_are_days_in_the_calls_time_zone(app, calls, admin):
    # 23:30 UTC on 10 January is already 11 January in Warsaw and Stockholm (UTC+1).
    late = datetime(2027, 1, 10, 23, 30, tzinfo=UTC)
    alfa_late = add(app, "alfa", at=late)
    add(app, "alfa", at=datetime(2027, 1, 10, 12, 0, tzinfo=UTC))
    add(app, "beta", at=datetime(2027, 1, 12, 9, 0, tzinfo=UTC))
    assert listed(admin, "?to=2027-01-10") == ["ALFA-2027-0002"]
    assert listed(admin, "?from=2027-01-11&to=2027-01-11") == ["ALFA-2027-0001"]
    assert listed(admin, "?from=2027-01-11") == ["BETA-2027-0001", "ALFA-2027-0001"]
    assert len(listed(admin, "?from=2027-01-10&to=2027-01-12")) == 3
    assert alfa_late  # shown at its local time
    assert "11 January 2027, 00:30" in text_of(admin.get("/dashboard/submissions").data.decode())


def test_filter_by_tag(app, calls, admin):
    from extensions import db
    from models import SubmissionTag, Tag

    tagged = add(app, "alfa", 3)
    with app.app_context():
        urgent, local = Tag(name="urgent"), Tag(name="local")
        db.session.add_all([urgent, local])
        db.session.flush()
        db.session.add_all(
            [
                SubmissionTag(submission_id=tagged[0], tag_id=urgent.id),
                SubmissionTag(submission_id=tagged[0], tag_id=local.id),
                SubmissionTag(submission_id=tagged[2], tag_id=urgent.id),
            ]
        )
        db.session.commit()
    assert listed(admin, "?tag=urgent&sort=reference&order=asc") == [
        "ALFA-2027-0001",
        "ALFA-2027-0003",
    ]
    assert len(listed(admin, "?tag=local")) == 1
    assert '<span class="tag">local</span> <span class="tag">urgent</span>' in admin.last_html


def send(app, slug: str, answers: dict) -> None:
    """Through the public form, as an applicant does."""
    client = FormClient(app.test_client())
    client.fill(slug, 1, answers)
    client.get(f"/calls/{slug}/check")
    response = client.post(f"/calls/{slug}/check", {})
    assert response.status_code == 302, client.last_html[:500]


def test_search_ignores_case_in_polish_and_swedish_letters(app, calls, admin):
    send(app, "alfa", {"name": "Zażółć Gęślą Jaźń", "story": "Biblioteka w Łodzi"})
    send(app, "alfa", {"name": "Åsa Öberg", "town": "Malmö", "story": "Skolan i Ängelholm"})
    send(app, "alfa", {"name": "Plain Person", "story": "50% off sale"})
    year = datetime.now(UTC).year
    first, second, third = (f"ALFA-{year}-000{n}" for n in (1, 2, 3))
    assert listed(admin, "?q=GĘŚLĄ") == [first]
    assert listed(admin, "?q=łodzi") == [first]
    assert listed(admin, "?q=åSA") == [second]
    assert listed(admin, "?q=ängelholm") == [second]
    assert listed(admin, "?q=MALMÖ") == [second]
    assert listed(admin, f"?q=alfa-{year}-0003") == [third]
    # LIKE wildcards are plain characters; a blank query lists everything.
    assert listed(admin, "?q=%25") == [third]
    assert listed(admin, "?q=o_f") == []  # as a wildcard, _ would match "off"
    assert len(listed(admin, "?q=+")) == 3


def test_blind_review_hides_identifying_answers_from_reviewers(app, create_form):
    create_form(base("blind", FIELDS, reference_prefix="BLND", blind_review=True))
    add(app, "blind", name="Karin Exempelsson", town="Lund", story="about reading")
    reviewer = signed_in(app, staff(app, "rev@example.org", "call_manager", "blind"))
    html = reviewer.get("/dashboard/submissions").get_data(as_text=True)
    assert "Karin" not in html and "Lund" in html
    assert listed(reviewer, "?q=karin") == []  # not found by what one may not see
    assert len(listed(reviewer, "?q=reading")) == 1
    chief = signed_in(app, staff(app, "chief@example.org", "admin"))
    assert "Karin Exempelsson – Lund" in chief.get("/dashboard/submissions").get_data(as_text=True)
    assert len(listed(chief, "?q=karin")) == 1


def test_sorting_by_reference_state_and_date(app, calls, admin):
    start = datetime(2027, 1, 5, 10, tzinfo=UTC)
    ids = add(app, "alfa", 3, at=start, step=timedelta(days=-1))  # 0001 is the newest
    from services.transitions import Actor, transition

    with app.app_context():
        transition(ids[1], "start_review", Actor("admin"))
        transition(ids[1], "reject", Actor("admin"))
        transition(ids[2], "start_review", Actor("admin"))
    refs = [f"ALFA-2027-000{n}" for n in (1, 2, 3)]
    assert listed(admin) == refs  # newest first by default
    assert listed(admin, "?sort=submitted&order=asc") == refs[::-1]
    assert listed(admin, "?sort=reference&order=asc") == refs
    assert listed(admin, "?sort=reference&order=desc") == refs[::-1]
    # States in workflow order: submitted, in review, …, not accepted.
    assert listed(admin, "?sort=state&order=asc") == [refs[0], refs[2], refs[1]]
    assert listed(admin, "?sort=state&order=desc") == [refs[1], refs[2], refs[0]]
    assert 'aria-sort="descending"' in admin.last_html


def test_pages_of_fifty_with_links_and_a_total(app, calls, admin):
    add(app, "alfa", 61, at=datetime(2027, 1, 1, tzinfo=UTC), step=timedelta(minutes=1))
    first = listed(admin)
    assert len(first) == 50 and first[0] == "ALFA-2027-0061"
    assert "Showing 1–50 of 61 submissions" in text_of(admin.last_html)
    assert 'href="/dashboard/submissions?page=2"' in admin.last_html
    assert 'aria-current="page"' in admin.last_html
    second = listed(admin, "?page=2")
    assert len(second) == 11 and second[-1] == "ALFA-2027-0001" and not set(first) & set(second)
    assert "Showing 51–61 of 61 submissions" in text_of(admin.last_html)
    # Filters are kept in the page links.
    listed(admin, "?q=person&sort=reference&order=asc")
    assert 'href="/dashboard/submissions?q=person&amp;sort=reference&amp;order=asc&amp;page=2"' in (
        admin.last_html
    )
    assert listed(admin, "?page=99") == second  # past the end: the last page
    assert listed(admin, "?page=-1") == first


@pytest.mark.parametrize(
    "query",
    [
        "?from=2027-13-45",
        "?to=yesterday",
        "?from=0001-01-01&to=9999-12-31",
        "?from=2027-02-01&to=2027-01-01",
        "?state=evil",
        "?state=submitted&form=alfa",
        "?form=../../etc",
        "?tag=nonexistent",
        "?page=-1",
        "?page=abc",
        "?page=99999999999999999999999",
        "?sort=evil&order=sideways",
        "?sort=state;DROP TABLE submissions",
        "?q=%27%22%5C",
        "?form=&state=&from=&to=&tag=&q=&sort=&order=&page=",
    ],
)
def test_bad_query_values_never_fail(app, calls, admin, query):
    add(app, "alfa", 2)
    response = admin.get("/dashboard/submissions" + query)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query, message",
    [
        ("?q=" + "x" * 5000, "can be at most 200 characters"),
        ("?q=%27%22%5C%00", "holds a control character"),
        ("?tag=%00&state=submitted", "holds a control character"),
        ("?" + "&".join(["state=submitted"] * 21), "at most 20 times"),
    ],
)
def test_values_beyond_their_bound_or_with_control_characters_are_refused(
    app, calls, admin, query, message
):
    add(app, "alfa", 2)
    response = admin.get("/dashboard/submissions" + query)
    assert response.status_code == 400
    assert message in text_of(admin.last_html)
    assert len(ROW.findall(admin.last_html)) == 2  # the list, without the refused filter


def test_bad_values_are_explained(app, calls, admin):
    add(app, "alfa")
    text = text_of(admin.get("/dashboard/submissions?from=2027-13-45&state=evil").data.decode())
    assert "is not a date like 2027-01-21" in text and "Unknown state" in text
    assert len(ROW.findall(admin.last_html)) == 1


def test_scores_are_the_mean_of_weighted_means_hidden_until_one_has_scored(app, calls, admin):
    from extensions import db
    from models import ConflictOfInterest, Score, User

    scored, _unscored, conflicted = add(app, "alfa", 3)
    other = staff(app, "bob@example.org", "call_manager", "alfa")
    ada = signed_in(app, staff(app, "ada@example.org", "call_manager", "alfa"))
    with app.app_context():
        users = {u.email: u.id for u in db.session.query(User)}
        for email, quality, fit in (("root@example.org", 5, 1), (other, 1, 4)):
            for criterion, value in (("quality", quality), ("fit", fit)):
                db.session.add(
                    Score(
                        submission_id=scored,
                        user_id=users[email],
                        criterion=criterion,
                        value=value,
                    )
                )
        db.session.add(
            Score(submission_id=conflicted, user_id=users[other], criterion="fit", value=5)
        )
        db.session.add(
            ConflictOfInterest(submission_id=conflicted, user_id=users["root@example.org"])
        )
        db.session.commit()
    text = text_of(admin.get("/dashboard/submissions?sort=reference&order=asc").data.decode())
    # Weights 1 and 3: root (5·1 + 1·3) / 4 = 2.00, bob (1·1 + 4·3) / 4 = 3.25 → 2.625.
    assert "2.62 (2)" in text or "2.63 (2)" in text
    assert "not scored" in text
    assert "hidden (1)" in text  # the admin declared a conflict on the third
    # A reviewer sees how many scored, but no average before scoring it themselves.
    text = text_of(ada.get("/dashboard/submissions?sort=reference&order=asc").data.decode())
    assert "hidden (2)" in text and "2.6" not in text


# --- Bulk transitions ----------------------------------------------------------------------------


def test_bulk_accept_with_confirmation_reports_the_capacity_refusal(app, calls, alfa_reviewer):
    from extensions import db
    from models import AuditEntry, User

    ids = add(app, "alfa", 3, state="in_review")
    other = add(app, "alfa", 1)  # submitted: cannot be accepted yet
    alfa_reviewer.get("/dashboard/submissions?state=in_review")
    assert '<option value="accept">Accept</option>' in alfa_reviewer.last_html
    chosen = {
        "action": "accept",
        "comment": "Welcome aboard",
        "submission": [str(i) for i in ids + other],
        "back": "/dashboard/submissions?state=in_review",
    }
    response = alfa_reviewer.post("/dashboard/bulk", chosen)
    assert response.status_code == 200
    text = text_of(alfa_reviewer.last_html)
    assert "Accept 3 submissions?" in text
    assert "1 selected submission cannot take this step from its state" in text
    assert states(app, ids) == ["in_review"] * 3  # nothing changes before confirming

    form = dict(
        re.findall(
            r'name="((?:state-)?\d+|action|comment|back)" value="([^"]*)"', alfa_reviewer.last_html
        )
    )
    confirmed = re.findall(r'name="submission" value="(\d+)"', alfa_reviewer.last_html)
    assert sorted(int(i) for i in confirmed) == ids
    alfa_reviewer.post("/dashboard/bulk/apply", {**form, "submission": confirmed})
    text = text_of(alfa_reviewer.last_html)
    assert "Accept: 2 of 3 done" in text
    assert text.count("now Accepted") == 2 and "All 2 places are taken." in text
    assert sorted(states(app, ids)) == ["accepted", "accepted", "in_review"]
    assert 'href="/dashboard/submissions?state=in_review"' in alfa_reviewer.last_html
    with app.app_context():
        ada = db.session.query(User).filter_by(email="ada@example.org").one()
        entries = db.session.query(AuditEntry).filter_by(action="submission.transition").all()
        assert [(e.actor_type, e.actor_id, e.comment, e.to_state) for e in entries] == [
            ("reviewer", ada.id, "Welcome aboard", "accepted")
        ] * 2

    # Sent again (a reload): the states changed, so nothing happens twice.
    alfa_reviewer.post("/dashboard/bulk/apply", {**form, "submission": confirmed})
    assert "Accept: 0 of 3 done" in text_of(alfa_reviewer.last_html)
    with app.app_context():
        assert db.session.query(AuditEntry).filter_by(action="submission.transition").count() == 2


def test_bulk_needs_an_action_a_selection_and_a_comment_when_the_step_asks(
    app, calls, alfa_reviewer
):
    ids = add(app, "alfa", 2, state="in_review")
    alfa_reviewer.get("/dashboard/submissions")
    response = alfa_reviewer.post("/dashboard/bulk", {"submission": [str(i) for i in ids]})
    assert response.status_code == 400 and "Choose what to do" in alfa_reviewer.last_html
    alfa_reviewer.get("/dashboard/submissions")
    response = alfa_reviewer.post("/dashboard/bulk", {"action": "accept"})
    assert response.status_code == 400 and "Select at least one" in alfa_reviewer.last_html
    alfa_reviewer.get("/dashboard/submissions")
    response = alfa_reviewer.post(
        "/dashboard/bulk", {"action": "request_completion", "submission": str(ids[0])}
    )
    assert response.status_code == 400 and "Write a comment" in alfa_reviewer.last_html
    # An action the reviewer may not take (only the applicant withdraws) is not offered.
    alfa_reviewer.get("/dashboard/submissions")
    response = alfa_reviewer.post(
        "/dashboard/bulk", {"action": "withdraw", "submission": str(ids[0])}
    )
    assert response.status_code == 400
    response = alfa_reviewer.post(
        "/dashboard/bulk/apply",
        {
            "action": "withdraw",
            "submission": str(ids[0]),
            f"state-{ids[0]}": "in_review",
            "csrf_token": alfa_reviewer.csrf_token(),
        },
    )
    assert response.status_code == 400 and states(app, ids) == ["in_review", "in_review"]


def test_bulk_actions_need_the_csrf_token(app, calls, alfa_reviewer):
    ids = add(app, "alfa", 1, state="in_review")
    data = {"action": "accept", "submission": str(ids[0]), f"state-{ids[0]}": "in_review"}
    for url in ("/dashboard/bulk", "/dashboard/bulk/apply"):
        assert alfa_reviewer.post(url, data, csrf=False).status_code == 400
        bad = alfa_reviewer.post(url, {**data, "csrf_token": "forged"}, csrf=False)
        assert bad.status_code == 400
    assert states(app, ids) == ["in_review"]


def test_back_link_after_bulk_stays_on_the_dashboard(app, calls, alfa_reviewer):
    ids = add(app, "alfa", 1)
    alfa_reviewer.get("/dashboard/submissions")
    alfa_reviewer.post(
        "/dashboard/bulk",
        {"action": "start_review", "submission": str(ids[0]), "back": "https://evil.example"},
    )
    assert "evil.example" not in alfa_reviewer.last_html
    assert 'href="/dashboard/submissions"' in alfa_reviewer.last_html
