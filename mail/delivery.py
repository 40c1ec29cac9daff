"""Delivering the outbox: claim a message (so two senders never send the same one), send
it through SMTP (the connection from Flask-Mail's settings) — or, with no SMTP server
configured, write it as an .eml file in the instance folder — and record the outcome.
Temporary failures are retried with exponential backoff; permanent ones wait in the
admin's outbox view for a resend.

The message itself is built by the standard library (EmailMessage, headerregistry, and
the policy in mail/policy.py): it encodes and folds every header, so names and subjects in any
language arrive whole."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import or_, select, update

from extensions import db, mail
from jobs import dispatch, isolation
from jobs.dispatch import Task
from mail.attachments import AttachmentNotReady, attach_all
from mail.policy import OUTGOING
from models import OutboxMessage
from models.outbox import WAITING, OutboxStatus
from models.types import utcnow


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


# How long a message waits for its documents before it goes without them.
ATTACHMENT_WAIT = 3600


class PermanentFailure(Exception):
    pass


def _due(now: datetime):
    return or_(
        (OutboxMessage.status.in_(WAITING)) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_until < now),
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
            _deliver_isolated(message_id, report)
    return report


def deliver_message(message_id: int) -> DeliveryReport:
    """One message, if it is due and no other sender has it (the task for a new message)."""
    report = DeliveryReport()
    if _claim(message_id):
        _deliver_isolated(message_id, report)
    return report


def release_waiting(submission_id: int) -> None:
    """Its documents exist now: messages that waited for them are due at once."""
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.submission_id == submission_id,
            OutboxMessage.status == OutboxStatus.AWAITING_DOCUMENTS,
        )
        .values(next_attempt_at=utcnow())
    )
    db.session.commit()


def _claim(message_id: int, due_at: datetime | None = None) -> bool:
    """Conditional update: only one sender's UPDATE matches, however many run. The claim
    counts the attempt (committed before anything can go wrong) and lasts from *now*: a
    claim timed from the start of a long batch (an outage slows every statement) had
    expired when it was made, and another sender took and sent the message again."""
    now = utcnow()
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _due(due_at or now))
        .values(
            status=OutboxStatus.SENDING,
            claimed_until=now + _claim_duration(),
            attempts=OutboxMessage.attempts + 1,
        )
    ).rowcount
    db.session.commit()
    return claimed == 1


def _claim_duration() -> timedelta:
    return timedelta(seconds=current_app.config["FORMDESK_MAIL_CLAIM_SECONDS"])


def _deliver_isolated(message_id: int, report: DeliveryReport) -> None:
    """One message; whatever it raises (a stored value its building cannot take, a database
    error on its row) counts as a failed attempt of this message only — retried with
    backoff, then failed and shown in the outbox — and the others are sent."""
    try:
        deliver_one(message_id, report)
    except Exception as error:
        db.session.rollback()
        current_app.logger.exception("delivering outbox message %s failed", message_id)
        try:
            message = db.session.get(OutboxMessage, message_id)
            _schedule_retry(message, error)
            message.claimed_until = None
            db.session.commit()
        except Exception:  # the database is gone too: the claim runs out, a later poll retries
            db.session.rollback()
            current_app.logger.exception("could not record the failure of message %s", message_id)
            return
        (report.failed if message.status == OutboxStatus.FAILED else report.retrying).append(
            message_id
        )


def deliver_one(message_id: int, report: DeliveryReport) -> None:
    """A claimed message (its attempt already counted by the claim)."""
    message = db.session.get(OutboxMessage, message_id)
    try:
        left_out = _send(message)
    except AttachmentNotReady as error:
        # Waiting for a document is not a failed attempt; its task delivers right after
        # making it, and the periodic sweep covers anything missed — until the deadline
        # (FORMDESK_MAIL_ATTACHMENT_WAIT_SECONDS), when it goes without.
        _schedule_retry(message, error)
        message.attempts -= 1
        if message.status == OutboxStatus.AWAITING_RETRY:
            message.status = OutboxStatus.AWAITING_DOCUMENTS
        report.retrying.append(message_id)
    except PermanentFailure as error:
        message.status, message.last_error = OutboxStatus.FAILED, isolation.error_text(error)
        report.failed.append(message_id)
    except (OSError, smtplib.SMTPException) as error:
        _schedule_retry(message, error)
        (report.failed if message.status == OutboxStatus.FAILED else report.retrying).append(
            message_id
        )
    else:
        message.status, message.sent_at = OutboxStatus.SENT, utcnow()
        message.last_error = _left_out_note(left_out) if left_out else None
        report.sent.append(message_id)
    message.claimed_until = None
    db.session.commit()


def _attachment_deadline_passed(message: OutboxMessage) -> bool:
    wait = current_app.config.get("FORMDESK_MAIL_ATTACHMENT_WAIT_SECONDS", ATTACHMENT_WAIT)
    return utcnow() - message.created_at > timedelta(seconds=wait)


def _left_out_note(left_out: list[str]) -> str:
    """Shown in the outbox beside a message that went without some of its files."""
    return f"Sent without {', '.join(left_out)}: not made in time (see Background work)"


def _schedule_retry(message: OutboxMessage, error: Exception) -> None:
    config = current_app.config
    message.last_error = isolation.error_text(error)
    if message.attempts >= config["FORMDESK_MAIL_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
        return
    delay = min(
        config["FORMDESK_MAIL_RETRY_SECONDS"] * 2 ** (message.attempts - 1),
        config["FORMDESK_MAIL_RETRY_MAX_SECONDS"],
    )
    message.status = OutboxStatus.AWAITING_RETRY
    message.next_attempt_at = utcnow() + timedelta(seconds=delay)


def sender_address() -> str:
    """The address mail comes from (MAIL_DEFAULT_SENDER, a plain address, "Name <address>"
    or Flask-Mail's (name, address) pair); the name shown is always the call's."""
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or "formdesk@localhost"
    if isinstance(sender, tuple | list):
        sender = sender[-1]
    return parseaddr(sender)[1] or "formdesk@localhost"


def build(message: OutboxMessage, go_without: bool = False) -> tuple[EmailMessage, list[str]]:
    """The email and the attachments left out (only with `go_without`: past the deadline,
    a file not made yet is left out instead of waiting, and the email says so)."""
    email, left_out = _compose(message, message.text_body, message.html_body, go_without)
    if left_out:
        note = _left_out_notice(message.language)
        text = f"{message.text_body.rstrip()}\n\n{note}\n"
        html = message.html_body.replace("</body>", f"<p>{escape(note)}</p></body>", 1)
        email, left_out = _compose(message, text, html, go_without=True)
    return email, left_out


def _left_out_notice(language: str) -> str:
    with force_locale(language):
        return _(
            "Some documents meant for this message were not ready in time and are not "
            "attached. You can download them later through your private link."
        )


def _compose(
    message: OutboxMessage, text: str, html: str, go_without: bool
) -> tuple[EmailMessage, list[str]]:
    email = EmailMessage(policy=OUTGOING)
    email["From"] = Address(display_name=message.sender_name or "", addr_spec=sender_address())
    email["To"] = message.recipient
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = message.message_id  # stable across retries, set when queued
    # RFC 3834: written by the service, not a person; autoresponders do not answer it.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    left_out = attach_all(email, message, go_without=go_without)
    return email, left_out


def _send(message: OutboxMessage) -> list[str]:
    """Sends (or writes) the message; returns the attachments it went without."""
    email, left_out = build(message, go_without=_attachment_deadline_passed(message))
    # End the transaction (reading the attachments may have opened one) before talking to
    # the server: on SQLite an open write transaction is the
    # database's one write lock, and a slow SMTP server would hold up every submission.
    db.session.commit()
    if not current_app.config.get("MAIL_SERVER"):
        _write_eml(message, email)
        return left_out
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
    return left_out


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
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=utcnow(), last_error=None)
    ).rowcount
    db.session.commit()
    if changed:
        dispatch.send_now(Task.DELIVER_MESSAGE, message_id=message_id)
    return changed == 1
