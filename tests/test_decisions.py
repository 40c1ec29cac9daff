"""Decisions staff take knowingly and can undo, on the real app, database and SMTP server:
a move that writes to the applicant is shown first (the email and the letter as they will
be sent) and taken only when confirmed; an admin reopens a decision with a reason; a
warning before waitlisting while places are free; the offered place's page puts
confirming first."""

from __future__ import annotations

import io
import re
from html import unescape

import pypdf
import pytest
from sqlalchemy import func, select

from tests.conftest import FormClient
from tests.conftest_mail import deliver
from tests.definitions import base
from tests.test_mail import apply, body_of, call
from tests.test_review_detail import confirmation_fields, signed_in, staff, text_of

ADMIN, REVIEWER = "ada@example.org", "rita@example.org"


@pytest.fixture
def zone(app, create_form):
    """A call with two places (application-review), an admin and a reviewer."""
    create_form(call(capacity=2))
    staff(app, ADMIN, "admin")
    staff(app, REVIEWER, "call_manager", "mailcall")
    return app


def submission_of(app, reference: str):
    from models import Submission

    with app.app_context():
        return Submission.query.filter_by(reference=reference).one()


def outbox_count(app) -> int:
    from extensions import db
    from models import OutboxMessage

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def audit_count(app) -> int:
    from extensions import db
    from models import AuditEntry

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry))


def move(client, submission, name, expected, **fields):
    """The move as the detail page's form posts it: a step that writes to the applicant
    answers with the page that shows what will be sent."""
    url = f"/dashboard/submissions/{submission.id}"
    client.get(url)
    return client.post(
        f"{url}/transition", {"transition": name, "expected_state": expected, **fields}
    )


def confirm(client, submission, html: str, decision: str | None = None):
    """Press the confirmation page's button (or its "Change" button)."""
    fields = confirmation_fields(html)
    if decision:
        fields["decision"] = decision
    return client.post(f"/dashboard/submissions/{submission.id}/transition", fields)


def post_letter_preview(client, submission, name, expected, **fields):
    """The confirmation page's "Preview the letter" button."""
    return client.client.post(
        f"/dashboard/submissions/{submission.id}/transition/letter",
        data={
            "transition": name,
            "expected_state": expected,
            "csrf_token": client.csrf_token(),
            **fields,
        },
    )


def letter_preview(client, submission, name, expected, **fields) -> bytes:
    response = post_letter_preview(client, submission, name, expected, **fields)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    return response.data


def lines(text: str) -> list[str]:
    """Text as lines: SMTP carries line ends as CRLF."""
    return text.strip().splitlines()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def previewed_email(html: str) -> tuple[str, str]:
    subject = re.search(r'class="email-subject">(.*?)</dd>', html, re.S).group(1)
    body = re.search(r'<div class="email-text email-body" lang="[a-z]+">(.*?)</div>', html, re.S)
    return unescape(subject), unescape(body.group(1))


# --- shown before it is sent -------------------------------------------------------------


