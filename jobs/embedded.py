"""The embedded background worker: one thread per serving process that runs the duties
(make missing documents, deliver due email) whenever a commit wrote work for it
(jobs.dispatch wakes it) and every few seconds for retries. Duties find their work in the
database, so nothing is lost when a process stops: the next run, here or in another
process, picks it up."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from flask import Flask

Duty = Callable[[], object]
_duties: list[tuple[str, Duty]] = []
_wake = threading.Event()
_started_in: int | None = None
_start_lock = threading.Lock()


def add_duty(name: str, duty: Duty) -> None:
    if name not in {n for n, _ in _duties}:
        _duties.append((name, duty))


def run_duties_once(app: Flask) -> None:
    for name, duty in list(_duties):
        try:
            with app.app_context():
                duty()
        except Exception:  # one failing duty must not stop the others or the thread
            app.logger.exception("background duty %s failed", name)


def ensure_started(app: Flask) -> None:
    """Start this process's worker once (a forked gunicorn worker starts its own)."""
    global _started_in
    if _started_in == os.getpid():
        return
    with _start_lock:
        if _started_in != os.getpid():
            _start(app)
            _started_in = os.getpid()


def _start(app: Flask) -> threading.Thread:
    def loop() -> None:
        interval = app.config["FORMDESK_WORKER_POLL_SECONDS"]
        while True:
            _wake.wait(interval)
            _wake.clear()
            run_duties_once(app)

    thread = threading.Thread(target=loop, name="formdesk-worker", daemon=True)
    thread.start()
    return thread


def wake() -> None:
    _wake.set()
