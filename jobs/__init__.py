"""Work done off the request path, the mechanism only: hand-over after commit
(jobs.dispatch), the embedded runner (jobs.embedded, the default: background threads in
each serving process, one for documents, one for mail, woken after commits), one item at a
time (jobs.isolation) and the Celery app (jobs.celery_app). What runs is connected by
create_app (wiring.py, tasks.py)."""
