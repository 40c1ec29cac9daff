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
# One line per request comes from the app itself (FLASK_FORMDESK_ACCESS_LOG), with the
# request id and applicants' link tokens masked; gunicorn's own access log would show them.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORMDESK_FORWARDED_ALLOW_IPS", "127.0.0.1")
