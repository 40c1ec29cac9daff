"""Secret links: 256-bit random tokens, of which only a SHA-256 hash is stored."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> tuple[str, str]:
    """Return (token for the link, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    # Lookup by an indexed hash: the database never compares secrets, and a leaked table
    # gives no working links.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
