"""Where the parts are connected, called once by create_app (part of the composition root,
beside app.py). Nothing registers itself on import: every hook, duty and task is named here.

To follow `email:accepted` from a workflow file (workflows/definitions/*.yaml): the
transition service (services.transitions) hands each effect to workflows.effects, which
runs the handler connected below for the part before the colon — `email` is
services.notifications.transition_email, which writes the outbox row for event `accepted`;
mail.delivery sends it after the commit."""

from __future__ import annotations

from flask import Flask

import tasks
from documents import letters, store
from documents.attachments import document_file
from forms.published import spec_for
from jobs import embedded
from jobs.celery_app import init_celery
from mail import attachments, delivery
from models import search_texts
from services import notifications, review_deadlines, transitions
from services.blind_review import identifying_fields
from workflows import effects


def connect(app: Flask) -> None:
    # Submissions keep their search texts current; the blind one leaves out what identifies.
    search_texts.install(_search_rules)
    _connect_workflow_effects()
    _connect_attachments()
    # Documents just made release the messages that wait for them (a receipt, a decision).
    store.documents_made.connect(delivery.release_waiting)
    _connect_background_work(app)


def _search_rules(version) -> search_texts.SearchRules:
    """Blind review's identifying answers, and each answer's strings as its field type
    says (published versions never change)."""
    spec = spec_for(version)
    questions = {question.name: question for question in spec.inputs}

    def strings(name: str, value) -> list:
        question = questions.get(name)
        return [value] if question is None else list(question.kind.search_strings(value, question))

    return search_texts.SearchRules(identifying_fields(spec), strings)


def _connect_workflow_effects() -> None:
    """`<kind>:<target>` effects of a workflow's transitions, by kind."""
    effects.register("email", notifications.transition_email)
    effects.register("document", letters.request_letter)


def _connect_attachments() -> None:
    """What an outbox row's attachments name (`kind`), made into files at delivery."""
    attachments.register("ics", attachments.calendar_invitation)
    attachments.register("document", document_file)
    attachments.register("letter", letters.letter_file)


def _connect_background_work(app: Flask) -> None:
    """The embedded worker's duties by lane (copies before decision letters; mail on its own
    lane, so slow SMTP never holds up documents), or Celery's tasks when a broker is set."""
    embedded.add_duty("make documents", store.make_missing, lane="documents")
    embedded.add_duty("make decision letters", letters.make_missing_letters, lane="documents")
    embedded.add_duty("deliver email", delivery.deliver_due, lane="mail")
    if app.config["FORMDESK_BROKER_URL"]:
        tasks.register(init_celery(app))  # Celery workers do the background work
    elif app.config["FORMDESK_EMBEDDED_WORKER"] and not app.testing:
        # Offers run out on the clock: Celery beat does it where there is a broker, here
        # the documents thread (its emails then wake the mail thread).
        embedded.add_duty("expire offers", transitions.expire_offers, lane="documents")
        # Reminders before a call's review deadline; once per reviewer and call (outbox key).
        embedded.add_duty("review reminders", review_deadlines.send_review_reminders, lane="mail")
        # Started by the first request of each serving process: after gunicorn forks, and
        # never in CLI commands or in the debug reloader's watcher.
        app.before_request(lambda: embedded.ensure_started(app))
