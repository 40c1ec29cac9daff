"""Work requested inside a transaction is handed on only after it commits: to Celery when a
broker is configured, else to this process's embedded worker. A rolled-back transaction
hands on nothing, and a task never runs before the rows it needs exist."""

from __future__ import annotations

from enum import StrEnum

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from extensions import db


class Task(StrEnum):
    """Background work by name: the Celery task's name (tasks.py defines each), written
    once here and used wherever work is handed on."""

    DELIVER_MESSAGE = "formdesk.deliver_message"
    DELIVER_DUE = "formdesk.deliver_due"
    SEND_DIGESTS = "formdesk.send_digests"
    MAKE_DOCUMENTS = "formdesk.make_documents"
    MAKE_LETTERS = "formdesk.make_letters"
    SWEEP = "formdesk.sweep"
    EXPIRE_OFFERS = "formdesk.expire_offers"
    REVIEW_REMINDERS = "formdesk.review_reminders"


# Task → Celery queue: slow SMTP must not delay documents.
QUEUES = {
    Task.DELIVER_MESSAGE: "mail",
    Task.DELIVER_DUE: "mail",
    Task.SEND_DIGESTS: "mail",
    Task.MAKE_DOCUMENTS: "documents",
    Task.MAKE_LETTERS: "documents",
    Task.SWEEP: "documents",
    Task.EXPIRE_OFFERS: "documents",
    Task.REVIEW_REMINDERS: "mail",
}


def after_commit(task: Task, **kwargs) -> None:
    db.session().info.setdefault("formdesk_jobs", []).append((task, kwargs))


def pending(task: Task) -> list[dict]:
    """The work of `task` this transaction has asked for so far (e.g. to show what a
    transaction would cause before rolling it back)."""
    return [kwargs for name, kwargs in db.session().info.get("formdesk_jobs", []) if name == task]


def send_now(task: Task, **kwargs) -> None:
    _hand_on([(task, kwargs)])


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    jobs = session.info.pop("formdesk_jobs", None)
    if jobs:
        _hand_on(jobs)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("formdesk_jobs", None)


def _hand_on(jobs: list[tuple[Task, dict]]) -> None:
    celery = current_app.extensions.get("celery") if has_app_context() else None
    if celery is None:
        from jobs import embedded

        embedded.wake()  # its duties find the work in the database
        return
    for task, kwargs in jobs:
        celery.send_task(str(task), kwargs=kwargs, queue=QUEUES[task])
