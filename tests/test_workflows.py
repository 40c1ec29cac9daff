"""Workflow definitions and transitions: every move, guard and role, on the real database."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import FormClient
from tests.definitions import base

ONE_PAGE = [
    {
        "title": "Only",
        "fields": [
            {"name": "name", "type": "text", "label": "Name", "required": True},
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
        ],
    }
]


def send(app, slug: str, data: dict) -> str:
    client = FormClient(app.test_client())
    client.fill(slug, 1, data)
    client.get(f"/calls/{slug}/check")
    response = client.post(f"/calls/{slug}/check", {})
    assert response.status_code == 302, client.last_html[:500]
    return response.headers["Location"]


def submissions(app, slug: str):
    from models import Form, Submission

    with app.app_context():
        form = Form.query.filter_by(slug=slug).one()
        return [
            (s.id, s.state, s.seats)
            for s in Submission.query.filter_by(form_id=form.id).order_by(Submission.id)
        ]


@pytest.fixture
def review_form(app, create_form):
    create_form(base("review", ONE_PAGE, capacity=2, workflow="application-review"))
    for name in ("Ada", "Bea", "Cay", "Dan"):
        send(app, "review", {"name": name})
    return [s[0] for s in submissions(app, "review")]


def move(app, submission_id, name, kind="reviewer", **kwargs):
    from services.transitions import Actor, transition

    with app.app_context():
        return transition(submission_id, name, Actor(kind, None), **kwargs).state


def refused(app, submission_id, name, kind="reviewer", **kwargs) -> str:
    from services.transitions import TransitionRefused

    with pytest.raises(TransitionRefused) as caught:
        move(app, submission_id, name, kind, **kwargs)
    return str(caught.value)


def test_every_shipped_workflow_parses(app_context):
    from workflows.engine import get_workflow, known_workflows

    assert known_workflows() >= {"application-review", "event-registration", "request-handling"}
    for name in known_workflows():
        assert get_workflow(name).transitions


def test_invalid_workflow_definitions_name_the_problem():
    from workflows.engine import WorkflowError, parse

    with pytest.raises(WorkflowError) as caught:
        parse(
            {
                "initial": "nowhere",
                "states": {"a": {}},
                "transitions": [
                    {
                        "name": "x",
                        "from": ["a"],
                        "to": "b",
                        "by": ["robot"],
                        "effects": ["fax:now"],
                        "guards": ["moon"],
                    }
                ],
            },
            "bad.yaml",
        )
    message = str(caught.value)
    for expected in (
        "bad.yaml: initial[0]",
        "'b' is not a state",
        "'by' must list",
        "unknown effect 'fax:now'",
        "unknown guard",
    ):
        assert expected in message


def test_application_review_path_and_audit_log(app, review_form):
    ada = review_form[0]
    assert move(app, ada, "start_review") == "in_review"
    assert move(app, ada, "accept", comment="Welcome!") == "accepted"
    from models import AuditEntry

    with app.app_context():
        moves = [
            (e.from_state, e.to_state, e.comment, e.actor_type)
            for e in AuditEntry.query.filter_by(submission_id=ada).order_by(AuditEntry.id)
        ]
    assert moves == [
        (None, "submitted", None, "applicant"),
        ("submitted", "in_review", None, "reviewer"),
        ("in_review", "accepted", "Welcome!", "reviewer"),
    ]


def test_capacity_guard_refuses_the_third_acceptance_with_a_reason(app, review_form):
    for submission in review_form[:3]:
        move(app, submission, "start_review")
    move(app, review_form[0], "accept")
    move(app, review_form[1], "accept")
    assert "All 2 places are taken." in refused(app, review_form[2], "accept")
    assert submissions(app, "review")[2][1] == "in_review"


def test_a_withdrawal_frees_the_place_for_the_first_waitlisted(app, review_form):
    ada, bea, cay, dan = review_form
    for submission in review_form:
        move(app, submission, "start_review")
    move(app, ada, "accept")
    move(app, bea, "accept")
    move(app, dan, "waitlist")
    move(app, cay, "waitlist")  # later on the list than Dan? No: order is by submission time
    assert move(app, ada, "withdraw", kind="applicant") == "withdrawn"
    states = {s[0]: s[1] for s in submissions(app, "review")}
    assert states[cay] == "accepted"  # Cay submitted before Dan
    assert states[dan] == "waitlisted"


def test_roles_are_enforced(app, review_form):
    ada = review_form[0]
    assert "not allowed" in refused(app, ada, "start_review", kind="applicant")
    move(app, ada, "start_review")
    assert "not allowed" in refused(app, ada, "withdraw", kind="reviewer")
    bea = review_form[1]
    move(app, bea, "start_review")
    move(app, bea, "waitlist")
    assert "not allowed" in refused(app, bea, "promote", kind="admin")  # only the system


def test_completion_request_needs_a_comment_and_comes_back_to_review(app, review_form):
    ada = review_form[0]
    move(app, ada, "start_review")
    assert "Write a comment" in refused(app, ada, "request_completion", comment="  ")
    assert move(app, ada, "request_completion", comment="Add the address") == (
        "completion_requested"
    )
    assert move(app, ada, "resubmit", kind="applicant") == "in_review"


def test_a_transition_from_the_wrong_state_is_refused(app, review_form):
    assert "not possible" in refused(app, review_form[0], "accept")


def test_a_double_click_runs_once(app, review_form):
    ada = review_form[0]
    assert move(app, ada, "start_review", expected_state="submitted") == "in_review"
    assert "already changed" in refused(app, ada, "start_review", expected_state="submitted")
    from models import AuditEntry

    with app.app_context():
        assert AuditEntry.query.filter_by(submission_id=ada, to_state="in_review").count() == 1


def test_request_handling_needs_a_date_to_schedule(app, create_form):
    from datetime import date

    create_form(base("req", ONE_PAGE, workflow="request-handling"))
    send(app, "req", {"name": "Exempelby"})
    request_id = submissions(app, "req")[0][0]
    assert "Choose the date" in refused(app, request_id, "schedule")
    assert move(app, request_id, "schedule", scheduled_for=date(2027, 3, 3)) == "scheduled"
    assert move(app, request_id, "complete") == "done"


def event(create_form, capacity=3):
    create_form(
        base(
            "event",
            GROUP_PAGE,
            capacity=capacity,
            workflow="event-registration",
            seats_field="people",
        )
    )


def people(*names):
    return {f"people-{i}-first_name": n for i, n in enumerate(names)}


def test_registrations_are_confirmed_while_seats_last_counting_people(app, create_form):
    event(create_form, capacity=3)
    send(app, "event", people("A", "B"))
    send(app, "event", people("C", "D"))  # 2 seats wanted, 1 left: waiting list
    send(app, "event", people("E"))  # 1 seat fits
    assert [(s[1], s[2]) for s in submissions(app, "event")] == [
        ("confirmed", 2),
        ("waitlisted", 2),
        ("confirmed", 1),
    ]


def test_a_cancellation_offers_the_seat_to_the_first_who_fits(app, create_form):
    from datetime import timedelta

    event(create_form, capacity=3)
    send(app, "event", people("A", "B", "C"))
    send(app, "event", people("D", "E"))
    send(app, "event", people("F"))
    first, two, one = [s[0] for s in submissions(app, "event")]
    move(app, first, "cancel", kind="applicant")
    states = [s[1] for s in submissions(app, "event")]
    assert states == ["cancelled", "offered", "offered"]  # 3 free seats: both fit

    from models import Submission
    from models.types import utcnow
    from services.transitions import expire_offers

    assert move(app, two, "confirm_offer", kind="applicant") == "confirmed"
    with app.app_context():
        from extensions import db

        expires = db.session.get(Submission, one).offer_expires_at
        assert expires > utcnow() + timedelta(hours=47)
        assert expire_offers(now=expires + timedelta(seconds=1)) == 1
    assert [s[1] for s in submissions(app, "event")] == ["cancelled", "confirmed", "offer_expired"]


def test_leaving_the_waiting_list(app, create_form):
    event(create_form, capacity=1)
    send(app, "event", people("A"))
    send(app, "event", people("B"))
    waiting = submissions(app, "event")[1][0]
    assert move(app, waiting, "leave_waitlist", kind="applicant") == "cancelled"


RACERS = 60


@pytest.mark.slow  # threads racing
def test_racing_registrations_never_exceed_the_seats(app, create_form):
    """Many people press "Send" at the same moment for the last seats."""
    event(create_form, capacity=9)
    clients = []
    for index in range(RACERS):
        client = FormClient(app.test_client())
        client.fill("event", 1, people(f"P{index}"))
        client.get("/calls/event/check")
        clients.append(client)
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda c: c.post("/calls/event/check", {}).status_code, clients))
    assert codes == [302] * RACERS
    states = [s[1] for s in submissions(app, "event")]
    assert states.count("confirmed") == 9
    assert states.count("waitlisted") == RACERS - 9
