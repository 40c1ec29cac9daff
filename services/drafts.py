"""Drafts: answers kept on the server page by page, resumable through a secret link."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from extensions import db
from models import Draft, FormVersion
from services.tokens import hash_token, new_token


def start_draft(version: FormVersion, language: str, test: bool = False) -> tuple[Draft, str]:
    """A new draft, added to the session but not written: the first page's answers are
    written with it (save_answers commits), one INSERT instead of an INSERT and an UPDATE.
    `test`: made through the call's preview link (its submission will be a test too)."""
    token, token_hash = new_token()
    draft = Draft(
        form_version=version, token_hash=token_hash, language=language, answers={}, is_test=test
    )
    db.session.add(draft)
    return draft, token


def find_draft(token: str | None) -> Draft | None:
    """The unsubmitted draft this token opens, if any."""
    if not token or len(token) > 100:
        return None
    draft = db.session.scalar(select(Draft).where(Draft.token_hash == hash_token(token)))
    return draft if draft and draft.submission_id is None else None


def save_answers(
    draft: Draft, answers: dict[str, Any], page_index: int | None = None, valid: bool = False
) -> None:
    """Merge one page's answers into the draft. Invalid input is kept too, so nothing typed
    is lost; a page counts as completed only when it was valid."""
    draft.answers = {**draft.answers, **answers}
    if page_index is not None:
        completed = set(draft.completed_pages or [])
        completed = completed | {page_index} if valid else completed - {page_index}
        draft.completed_pages = sorted(completed)
    db.session.commit()


def set_language(draft: Draft, language: str) -> None:
    if draft.language != language:
        draft.language = language
        db.session.commit()


def save_for_later(draft: Draft, token: str) -> None:
    """The person chose "save and continue later": email the resume link once, when the
    answers so far include their email address."""
    from services import notifications

    notifications.draft_saved(draft, token)
    db.session.commit()


def resume_link_emailed_to(draft: Draft) -> str | None:
    """The address the resume link goes to by email, or None when no email goes out: no
    address among the answers yet, no mail server (messages then stay in files on the
    server), or the message failed for good."""
    from flask import current_app

    from models.outbox import OutboxMessage, OutboxStatus

    if not current_app.config.get("MAIL_SERVER"):
        return None
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == f"resume:{draft.id}")
    )
    if message is None or message.status == OutboxStatus.FAILED:
        return None
    return message.recipient
