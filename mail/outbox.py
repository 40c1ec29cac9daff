"""Writing messages to the outbox, inside the caller's transaction (never committing):
the message exists exactly when the event that caused it does."""

from __future__ import annotations

from email.utils import make_msgid, parseaddr

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from extensions import db
from forms.placeholders import REGISTRY, fill
from jobs import dispatch
from jobs.dispatch import Task
from mail.delivery import sender_address
from mail.texts import own_links, text_for, to_html
from models import OutboxMessage, installation
from models.outbox import OutboxStatus


def enqueue(
    *,
    key: str,
    kind: str,
    recipient: str,
    language: str,
    values: dict[str, str],
    form_id: int | None = None,
    submission_id: int | None = None,
    sender_name: str = "",
    reply_to: str | None = None,
    attachments: list | None = None,
    greet: str = "",
    subject_prefix: str = "",
) -> None:
    """Queue one message. `key` names the event (e.g. `receipt:42`); enqueuing the same key
    again does nothing, so retried requests and two workers never make two messages.
    `greet`: the person's name for `{greeting}` (empty: a greeting without a name).
    `subject_prefix`: put before the subject ("TEST – " for a test submission's mail)."""
    text = text_for(kind, language, form_id)
    # In the language the text is written in, so the first line matches the rest.
    greeting = REGISTRY["greeting"].render({"greet": greet, "language": text.language})
    values = {**values, "greeting": greeting, "installation": installation.name(text.language)}
    body = _with_footer(fill(text.body, values), text.language)
    subject = (subject_prefix + " ".join(fill(text.subject, values).split()))[:300]
    row = {
        "idempotency_key": key[:200],
        "kind": kind,
        "submission_id": submission_id,
        "language": language,
        "recipient": recipient,
        "sender_name": (sender_name or default_sender_name(language))[:200],
        "reply_to": reply_to,
        "subject": subject,
        "text_body": body,
        "html_body": to_html(body, text.language, subject, own_links(text.body, values)),
        "attachments": attachments or [],
        "message_id": make_msgid(domain=mail_domain()),
        "status": OutboxStatus.QUEUED,
        "attempts": 0,
    }
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    message_id = db.session.execute(
        insert(OutboxMessage)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage.id)
    ).scalar()
    if message_id is not None:  # delivered once this transaction commits
        dispatch.after_commit(Task.DELIVER_MESSAGE, message_id=message_id)


def mail_domain() -> str:
    return sender_address().rpartition("@")[2] or "localhost"


def default_sender_name(language: str) -> str:
    """The name on a message nobody's call sends (staff invitations, resets): the one in
    MAIL_DEFAULT_SENDER ("Name <address>") where set, else the installation's, once named."""
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or ""
    configured = parseaddr(sender)[0] if isinstance(sender, str) else ""
    return configured or (installation.name(language) if installation.is_named() else "")


def installation_footer(language: str) -> str:
    """The installation's name under every message, as a signature, once it is named."""
    return f"\n\n-- \n{installation.name(language)}\n" if installation.is_named() else ""


def _with_footer(body: str, language: str) -> str:
    footer = installation_footer(language)
    return body.rstrip("\n") + footer if footer else body
