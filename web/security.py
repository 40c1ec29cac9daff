"""HTTP hardening in one place: security headers on every response, cookie flags, and a log
filter that keeps the secret part of applicants' links out of every log line.

The Content-Security-Policy allows nothing inline: scripts and styles come from /static
only. A response that sets its own policy (file downloads: `default-src 'none'; sandbox`)
keeps it."""

from __future__ import annotations

import base64
import hashlib
import logging
import re

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

# The admin's email preview shows the HTML part in `<iframe sandbox srcdoc>`; a srcdoc frame
# inherits this page's policy, so the one style attribute our emails carry (mail/texts.py,
# `to_html`) is allowed by its hash on those pages only. Any other inline style stays blocked.
EMAIL_BODY_STYLE = "font-family:sans-serif;line-height:1.5"
EMAIL_PREVIEW_ENDPOINTS = frozenset(
    {"admin.outbox_message", "admin.edit_email", "admin.edit_all_forms_email"}
)


def _style_hash(style: str) -> str:
    digest = hashlib.sha256(style.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


EMAIL_PREVIEW_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", f"style-src 'self' 'unsafe-hashes' {_style_hash(EMAIL_BODY_STYLE)}"
)


# The same for everyone and about no one: these may be cached. Every other page may show a
# private link or personal data (form pages and their answers, the saved and confirmation
# pages, an applicant's page, the dashboard), so no cache keeps it: `no-store`.
SHARED_BLUEPRINTS = frozenset({"about"})


def install(app: Flask) -> None:
    https = bool(app.config["FORMDESK_HTTPS"])
    # Cookies: never readable by scripts, not sent on cross-site POSTs, only over TLS when
    # the service is served over HTTPS.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    if https:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
    hsts = f"max-age={int(app.config['FORMDESK_HSTS_SECONDS'])}" if https else None

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        policy = (
            EMAIL_PREVIEW_POLICY
            if request.endpoint in EMAIL_PREVIEW_ENDPOINTS
            else CONTENT_SECURITY_POLICY
        )
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if hsts:
            headers.setdefault("Strict-Transport-Security", hsts)
        if request.endpoint != "static" and request.blueprint not in SHARED_BLUEPRINTS:
            headers.setdefault("Cache-Control", "no-store")
        return response

    mask_secrets_in_logs(app)


# --- logs ------------------------------------------------------------------------------

# /s/<token>… and /resume/<token> (and staff's /invitation/ and /password-reset/ links), alone
# or in a full URL, wherever they appear in a line.
SECRET_LINK = re.compile(
    r"""(?P<prefix>(?:^|(?<=[\s"'(=\[>]))(?:https?://[^/\s"'<>]+)?/"""
    r"""(?:s|resume|invitation|password-reset)/)"""
    r"""[^/\s?#"'<>]+"""
)
MASK = "[secret]"


def mask_secret_links(text: str) -> str:
    return SECRET_LINK.sub(lambda m: m.group("prefix") + MASK, text)


class SecretLinkFilter(logging.Filter):
    """Rewrites a record's message with the secret links masked (the arguments are merged
    into the message first, so "GET %s" with the path as argument is masked too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001  (a broken record is logged as it is)
            return True
        masked = mask_secret_links(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


LOGGERS_WITH_URLS = ("werkzeug", "gunicorn.access", "gunicorn.error", "flask.app")


def mask_secrets_in_logs(app: Flask) -> None:
    """Werkzeug's request lines, gunicorn's access log and Flask's "Exception on <path>"
    all name the path: each of their loggers gets the filter (once)."""
    for name in (*LOGGERS_WITH_URLS, app.logger.name):
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretLinkFilter) for f in logger.filters):
            logger.addFilter(SecretLinkFilter())
