"""Placeholders: the `{name}`s admins write in email texts and organisers in decision
letters. Each is one class here: its name, what it is (translated: the admin page and the
docs read it), where it may be used (emails, letters) and how its value is rendered from
the facts of one message (`render(context)`).

Nothing is evaluated: `{name}` is replaced by the rendered string, with no expressions,
attributes or filters, so a text can reach nothing but these values.

The context is a mapping of plain facts the caller knows (the mail and document layers):
`language` always; the rest as each placeholder says in `needs`. A fact that is missing
renders as an empty string, as does a placeholder of another use."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from moments import local_date, local_time_in

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
EMAIL, LETTER = "email", "letter"
USES = (EMAIL, LETTER)


class Placeholder:
    name: ClassVar[str]
    description: ClassVar[Any]  # a lazy translation: rendered in the reader's language
    used_in: ClassVar[frozenset[str]] = frozenset({EMAIL})
    needs: ClassVar[tuple[str, ...]] = ()  # the facts it is made of (default: its own name)
    own_link: ClassVar[bool] = False  # the service's own link: the only values made links

    def render(self, context: Mapping[str, Any]) -> str:
        value = context.get(self.needs[0] if self.needs else self.name)
        return "" if value is None else str(value)


REGISTRY: dict[str, Placeholder] = {}


def placeholder(cls: type[Placeholder]) -> type[Placeholder]:
    """Register the class; its name must be new (one placeholder, one place)."""
    if cls.name in REGISTRY:
        raise ValueError(f"placeholder '{cls.name}' is registered twice")
    REGISTRY[cls.name] = cls()
    return cls


def of(use: str) -> dict[str, Placeholder]:
    """The placeholders a text of this use (EMAIL or LETTER) may contain, in order."""
    return {name: p for name, p in REGISTRY.items() if use in p.used_in}


def names(use: str) -> tuple[str, ...]:
    return tuple(of(use))


def descriptions(use: str) -> dict[str, str]:
    """Name → what it is, in the current locale (the admin page, the docs)."""
    return {name: str(p.description) for name, p in of(use).items()}


def values(context: Mapping[str, Any], use: str) -> dict[str, str]:
    """Every placeholder of the use, rendered from the context."""
    return {name: p.render(context) for name, p in of(use).items()}


def fill(text: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), text)


def link_names() -> tuple[str, ...]:
    return tuple(name for name, p in REGISTRY.items() if p.own_link)


def problems(subject: str, body: str, use: str = EMAIL) -> list[str]:
    """What is wrong with a text: checked when an admin saves an email text and when a
    definition's letters load."""
    allowed = set(names(use))
    found = []
    for part in (subject, body):
        unknown = sorted(set(PLACEHOLDER.findall(part)) - allowed)
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


# --- the placeholders ----------------------------------------------------------------------


@placeholder
class Reference(Placeholder):
    name = "reference"
    description = _l("the submission's reference, e.g. MSAS-2030-0007")
    used_in = frozenset({EMAIL, LETTER})


@placeholder
class Greeting(Placeholder):
    name = "greeting"
    description = _l(
        "the greeting line: the contact person's name where the call asks for it "
        "(Hello Anna Nowak,), else a neutral one (Hello,)"
    )
    needs = ("greet", "language")

    def render(self, context):
        return greeting(context.get("greet") or "", context["language"])


@placeholder
class Name(Placeholder):
    name = "name"
    description = _l("the applicant's name (or email when the form asks no name)")
    used_in = frozenset({EMAIL, LETTER})
    needs = ("person", "email")

    def render(self, context):
        return context.get("person") or context.get("email") or ""


@placeholder
class FormTitle(Placeholder):
    name = "form_title"
    description = _l("the call's title")
    used_in = frozenset({EMAIL, LETTER})


@placeholder
class Organisation(Placeholder):
    name = "organisation"
    description = _l("the organising body")
    used_in = frozenset({EMAIL, LETTER})