def test_a_decision_shows_its_email_and_letter_and_sends_exactly_that_once_confirmed(zone, smtp):
    app = zone
    reference = apply(app, "pl")
    deliver(app)  # the receipt, and the notices to staff
    sent_before = len(smtp.inbox.messages)
    submission = submission_of(app, reference)
    rita = signed_in(app, REVIEWER)
    assert move(rita, submission, "start_review", "submitted").status_code == 302  # sends nothing

    before_outbox, before_audit = outbox_count(app), audit_count(app)
    comment = "Zapraszamy na spotkanie 12 stycznia."
    response = move(rita, submission, "accept", "in_review", comment=comment)
    assert response.status_code == 200
    html = rita.last_html
    subject, body = previewed_email(html)
    # In the applicant's language (Polish), though the reviewer reads the dashboard in English.
    assert "Check before you confirm: Accept" in text_of(html)
    assert "Przyjęte" in subject and reference in subject
    assert body.startswith("Dzień dobry, Łucja Żółć") and comment in body
    assert "lucja@example.org" in html and "The decision letter (PDF)" in html
    letter = pdf_text(letter_preview(rita, submission, "accept", "in_review", comment=comment))
    assert reference in letter and comment in letter and "Przyjęte" in letter
    # Looking changed nothing: no message, no audit entry, no letter, the same state.
    assert (outbox_count(app), audit_count(app)) == (before_outbox, before_audit)
    assert submission_of(app, reference).state == "in_review"
    deliver(app)
    assert len(smtp.inbox.messages) == sent_before

    assert confirm(rita, submission, html).status_code == 302
    assert submission_of(app, reference).state == "accepted"
    deliver(app)
    [decision] = smtp.inbox.messages[sent_before:]
    assert decision["Subject"] == subject
    assert lines(body_of(decision)) == lines(body)
    [sent_letter] = [
        p for p in decision.iter_attachments() if p.get_content_type() == "application/pdf"
    ]
    assert pdf_text(sent_letter.get_content()) == letter


def test_change_goes_back_with_what_was_written_and_cancel_sends_nothing(zone):
    app = zone
    submission = submission_of(app, apply(app, "sv"))
    rita = signed_in(app, REVIEWER)
    move(rita, submission, "start_review", "submitted")
    count = outbox_count(app)
    move(rita, submission, "reject", "in_review", comment="Tyvärr, full.")
    response = confirm(rita, submission, rita.last_html, decision="change")
    assert response.status_code == 200
    assert ">Tyvärr, full.</textarea>" in unescape(rita.last_html)
    assert submission_of(app, submission.reference).state == "in_review"
    assert outbox_count(app) == count


def test_a_confirmation_of_something_else_than_what_would_now_be_sent_is_refused(zone):
    """An admin changes the email text between the look and the click: the new text is
    shown, and nothing is sent that the reviewer did not see."""
    app = zone
    submission = submission_of(app, apply(app, "en"))
    rita = signed_in(app, REVIEWER)
    move(rita, submission, "start_review", "submitted")
    move(rita, submission, "accept", "in_review")
    seen = rita.last_html
    from extensions import db
    from models import EmailTemplate

    with app.app_context():
        db.session.add(
            EmailTemplate(
                form_id=None,
                event="accepted",
                language="en",
                subject="Welcome aboard {reference}",
                body="Hello {name}, a new text.",
            )
        )
        db.session.commit()
    count = outbox_count(app)
    response = confirm(rita, submission, seen)
    assert response.status_code == 409
    text = text_of(rita.last_html)
    assert "What this step sends has changed since you checked it" in text
    assert previewed_email(rita.last_html)[1] == "Hello Łucja Żółć, a new text."
    assert submission_of(app, submission.reference).state == "in_review"
    assert outbox_count(app) == count
    assert confirm(rita, submission, rita.last_html).status_code == 302  # the new one, seen


def test_a_move_without_a_message_needs_no_confirmation(zone):
    app = zone
    submission = submission_of(app, apply(app, "en"))
    rita = signed_in(app, REVIEWER)
    assert move(rita, submission, "start_review", "submitted").status_code == 302
    assert submission_of(app, submission.reference).state == "in_review"


def test_without_the_state_seen_or_with_a_refusal_the_detail_page_says_why(zone):
    app = zone
    submission = submission_of(app, apply(app, "en"))
    rita = signed_in(app, REVIEWER)
    move(rita, submission, "start_review", "submitted")
    response = move(rita, submission, "request_completion", "in_review", comment=" ")
    assert response.status_code == 409
    assert "Write a comment: the applicant needs to know what to do." in text_of(rita.last_html)
    assert move(rita, submission, "accept", "submitted").status_code == 409
    assert "already changed by someone else" in text_of(rita.last_html)


