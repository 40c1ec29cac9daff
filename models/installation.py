"""Who runs this installation, as every part reads it: its name (per language), contact
address, logo, accent colour and the accessibility statement's review date.

Admins choose them on the settings page (services/installation.py writes them, in the
installation_settings table); an environment variable, where set, wins over the admin's
choice (FLASK_FORMDESK_OPERATOR_NAME, FLASK_FORMDESK_OPERATOR_EMAIL,
FLASK_FORMDESK_ACCESSIBILITY_REVIEWED, FLASK_FORMDESK_ACCENT_COLOUR). Read-only here, so
mail/ and documents/ can name the installation without knowing the use case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email.utils import parseaddr

from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from extensions import db
from models.staff import InstallationSetting

# The keys in installation_settings.
NAME = "installation_name"  # {"default": str, "<language>": str, …}
EMAIL = "installation_email"  # str
ACCENT = "installation_accent"  # "#rrggbb"
LOGO = "installation_logo"  # {"type": "image/png" | "image/svg+xml", "data": base64, "digest": …}
REVIEWED = "installation_accessibility_reviewed"  # ISO date
KEYS = (NAME, EMAIL, ACCENT, LOGO, REVIEWED)

# The environment variable (as a config key) that wins over each setting.
CONFIG_KEYS = {
    NAME: "FORMDESK_OPERATOR_NAME",
    EMAIL: "FORMDESK_OPERATOR_EMAIL",
    ACCENT: "FORMDESK_ACCENT_COLOUR",
    REVIEWED: "FORMDESK_ACCESSIBILITY_REVIEWED",
}

PRODUCT_NAME = "Formdesk"  # shown until someone names the installation
DEFAULT_REVIEWED = date(2026, 11, 21)  # when the shipped statement was last reviewed


def _stored(key: str):
    """The admin's value, read once per request (a page asks for the name several times;
    outside requests, e.g. in a worker's long-lived context, it is read every time)."""
    if not has_app_context():
        return None
    cache = _request_cache()
    if key not in cache:
        try:
            row = db.session.get(InstallationSetting, key)
        except (DBAPIError, PoolTimeout):  # the database is down (its outage page): defaults
            return None
        cache[key] = None if row is None else row.value
    return cache[key]


def _request_cache() -> dict:
    # On the request, not on `g`: an app context may outlive many requests (a test's, a
    # worker's), the request object does not.
    if not has_request_context():
        return {}
    return request.__dict__.setdefault("_installation_settings", {})


def forget_read_values() -> None:
    """After a change in this request, the next read sees it."""
    _request_cache().clear()


def from_environment(key: str) -> str | None:
    """The environment variable's value when set (it then wins), else None."""
    if not has_app_context():
        return None
    value = current_app.config.get(CONFIG_KEYS.get(key, ""))
    return str(value) if value not in (None, "") else None


def name(language: str | None = None) -> str:
    """The name in `language`, else the default name, else "Formdesk"."""
    configured = from_environment(NAME)
    if configured:
        return configured
    names = _stored(NAME) or {}
    if not isinstance(names, dict):
        return PRODUCT_NAME
    return names.get(language or "") or names.get("default") or PRODUCT_NAME


def is_named() -> bool:
    """Whether anyone gave the installation a name (else the product's name stands in)."""
    return name() != PRODUCT_NAME


def email() -> str:
    """The contact address; unset, the address mail comes from (a real one, at least)."""
    chosen = from_environment(EMAIL) or _stored(EMAIL)
    if chosen or not has_app_context():
        return chosen or ""
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or ""
    if isinstance(sender, tuple | list):
        sender = sender[-1]
    return parseaddr(sender)[1]


def accent() -> str | None:
    chosen = from_environment(ACCENT) or _stored(ACCENT)
    return chosen.strip().lower() if isinstance(chosen, str) and chosen.strip() else None


def accessibility_reviewed() -> date:
    value = from_environment(REVIEWED) or _stored(REVIEWED)
    try:
        return date.fromisoformat(str(value)) if value else DEFAULT_REVIEWED
    except ValueError:
        return DEFAULT_REVIEWED


@dataclass(frozen=True)
class Logo:
    content_type: str
    data: str  # base64
    digest: str  # changes with the file: the address the browser caches it by


def logo() -> Logo | None:
    value = _stored(LOGO)
    if not isinstance(value, dict) or not value.get("data"):
        return None
    return Logo(value["type"], value["data"], value.get("digest", ""))
