"""The embedded background worker: in each serving process, one thread per lane — documents
(copies, decision letters) and mail — that runs its lane's duties whenever a commit wrote
work for it (jobs.dispatch wakes them) and every few seconds for retries. Duties find their
work in the database, so nothing is lost when a process stops: the next run, here or in
another process, picks it up.

Two lanes, like Celery's two queues: a slow SMTP server holds up only the mail thread. With
one thread for both, documents waited behind every email, piled up, and were then made in
bursts that took the CPU from the requests of the same process (bench/NOTES.md). A receipt
whose copies are not made yet waits for them (outbox status `awaiting_documents`) until its
deadline; making them releases it, and the documents thread then wakes the mail thread.
Each duty takes its items one at a time (jobs.isolation): a failing item is retried, then
marked failed, and never stops the rest of its duty."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from flask import Flask

Duty = Callable[[], object]
LANES = ("documents", "mail")
_duties: dict[str, list[tuple[str, Duty]]] = {lane: [] for lane in LANES}
_wake = {lane: threading.Event() for lane in LANES}
_started_in: int | None = None
_start_lock = threading.Lock()


def add_duty(name: str, duty: Duty, lane: str) -> None:
    if name not in {n for n, _ in _duties[lane]}:
        _duties[lane].append((name, duty))


def _run(app: Flask, lane: str) -> bool:
    """Runs the lane's duties; True when any of them did something (returned a count > 0)."""
    did = False
    for name, duty in list(_duties[lane]):
        try:
            with app.app_context():
                did = bool(duty()) or did
        except Exception:  # one failing duty must not stop the others or the thread
            app.logger.exception("background duty %s failed", name)
    return did


def ensure_started(app: Flask) -> None:
    """Start this process's threads once (a forked gunicorn worker starts its own)."""
    global _started_in
    if _started_in == os.getpid():
        return
    with _start_lock:
        if _started_in != os.getpid():
            for lane in LANES:
                _start(app, lane)
            _started_in = os.getpid()


def _start(app: Flask, lane: str) -> threading.Thread:
    def loop() -> None:
        interval = app.config["FORMDESK_WORKER_POLL_SECONDS"]
        while True:
            _wake[lane].wait(interval)
            _wake[lane].clear()
            if _run(app, lane) and lane == "documents":
                _wake["mail"].set()  # copies just made may have released waiting email

    thread = threading.Thread(target=loop, name=f"formdesk-{lane}", daemon=True)
    thread.start()
    return thread


def wake() -> None:
    for event in _wake.values():
        event.set()