def test_blind_reviewers_confirm_without_seeing_who_the_email_names(app, create_form):
    create_form(call(capacity=2, blind_review=True))
    staff(app, REVIEWER, "call_manager", "mailcall")
    submission = submission_of(app, apply(app, "en"))
    rita = signed_in(app, REVIEWER)
    move(rita, submission, "start_review", "submitted")
    assert move(rita, submission, "accept", "in_review").status_code == 200
    html = unescape(rita.last_html)
    assert "only administrators see them" in html
    assert "Łucja" not in html and "lucja@example.org" not in html
    assert post_letter_preview(rita, submission, "accept", "in_review").status_code == 404
    assert confirm(rita, submission, rita.last_html).status_code == 302


# --- waitlisting while places are free ---------------------------------------------------


def test_waitlisting_while_places_are_free_is_warned_about_on_the_confirmation(zone):
    app = zone
    first, second, third = (submission_of(app, apply(app, "en")) for _ in range(3))
    ada = signed_in(app, ADMIN)
    for submission in (first, second, third):
        move(ada, submission, "start_review", "submitted")
    move(ada, first, "waitlist", "in_review")
    assert "Warning: 2 of 2 places are still free" in text_of(ada.last_html)
    move(ada, first, "accept", "in_review")
    confirm(ada, first, ada.last_html)
    move(ada, second, "waitlist", "in_review")
    assert "Warning: 1 of 2 places is still free" in text_of(ada.last_html)
    move(ada, second, "accept", "in_review")
    confirm(ada, second, ada.last_html)
    move(ada, third, "waitlist", "in_review")
    assert "Warning" not in text_of(ada.last_html)  # the call is full: waiting is right


# --- reopening a decision ----------------------------------------------------------------


def test_only_an_admin_reopens_a_decision_with_a_reason(zone, smtp):
    app = zone
    submission = submission_of(app, apply(app, "pl"))
    ada, rita = signed_in(app, ADMIN), signed_in(app, REVIEWER)
    move(rita, submission, "start_review", "submitted")
    move(rita, submission, "reject", "in_review")
    confirm(rita, submission, rita.last_html)
    assert "Reopen the decision" not in text_of(
        rita.get(f"/dashboard/submissions/{submission.id}").get_data(as_text=True)
    )
    response = move(rita, submission, "reopen", "rejected", comment="I think so")
    assert response.status_code == 409
    assert "You are not allowed to do this." in text_of(rita.last_html)

    detail = text_of(ada.get(f"/dashboard/submissions/{submission.id}").get_data(as_text=True))
    assert "Reopen the decision" in detail and "Reason for reopening" in detail
    assert move(ada, submission, "reopen", "rejected", comment="  ").status_code == 409
    assert "Give the reason for reopening the decision." in text_of(ada.last_html)

    reason = "Ocena pominęła drugi załącznik."
    assert move(ada, submission, "reopen", "rejected", comment=reason).status_code == 200
    subject, body = previewed_email(ada.last_html)
    assert confirm(ada, submission, ada.last_html).status_code == 302
    assert submission_of(app, submission.reference).state == "in_review"
    from extensions import db
    from models import AuditEntry

    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        assert (entry.from_state, entry.to_state, entry.actor_type, entry.comment) == (
            "rejected",
            "in_review",
            "admin",
            reason,
        )
        assert entry.data["transition"] == "reopen"
    deliver(app)
    [told] = [m for m in smtp.inbox.messages if m["Subject"] == subject]
    assert "cofnięta" in subject and str(told["To"]) == "lucja@example.org"
    assert reason in body_of(told) and "W ocenie" in body_of(told)
    assert lines(body_of(told)) == lines(body)


