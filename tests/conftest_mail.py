"""A real SMTP server in the test process (aiosmtpd), and the app pointed at it."""

from __future__ import annotations

import asyncio
import email
import email.header
import email.policy
import re
import threading
import time

import pytest
from aiosmtpd.controller import Controller

from tests.browser import free_port


class Inbox:
    """Collects what arrives; `fail_with` makes the server answer every message with an
    SMTP error (e.g. 451 for a temporary problem)."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []
        self.fail_with: str | None = None
        self.delay = 0.0
        self.greeting_delay = 0.0  # stalls a client after it said EHLO, before any DATA
        self.data_started = threading.Event()  # a client has sent a message's content
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        if self.greeting_delay:
            await asyncio.sleep(self.greeting_delay)
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.data_started.set()
        if self.delay:
            time.sleep(self.delay)
        if self.fail_with:
            return self.fail_with
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)
            self.envelopes.append(envelope)
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 20) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages) < count:
            time.sleep(0.05)
        return self.messages


def shown_sender_name(raw: bytes) -> str:
    """The From name as RFC 2047 §6.2 has a mail program show it: white space between two
    adjacent encoded words is ignored. Python 3.11's structured header parser (`policy.strict`,
    `policy.default`) keeps it (CPython gh-128110, fixed in later versions), so a name folded
    across encoded words reads there with a space at the fold; email.header follows the RFC."""
    headers = email.message_from_bytes(raw, policy=email.policy.compat32)
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", headers["From"])  # RFC 5322 §2.2.3
    decoded = str(email.header.make_header(email.header.decode_header(unfolded)))
    return decoded.rpartition(" <")[0].strip()


class SmtpServer:
    def __init__(self, port: int | None = None):
        self.inbox = Inbox()
        self.port = port or free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()


def point_mail_at(app, port: int | None) -> None:
    """Flask-Mail reads its settings once, at init: configure, then init again."""
    from extensions import mail

    app.config.update(
        MAIL_SERVER="127.0.0.1" if port else None,
        MAIL_PORT=port or 25,
        MAIL_SUPPRESS_SEND=False,
        MAIL_DEFAULT_SENDER="calls@formdesk.example.org",
    )
    mail.init_app(app)


@pytest.fixture
def smtp(app):
    server = SmtpServer().start()
    point_mail_at(app, server.port)
    yield server
    server.stop()
    point_mail_at(app, None)


def deliver(app) -> object:
    """What the background worker does: make the documents receipts and decision emails
    attach, then deliver."""
    from documents.letters import make_missing_letters
    from documents.store import make_missing
    from mail.delivery import deliver_due

    with app.app_context():
        while make_missing():
            pass
        while make_missing_letters():
            pass
        return deliver_due()
