"""Links in emails: absolute, on the service's public address."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request

# Development without FLASK_FORMDESK_PUBLIC_URL, asked by a host that is not loopback.
DEVELOPMENT_LINK_BASE = "http://127.0.0.1:5000"


def link_base() -> str:
    """Where links in emails point: FLASK_FORMDESK_PUBLIC_URL (required outside development,
    config.install_public_url). Without it (development, tests) the request's own address
    only when it is a loopback one: a `Host` header sent by anyone else never becomes a
    link in an email sent in the organisation's name."""
    configured = current_app.config.get("FORMDESK_PUBLIC_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context() and is_loopback(request.host):
        return request.host_url.rstrip("/")
    return DEVELOPMENT_LINK_BASE


def is_loopback(host: str) -> bool:
    """`host` (a Host header, with or without a port) names this machine."""
    try:
        name = urlsplit(f"//{host}").hostname or ""
        return name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:  # not an address (a name, or a malformed header)
        return False


def absolute_url(endpoint: str, **values) -> str:
    """A link to `endpoint` on FORMDESK_PUBLIC_URL (see link_base)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return link_base() + path