def test_reopening_an_acceptance_frees_its_place_for_the_waiting_list(app, create_form, smtp):
    create_form(call(capacity=1))
    staff(app, ADMIN, "admin")
    first, second = (
        submission_of(app, apply(app, "en", email=f"{n}@example.org")) for n in ("ann", "bob")
    )
    ada = signed_in(app, ADMIN)
    for submission in (first, second):
        move(ada, submission, "start_review", "submitted")
    move(ada, first, "accept", "in_review")
    confirm(ada, first, ada.last_html)
    move(ada, second, "waitlist", "in_review")
    confirm(ada, second, ada.last_html)

    move(ada, first, "reopen", "accepted", comment="Accepted by mistake: the budget is missing.")
    html = text_of(ada.last_html)
    assert "Also sent because of this step" in html  # the freed place's promotion email
    assert second.reference in html
    confirm(ada, first, ada.last_html)
    states = {s.reference: submission_of(app, s.reference).state for s in (first, second)}
    assert states == {first.reference: "in_review", second.reference: "accepted"}
    from extensions import db
    from services.capacity import seats_taken
    from workflows.lookup import workflow_of

    with app.app_context():
        from models import Submission

        assert seats_taken(first.form_id, workflow_of(db.session.get(Submission, first.id))) == 1
    move(ada, first, "accept", "in_review")
    assert "All 1 places are taken." in text_of(ada.last_html)
    deliver(app)
    subjects = [m["Subject"] for m in smtp.inbox.wait_for(6)]
    assert any("reopened" in s and first.reference in s for s in subjects)
    assert any(second.reference in s and "Accepted" in s for s in subjects[-2:])


def test_every_reopen_in_the_shipped_workflows_is_sound_and_its_email_exists(app_context):
    """Each workflow declares where a reopened decision returns; the applicant's email
    exists in every installation language."""
    from mail.texts import default_text, default_texts
    from workflows.engine import get_workflow, known_workflows

    reopens = [
        (name, step)
        for name in sorted(known_workflows())
        for step in get_workflow(name).transitions
        if step.reopens
    ]
    assert {name for name, _ in reopens} >= {"application-review", "request-handling"}
    for name, step in reopens:
        workflow = get_workflow(name)
        assert all(workflow.is_final(s) for s in step.sources), name
        assert not workflow.is_final(step.target) and step.actors == ("admin",)
        assert "email:reopened" in step.effects
        for language in ("en", "pl", "sv", "de", "lt"):
            assert step.label.get(language), (name, language)
    english = default_text("reopened", "en")
    for language in ("pl", "sv", "de", "lt"):
        assert language in default_texts()["reopened"], language
        text = default_text("reopened", language)
        assert text.subject != english.subject and text.body != english.body
        assert "{comment}" in text.body and "{state}" in text.body


def test_a_reopen_must_leave_a_final_state_by_an_admin():
    from workflows.engine import WorkflowError, parse

    with pytest.raises(WorkflowError) as caught:
        parse(
            {
                "initial": "open",
                "states": {"open": {}, "done": {"final": True}},
                "transitions": [
                    {
                        "name": "r",
                        "from": ["open"],
                        "to": "done",
                        "by": ["reviewer"],
                        "reopens": True,
                    }
                ],
            },
            "bad.yaml",
        )
    message = str(caught.value)
    assert "'from' to list final states only" in message
    assert "'to' to be a state that is not final" in message
    assert "'by: [admin]' only" in message


# --- the offered place -------------------------------------------------------------------


def test_the_offered_place_page_puts_confirming_first(app, create_form):
    from tests.test_applicant import GROUP_PAGE, people
    from tests.test_applicant import apply as register
    from tests.test_applicant import confirm as take

    event = "event"  # two seats, first come first served
    create_form(
        base(event, GROUP_PAGE, capacity=2, workflow="event-registration", seats_field="people")
    )
    token_a, _a = register(app, event, people("A", "B"))
    token_b, _b = register(app, event, people("C"))
    client = FormClient(app.test_client())
    assert take(client, token_a, "cancel").status_code == 302
    html = client.get(f"/s/{token_b}").get_data(as_text=True)
    row = re.search(r'<div class="action-row">(.*?)</div>', html, re.S).group(1)
    actions = re.findall(r'<a class="button([^"]*)"[^>]*>([^<]+)</a>', row)
    labels = [label.strip() for _style, label in actions]
    assert labels[0] == "Confirm the offered place", labels
    assert "secondary" not in actions[0][0]  # the primary button
    assert all("secondary" in style for style, _label in actions[1:]), actions


