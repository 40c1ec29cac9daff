"""Admins' email texts: per form (or for all forms), per event and per language.

What a message says is decided when it is queued (mail.outbox.enqueue → mail.texts.text_for):
the form's own text, else the text for all forms, else the default in mail/defaults.yaml.
A text is plain `{placeholder}` substitution — nothing is evaluated — and it is checked when
saved, so an unknown placeholder or a stray brace never reaches an applicant.

Each change is one transaction with an audit entry (`email_template.saved`,
`email_template.reset`)."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError

from config import LANGUAGES
from extensions import db
from forms import placeholders
from forms.placeholders import EMAIL, PLACEHOLDER, fill, problems
from forms.published import spec_for
from forms.spec import FormSpec
from mail.links import absolute_url
from mail.texts import (
    SYSTEM_EVENTS,
    default_text,
    own_links,
    text_for,
    to_html,
    workflow_events,
)
from models import AuditEntry, EmailTemplate, Form, User, installation
from models.types import utcnow
from workflows.engine import Workflow, get_workflow, known_workflows
from workflows.lookup import workflow_of_version

MAX_SUBJECT_LENGTH = 300  # the outbox column
MAX_BODY_LENGTH = 20_000
# `{…}` with anything but braces and line breaks inside: a placeholder or an attempt at one.
BRACED = re.compile(r"\{[^{}\n]*\}")
SAMPLE_TOKEN = "example-private-link"  # noqa: S105 (a made-up link in previews)

# Emails about no single form (digests, staff invitations and password resets are queued
# without one): they have only a text for all forms.
ALL_FORMS_ONLY_EVENTS = ("digest", "invitation", "password_reset")
# Emails to reviewers, written in each one's language (services.users.language_of).
REVIEWER_EVENTS = ("new_submission", "digest")

# Where the text in use comes from.
OWN, ALL_FORMS, DEFAULT = "form", "all", "default"


class UnknownText(LookupError):
    """No such form, event or language: the page does not exist."""


class TemplateRefused(ValueError):
    """The text cannot be saved; `errors` holds messages by field (subject, body), in the
    admin's language."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for messages in errors.values() for m in messages))
        self.errors = errors


@dataclass(frozen=True)
class Scope:
    """Whose texts: one form (`form_id`) or every form (`form_id` None)."""

    form_id: int | None
    title: str
    languages: tuple[str, ...]
    spec: FormSpec | None = None
    slug: str = ""


@dataclass
class Cell:
    language: str
    source: str  # OWN, ALL_FORMS or DEFAULT


@dataclass
class EventRow:
    event: str
    cells: list[Cell]


@dataclass
class ScopeOverview:
    scope: Scope
    rows: list[EventRow]
    own_count: int


@dataclass
class CurrentText:
    subject: str
    body: str
    source: str  # OWN, ALL_FORMS or DEFAULT


@dataclass
class Preview:
    subject: str
    text: str
    html: str
    values: dict[str, str] = field(default_factory=dict)


# --- reading ---------------------------------------------------------------------------------


def _spec_of(form: Form) -> FormSpec | None:
    version = form.current_version or (form.versions[-1] if form.versions else None)
    return spec_for(version) if version is not None else None


def _form_scope(form: Form, language: str) -> Scope | None:
    spec = _spec_of(form)
    if spec is None:
        return None
    return Scope(
        form_id=form.id,
        title=spec.text("title", language),
        languages=tuple(spec.languages),
        spec=spec,
        slug=form.slug,
    )


def all_forms_scope() -> Scope:
    """The texts every form shares: in every language of the installation; a form's own
    texts are offered in the form's languages."""
    return Scope(form_id=None, title=_("All forms"), languages=tuple(LANGUAGES))


def scopes(language: str) -> list[Scope]:
    """ "All forms" first, then each form by its address (slug)."""
    found = [all_forms_scope()]
    for form in db.session.scalars(select(Form).order_by(Form.slug)):
        scope = _form_scope(form, language)
        if scope is not None:
            found.append(scope)
    return found


def _workflows_of(form_id: int | None) -> list[Workflow]:
    """The workflow a form's current version follows; for all forms, every workflow."""
    if form_id is None:
        return [get_workflow(name) for name in sorted(known_workflows())]
    form = db.session.get(Form, form_id)
    if form is None:
        return []
    version = form.current_version or (form.versions[-1] if form.versions else None)
    return [workflow_of_version(version)] if version is not None else []


def events_of(form_id: int | None) -> tuple[str, ...]:
    """The service's own events and those the workflow sends (its `email:<event>`)."""
    own = workflow_events(_workflows_of(form_id))
    if form_id is None:
        return (*SYSTEM_EVENTS, *own)
    return (*(e for e in SYSTEM_EVENTS if e not in ALL_FORMS_ONLY_EVENTS), *own)


