"""The Celery tasks: thin wrappers over the same functions the embedded worker runs."""

from __future__ import annotations

from celery import Celery


def register(celery: Celery) -> None:
    @celery.task(name="formdesk.make_documents")
    def make_documents(submission_id: int) -> None:
        from documents.store import make_copies
        from extensions import db
        from jobs.dispatch import send_now
        from models import Submission

        submission = db.session.get(Submission, submission_id)
        if submission is None:
            return
        make_copies(submission)  # releases the messages that waited for these files
        for message_id in _due_messages(submission_id):
            send_now("formdesk.deliver_message", message_id=message_id)

    @celery.task(name="formdesk.make_letters")
    def make_letters(audit_entry_id: int) -> None:
        from documents.letters import make_letters_for
        from jobs.dispatch import send_now

        submission_id = make_letters_for(audit_entry_id)
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
