"""Celery for deployments on several machines (Flask's "Background Tasks with Celery"
pattern): tasks run inside the Flask app context, acknowledged only when done, so a worker
killed mid-task leaves its task to another worker; the tasks are idempotent (claims for
email, unique documents), so running one twice changes nothing."""

from __future__ import annotations

from celery import Celery
from celery import Task as CeleryTask
from celery.schedules import crontab
from flask import Flask

from jobs.dispatch import QUEUES, Task


def init_celery(app: Flask) -> Celery:
    class FlaskTask(CeleryTask):
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
        task_routes={str(task): {"queue": queue} for task, queue in QUEUES.items()},
        task_default_queue="documents",
        beat_schedule={
            # Picks up anything a lost task left: missing documents, due retries.
            "sweep": {"task": Task.SWEEP.value, "schedule": 30.0},
            "retry-mail": {"task": Task.DELIVER_DUE.value, "schedule": 30.0},
            "expire-offers": {"task": Task.EXPIRE_OFFERS.value, "schedule": 60.0},
            "review-reminders": {"task": Task.REVIEW_REMINDERS.value, "schedule": 3600.0},
            "reviewer-digest": {
                "task": Task.SEND_DIGESTS.value,
                "schedule": crontab(hour=7, minute=0),
            },
        },
        timezone="UTC",
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery  # create_app registers the tasks (tasks.py)