def event_names(form_id: int | None, language: str) -> dict[str, str]:
    """What each event is, for admins: the service's own named here, a workflow's by the
    transitions that send it and the state they lead to (from the definition)."""
    names = {
        "receipt": _("Receipt to the applicant"),
        "resume": _("Link to continue saved answers"),
        "new_submission": _("New submission, to reviewers"),
        "digest": _("Daily digest, to reviewers"),
    }
    for workflow in _workflows_of(form_id):
        for event in workflow.email_events():
            described = [
                f"{step.title(language)} → {workflow.state_label(step.target, language)}"
                for step in workflow.transitions_sending(event)
            ]
            known = names.get(event)
            names[event] = "; ".join(
                dict.fromkeys([*(known.split("; ") if known else []), *described])
            )
    return names


def find_scope(form_id: int | None, event: str, language: str, ui_language: str) -> Scope:
    """The scope of one text, or UnknownText when the form, event or language is not one
    that can have a text."""
    if event not in events_of(form_id):
        raise UnknownText(event)
    if form_id is None:
        scope = all_forms_scope()
    else:
        form = db.session.get(Form, form_id)
        scope = _form_scope(form, ui_language) if form is not None else None
    if scope is None or language not in scope.languages:
        raise UnknownText(f"{form_id}/{event}/{language}")
    return scope


def overview(ui_language: str) -> list[ScopeOverview]:
    """For every scope × event × language: whose text is used (the form's own, the one for
    all forms, or the default)."""
    written = {
        (row.form_id, row.event, row.language)
        for row in db.session.execute(
            select(EmailTemplate.form_id, EmailTemplate.event, EmailTemplate.language)
        )
    }
    result = []
    for scope in scopes(ui_language):
        rows, own = [], 0
        for event in events_of(scope.form_id):
            cells = []
            for language in scope.languages:
                if scope.form_id is not None and (scope.form_id, event, language) in written:
                    source = OWN
                elif (None, event, language) in written:
                    source = OWN if scope.form_id is None else ALL_FORMS
                else:
                    source = DEFAULT
                own += source == OWN
                cells.append(Cell(language, source))
            rows.append(EventRow(event, cells))
        result.append(ScopeOverview(scope, rows, own))
    return result


def _own(form_id: int | None, event: str, language: str) -> EmailTemplate | None:
    return db.session.scalar(
        select(EmailTemplate)
        .where(
            EmailTemplate.form_id.is_(None)
            if form_id is None
            else EmailTemplate.form_id == form_id,
            EmailTemplate.event == event,
            EmailTemplate.language == language,
        )
        .order_by(EmailTemplate.id)
        .limit(1)
    )


def current_text(scope: Scope, event: str, language: str) -> CurrentText:
    """The text a message queued now would use (mail.texts.text_for), and where it comes
    from."""
    used = text_for(event, language, scope.form_id)
    if _own(scope.form_id, event, language) is not None:
        source = OWN
    elif scope.form_id is not None and _own(None, event, language) is not None:
        source = ALL_FORMS
    else:
        source = DEFAULT
    return CurrentText(used.subject, used.body, source)


def default_for(event: str, language: str) -> CurrentText:
    shipped = default_text(event, language)
    return CurrentText(shipped.subject, shipped.body, DEFAULT)


# --- checking --------------------------------------------------------------------------------


def normalise(subject: str, body: str) -> tuple[str, str]:
    """What a browser sends, as stored: no surrounding spaces in the subject, `\\n` line
    ends in the body."""
    return (subject or "").strip(), (body or "").replace("\r\n", "\n").replace("\r", "\n")


def _shown(items: list[str], limit: int = 5) -> str:
    shown = [item if len(item) <= 40 else item[:39] + "…" for item in items[:limit]]
    return ", ".join(shown) + (", …" if len(items) > limit else "")


def check(subject: str, body: str) -> dict[str, list[str]]:
    """Messages by field for what cannot be saved. forms.placeholders.problems() is the rule (the
    same check the outbox relies on); this says, beside each field, what is wrong."""
    errors: dict[str, list[str]] = {}
    for name, part in (("subject", subject), ("body", body)):
        messages = []
        if not part.strip():
            messages.append(
                _("Write a subject.") if name == "subject" else _("Write the text of the email.")
            )
        limit = MAX_SUBJECT_LENGTH if name == "subject" else MAX_BODY_LENGTH
        if len(part) > limit:
            messages.append(_("Use at most %(max)d characters.", max=limit))
        found = problems(part, "") if name == "subject" else problems("", part)
        if found:
            unknown = sorted(
                {
                    braced
                    for braced in BRACED.findall(part)
                    if not PLACEHOLDER.fullmatch(braced)
                    or braced[1:-1] not in placeholders.names(EMAIL)
                }
            )
            if unknown:
                messages.append(
                    _(
                        "Not a placeholder you can use: %(placeholders)s. "
                        "Use only the placeholders listed on this page.",
                        placeholders=_shown(unknown),
                    )
                )
            if "{" in BRACED.sub("", part) or "}" in BRACED.sub("", part):
                messages.append(
                    _(
                        "A brace { or } that is not part of a placeholder: remove it, or "
                        "write a placeholder from the list, such as {reference}."
                    )
                )
            if name == "subject" and ("\n" in part or "\r" in part):
                messages.append(_("The subject must be one line."))
            if not messages:  # problems() found something the messages above do not name
                messages.append(_("This text cannot be used: %(problem)s", problem=found[0]))
        if messages:
            errors[name] = messages
    return errors


