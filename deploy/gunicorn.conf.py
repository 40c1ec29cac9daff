"""gunicorn settings for Formdesk:  gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'

Every value can be overridden by the environment variable named beside it."""

import multiprocessing
import os

bind = os.environ.get("FORMDESK_BIND", "127.0.0.1:8000")
# Threads let one worker wait on the database without blocking others; exports of many
# rows stream for longer than a sync worker's default 30 s limit allows.
worker_class = "gthread"
workers = int(os.environ.get("FORMDESK_WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("FORMDESK_WEB_THREADS", 4))
timeout = int(os.environ.get("FORMDESK_WEB_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
# Replace workers now and then, so a slow leak in any library cannot grow without end.
max_requests = 2000
max_requests_jitter = 200
# The master imports and builds the app once (migrations, form definitions) and each worker
# is a fork of it: a worker replaced after max_requests starts at once instead of spending a
# second of CPU importing and building everything again (bench/NOTES.md). post_fork below
# keeps the workers off the master's database connections.
preload_app = True
# One line per request comes from the app itself (FLASK_FORMDESK_ACCESS_LOG), with the
# request id and applicants' link tokens masked; gunicorn's own access log would show them.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORMDESK_FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    """A forked worker must not share the master's pooled database connections (two
    processes on one socket corrupt each other's conversation): drop them, without closing
    what the master still holds, and let the worker open its own."""
    app = server.app.wsgi()
    database = app.extensions.get("sqlalchemy")  # Flask-SQLAlchemy, whichever app this is
    if database is not None:
        with app.app_context():
            for engine in database.engines.values():
                engine.dispose(close=False)