def test_the_language_links_of_the_confirmation_page_lead_back_to_the_submission(zone):
    """The confirmation answers a POST: its language links GET the same address."""
    app = zone
    submission = submission_of(app, apply(app, "en"))
    rita = signed_in(app, REVIEWER)
    move(rita, submission, "start_review", "submitted")
    move(rita, submission, "accept", "in_review")
    link = re.search(r'href="([^"]*/transition\?lang=pl)"', rita.last_html)
    assert link, "no language link"
    response = rita.get(unescape(link.group(1)))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dashboard/submissions/{submission.id}?lang=pl")
    assert submission_of(app, submission.reference).state == "in_review"


def test_a_reopened_registration_waits_again_and_gets_a_free_seat_in_the_usual_way(
    app, create_form, smtp
):
    from tests.test_applicant import GROUP_PAGE, people
    from tests.test_applicant import apply as register

    create_form(
        base("event", GROUP_PAGE, capacity=2, workflow="event-registration", seats_field="people")
    )
    staff(app, ADMIN, "admin")
    _token, first = register(app, "event", people("A", email="a@example.org"))
    _token, second = register(app, "event", people("B", email="b@example.org"))
    from extensions import db
    from models import Submission

    with app.app_context():
        first, second = (db.session.get(Submission, i) for i in (first, second))
    ada = signed_in(app, ADMIN)
    move(ada, second, "cancel", "confirmed")
    confirm(ada, second, ada.last_html)
    assert submission_of(app, second.reference).state == "cancelled"
    deliver(app)
    sent_before = len(smtp.inbox.messages)

    move(ada, second, "reopen", "cancelled", comment="Cancelled by mistake on the phone.")
    text = text_of(ada.last_html)  # both emails, and where the move really ends
    assert "State after this step Place offered" in text
    assert text.count("Email to the applicant") == 2
    confirm(ada, second, ada.last_html)
    assert submission_of(app, second.reference).state == "offered"  # the free seat, offered
    from services.capacity import seats_taken
    from workflows.lookup import workflow_of

    with app.app_context():
        submission = db.session.get(Submission, second.id)
        assert seats_taken(submission.form_id, workflow_of(submission)) == 2
    deliver(app)
    subjects = [m["Subject"] for m in smtp.inbox.messages[sent_before:]]
    assert len(subjects) == 2, subjects
    assert "reopened" in subjects[0] and "a place is free" in subjects[1]


def test_a_confirmed_reopen_goes_through_when_the_clock_has_moved_on(app, create_form):
    """Confirming takes a while: the seat offered along with the reopen then has a later
    deadline than the preview showed. The reopen email the admin checked is unchanged,
    so the move is taken; the offer is written at the moment it is made."""
    from datetime import timedelta

    from extensions import db
    from models import Submission
    from models.types import utcnow
    from services.transitions import Actor, preview, transition
    from tests.test_applicant import GROUP_PAGE, people
    from tests.test_applicant import apply as register

    create_form(
        base("event", GROUP_PAGE, capacity=2, workflow="event-registration", seats_field="people")
    )
    register(app, "event", people("A", email="a@example.org"))
    _token, second = register(app, "event", people("B", email="b@example.org"))
    admin = Actor("admin", None)
    reason = "Cancelled by mistake on the phone."
    with app.app_context():
        transition(second, "cancel", admin, expected_state="confirmed")
        seen = preview(second, "reopen", admin, comment=reason, expected_state="cancelled")
        assert [m.kind for m in seen.to_applicant] == ["reopened", "offered"]
        later = utcnow() + timedelta(minutes=7)
        transition(
            second,
            "reopen",
            admin,
            comment=reason,
            expected_state="cancelled",
            now=later,
            confirmed=seen.digest(),
        )
        assert db.session.get(Submission, second).state == "offered"
