"""Real Celery worker processes with the real Redis broker: they make the documents and
deliver the receipts to the test SMTP server; a worker killed mid-job loses nothing and
doubles nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.browser import ROOT, clean_environment
from tests.conftest import need
from tests.conftest_mail import SmtpServer
from tests.test_mail import apply, call

REDIS = "127.0.0.1", 6379


def redis_is_up() -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(REDIS) == 0


@pytest.fixture
def broker_url():
    need(redis_is_up(), "Redis at 127.0.0.1:6379")
    import redis

    url = f"redis://{REDIS[0]}:{REDIS[1]}/{os.getpid() % 15 + 1}"  # one per test process
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


class Worker:
    def __init__(self, env: dict, log: Path):
        self.env, self.log, self.process = env, log, None

    def start(self) -> Worker:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker",
            "worker",
            "-Q",
            "documents,mail",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ]
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 (our own command line)
                command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """SIGKILL the whole worker (parent and pool child), as a crashed machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def queued(app, database_url, broker_url, tmp_path):
    """The web side with a broker (enqueues only) and a factory of worker processes."""
    from app import create_app

    smtp = SmtpServer().start()
    settings = {
        "SECRET_KEY": app.config["SECRET_KEY"],
        "FORMDESK_PUBLIC_URL": "http://formdesk.test",
        "FORMDESK_UPLOAD_DIR": app.config["FORMDESK_UPLOAD_DIR"],
        "FORMDESK_BROKER_URL": broker_url,
        "FORMDESK_BROKER_VISIBILITY_SECONDS": 4,
        "FORMDESK_MAIL_CLAIM_SECONDS": 2,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_DEFAULT_SENDER": "calls@formdesk.example.org",
    }
    web = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "FORMDESK_LOAD_FORMS_ON_START": False,
            "SERVER_NAME": "formdesk.test",
            # Robots' checks off, as in tests/conftest.py (tested in tests/test_security.py).
            "FORMDESK_MIN_FILL_SECONDS": 0,
            "FORMDESK_DUPLICATE_WINDOW_HOURS": 0,
            "FORMDESK_PAGE_LIMIT": "100000 per minute",
            "FORMDESK_SUBMIT_LIMIT": "100000 per minute",
            **settings,
        }
    )
    env = clean_environment(
        DATABASE_URL=database_url,
        FORMDESK_INSTANCE_PATH=str(tmp_path),
        FLASK_FORMDESK_LOAD_FORMS_ON_START="false",
    )
    for key, value in settings.items():
        env[f"FLASK_{key}"] = str(value)
    workers: list[Worker] = []

    def start_worker() -> Worker:
        worker = Worker(env, tmp_path / "worker.log").start()
        workers.append(worker)
        return worker

    yield web, smtp, start_worker, tmp_path / "worker.log"
    for worker in workers:
        worker.stop()
    smtp.stop()