@placeholder
class ContactName(Placeholder):
    name = "contact_name"
    description = _l("the call's contact person")
    used_in = frozenset({LETTER})


@placeholder
class ContactEmail(Placeholder):
    name = "contact_email"
    description = _l("the call's contact address")
    used_in = frozenset({EMAIL, LETTER})


@placeholder
class InstallationName(Placeholder):
    # Given by the mail and document layers (models/installation.py), which may read it.
    name = "installation"
    description = _l("the name of the organisation running this service")
    used_in = frozenset({EMAIL, LETTER})


@placeholder
class StatusLink(Placeholder):
    name = "status_link"
    description = _l("the applicant's private link to their submission")
    own_link = True


@placeholder
class State(Placeholder):
    name = "state"
    description = _l("the new state, e.g. Accepted")
    used_in = frozenset({EMAIL, LETTER})


@placeholder
class Comment(Placeholder):
    name = "comment"
    description = _l("the reviewer's message to the applicant (may be empty)")
    used_in = frozenset({EMAIL, LETTER})


@placeholder
class Deadline(Placeholder):
    name = "deadline"
    description = _l("the call's closing time")
    needs = ("closes_at", "timezone", "language")

    def render(self, context):
        return local_time_in(context.get("closes_at"), context.get("timezone"), context["language"])


@placeholder
class Answers(Placeholder):
    name = "answers"
    description = _l("a summary of the answers")


@placeholder
class Outcome(Placeholder):
    name = "outcome"
    description = _l("what happened, as a heading, e.g. You are on the waiting list")


@placeholder
class NextSteps(Placeholder):
    name = "next_steps"
    description = _l("what happens next, e.g. the place on the waiting list")


@placeholder
class ScheduledFor(Placeholder):
    name = "scheduled_for"
    description = _l("the date agreed for a request")
    needs = ("scheduled_on", "language")

    def render(self, context):
        day = context.get("scheduled_on")
        return local_date(day, context["language"]) if day else ""


@placeholder
class OfferDeadline(Placeholder):
    name = "offer_deadline"
    description = _l("until when an offered place must be confirmed")
    needs = ("offer_expires_at", "timezone", "language")

    def render(self, context):
        until = context.get("offer_expires_at")
        return local_time_in(until, context.get("timezone"), context["language"]) if until else ""


@placeholder
class DecisionDate(Placeholder):
    name = "date"
    description = _l("the day of the decision")
    used_in = frozenset({LETTER})
    needs = ("decided_on", "language")

    def render(self, context):
        day = context.get("decided_on")
        return local_date(day, context["language"]) if day else ""


@placeholder
class ResumeLink(Placeholder):
    name = "resume_link"
    description = _l("the link to continue saved answers")
    own_link = True


@placeholder
class ReviewLink(Placeholder):
    name = "review_link"
    description = _l("the dashboard link for reviewers")
    own_link = True


@placeholder
class Count(Placeholder):
    name = "count"
    description = _l("number of submissions in a digest")


@placeholder
class Submissions(Placeholder):
    name = "submissions"
    description = _l("list of submissions in a digest")


@placeholder
class AccountLink(Placeholder):
    name = "account_link"
    description = _l("the single-use link of a staff invitation or password reset")
    own_link = True


@placeholder
class Inviter(Placeholder):
    name = "inviter"
    description = _l("the admin who invited the person")


@placeholder
class ReviewDeadline(Placeholder):
    name = "review_deadline"
    description = _l("the call's review deadline (reminders to reviewers)")
    needs = ("review_due_on", "language")

    def render(self, context):
        day = context.get("review_due_on")
        return local_date(day, context["language"]) if day else ""


def table(use: str, language: str) -> list[tuple[str, str]]:
    """(placeholder, description) rows for the docs, in `language`."""
    with force_locale(language):
        return [("{" + name + "}", str(p.description)) for name, p in of(use).items()]
