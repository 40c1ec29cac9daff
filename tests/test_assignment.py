"""Review assignment (#17) through the real services, database and HTTP: by hand, in bulk
and automatically (balanced, N per submission, never a conflicted reviewer, idempotent),
access refusals, each reviewer's progress, the review deadline and its reminder (sent once,
received by a real SMTP server). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest_mail import deliver
from tests.definitions import base
from tests.test_review_detail import PASSWORD, do, page, score, signed_in, staff

PAGES = [{"title": "Application", "fields": [{"name": "title", "type": "text", "label": "Title"}]}]
RUBRIC = [{"key": "quality", "label": "Quality", "weight": 1}]


def submit(app, slug: str, title: str) -> int:
    from tests.test_review_detail import apply

    submission_id, _client = apply(app, slug, {"title": title})
    return submission_id


@pytest.fixture
def call(app, create_form):
    """Two calls with a rubric; seven submissions to `grants`, one to `visits`; a manager
    and four reviewers of `grants`, a manager of `visits` only, and an admin."""
    create_form(base("grants", PAGES, rubric=RUBRIC))
    create_form(base("visits", PAGES, rubric=RUBRIC))
    ids = [submit(app, "grants", f"Project {n}") for n in range(7)]
    other = submit(app, "visits", "Elsewhere")
    people = {
        "admin": staff(app, "admin@example.org", "admin"),
        "manager": staff(app, "maria@example.org", "call_manager", "grants"),
        "outsider": staff(app, "otto@example.org", "call_manager", "visits"),
        **{
            name: staff(app, f"{name}@example.org", "reviewer", "grants")
            for name in ("ada", "bo", "cy", "di")
        },
    }
    return {"ids": ids, "other": other, **people}


def user(email: str):
    from extensions import db
    from models import User

    return db.session.scalar(select(User).where(User.email == email))


def form_id(slug: str) -> int:
    from extensions import db
    from models import Form

    return db.session.scalar(select(Form.id).where(Form.slug == slug))


def pairs(app=None) -> set[tuple[int, str]]:
    if app is not None:
        with app.app_context():
            return pairs()
    from extensions import db
    from models import SubmissionAssignment, User

    rows = db.session.execute(
        select(SubmissionAssignment.submission_id, User.email).join(
            User, User.id == SubmissionAssignment.user_id
        )
    )
    return {(sid, email) for sid, email in rows}


def declare(app, email: str, submission_id: int) -> None:
    from services.annotations import declare_conflict

    with app.app_context():
        declare_conflict(submission_id, user(email), "My sister wrote it.")


# --- automatically ---------------------------------------------------------------------


def test_automatic_assignment_is_balanced_respects_conflicts_and_only_fills_gaps(app, call):
    from services.assignment import apply_automatic, plan_automatic, progress

    ids = call["ids"]
    declare(app, "ada@example.org", ids[0])
    declare(app, "bo@example.org", ids[0])
    declare(app, "ada@example.org", ids[3])
    with app.app_context():
        manager, grants = user(call["manager"]), form_id("grants")
        preview = plan_automatic(manager, grants, 2)
        assert preview.count == 14 and not preview.short
        assert pairs() == set()  # the preview changes nothing
        plan = apply_automatic(manager, grants, 2)
        made = pairs()
        assert len(made) == 14
        per_submission = Counter(sid for sid, _email in made)
        assert set(per_submission) == set(ids) and set(per_submission.values()) == {2}
        # never someone who declared a conflict on that submission
        assert not made & {
            (ids[0], "ada@example.org"),
            (ids[0], "bo@example.org"),
            (ids[3], "ada@example.org"),
        }
        # the call's reviewers and manager (managers review too), never the admin nor a
        # reviewer of another call
        pool = {f"{n}@example.org" for n in ("ada", "bo", "cy", "di", "maria")}
        assert {email for _sid, email in made} == pool
        loads = Counter(email for _sid, email in made)
        assert max(loads.values()) - min(loads.values()) <= 1, loads
        print("balance after N=2:", dict(loads))
        assert plan.load_after == {user(e).id: n for e, n in loads.items()}
        # again: nothing to do, nothing changes
        assert plan_automatic(manager, grants, 2).count == 0
        assert apply_automatic(manager, grants, 2).count == 0 and pairs() == made
        # three per submission only adds the third
        third = apply_automatic(manager, grants, 3)
        assert third.count == 7 and pairs() > made
        assert set(Counter(s for s, _e in pairs()).values()) == {3}
        # submission 0: only cy, di and maria are free of conflicts: one short at 4
        four = plan_automatic(manager, grants, 4)
        assert [(s.id, n) for s, n in four.short] == [(ids[0], 1)]
        rows = {r.reviewer.email: r for r in progress(grants)}
        assert rows["ada@example.org"].conflicts == 2 and rows["bo@example.org"].conflicts == 1
        assert sum(r.assigned for r in rows.values()) == 21
        loads = Counter(e for _s, e in pairs())
        print("balance after N=3:", dict(loads))
        assert max(loads.values()) - min(loads.values()) <= 1


def test_only_admins_and_the_calls_managers_assign(app, call):
    from services.assignment import (
        AssignmentRefused,
        apply_bulk,
        plan_automatic,
        set_reviewers,
    )

    ids = call["ids"]
    with app.app_context():
        grants, ada = form_id("grants"), user("ada@example.org")
        for refused in (ada, user(call["outsider"])):
            with pytest.raises(AssignmentRefused):
                plan_automatic(refused, grants, 2)
            with pytest.raises(AssignmentRefused):
                set_reviewers(ids[0], refused, [ada.id])
            assert apply_bulk(refused, ids, ada.id) == 0
        # a manager cannot assign on another call, nor someone who is not its reviewer
        manager = user(call["manager"])
        assert apply_bulk(manager, [call["other"]], ada.id) == 0
        assert apply_bulk(manager, ids[:2], user(call["outsider"]).id) == 0
        assert pairs() == set()
        # the admin may
        assert apply_bulk(user(call["admin"]), ids[:2], ada.id) == 2
        assert pairs() == {(ids[0], "ada@example.org"), (ids[1], "ada@example.org")}


def test_by_hand_a_conflicted_reviewer_is_refused_and_every_change_is_audited(app, call):
    from extensions import db
    from models import AuditEntry
    from services.assignment import AssignmentRefused, set_reviewers

    first = call["ids"][0]
    declare(app, "cy@example.org", first)
    with app.app_context():
        manager = user(call["manager"])
        ada, bo, cy = (user(f"{n}@example.org") for n in ("ada", "bo", "cy"))
        assert set_reviewers(first, manager, [ada.id, bo.id]) == (2, 0)
        assert set_reviewers(first, manager, [bo.id]) == (0, 1)
        with pytest.raises(AssignmentRefused):
            set_reviewers(first, manager, [bo.id, cy.id])
        assert pairs() == {(first, "bo@example.org")}
        actions = db.session.execute(
            select(AuditEntry.action, AuditEntry.data)
            .where(AuditEntry.action.like("submission.reviewer_%"))
            .order_by(AuditEntry.id)
        ).all()
        assert [(a, d["reviewer_id"]) for a, d in actions] == [
            ("submission.reviewer_assigned", ada.id),
            ("submission.reviewer_assigned", bo.id),
            ("submission.reviewer_unassigned", ada.id),
        ]


# --- over HTTP ---------------------------------------------------------------------------


def test_a_manager_assigns_in_bulk_and_a_reviewer_sees_assignments_first(app, call):
    ids = call["ids"]
    manager = signed_in(app, call["manager"])
    with app.app_context():
        bo = user("bo@example.org").id
    manager.get("/dashboard/submissions?form=grants")
    assert "Assign the selected submissions" in manager.last_html
    chosen = {"submission": [str(ids[1]), str(ids[4]), "999999"], "reviewer": str(bo)}
    back = "/dashboard/submissions?form=grants"
    response = manager.post("/dashboard/assign", {**chosen, "back": back})
    assert response.status_code == 200
    assert "Assign 2 submissions to bo@example.org?" in manager.last_html
    assert pairs(app) == set()
    response = manager.post("/dashboard/assign/apply", {**chosen, "back": back})
    assert response.status_code == 200
    assert pairs(app) == {(ids[1], "bo@example.org"), (ids[4], "bo@example.org")}
    # the reviewer: assigned first, and only them with "Assigned to me"
    reviewer = signed_in(app, "bo@example.org")
    html = reviewer.get("/dashboard/submissions").get_data(as_text=True)
    with app.app_context():
        from extensions import db
        from models import Submission

        refs = dict(db.session.execute(select(Submission.id, Submission.reference)).all())
    shown = [i for i in refs if html.find(f">{refs[i]}<") >= 0]
    assert len(shown) == 7  # the call bo reviews
    order = [refs[i] for i in sorted(shown, key=lambda i: html.find(f">{refs[i]}<"))]
    assert set(order[:2]) == {refs[ids[1]], refs[ids[4]]}
    assert html.count("Assigned to you") == 2
    mine = reviewer.get("/dashboard/submissions?mine=1").get_data(as_text=True)
    assert mine.count("Assigned to you") == 2 and refs[ids[0]] not in mine
    # a reviewer cannot assign, nor reach the Reviewers page
    assert reviewer.post("/dashboard/assign", {**chosen, "back": back}).status_code == 400
    assert reviewer.post("/dashboard/assign/apply", {**chosen, "back": back}).status_code == 200
    assert len(pairs(app)) == 2
    assert reviewer.get("/dashboard/calls/grants/reviewers").status_code == 404
    # without the CSRF token nothing happens
    response = manager.post("/dashboard/assign/apply", {**chosen, "back": back}, csrf=False)
    assert response.status_code == 400


def test_the_reviewers_page_shows_progress_and_automatic_assignment_is_previewed(app, call):
    ids = call["ids"]
    manager = signed_in(app, call["manager"])
    assert manager.get("/dashboard/calls/visits/reviewers").status_code == 404  # not theirs
    assert manager.get("/dashboard/calls/nothing/reviewers").status_code == 404
    assert manager.get("/dashboard/calls/grants/reviewers").status_code == 200
    manager.post("/dashboard/calls/grants/automatic", {"per_submission": "x"})
    assert "Give a whole number of reviewers per submission" in manager.last_html
    manager.post("/dashboard/calls/grants/automatic", {"per_submission": "11"})
    assert "Choose from 1 to 10 reviewers per submission." in manager.last_html
    response = manager.post("/dashboard/calls/grants/automatic", {"per_submission": "1"})
    assert response.status_code == 200 and "7 assignments will be made." in manager.last_html
    assert pairs(app) == set()
    response = manager.post("/dashboard/calls/grants/automatic/apply", {"per_submission": "1"})
    assert response.status_code == 302 and len(pairs(app)) == 7
    # a reviewer scores one of theirs; the manager sees it
    mine = sorted(sid for sid, email in pairs(app) if email == "ada@example.org")
    reviewer = signed_in(app, "ada@example.org")
    assert score(reviewer, mine[0], quality="4").status_code == 302
    html = manager.get("/dashboard/calls/grants/reviewers").get_data(as_text=True)
    row = html[html.index(">ada@example.org<") :].split("</tr>")[0]
    assert [int(n) for n in __import__("re").findall(r'"numeric">(\d+)<', row)] == [
        len(mine),
        1,
        len(mine) - 1,
        0,
    ]
    assert ids  # the fixture's submissions


def test_by_hand_on_the_submission_page_in_the_pages_language(app, call):
    first = call["ids"][0]
    declare(app, "cy@example.org", first)
    manager = signed_in(app, call["manager"])
    html = page(manager, first)
    assert "Assigned reviewers" in html and "declared a conflict of interest" in html
    with app.app_context():
        ada, cy = user("ada@example.org").id, user("cy@example.org").id
    response = do(manager, first, "reviewers", {"reviewer": [str(ada), str(cy)]})
    assert response.status_code == 400
    assert "cannot be assigned" in manager.last_html
    manager.get("/dashboard/submissions?lang=pl")
    do(manager, first, "reviewers", {"reviewer": [str(cy)]})
    assert "nie może" in manager.last_html, "the refusal is in the page's language"
    response = do(manager, first, "reviewers", {"reviewer": [str(ada), "abc", "99999"]})
    assert response.status_code == 302 and pairs(app) == {(first, "ada@example.org")}
    # a reviewer of the call sees who is assigned but cannot change it
    reviewer = signed_in(app, "bo@example.org")
    assert "Save reviewers" not in page(reviewer, first)
    assert do(reviewer, first, "reviewers", {"reviewer": [str(ada)]}).status_code == 400
    outsider = signed_in(app, call["outsider"])
    outsider.get("/dashboard/submissions")  # a page with the CSRF token
    response = outsider.post(f"/dashboard/submissions/{first}/reviewers", {"reviewer": [str(ada)]})
    assert response.status_code == 404 and pairs(app) == {(first, "ada@example.org")}


# --- the deadline and its reminder -------------------------------------------------------


def test_the_deadline_is_checked_at_the_edge(app, call):
    manager = signed_in(app, call["manager"])
    manager.get("/dashboard/calls/grants/reviewers")
    for bad, message in (
        ("21/01/2027", "a date like 2027-01-21"),
        ("2027-01-21\x00", "control character"),
        ("9" * 40, "at most 32 characters"),
    ):
        response = manager.post("/dashboard/calls/grants/deadline", {"due_on": bad})
        assert response.status_code == 400 and message in manager.last_html, bad
    response = manager.post("/dashboard/calls/grants/deadline", {"due_on": "2027-01-21"})
    assert response.status_code == 302
    with app.app_context():
        from services.review_deadlines import deadline_of

        assert deadline_of(form_id("grants")) == date(2027, 1, 21)
    reviewer = signed_in(app, "ada@example.org")
    reviewer.get("/dashboard/submissions")
    assert reviewer.post("/dashboard/calls/grants/deadline", {"due_on": ""}).status_code == 404


def test_the_reminder_goes_once_to_reviewers_with_unscored_assignments(app, call, smtp):
    from services.assignment import apply_automatic
    from services.review_deadlines import send_review_reminders, set_deadline

    ids = call["ids"]
    with app.app_context():
        manager = user(call["manager"])
        apply_automatic(manager, form_id("grants"), 1)
        assert send_review_reminders() == 0  # no deadline yet
        set_deadline(manager, form_id("grants"), (date.today() + timedelta(days=30)).isoformat())
        assert send_review_reminders() == 0  # not near yet
        set_deadline(manager, form_id("grants"), (date.today() + timedelta(days=2)).isoformat())
        done = {e for _s, e in pairs()}
    # di scores everything assigned to them: no reminder for di
    di = signed_in(app, "di@example.org")
    di.get("/dashboard/submissions")
    for sid in sorted(s for s, e in pairs(app) if e == "di@example.org"):
        assert score(di, sid, quality="3").status_code == 302
    with app.app_context():
        reminded = done - {"di@example.org"}
        assert "di@example.org" in done and len(reminded) == 4
        assert send_review_reminders() == len(reminded)
        assert send_review_reminders() == 0  # once
    deliver(app)
    messages = smtp.inbox.wait_for(len(reminded))
    assert sorted(str(m["To"]) for m in messages) == sorted(reminded)
    body = messages[0].get_body(preferencelist=("plain",)).get_content()
    assert "review deadline" in body and "/dashboard/submissions/" in body
    with app.app_context():
        assert send_review_reminders() == 0
    assert ids and PASSWORD


def test_a_reminder_that_cannot_be_written_fails_alone(app, call):
    """The duty takes one reviewer at a time (jobs.isolation): a call whose definition
    cannot be read fails that reviewer's reminder, recorded for admins; the others go."""
    from extensions import db
    from models import DutyFailure, Form, FormVersion, OutboxMessage
    from services.assignment import apply_bulk
    from services.review_deadlines import send_review_reminders, set_deadline

    soon = (date.today() + timedelta(days=1)).isoformat()
    with app.app_context():
        admin, ada, otto = user(call["admin"]), user("ada@example.org"), user(call["outsider"])
        assert apply_bulk(admin, [call["ids"][0]], ada.id) == 1
        assert apply_bulk(admin, [call["other"]], otto.id) == 1
        set_deadline(admin, form_id("grants"), soon)
        set_deadline(admin, form_id("visits"), soon)
        visits = db.session.get(Form, form_id("visits"))
        version = visits.current_version
        broken = FormVersion(
            form_id=visits.id,
            number=version.number + 100,
            definition={},
            checksum="x" * 64,
            opens_at=version.opens_at,
            closes_at=version.closes_at,
        )
        db.session.add(broken)
        db.session.flush()
        visits.current_version_id = broken.id
        db.session.commit()
        assert send_review_reminders() == 1
        keys = db.session.scalars(select(OutboxMessage.idempotency_key)).all()
        assert [k for k in keys if k.startswith("review_reminder:")] == [
            f"review_reminder:{form_id('grants')}:{ada.id}"
        ]
        failures = db.session.execute(select(DutyFailure.duty, DutyFailure.item_id)).all()
        assert failures == [("review_reminder", otto.id)]
