"""Delivering the outbox: claim a message (so two senders never send the same one), send
it through SMTP (the connection from Flask-Mail's settings) — or, with no SMTP server
configured, write it as an .eml file in the instance folder — and record the outcome.
Temporary failures are retried with exponential backoff; permanent ones wait in the
admin's outbox view for a resend.

The message itself is built by the standard library (EmailMessage, headerregistry,
policy.SMTP): it encodes and folds every header, so names in any language arrive whole."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path

from flask import current_app
from sqlalchemy import or_, select, update

from extensions import db, mail
from jobs import dispatch, embedded
from mail.attachments import AttachmentNotReady, attach_all
from models import OutboxMessage
from models.outbox import AWAITING_RETRY, FAILED, QUEUED, SENDING, SENT
from models.types import utcnow


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


class PermanentFailure(Exception):
    pass


def _due(now: datetime):
    return or_(
        (OutboxMessage.status.in_((QUEUED, AWAITING_RETRY)))
        & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == SENDING) & (OutboxMessage.claimed_until < now),
    )


def deliver_due(limit: int = 100, now: datetime | None = None) -> DeliveryReport:
    report = DeliveryReport()
    now = now or utcnow()
    candidates = db.session.scalars(
        select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(limit)
    ).all()
    db.session.rollback()  # end the read; each claim is its own short transaction
    for message_id in candidates:
        if _claim(message_id, now):
            deliver_one(message_id, report)
    return report


def deliver_message(message_id: int) -> DeliveryReport:
    """One message, if it is due and no other sender has it (the task for a new message)."""
    report = DeliveryReport()
    if _claim(message_id, utcnow()):
        deliver_one(message_id, report)
    return report


def release_waiting(submission_id: int) -> None:
    """Its documents exist now: messages that waited for them are due at once."""
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.submission_id == submission_id,
            OutboxMessage.status == AWAITING_RETRY,
            OutboxMessage.last_error.like(f"{AttachmentNotReady.__name__}%"),
        )
        .values(next_attempt_at=utcnow())
    )
    db.session.commit()


def _claim(message_id: int, now: datetime) -> bool:
    """Conditional update: only one sender's UPDATE matches, however many run."""
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _due(now))
        .values(status=SENDING, claimed_until=now + _claim_duration())
    ).rowcount
    db.session.commit()
    return claimed == 1


def _claim_duration() -> timedelta:
    return timedelta(seconds=current_app.config["FORMDESK_MAIL_CLAIM_SECONDS"])


def deliver_one(message_id: int, report: DeliveryReport) -> None:
    message = db.session.get(OutboxMessage, message_id)
    message.attempts += 1
    try:
        _send(message)
    except AttachmentNotReady as error:
        # Waiting for a document is not a failed attempt; its task delivers right after
        # making it, and the periodic sweep covers anything missed.
        _schedule_retry(message, error)
        message.attempts -= 1
        report.retrying.append(message_id)
    except PermanentFailure as error:
        message.status, message.last_error = FAILED, str(error)[:2000]
        report.failed.append(message_id)
    except (OSError, smtplib.SMTPException) as error:
        _schedule_retry(message, error)
        (report.failed if message.status == FAILED else report.retrying).append(message_id)
    else:
        message.status, message.sent_at, message.last_error = SENT, utcnow(), None
        report.sent.append(message_id)
    message.claimed_until = None
    db.session.commit()


def _schedule_retry(message: OutboxMessage, error: Exception) -> None:
    config = current_app.config
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    if message.attempts >= config["FORMDESK_MAIL_MAX_ATTEMPTS"]:
        message.status = FAILED
        return
    delay = min(
        config["FORMDESK_MAIL_RETRY_SECONDS"] * 2 ** (message.attempts - 1),
        config["FORMDESK_MAIL_RETRY_MAX_SECONDS"],
    )
    message.status = AWAITING_RETRY
    message.next_attempt_at = utcnow() + timedelta(seconds=delay)


def sender_address() -> str:
    """The address mail comes from (MAIL_DEFAULT_SENDER, a plain address, "Name <address>"
    or Flask-Mail's (name, address) pair); the name shown is always the call's."""
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or "formdesk@localhost"
    if isinstance(sender, tuple | list):
        sender = sender[-1]
    return parseaddr(sender)[1] or "formdesk@localhost"


def build(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage(policy=SMTP)
    email["From"] = Address(display_name=message.sender_name or "", addr_spec=sender_address())
    email["To"] = message.recipient
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = message.message_id  # stable across retries, set when queued
    # RFC 3834: written by the service, not a person; autoresponders do not answer it.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    attach_all(email, message)
    return email


def _send(message: OutboxMessage) -> None:
    email = build(message)
    # End the transaction (it holds the attempt count, and reading the attachments may have
    # flushed it) before talking to the server: on SQLite an open write transaction is the
    # database's one write lock, and a slow SMTP server would hold up every submission.
    db.session.commit()
    if not current_app.config.get("MAIL_SERVER"):
        _write_eml(message, email)
        return
    try:
        with mail.connect() as connection:
            if connection.host is not None:  # None: Flask-Mail's MAIL_SUPPRESS_SEND
                connection.host.send_message(email)
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentFailure(f"recipient refused: {error.recipients}") from error
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            raise PermanentFailure(f"{error.smtp_code} {error.smtp_error!r}") from error
        raise


def _write_eml(message: OutboxMessage, email: EmailMessage) -> None:
    """Embedded default: what would be sent, as a file a mail program opens."""
    folder = Path(current_app.instance_path) / "outbox"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{message.id:06d}-{message.kind}.eml"
    path.write_bytes(email.as_bytes())


def resend(message_id: int) -> bool:
    """An admin's resend of a failed message: queued again, attempts start over."""
    changed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == FAILED)
        .values(status=QUEUED, attempts=0, next_attempt_at=utcnow(), last_error=None)
    ).rowcount
    db.session.commit()
    if changed:
        dispatch.send_now("formdesk.deliver_message", message_id=message_id)
    return changed == 1


embedded.add_duty("deliver email", deliver_due, lane="mail")
