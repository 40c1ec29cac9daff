"""What a document says, independent of its format: the PDF and the DOCX are two renderings
of one `DocumentContent`, so they never disagree."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import gettext as _

from forms.fields import format_size
from forms.spec import FormSpec
from moments import local_date, local_time_in
from services.outcome import outcome_of


def clean(text: str) -> str:
    """Keep what a person typed, minus control characters (XML and PDF text cannot carry
    them); line breaks and tabs stay."""
    return "".join(
        ch for ch in str(text) if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    )


@dataclass
class QuestionAnswer:
    question: str
    answer: list[str]  # lines; empty when unanswered


@dataclass
class Section:
    title: str
    items: list[QuestionAnswer] = field(default_factory=list)


@dataclass
class DocumentContent:
    language: str
    title: str
    organisation: str
    heading: str  # e.g. "Application MSAS-2030-0007"
    facts: list[tuple[str, str]]  # label, value pairs under the heading
    intro: list[str] = field(default_factory=list)  # paragraphs (blank forms, letters)
    sections: list[Section] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # translated words the layout uses


def _labels() -> dict[str, str]:
    return {
        "page": _("Page"),
        "of": _("of"),
        "attachments": _("Attachments"),
        "not_answered": _("Not answered"),
    }


def submission_copy(submission, spec: FormSpec) -> DocumentContent:
    """Every question with its answer in form order, as the applicant sent it."""
    language = submission.language
    answers = submission.answers_by_field()
    with force_locale(language):
        sections = []
        for page in spec.pages:
            title = spec.localise(page.raw.get("title"), language)
            section = Section(clean(title))
            for item in page.fields:
                if not item.is_input or item.name not in answers:
                    continue
                section.items += _question_answers(item, answers[item.name], language)
            if section.items:
                sections.append(section)
        zone = spec.timezone
        submitted = local_time_in(submission.submitted_at, zone, language)
        facts = [
            (_("Reference"), submission.reference),
            (_("Submitted"), f"{submitted} ({zone.key})"),
            (_("Organised by"), clean(spec.organisation_name(language))),
        ]
        if submission.revision > 1:
            facts.append((_("Version"), str(submission.revision)))
        outcome = outcome_of(submission, language)
        facts.append((_("Status"), clean(outcome.state_label)))
        return DocumentContent(
            language=language,
            title=clean(spec.text("title", language)),
            organisation=clean(spec.organisation_name(language)),
            heading=_("Application %(reference)s", reference=submission.reference),
            facts=facts,
            intro=outcome.next_steps,
            sections=sections,
            attachments=[
                f"{clean(a.original_name)} ({format_size(a.size)})" for a in submission.attachments
            ],
            labels=_labels(),
        )


def _question_answers(field, value, language: str) -> list[QuestionAnswer]:
    label = clean(field.label(language) or field.text("text", language))
    if field.type != "group":
        return [QuestionAnswer(label, clean(field.display(value, language)).splitlines())]
    item_label = clean(field.text("item_label", language))
    result = []
    for number, item in enumerate(value or [], start=1):
        lines = [
            clean(f"{child.label(language)}: {child.display(item[child.name], language)}")
            for child in field.children
            if child.is_input and child.name in item
        ]
        result.append(QuestionAnswer(f"{label} – {item_label} {number}", lines))
    return result


def blank_form(spec: FormSpec, language: str) -> DocumentContent:
    """The questions with space to answer, for people who must fill the form in offline."""
    with force_locale(language):
        closes = local_time_in(spec.closes_at, spec.timezone, language)
        contact = spec.contact
        facts = [
            (_("Organised by"), clean(spec.organisation_name(language))),
            (_("Deadline"), f"{closes} ({spec.timezone.key})"),
            (
                _("Contact"),
                ", ".join(clean(contact[k]) for k in ("name", "email", "phone") if contact.get(k)),
            ),
        ]
        sections = []
        for page in spec.pages:
            section = Section(clean(spec.localise(page.raw.get("title"), language)))
            for item in page.fields:
                if not item.is_input:
                    continue
                question = clean(item.label(language) or item.text("text", language))
                hint = []
                if item.type in ("choice", "multichoice"):
                    hint = [
                        "☐ " + clean(label) for _v, label in item.kind.choice_pairs(item, language)
                    ]
                elif item.type == "yesno":
                    hint = ["☐ " + _("Yes"), "☐ " + _("No")]
                elif item.type == "consent":
                    hint = ["☐ " + clean(item.text("text", language))]
                elif item.type == "group":
                    # Each item of a group asks its own questions: name them with room.
                    hint = [
                        clean(f"{child.label(language)}: ") + "_" * 30
                        for child in item.children
                        if child.is_input
                    ]
                section.items.append(QuestionAnswer(question, hint))
            sections.append(section)
        description = clean(spec.text("description", language))
        return DocumentContent(
            language=language,
            title=clean(spec.text("title", language)),
            organisation=clean(spec.organisation_name(language)),
            heading=_("Application form"),
            facts=facts,
            intro=[p.strip() for p in description.split("\n\n") if p.strip()],
            sections=sections,
            labels=_labels(),
        )


def decision_letter(
    submission, spec: FormSpec, *, state_label: str, decided_at, paragraphs: list[str]
) -> DocumentContent:
    """A letter about one decision: the facts of the decision, then the letter's text
    (already filled in, in the applicant's language)."""
    language = submission.language
    with force_locale(language):
        contact = spec.contact
        facts = [
            (_("Reference"), submission.reference),
            (_("Date"), local_date(decided_at.astimezone(spec.timezone).date(), language)),
            (_("Decision"), clean(state_label)),
            (_("Organised by"), clean(spec.organisation_name(language))),
            (
                _("Contact"),
                ", ".join(clean(contact[k]) for k in ("name", "email", "phone") if contact.get(k)),
            ),
        ]
        return DocumentContent(
            language=language,
            title=clean(spec.text("title", language)),
            organisation=clean(spec.organisation_name(language)),
            heading=_("Decision on application %(reference)s", reference=submission.reference),
            facts=facts,
            intro=[clean(p) for p in paragraphs],
            labels=_labels(),
        )
