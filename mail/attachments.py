"""Files attached to a message at delivery time, described in the outbox row: generated
documents (made by a job after the submission commits) and calendar invitations."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

from models import OutboxMessage

# kind → function(spec) returning (filename, content_type, bytes) or None when not ready.
Provider = Callable[[dict], tuple[str, str, bytes] | None]
_providers: dict[str, Provider] = {}


class AttachmentNotReady(Exception):
    """The document is not made yet: delivery waits and retries."""


def register(kind: str, provider: Provider) -> None:
    _providers[kind] = provider


def attach_all(email: EmailMessage, message: OutboxMessage, go_without: bool = False) -> list[str]:
    """Attaches every file; one not made yet raises AttachmentNotReady, or with `go_without`
    is left out. Returns what was left out."""
    left_out = []
    for spec in message.attachments or []:
        provider = _providers.get(spec.get("kind"))
        if provider is None:
            continue
        made = provider(spec)
        if made is None and go_without:
            left_out.append(spec.get("document") or spec.get("kind"))
            continue
        if made is None:
            raise AttachmentNotReady(f"{spec} is not ready")
        filename, content_type, data = made
        maintype, subtype, params = _parse_content_type(content_type)
        email.add_attachment(
            data, maintype=maintype, subtype=subtype, filename=filename, params=params
        )
    return left_out


def _parse_content_type(content_type: str) -> tuple[str, str, dict[str, str]]:
    """ "text/calendar; charset=utf-8; method=PUBLISH" → its parts, read by the email package."""
    header = EmailMessage()
    header["Content-Type"] = content_type
    params = dict(header["Content-Type"].params)
    return header.get_content_maintype(), header.get_content_subtype(), params


def calendar_invitation(spec: dict) -> tuple[str, str, bytes]:
    """An .ics event (RFC 5545) for registrations with dates."""

    def escape(text: str) -> str:
        return (
            text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
        )

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Formdesk//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{spec['uid']}",
        f"DTSTAMP:{spec['stamp']}",
        f"DTSTART;VALUE=DATE:{spec['start'].replace('-', '')}",
        f"DTEND;VALUE=DATE:{spec['end'].replace('-', '')}",
        f"SUMMARY:{escape(spec['summary'])}",
    ]
    if spec.get("location"):
        lines.append(f"LOCATION:{escape(spec['location'])}")
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "event.ics", "text/calendar; charset=utf-8; method=PUBLISH", "\r\n".join(lines).encode()
