"""Background duties, one item at a time, on SQLite and PostgreSQL (issue 14, findings 1 and 8).

A failed item waits for its retry and "Try again" starts it over; the catch-up makes every
kind of document that is missing; an email waiting for its copies waits only until its
deadline. A stored poison value in each table a duty reads: tests/test_faults.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from tests.conftest_mail import deliver
from tests.test_documents import answers, apply, documents_of, zone_call
from tests.test_review_detail import signed_in, staff

# A choice answer of a shape no form writes (an older version, a hand edit): rendering the
# copy raises on it.
POISON = {"value": "cafe"}


@pytest.fixture
def quick_retries(app):
    """Retries due at once, three attempts: a poisoned item fails within a test."""
    app.config.update(FORMDESK_DUTY_RETRY_SECONDS=0, FORMDESK_DUTY_MAX_ATTEMPTS=3)
    app.config.update(FORMDESK_MAIL_RETRY_SECONDS=0, FORMDESK_MAIL_MAX_ATTEMPTS=3)
    yield
    for name in ("FORMDESK_DUTY_RETRY_SECONDS", "FORMDESK_DUTY_MAX_ATTEMPTS"):
        app.config.pop(name)
    app.config.update(FORMDESK_MAIL_RETRY_SECONDS=30.0, FORMDESK_MAIL_MAX_ATTEMPTS=12)


def two_applications(app, create_form) -> list[tuple[str, int, str]]:
    create_form(zone_call())
    return [apply(app, "zone", answers(email=f"branch{n}@example.org")) for n in (1, 2)]


def poison_answer(app, submission_id: int) -> None:
    """As if stored before input was checked at the edge."""
    from extensions import db
    from models import Answer

    with app.app_context():
        answer = db.session.scalar(
            select(Answer).where(Answer.submission_id == submission_id, Answer.field == "format")
        )
        answer.value = POISON
        db.session.commit()


def failures(app) -> list[tuple[str, int, str, int]]:
    from extensions import db
    from models import DutyFailure

    with app.app_context():
        rows = db.session.scalars(select(DutyFailure).order_by(DutyFailure.id))
        return [(r.duty, r.item_id, r.status, r.attempts) for r in rows]


def outbox(app) -> dict[str, tuple[str, int, str | None]]:
    """recipient → (status, attempts, last error)"""
    from extensions import db
    from models import OutboxMessage

    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return {m.recipient: (m.status, m.attempts, m.last_error) for m in rows}


def healthz_failed(app) -> dict:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200  # failed items do not take the instance out
    return response.get_json()["failed"]


def admin_page(app, path: str) -> str:
    client = signed_in(app, staff(app, "ada@example.org", "admin"))
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- copies --------------------------------------------------------------------------------


def test_a_failed_item_waits_for_its_retry_then_try_again_starts_over(app, create_form):
    from documents.store import make_missing

    [(_, poisoned, _), _] = two_applications(app, create_form)
    poison_answer(app, poisoned)
    with app.app_context():
        assert make_missing() == 2
        assert make_missing() == 0  # backoff: not taken again before its next attempt
    [(duty, item, status, attempts)] = failures(app)
    assert (duty, item, status, attempts) == ("copies", poisoned, "retrying", 1)

    client = signed_in(app, staff(app, "ada@example.org", "admin"))
    assert f"/dashboard/submissions/{poisoned}" in client.get(
        "/dashboard/admin/background"
    ).get_data(as_text=True)
    with app.app_context():
        from extensions import db
        from models import DutyFailure

        failure_id = db.session.scalar(select(DutyFailure.id))
    client.post(f"/dashboard/admin/background/{failure_id}/retry", {})
    assert failures(app) == []
    with app.app_context():
        assert make_missing() == 1  # taken again at once


def test_a_docx_missing_beside_its_pdf_is_made_by_the_catch_up(app, create_form, smtp):
    """A crash or an outage between the two copies (finding 8)."""
    from extensions import db
    from models import Document

    [(_, submission_id, reference), _] = two_applications(app, create_form)
    deliver(app)
    with app.app_context():
        db.session.execute(
            delete(Document).where(
                Document.submission_id == submission_id, Document.kind == "copy_docx"
            )
        )
        db.session.commit()

    deliver(app)

    assert sorted(kind for kind, _, _ in documents_of(app, submission_id)) == [
        "copy_docx",
        "copy_pdf",
    ]


# --- decision letters ----------------------------------------------------------------------


def test_a_receipt_waits_for_its_copies_only_until_its_deadline(app, create_form, smtp):
    """Finding 8: copies that are never made no longer hold the receipt forever."""
    from extensions import db
    from mail.delivery import deliver_due
    from models import OutboxMessage
    from models.types import utcnow

    [(_, submission_id, reference), _] = two_applications(app, create_form)
    with app.app_context():
        assert deliver_due().retrying  # no copies yet: it waits
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.submission_id == submission_id)
        )
        message.created_at = utcnow() - timedelta(hours=2)
        message.next_attempt_at = utcnow()
        db.session.commit()
        deliver_due()

    status, _, note = outbox(app)["branch1@example.org"]
    assert status == "sent" and "copy_pdf" in note and "copy_docx" in note
    [receipt] = smtp.inbox.wait_for(1)
    assert reference in receipt["Subject"] and not list(receipt.iter_attachments())
    assert "not ready in time and are not attached" in receipt.get_body(("plain",)).get_content()
    assert "not ready in time and are not attached" in receipt.get_body(("html",)).get_content()
    assert outbox(app)["branch2@example.org"][0] == "awaiting_documents"  # still in time
    assert "Sent without copy_pdf" in admin_page(app, "/dashboard/admin/outbox")


def test_a_claim_lasts_from_when_it_is_made(app, create_form):
    """After the outage one email was delivered twice: a claim timed from the start of a
    slow batch had already run out when it was made, so a second sender took it too."""
    from mail.delivery import _claim
    from models.types import utcnow

    two_applications(app, create_form)
    with app.app_context():
        from extensions import db
        from models import OutboxMessage

        message = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
        batch_started = utcnow() - timedelta(hours=1)
        message.next_attempt_at = batch_started - timedelta(seconds=1)
        db.session.commit()
        assert _claim(message.id, batch_started)
        assert not _claim(message.id, utcnow())  # another sender, now


# --- offers --------------------------------------------------------------------------------
