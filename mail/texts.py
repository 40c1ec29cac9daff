"""Email texts: the defaults in mail/defaults.yaml, admins' overrides per form, event and
language, and placeholder filling. Placeholders are plain `{name}` substitutions — no
expressions, attributes or filters — so an admin's template cannot reach anything but the
values given to it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from html import escape, unescape
from pathlib import Path

import yaml
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from extensions import db
from models import EmailTemplate

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
PLACEHOLDERS = {
    "reference": "the submission's reference, e.g. MSAS-2030-0007",
    "greeting": "the greeting line: the contact person's name where the call asks for it "
    "(Hello Anna Nowak,), else a neutral one (Hello,)",
    "name": "the applicant's name (or email when the form asks no name)",
    "form_title": "the call's title",
    "organisation": "the organising body",
    "contact_email": "the call's contact address",
    "status_link": "the applicant's private link to their submission",
    "state": "the new state, e.g. Accepted",
    "comment": "the reviewer's message to the applicant (may be empty)",
    "deadline": "the call's closing time",
    "answers": "a summary of the answers",
    "outcome": "what happened, as a heading, e.g. You are on the waiting list",
    "next_steps": "what happens next, e.g. the place on the waiting list",
    "scheduled_for": "the date agreed for a request",
    "offer_deadline": "until when an offered place must be confirmed",
    "resume_link": "the link to continue saved answers",
    "review_link": "the dashboard link for reviewers",
    "count": "number of submissions in a digest",
    "submissions": "list of submissions in a digest",
    "account_link": "the single-use link of a staff invitation or password reset",
    "inviter": "the admin who invited the person",
}
# Events a transition can name (`email:<event>`) use the `decision` text unless an admin
# wrote one for the event itself.
EVENTS = (
    "receipt",
    "resume",
    "new_submission",
    "digest",
    "offered",
    "accepted",
    "waitlisted",
    "rejected",
    "promoted",
    "completion_requested",
    "withdrawn",
    "scheduled",
    "declined",
    "cancelled",
    "confirmed",
    "offer_expired",
    "reopened",
)
DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")
URL = re.compile(r"https?://[^\s<>\"]+")
# The placeholders whose values are the service's own links: the only values made links.
LINK_PLACEHOLDERS = ("status_link", "resume_link", "review_link", "account_link")


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


def default_text(event: str, language: str) -> Text:
    """The shipped text; an event without its own uses `decision`. Never another language's:
    an English email to someone who chose German is a defect, not a fallback."""
    defaults = default_texts()
    texts = defaults.get(event) or defaults["decision"]
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


def problems(subject: str, body: str, allowed: Iterable[str] = PLACEHOLDERS) -> list[str]:
    """What is wrong with an admin's text; checked when it is saved. `allowed` names the
    placeholders the text may use (decision letters have their own)."""
    found = []
    for part in (subject, body):
        unknown = sorted(set(PLACEHOLDER.findall(part)) - set(allowed))
        if unknown:
            found.append("unknown placeholder(s): " + ", ".join("{" + u + "}" for u in unknown))
        stripped = PLACEHOLDER.sub("", part)
        if "{" in stripped or "}" in stripped:
            found.append("a brace that is not part of a {placeholder}")
    if "\n" in subject or "\r" in subject:
        found.append("the subject must be one line")
    return sorted(set(found))


def greeting(name: str, language: str) -> str:
    """The greeting line in `language`, with the person's name when known."""
    with force_locale(language):
        return _("Hello %(name)s,", name=name) if name else _("Hello,")


def fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), text)


def own_links(template: str, values: dict[str, str]) -> set[str]:
    """What may be a link in an email: the service's own links and the addresses the
    template itself writes (its author's). An applicant's answer is never one: an email in
    the organisation's name must not carry a link a stranger typed."""
    return set(URL.findall(template)) | {values[k] for k in LINK_PLACEHOLDERS if values.get(k)}


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