def wait_until(condition, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise AssertionError(f"not within {timeout}s; worker log:\n{tail}")


def rows(app, model):
    with app.app_context():
        return model.query.all()


def test_a_celery_worker_makes_documents_and_delivers_the_receipt(app, create_form, queued):
    web, smtp, start_worker, log = queued
    create_form(call())
    reference = apply(web, "pl")
    from models import Document, OutboxMessage

    assert [m.status for m in rows(app, OutboxMessage)] == ["queued"]  # the web only enqueued
    start_worker()
    wait_until(lambda: len(smtp.inbox.messages) == 1, 90, log)
    [message] = smtp.inbox.messages
    names = sorted(part.get_filename() for part in message.iter_attachments())
    assert names == [f"{reference}.docx", f"{reference}.pdf"]
    assert sorted(d.kind for d in rows(app, Document)) == ["copy_docx", "copy_pdf"]


def test_a_worker_killed_mid_job_loses_and_doubles_nothing(app, create_form, queued):
    web, smtp, start_worker, log = queued
    create_form(call())
    for index in range(4):
        apply(web, email=f"person{index}@example.org")
    from models import Document, OutboxMessage

    smtp.inbox.greeting_delay = 30  # the worker will hang inside its first SMTP conversation
    worker = start_worker()
    wait_until(lambda: any(m.status == "sending" for m in rows(app, OutboxMessage)), 90, log)
    worker.kill()  # mid-job: a message claimed, nothing acknowledged
    smtp.inbox.greeting_delay = 0
    start_worker()
    wait_until(
        lambda: len(smtp.inbox.messages) >= 4
        and all(m.status == "sent" for m in rows(app, OutboxMessage)),
        120,
        log,
    )
    time.sleep(3)  # anything sent twice would arrive now
    recipients = sorted(str(m["To"]) for m in smtp.inbox.messages)
    assert recipients == [f"person{i}@example.org" for i in range(4)]
    documents = [(d.submission_id, d.kind) for d in rows(app, Document)]
    assert len(documents) == len(set(documents)) == 8


def receipts_by_recipient(smtp) -> dict[str, list]:
    found: dict[str, list] = {}
    for message in smtp.inbox.messages:
        found.setdefault(str(message["To"]), []).append(message)
    return found


def test_a_worker_killed_mid_documents_job_loses_nothing(app, create_form, queued):
    """Killed while it makes copies: some are made, the rest wait in tasks the worker had
    taken and not acknowledged (often a submission's PDF is made and its DOCX not). The next
    worker makes what is missing, once, and every receipt goes out with both copies. Enough
    applicants that the copies take seconds: the kill lands while the work goes on, however
    fast the machine (waiting for an odd count missed it when 12 copies took a second)."""
    from models import Document, OutboxMessage
    from tests.faults import Tally

    web, smtp, start_worker, log = queued
    create_form(call())
    applicants = 24
    for index in range(applicants):
        apply(web, email=f"person{index}@example.org")
    worker = start_worker()
    wait_until(lambda: 0 < len(rows(app, Document)) < applicants, 120, log)
    made_when_killed = len(rows(app, Document))
    worker.kill()
    start_worker()
    wait_until(
        lambda: len(rows(app, Document)) == 2 * applicants
        and all(m.status == "sent" for m in rows(app, OutboxMessage)),
        180,
        log,
    )
    time.sleep(3)  # anything made or sent twice would show now
    documents = [(d.submission_id, d.kind) for d in rows(app, Document)]
    assert len(documents) == len(set(documents)) == 2 * applicants
    received = receipts_by_recipient(smtp)
    assert sorted(received) == sorted(f"person{i}@example.org" for i in range(applicants))
    duplicates = len(smtp.inbox.messages) - applicants
    for messages in received.values():
        assert len({m["Message-ID"] for m in messages}) == 1  # a repeat, never a new message
        assert len(list(messages[0].iter_attachments())) == 2
    Tally(
        "celery_worker_killed_mid_documents",
        {
            "applicants": applicants,
            "documents_made_when_killed": made_when_killed,
            "documents_in_the_end": len(documents),
            "receipts": len(smtp.inbox.messages),
            "duplicate_receipts_same_message_id": duplicates,
        },
    ).write()
    assert duplicates == 0  # no email was being sent when the worker died


def test_a_worker_killed_after_the_smtp_server_took_the_message_sends_it_again_once(
    app, create_form, queued
):
    """The one duplicate at-least-once delivery allows (README "Faults"): the SMTP server
    has the message, the worker dies before it records it as sent. The next worker sends
    it again, with the same Message-ID (a mail program shows it once), exactly once more."""
    from models import OutboxMessage
    from tests.faults import Tally

    web, smtp, start_worker, log = queued
    create_form(call())
    apply(web, email="twice@example.org")
    smtp.inbox.delay = 3  # the server holds the client while it takes the message
    worker = start_worker()
    wait_until(smtp.inbox.data_started.is_set, 120, log)
    worker.kill()  # the content is sent, the answer not yet read
    smtp.inbox.delay = 0
    start_worker()
    wait_until(
        lambda: len(smtp.inbox.messages) >= 2
        and all(m.status == "sent" for m in rows(app, OutboxMessage)),
        120,
        log,
    )
    time.sleep(3)  # a third copy would arrive now
    copies = receipts_by_recipient(smtp)["twice@example.org"]
    Tally(
        "celery_worker_killed_after_smtp_took_the_message",
        {"receipts": len(copies), "duplicate_receipts_same_message_id": len(copies) - 1},
    ).write()
    assert len(copies) == 2
    assert copies[0]["Message-ID"] == copies[1]["Message-ID"]
