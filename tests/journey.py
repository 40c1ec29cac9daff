"""A person's journey through a real call, generic over the definitions in forms/definitions/:
what to answer (every question, optional ones too, a file in every file question, several
items in every repeatable group, each branch of every condition), how to answer it in a
browser, and how to read what comes back (pages, emails, PDF and DOCX) for its language.

Nothing here knows a call by name: a call added later is driven the same way, and a call that
exists only in the database (built in the browser) too, read by `call_from_database`."""

from __future__ import annotations

import email
import email.policy
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from forms.conditions import condition_holds
from forms.schema import validate
from forms.spec import FieldSpec, FormSpec
from tests.files import docx as small_docx

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "forms" / "definitions"

# The person who applies, per language: names with the letters a real one has.
PEOPLE = {
    "en": "Emily Clarke",
    "pl": "Zofia Żółkiewska",
    "sv": "Åsa Öberg",
    "de": "Jürgen Weiß",
    "lt": "Rūta Žemaitė",
}
# A minimal real PDF (one page); accepted by the upload checks, readable by pypdf.
ATTACHMENT_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def calls() -> list[FormSpec]:
    """Every call in forms/definitions/, validated as `flask forms load` does."""
    specs = []
    for path in sorted(DEFINITIONS.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        specs.append(FormSpec(validate(raw, path.name)))
    return specs


def call_from_database(database_url: str, slug: str, *, draft: bool = False) -> FormSpec:
    """A call that exists only in the database (built in the browser): its current published
    version's document (or, `draft`, its draft's: what its preview link shows), normalised
    as the app does it (forms.published.spec_for)."""
    import json

    from sqlalchemy import create_engine
    from sqlalchemy import text as sql_text
    from sqlalchemy.pool import NullPool

    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            query = (
                "SELECT d.document FROM forms f JOIN form_drafts d ON d.form_id = f.id "
                "WHERE f.slug = :slug"
                if draft
                else "SELECT v.definition FROM forms f "
                "JOIN form_versions v ON v.id = f.current_version_id WHERE f.slug = :slug"
            )
            definition = connection.execute(sql_text(query), {"slug": slug}).scalar_one()
    finally:
        engine.dispose()
    document = json.loads(definition) if isinstance(definition, str) else definition
    return FormSpec(validate(document, f"{slug} (database)", published=True))


def call_languages() -> list[tuple[str, str]]:
    return [(spec.slug, language) for spec in calls() for language in spec.languages]


def call(slug: str) -> FormSpec:
    return next(spec for spec in calls() if spec.slug == slug)


# ---- what to answer ------------------------------------------------------------------------


def _choices(spec: FieldSpec) -> list[str]:
    return [str(choice["value"]) for choice in spec.options.get("choices", [])]


def revealing_values(spec: FormSpec) -> dict[str, list[str]]:
    """Per controlling field, the values that show some other question, in definition order,
    as a browser posts them (a yes-or-no question's true and false are "yes" and "no")."""
    found: dict[str, list[str]] = {}
    for page in spec.pages:
        for f in _walk(page.fields):
            for name, values in (f.show_if or {}).items():
                if name.startswith(("all", "any", "not")) and isinstance(values, list | dict):
                    continue  # combinators are covered by their leaves below
                wanted = values if isinstance(values, list) else [values]
                for value in wanted:
                    found.setdefault(name, [])
                    posted = {True: "yes", False: "no"}.get(value, value)
                    if str(posted) not in found[name]:
                        found[name].append(str(posted))
    return found


def holds(spec: FormSpec, show_if, answers: dict) -> bool:
    """The server's rule (forms.conditions) on answers as the browser posts them: the app
    stores a yes-or-no answer, and compares it in conditions, as true or false."""
    yesno = {f.name for page in spec.pages for f in _walk(page.fields) if f.type == "yesno"}
    stored = {
        name: {"yes": True, "no": False}.get(value, value) if name in yesno else value
        for name, value in answers.items()
    }
    return condition_holds(show_if, stored)


def _walk(fields: list[FieldSpec]):
    for f in fields:
        yield f
        yield from _walk(f.children)


@dataclass
class Plan:
    """The answers of one journey: `choice` picks, per controlling field, the value to give;
    `change` is the field and value changed from the check page afterwards."""

    language: str
    choice: dict[str, str]
    change: tuple[str, str] | None
    items: int = 2  # items in each repeatable group
    changed: bool = False  # the check page's change has been made

    @property
    def person(self) -> str:
        return PEOPLE.get(self.language, PEOPLE["en"])


def plan_for(spec: FormSpec, language: str) -> Plan:
    """Journey k of a call (k = the language's place) gives each controlling field its k-th
    revealing value and changes the first top-level one to another value from the check page,
    so the calls' languages together walk every branch. A call without such a question changes
    its first text answer instead."""
    k = spec.languages.index(language)
    choice, change = {}, None
    top_level = {f.name for page in spec.pages for f in page.fields}
    for name, values in revealing_values(spec).items():
        choice[name] = values[k % len(values)]
        options = _options_of(spec, name)
        if change is None and name in top_level and len(options) > 1:
            others = [v for v in values if v != choice[name]] or [
                v for v in options if v != choice[name]
            ]
            change = (name, others[0])
    if change is None:
        first_text = next(
            f.name for page in spec.pages for f in page.fields if f.type in ("text", "textarea")
        )
        change = (first_text, "")  # "" : a new text, made by value_for
    return Plan(language, choice, change)


def _options_of(spec: FormSpec, name: str) -> list[str]:
    for page in spec.pages:
        for f in _walk(page.fields):
            if f.name == name:
                if f.type == "yesno":
                    return ["yes", "no"]
                return _choices(f)
    return []


def value_for(f: FieldSpec, plan: Plan, item: int | None = None) -> object:
    """A valid answer to one question, distinct per group item."""
    raw, suffix = f.options, "" if item is None else f" {item + 1}"
    name = f.name
    example = f.kind.example_post(f)
    if example is not None:
        return example  # the type's own valid answer, as posted: {input name suffix: value}
    if f.type in ("text", "textarea"):
        if name.endswith("name") and "first" in name:
            text = plan.person.split()[0] + suffix
        elif name.endswith("name") and "last" in name:
            text = plan.person.split()[-1] + suffix
        elif "contact" in name and name.endswith("name"):
            text = plan.person
        else:
            text = f"Journey answer {name}{suffix}"
        if plan.change == (name, "") and plan.changed:
            text = f"Changed answer {name}"
        low, high = raw.get("min_length") or 0, raw.get("max_length") or 400
        if f.type == "textarea":
            text = (text + ". ") * 6
        if len(text) < low:
            text = (text + " ") * (low // max(len(text), 1) + 1)
        return text[:high].strip()
    if f.type == "email":
        return f"journey-{plan.language}{'' if item is None else item + 1}@example.org"
    if f.type == "phone":
        return "+48 600 100 200"
    if f.type == "number":
        low, high = raw.get("min"), raw.get("max")
        value = 2 if low is None else low
        return value if high is None else min(value, high)
    if f.type == "date":
        # soon after today where the question allows it, else its first allowed day
        wanted = date.today() + timedelta(days=60 + (item or 0))
        low, high = raw.get("min"), raw.get("max")
        if low and wanted < date.fromisoformat(str(low)):
            wanted = date.fromisoformat(str(low))
        if high and wanted > date.fromisoformat(str(high)):
            wanted = date.fromisoformat(str(high))
        return wanted.isoformat()
    if f.type == "choice":
        if name in plan.choice:
            return plan.choice[name]
        return _choices(f)[(item or 0) % len(_choices(f))]
    if f.type == "multichoice":
        return _choices(f)[:2]
    if f.type == "yesno":
        return plan.choice.get(name, "yes")
    if f.type == "consent":
        return True
    if f.type == "file":
        return "file"
    raise AssertionError(f"no journey answer for field type {f.type!r}: teach tests/journey.py")


# ---- answering in the browser -----------------------------------------------------------------


def upload_for(f: FieldSpec) -> dict:
    accepted = f.options.get("accept") or ["pdf"]
    if "pdf" in accepted:
        return {"name": "journey.pdf", "mimeType": "application/pdf", "buffer": ATTACHMENT_PDF}
    if "docx" in accepted:
        return {
            "name": "journey.docx",
            "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "buffer": small_docx(),
        }
    raise AssertionError(f"no journey file for {accepted}")


def set_answer(page, f: FieldSpec, element_id: str, value) -> None:
    if isinstance(value, dict):  # a type's example, by input: chosen or typed as the page asks
        for suffix, text in value.items():
            element = page.locator(f"#{element_id}{suffix}")
            if element.evaluate("e => e.tagName") == "SELECT":
                element.select_option(text)
            else:
                element.fill(text)
        return
    if f.type in ("text", "textarea", "email", "phone", "number", "date"):
        page.locator(f"#{element_id}").fill(str(value))
    elif f.type == "choice" and f.options.get("widget") == "select":
        page.locator(f"#{element_id}").select_option(str(value))
    elif f.type in ("choice", "yesno"):
        page.locator(f'[name="{element_id}"][value="{value}"]').check()
    elif f.type == "multichoice":
        for v in value:
            page.locator(f'[name="{element_id}"][value="{v}"]').check()
    elif f.type == "consent":
        page.locator(f"#{element_id}").check()
    elif f.type == "file":
        page.locator(f"#{element_id}").set_input_files(upload_for(f))
    else:
        raise AssertionError(f"cannot answer a {f.type!r} in the browser")


def is_shown(page, element_id: str) -> bool:
    first = page.locator(f'[name="{element_id}"]').first
    return first.count() > 0 and first.is_visible()


@dataclass
class Journey:
    """One person's way through one call in one language, with what they answered."""

    spec: FormSpec
    plan: Plan
    base: str
    answers: dict = field(default_factory=dict)
    reference: str = ""
    status_link: str = ""
    sent_at: datetime | None = None
    email_override: str = ""
    confirmation: str = ""  # the confirmation page's text
    check_page: str = ""  # "check your answers", as last seen before sending
    state: str = ""  # the state the applicant's page shows, once sent

    @property
    def language(self) -> str:
        return self.plan.language

    @property
    def email(self) -> str:
        if self.email_override:
            return self.email_override
        return value_for(self._field(self.spec.raw["applicant_email_field"]), self.plan)

    def _field(self, name: str) -> FieldSpec:
        for page in self.spec.pages:
            for f in page.fields:
                if f.name == name:
                    return f
        raise KeyError(name)

    def answer_page(self, page, page_spec) -> None:
        """Answer every shown question on the page, checking on the way that each controlling
        answer shows exactly the questions the server's rule shows."""
        for f in page_spec.fields:
            if not f.is_input:
                continue
            if f.type == "group":
                self._answer_group(page, f)
                continue
            if not holds(self.spec, f.show_if, self.answers):
                assert not is_shown(page, f.name), f"{f.name} shows, but its condition is false"
                self.answers.pop(f.name, None)  # a hidden answer counts for nothing
                continue
            if f.name in revealing_values(self.spec):
                self._walk_branches(page, page_spec.fields, f, f.name, {})
            value = value_for(f, self.plan)
            set_answer(page, f, f.name, value)
            self.answers[f.name] = value

    def _walk_branches(self, page, siblings, control, element_id, scope) -> None:
        """Give the controlling question each of its values in turn; after each, the browser
        must show a dependent question exactly when the server's rule holds."""
        options = ["yes", "no"] if control.type == "yesno" else _choices(control)
        for option in options:
            set_answer(page, control, element_id, option)
            answers = {**self.answers, **scope, control.name: option}
            for dependent in siblings:
                if dependent.show_if and control.name in str(dependent.show_if):
                    dep_id = element_id.rsplit(control.name, 1)[0] + dependent.name
                    expected = holds(self.spec, dependent.show_if, answers)
                    page.wait_for_timeout(50)
                    assert is_shown(page, dep_id) == expected, (
                        f"{dep_id} {'hidden' if expected else 'shown'} in the browser when "
                        f"{control.name}={option!r}; the server's rule says "
                        f"{'shown' if expected else 'hidden'}"
                    )

    def _answer_group(self, page, group: FieldSpec) -> None:
        wanted = max(self.plan.items, group.options.get("min") or 1)
        wanted = min(wanted, group.options.get("max") or wanted)
        items = []
        for index in range(wanted):
            if (
                index
                and page.locator(f'[name="{group.name}-{index}-{group.children[0].name}"]').count()
                == 0
            ):
                keep = {k: v for k, v in self.answers.items()}
                with page.expect_navigation():
                    page.locator(f'button[name="action"][value="add-{group.name}"]').click()
                self.answers = keep
            item: dict = {}
            for child in group.children:
                if not child.is_input:
                    continue
                element_id = f"{group.name}-{index}-{child.name}"
                if not holds(self.spec, child.show_if, {**self.answers, **item}):
                    continue
                if any(child.name in str(c.show_if) for c in group.children if c.show_if):
                    self._walk_branches(page, group.children, child, element_id, item)
                value = value_for(child, self.plan, index)
                if child.type == "choice" and child.name not in self.plan.choice:
                    # the first item takes a value that reveals something, the others not
                    revealing = revealing_values(self.spec).get(child.name, [])
                    if revealing and index == 0:
                        value = revealing[0]
                set_answer(page, child, element_id, value)
                item[child.name] = value
            items.append(item)
        self.answers[group.name] = items


# ---- reading what comes back ------------------------------------------------------------------


def typed_answers(journey: Journey) -> list[tuple]:
    """(question, stored value) of each top-level answer given from its type's example."""
    found = []
    for page_spec in journey.spec.pages:
        for f in page_spec.inputs:
            value = journey.answers.get(f.name)
            if isinstance(value, dict) and f.kind.example_post(f) is not None:
                found.append((f, f.kind.stored(f.kind.from_post(value), f, journey.language)))
    return found


def answer_lines(journey: Journey) -> list[str]:
    """What those answers read as on pages, in emails and documents, line by line."""
    return [
        line
        for f, stored in typed_answers(journey)
        for line in f.display(stored, journey.language).splitlines()
    ]


def answers_missing(text: str, lines: list[str]) -> list[str]:
    flat = " ".join(text.replace("\u202f", " ").split())
    return [line for line in lines if " ".join(line.replace("\u202f", " ").split()) not in flat]


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def docx_text(data: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(parts)


def strict_message(raw: bytes) -> email.message.EmailMessage:
    """The message as a strict parser reads it: a malformed header fails here. Its bytes
    stay with it (`raw`) for reading the sender's name as a mail program shows it."""
    message = email.message_from_bytes(raw, policy=email.policy.strict)
    message.raw = raw
    return message


def sender_name(message: email.message.EmailMessage) -> str:
    """The From name as a mail program shows it (tests.conftest_mail.shown_sender_name: Python
    3.11's parser adds a space where an encoded name is folded, CPython gh-128110)."""
    from tests.conftest_mail import shown_sender_name

    return shown_sender_name(message.raw)


def body_text(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the email has no text part"
    return part.get_content()


def attachments(message: email.message.EmailMessage) -> dict[str, bytes]:
    return {
        part.get_filename(): part.get_content()
        for part in message.iter_attachments()
        if part.get_filename()
    }


RAW_PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s|\{\{|\}\}")
# Where a placeholder was filled with nothing: a space before punctuation, punctuation
# doubled, or a line that ends in a colon with nothing after it in a sentence.
EMPTY_PLACEHOLDER = re.compile(r"[^\s]\s+[,;.](?:\s|$)|\(\s*\)|„\s*”|\"\s*\"|:\s*,")


def placeholder_problems(text: str) -> list[str]:
    problems = [f"raw placeholder {m.group(0)!r}" for m in RAW_PLACEHOLDER.finditer(text)]
    for match in EMPTY_PLACEHOLDER.finditer(text):
        start = max(match.start() - 30, 0)
        problems.append(f"empty placeholder near {text[start : match.end() + 10]!r}")
    return problems
