"""Email texts: the defaults in mail/defaults.yaml, admins' overrides per form, event and
language, which events there are (the service's own and the workflows'), and the HTML part.
The placeholders they may use are forms.placeholders (one registry for emails, letters and
the admin page)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from html import escape, unescape
from pathlib import Path

import yaml
from sqlalchemy import or_, select

from extensions import db
from forms.placeholders import link_names
from models import EmailTemplate
from workflows.engine import Workflow

# Events the service itself sends, whatever the workflow; the others are the workflows'
# `email:<event>` effects (workflow_events), each with its own default texts.
SYSTEM_EVENTS = (
    "receipt",
    "resume",
    "new_submission",
    "digest",
    "invitation",
    "password_reset",
    "review_reminder",
)
DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")
URL = re.compile(r"https?://[^\s<>\"]+")


@dataclass(frozen=True)
class Text:
    subject: str
    body: str
    language: str  # the one it is written in: the wanted one, or English when it has none


@cache
def default_texts() -> dict:
    """mail/defaults.yaml: event → language → subject and body."""
    return yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))


class MissingText(LookupError):
    """No default text for an event in a language. Calls offering a language their texts
    lack are refused when they load (forms.schema.language_gaps), so this is a bug."""


def workflow_events(workflows: Iterable[Workflow]) -> tuple[str, ...]:
    """The events the workflows' transitions send (`email:<event>`), each once."""
    return tuple(dict.fromkeys(e for w in workflows for e in w.email_events()))


def missing_texts(workflows: Iterable[Workflow], languages: Iterable[str]) -> list[str]:
    """Every event (the service's own and the workflows') needs a default subject and body
    in every language of the installation: an event without one would reach people in a
    text admins cannot see or edit. One line per gap, naming the workflow that sends it."""
    defaults = default_texts()
    senders: dict[str, list[str]] = {event: [] for event in SYSTEM_EVENTS}
    for workflow in workflows:
        for event in workflow.email_events():
            senders.setdefault(event, []).append(workflow.name)
    found = []
    for event, names in senders.items():
        by = f" (sent by workflow {', '.join(names)})" if names else ""
        texts = defaults.get(event)
        if not isinstance(texts, dict):
            found.append(f"{DEFAULTS_FILE}: no texts for the email event '{event}'{by}")
            continue
        for language in languages:
            text = texts.get(language) or {}
            if not (str(text.get("subject") or "").strip() and str(text.get("body") or "").strip()):
                found.append(
                    f"{DEFAULTS_FILE}: {event}.{language}: no subject and body for the email "
                    f"event '{event}' in '{language}'{by}"
                )
    return found


def default_text(event: str, language: str) -> Text:
    """The shipped text of the event. Never another language's, never another event's:
    an English email to someone who chose German is a defect, not a fallback (the texts
    are checked when the definitions load: missing_texts)."""
    texts = default_texts().get(event) or {}
    if language not in texts:
        raise MissingText(f"mail/defaults.yaml: no '{event}' text in '{language}'")
    chosen = texts[language]
    return Text(chosen["subject"], chosen["body"], language)


def text_for(event: str, language: str, form_id: int | None) -> Text:
    """The admin's text for this form, else for every form, else the default. One query
    for both of the admin's: it runs inside the submitting transaction."""
    owners = [EmailTemplate.form_id.is_(None)]
    if form_id is not None:
        owners.append(EmailTemplate.form_id == form_id)
    found = db.session.scalars(
        select(EmailTemplate).where(
            or_(*owners), EmailTemplate.event == event, EmailTemplate.language == language
        )
    ).all()
    if not found:
        return default_text(event, language)
    chosen = min(found, key=lambda t: t.form_id is None)  # the form's own before everyone's
    return Text(chosen.subject, chosen.body, language)


def own_links(template: str, values: dict[str, str]) -> set[str]:
    """What may be a link in an email: the service's own links and the addresses the
    template itself writes (its author's). An applicant's answer is never one: an email in
    the organisation's name must not carry a link a stranger typed."""
    return set(URL.findall(template)) | {values[k] for k in link_names() if values.get(k)}


def to_html(text: str, language: str, title: str, links: Iterable[str] = ()) -> str:
    """The HTML part from the same text: escaped, paragraphs, line breaks, and `links`
    (see own_links) as links; in its language (screen readers pronounce it right) and
    titled with the subject."""
    links = set(links)
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [_linkify(escape(line), links) for line in block.splitlines()]
        paragraphs.append("<p>" + "<br>\n".join(lines) + "</p>")
    return (
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>"
        '<body style="font-family:sans-serif;line-height:1.5">'
        + "\n".join(paragraphs)
        + "</body></html>"
    )


def _linkify(escaped_line: str, links: set[str]) -> str:
    def link(match: re.Match) -> str:
        address, rest = match.group(0), ""
        while address and unescape(address) not in links and address[-1] in ".,;:!?)'":
            address, rest = address[:-1], address[-1] + rest  # "see <link>." ends a sentence
        if unescape(address) not in links:
            return match.group(0)
        return f'<a href="{address}">{address}</a>{rest}'

    return URL.sub(link, escaped_line)
