"""Work requested inside a transaction is handed on only after it commits: to Celery when a
broker is configured, else to this process's embedded worker. A rolled-back transaction
hands on nothing, and a task never runs before the rows it needs exist."""

from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from extensions import db

# Task name → Celery queue: slow SMTP must not delay documents.
QUEUES = {
    "formdesk.deliver_message": "mail",
    "formdesk.deliver_due": "mail",
    "formdesk.send_digests": "mail",
    "formdesk.make_documents": "documents",
    "formdesk.make_letters": "documents",
    "formdesk.sweep": "documents",
    "formdesk.expire_offers": "documents",
}


def after_commit(task: str, **kwargs) -> None:
    db.session().info.setdefault("formdesk_jobs", []).append((task, kwargs))


def pending(task: str) -> list[dict]:
    """The work of `task` this transaction has asked for so far (e.g. to show what a
    transaction would cause before rolling it back)."""
    return [kwargs for name, kwargs in db.session().info.get("formdesk_jobs", []) if name == task]


def send_now(task: str, **kwargs) -> None:
    _hand_on([(task, kwargs)])


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    jobs = session.info.pop("formdesk_jobs", None)
    if jobs:
        _hand_on(jobs)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("formdesk_jobs", None)


def _hand_on(jobs: list[tuple[str, dict]]) -> None:
    celery = current_app.extensions.get("celery") if has_app_context() else None
    if celery is None:
        from jobs import embedded

        embedded.wake()  # its duties find the work in the database
        return
    for task, kwargs in jobs:
        celery.send_task(task, kwargs=kwargs, queue=QUEUES.get(task, "documents"))
