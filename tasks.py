"""The Celery tasks: thin wrappers over the same functions the embedded worker runs. Part of
the composition root (beside app.py): create_app registers them when a broker is set."""

from __future__ import annotations

from celery import Celery
from sqlalchemy import select

from documents.letters import LETTERS_DUTY, make_letters_for, make_missing_letters, submission_of
from documents.store import COPIES_DUTY, make_copies_of, make_missing
from extensions import db
from jobs.dispatch import Task, send_now
from jobs.isolation import run_each
from mail import delivery
from models import OutboxMessage
from models.outbox import WAITING
from services import notifications, review_deadlines, transitions


def register(celery: Celery) -> None:
    # The per-item tasks go through jobs.isolation like the sweep: a failing item is
    # recorded (retried with backoff by the sweep, then marked failed), never re-raised
    # into Celery, whose late acknowledgement would hand it out again and again.
    @celery.task(name=Task.MAKE_DOCUMENTS.value)
    def make_documents(submission_id: int) -> None:
        run_each(COPIES_DUTY, [submission_id], make_copies_of, submission_of=lambda i: i)
        for message_id in _due_messages(submission_id):  # released by the copies just made
            send_now(Task.DELIVER_MESSAGE, message_id=message_id)

    @celery.task(name=Task.MAKE_LETTERS.value)
    def make_letters(audit_entry_id: int) -> None:
        run_each(LETTERS_DUTY, [audit_entry_id], make_letters_for, submission_of=submission_of)
        submission_id = submission_of(audit_entry_id)
        if submission_id is not None:  # the decision email carries the letter
            for message_id in _due_messages(submission_id):
                send_now(Task.DELIVER_MESSAGE, message_id=message_id)

    @celery.task(name=Task.DELIVER_MESSAGE.value)
    def deliver_message(message_id: int) -> None:
        delivery.deliver_message(message_id)

    @celery.task(name=Task.DELIVER_DUE.value)
    def deliver_due() -> None:
        delivery.deliver_due(limit=1000)

    @celery.task(name=Task.SWEEP.value)
    def sweep() -> None:
        while make_missing():
            pass
        while make_missing_letters():
            pass

    @celery.task(name=Task.EXPIRE_OFFERS.value)
    def expire_offers() -> None:
        transitions.expire_offers()

    @celery.task(name=Task.REVIEW_REMINDERS.value)
    def review_reminders() -> None:
        review_deadlines.send_review_reminders()

    @celery.task(name=Task.SEND_DIGESTS.value)
    def send_digests() -> None:
        notifications.send_digests()


def _due_messages(submission_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.submission_id == submission_id,
                OutboxMessage.status.in_(WAITING),
            )
        )
    )
