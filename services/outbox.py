"""The admins' view of outgoing email: every message with its delivery status, and a resend
for those that failed for good (mail.delivery keeps them for exactly this)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from extensions import db
from mail.delivery import resend
from models import AuditEntry, OutboxMessage, User
from models.outbox import OutboxStatus

PAGE_SIZE = 50


@dataclass
class OutboxPage:
    messages: list[OutboxMessage]
    status: str | None
    page: int
    pages: int
    total: int
    counts: dict[str, int]  # messages per status, whatever the filter


def read_status(value: str | None) -> str | None:
    return value if value in list(OutboxStatus) else None


def outbox_page(status: str | None, page: int) -> OutboxPage:
    """Newest first, PAGE_SIZE a page; a page past the end shows the last one."""
    status = read_status(status)
    counts = dict.fromkeys(OutboxStatus, 0)
    for name, count in db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ):
        counts[name] = count
    total = counts.get(status, 0) if status else sum(counts.values())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    # Ids grow with time: newest first along the primary key.
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status:
        query = query.where(OutboxMessage.status == status)
    messages = list(db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return OutboxPage(messages, status, page, pages, total, counts)


def find_message(message_id: int) -> OutboxMessage | None:
    return db.session.get(OutboxMessage, message_id)


def writes_to_files() -> bool:
    """With no SMTP server configured, messages are written as files in the instance
    folder instead of being sent (mail.delivery); the page says so, without the path."""
    return not current_app.config.get("MAIL_SERVER")


def resend_message(user: User, message_id: int) -> bool:
    """Queue a failed message again (attempts start over) and log who did it. False when
    the message is not failed (any more): nothing changes."""
    if not user.is_admin:
        raise PermissionError("only admins resend email")
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
    )
    if message is None or message.status != OutboxStatus.FAILED:
        db.session.rollback()
        return False
    db.session.add(
        AuditEntry(
            action="outbox.resent",
            actor_type=user.role,
            actor_id=user.id,
            data={
                "message": message.id,
                "kind": message.kind,
                "submission": message.submission_id,
                "last_error": (message.last_error or "")[:500],
            },
        )
    )
    # resend() changes the row only while it is still failed, and commits the audit entry
    # with it: one transaction.
    return resend(message_id)
