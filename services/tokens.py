"""Secret links. A link's token is never stored: only its SHA-256 hash, for lookup.

Submission links must appear again in later emails (a decision weeks after the receipt),
so their token is derived: HMAC-SHA256 of a random per-submission nonce under the
server's token key. The database alone (a leaked backup) yields no working link; the
server can write the link into every email. Draft links are plain random tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app


def new_token() -> tuple[str, str]:
    """Return (token for the link, hash to store): 256 random bits."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    # Lookup by an indexed hash: the database never compares secrets, and a leaked table
    # gives no working links.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_submission_token() -> tuple[str, str, str]:
    """Return (nonce to store, token for the link, hash to store)."""
    nonce = secrets.token_hex(16)
    token = submission_token(nonce)
    return nonce, token, hash_token(token)


def submission_token(nonce: str) -> str:
    key = current_app.config.get("FORMDESK_TOKEN_KEY") or current_app.config["SECRET_KEY"]
    digest = hmac.new(key.encode(), b"submission-link:" + nonce.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
