"""The Celery tasks: thin wrappers over the same functions the embedded worker runs."""

from __future__ import annotations

from celery import Celery


def register(celery: Celery) -> None:
    # The per-item tasks go through jobs.isolation like the sweep: a failing item is
    # recorded (retried with backoff by the sweep, then marked failed), never re-raised
    # into Celery, whose late acknowledgement would hand it out again and again.
    @celery.task(name="formdesk.make_documents")
    def make_documents(submission_id: int) -> None:
        from documents.store import COPIES_DUTY, make_copies_of
        from jobs.dispatch import send_now
        from jobs.isolation import run_each

        run_each(COPIES_DUTY, [submission_id], make_copies_of, submission_of=lambda i: i)
        for message_id in _due_messages(submission_id):  # released by the copies just made
            send_now("formdesk.deliver_message", message_id=message_id)

    @celery.task(name="formdesk.make_letters")
    def make_letters(audit_entry_id: int) -> None:
        from documents.letters import LETTERS_DUTY, make_letters_for, submission_of
        from jobs.dispatch import send_now
        from jobs.isolation import run_each

        run_each(LETTERS_DUTY, [audit_entry_id], make_letters_for, submission_of=submission_of)
        submission_id = submission_of(audit_entry_id)
        if submission_id is not None:  # the decision email carries the letter
            for message_id in _due_messages(submission_id):
                send_now("formdesk.deliver_message", message_id=message_id)

    @celery.task(name="formdesk.deliver_message")
    def deliver_message(message_id: int) -> None:
        from mail.delivery import deliver_message as deliver

        deliver(message_id)

    @celery.task(name="formdesk.deliver_due")
    def deliver_due() -> None:
        from mail.delivery import deliver_due as deliver

        deliver(limit=1000)

    @celery.task(name="formdesk.sweep")
    def sweep() -> None:
        from documents.letters import make_missing_letters
        from documents.store import make_missing

        while make_missing():
            pass
        while make_missing_letters():
            pass

    @celery.task(name="formdesk.expire_offers")
    def expire_offers() -> None:
        from services.transitions import expire_offers as expire

        expire()

    @celery.task(name="formdesk.send_digests")
    def send_digests() -> None:
        from mail.events import send_digests as send

        send()


def _due_messages(submission_id: int) -> list[int]:
    from sqlalchemy import select

    from extensions import db
    from models import OutboxMessage

    return list(
        db.session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.submission_id == submission_id,
                OutboxMessage.status.in_(("queued", "awaiting_retry")),
            )
        )
    )
