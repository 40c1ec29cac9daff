"""Celery for deployments on several machines (Flask's "Background Tasks with Celery"
pattern): tasks run inside the Flask app context, acknowledged only when done, so a worker
killed mid-task leaves its task to another worker; the tasks are idempotent (claims for
email, unique documents), so running one twice changes nothing."""

from __future__ import annotations

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask

from jobs.dispatch import QUEUES


def init_celery(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    broker = app.config["FORMDESK_BROKER_URL"]
    celery.conf.update(
        broker_url=broker,
        task_ignore_result=True,
        task_acks_late=True,  # a killed worker's task is given to another
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # How long Redis waits before handing an unacknowledged task to another worker.
        broker_transport_options={
            "visibility_timeout": app.config["FORMDESK_BROKER_VISIBILITY_SECONDS"]
        },
        task_routes={name: {"queue": queue} for name, queue in QUEUES.items()},
        task_default_queue="documents",
        beat_schedule={
            # Picks up anything a lost task left: missing documents, due retries.
            "sweep": {"task": "formdesk.sweep", "schedule": 30.0},
            "retry-mail": {"task": "formdesk.deliver_due", "schedule": 30.0},
            "expire-offers": {"task": "formdesk.expire_offers", "schedule": 60.0},
            "reviewer-digest": {
                "task": "formdesk.send_digests",
                "schedule": crontab(hour=7, minute=0),
            },
        },
        timezone="UTC",
    )
    celery.set_default()
    app.extensions["celery"] = celery
    from jobs import tasks

    tasks.register(celery)
    return celery