# --- changing --------------------------------------------------------------------------------


def _serialise(form_id: int | None, event: str, language: str) -> None:
    """Two admins saving the same text at once: the second waits for the first. (The
    unique constraint does not cover "all forms" on PostgreSQL, where NULLs differ.)"""
    if db.session.get_bind().dialect.name != "postgresql":
        return  # SQLite allows one writer at a time
    key = zlib.crc32(f"email_template:{form_id}:{event}:{language}".encode())
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _audit(user: User, action: str, scope: Scope, event: str, language: str) -> None:
    db.session.add(
        AuditEntry(
            form_id=scope.form_id,
            action=action,
            actor_type=user.role,
            actor_id=user.id,
            data={"event": event, "language": language, "all_forms": scope.form_id is None},
        )
    )


def save_template(
    user: User, scope: Scope, event: str, language: str, subject: str, body: str
) -> EmailTemplate:
    """Store the admin's text for this scope, event and language (replacing theirs), after
    checking it. Raises TemplateRefused with messages by field."""
    if not user.is_admin:
        raise PermissionError("only admins change email texts")
    subject, body = normalise(subject, body)
    errors = check(subject, body)
    if errors:
        raise TemplateRefused(errors)
    for attempt in (1, 2):
        try:
            _serialise(scope.form_id, event, language)
            row = _own(scope.form_id, event, language)
            if row is None:
                row = EmailTemplate(form_id=scope.form_id, event=event, language=language)
                db.session.add(row)
            row.subject, row.body, row.updated_at = subject, body, utcnow()
            _audit(user, "email_template.saved", scope, event, language)
            db.session.commit()
            return row
        except IntegrityError:  # a concurrent first save of the same text won: update it
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def reset_template(user: User, scope: Scope, event: str, language: str) -> bool:
    """Delete this scope's own text, so the one for all forms or the default is used
    again. False when there was none."""
    if not user.is_admin:
        raise PermissionError("only admins change email texts")
    _serialise(scope.form_id, event, language)
    deleted = db.session.execute(
        delete(EmailTemplate).where(
            EmailTemplate.form_id.is_(None)
            if scope.form_id is None
            else EmailTemplate.form_id == scope.form_id,
            EmailTemplate.event == event,
            EmailTemplate.language == language,
        )
    ).rowcount
    if deleted:
        _audit(user, "email_template.reset", scope, event, language)
    db.session.commit()
    return bool(deleted)


# --- preview ---------------------------------------------------------------------------------


def sample_values(scope: Scope, language: str) -> dict[str, str]:
    """A value for every placeholder, in the email's language, as a real message would
    have them (the form's own title, organisation, contact and deadline when there is one)."""
    spec = scope.spec
    now = utcnow().replace(second=0, microsecond=0)
    zone = spec.timezone if spec else UTC
    prefix = (spec.raw.get("reference_prefix") if spec else None) or "CALL"
    reference = f"{prefix}-{now.year}-0007"
    with force_locale(language):
        title = spec.text("title", language) if spec else _("Example call")
        facts = {
            "language": language,
            "reference": reference,
            "greet": "Maria Nowak",
            "person": "Maria Nowak",
            "form_title": title,
            "organisation": spec.organisation_name(language) if spec else _("Example organisation"),
            "contact_email": spec.contact["email"] if spec else "calls@example.org",
            "installation": installation.name(language),
            "status_link": absolute_url("applicant.status", token=SAMPLE_TOKEN),
            "state": _("Accepted"),
            "outcome": _("Application received"),  # workflows.outcome: per workflow state
            "next_steps": _("The organiser will tell you what happens next."),
            "comment": _("Thank you, we look forward to working with you."),
            "closes_at": spec.closes_at if spec else now + timedelta(days=30),
            "timezone": zone,
            "answers": "\n".join(
                [
                    "- " + _("Contact person") + ": Maria Nowak",
                    "- " + _("Email address") + ": maria.nowak@example.org",
                ]
            ),
            "scheduled_on": (now.astimezone(zone) + timedelta(days=14)).date(),
            "offer_expires_at": now + timedelta(days=3),
            "resume_link": absolute_url("public.resume", token=SAMPLE_TOKEN),
            "review_link": absolute_url("review.show", submission_id=7),
            "count": 2,
            "submissions": f"- {reference}: {title}\n- {prefix}-{now.year}-0008: {title}",
        }
        return placeholders.values(facts, EMAIL)


def preview(scope: Scope, language: str, subject: str, body: str) -> Preview:
    """The message as it would be queued (mail.outbox.enqueue), with sample values."""
    subject, body = normalise(subject, body)
    values = sample_values(scope, language)
    filled = fill(body, values)
    subject = " ".join(fill(subject, values).split())[:MAX_SUBJECT_LENGTH]
    return Preview(
        subject=subject,
        text=filled,
        html=to_html(filled, language, subject, own_links(body, values)),
        values=values,
    )
