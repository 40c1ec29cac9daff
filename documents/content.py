"""What a document says, independent of its format: the PDF and the DOCX are two renderings
of one `DocumentContent`, so they never disagree."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from flask_babel import force_locale, format_number
from flask_babel import gettext as _

from forms.fields import format_size
from forms.spec import FormSpec
from models import installation
from moments import local_date, local_time_in, zone_name
from workflows.engine import get_workflow
from workflows.lookup import workflow_of
from workflows.outcome import outcome_of


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
    hint: str = ""  # blank forms: e.g. "Up to 1,000 characters."
    # blank forms: one line to write on per entry, after its label ("" for none)
    write_lines: list[str] = field(default_factory=list)
    whole: bool = False  # kept on one page (one participant, one item of a group)


@dataclass
class Section:
    title: str
    items: list[QuestionAnswer] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)  # after the items


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
    addressee: list[str] = field(default_factory=list)  # letters: to whom, one line each
    place_date: str = ""  # letters: "Łódź, 21 stycznia 2030"
    sign_lines: list[str] = field(default_factory=list)  # blank forms: labelled lines to sign
    # Who runs the installation (models/installation.py), in the page footer once named.
    installation: str = ""

    def __post_init__(self):
        if not self.installation and installation.is_named():
            self.installation = clean(installation.name(self.language))


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
            (_("Submitted"), f"{submitted} ({zone_name(zone, language)})"),
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
            heading=_copy_heading(workflow_of(submission).submissions_are, submission.reference),
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
    return [
        QuestionAnswer(
            f"{label} – {clean(block.item)}", [clean(line) for line in block.lines], whole=True
        )
        if block.item
        else QuestionAnswer(label, clean("\n".join(block.lines)).splitlines())
        for block in field.answer_blocks(value, language)
    ]


CHARACTERS_PER_LINE = 70  # handwriting on A4 between the margins
MOST_LINES = 40  # a longer answer goes on a separate sheet
GROUP_ITEMS_ON_PAPER = 10


def lines_to_write(field) -> int:
    """Writing space in proportion to the longest answer allowed."""
    kind = field.kind
    longest = kind.handwritten_characters(field)
    if not longest:
        return kind.paper_min_lines
    return min(max(-(-longest // CHARACTERS_PER_LINE), kind.paper_min_lines), MOST_LINES)


def _blank_question(item, language: str) -> list[QuestionAnswer]:
    question = clean(item.label(language) or item.text("text", language))
    if item.kind.repeats:
        # One block per item (a participant), each kept on one page.
        item_label = clean(item.text("item_label", language))
        count = min(item.options.get("max", 3), GROUP_ITEMS_ON_PAPER)
        lines = []
        for child in item.children:
            if not child.is_input:
                continue
            label = clean(child.label(language))
            boxes = child.kind.paper_lines(child, language)
            lines.append(f"{label}: " + "   ".join(map(clean, boxes)) if boxes else f"{label}:")
        return [
            QuestionAnswer(f"{question} – {item_label} {n}", [], write_lines=lines, whole=True)
            for n in range(1, count + 1)
        ]
    printed = item.kind.paper_lines(item, language)
    if printed is not None:
        return [QuestionAnswer(question, [clean(line) for line in printed])]
    longest = item.options.get("max_length")
    hint = _("Up to %(count)s characters.", count=format_number(longest)) if longest else ""
    return [QuestionAnswer(question, [], hint=hint, write_lines=[""] * lines_to_write(item))]


def _copy_heading(kind: str, reference: str) -> str:
    """Whole sentences per kind of submission (workflows.engine.SUBMISSION_KINDS), so that
    every language can inflect them."""
    if kind == "registration":
        return _("Registration %(reference)s", reference=reference)
    if kind == "request":
        return _("Request %(reference)s", reference=reference)
    return _("Application %(reference)s", reference=reference)


def _blank_heading(kind: str) -> str:
    if kind == "registration":
        return _("Registration form")
    if kind == "request":
        return _("Request form")
    return _("Application form")


def _decision_heading(kind: str, reference: str) -> str:
    if kind == "registration":
        return _("Decision on registration %(reference)s", reference=reference)
    if kind == "request":
        return _("Decision on request %(reference)s", reference=reference)
    return _("Decision on application %(reference)s", reference=reference)


def blank_form(spec: FormSpec, language: str) -> DocumentContent:
    """The questions with room to answer by hand, where and how to send the form, and lines
    to date and sign it: for people who must fill it in on paper."""
    with force_locale(language):
        closes = local_time_in(spec.closes_at, spec.timezone, language)
        contact = spec.contact
        facts = [
            (_("Organised by"), clean(spec.organisation_name(language))),
            (_("Deadline"), f"{closes} ({zone_name(spec.timezone, language)})"),
            (
                _("Contact"),
                ", ".join(clean(contact[k]) for k in ("name", "email", "phone") if contact.get(k)),
            ),
        ]
        sections = []
        for page in spec.pages:
            section = Section(clean(spec.localise(page.raw.get("title"), language)))
            for item in page.fields:
                if item.is_input:
                    section.items += _blank_question(item, language)
            sections.append(section)
        sending = _how_to_send(spec, language, closes)
        sections.append(Section(_("How to send this form"), paragraphs=sending))
        description = clean(spec.text("description", language))
        return DocumentContent(
            language=language,
            title=clean(spec.text("title", language)),
            organisation=clean(spec.organisation_name(language)),
            heading=_blank_heading(get_workflow(spec.workflow).submissions_are),
            facts=facts,
            intro=[p.strip() for p in description.split("\n\n") if p.strip()],
            sections=sections,
            labels=_labels(),
            sign_lines=[_("Place and date"), _("Signature")],
        )


def _how_to_send(spec: FormSpec, language: str, closes: str) -> list[str]:
    email = clean(spec.contact["email"])
    paragraphs = [
        _(
            "Fill in the form, date and sign it, and send it by %(deadline)s, scanned or "
            "photographed, to %(email)s.",
            deadline=closes,
            email=email,
        )
    ]
    address = clean(spec.organisation_text("address", language)).strip()
    if address:
        paragraphs.append(_("Or send it by post to:") + "\n" + address)
    paragraphs.append(
        _("The form can also be filled in online; questions to %(email)s.", email=email)
    )
    return paragraphs


def decision_letter(
    submission, spec: FormSpec, *, state_label: str, decided_at, paragraphs: list[str]
) -> DocumentContent:
    """A letter about one decision: the facts of the decision, then the letter's text
    (already filled in, in the applicant's language)."""
    language = submission.language
    with force_locale(language):
        contact = spec.contact
        day = local_date(decided_at.astimezone(spec.timezone).date(), language)
        place = clean(spec.organisation_text("place", language)).strip()
        facts = [
            (_("Reference"), submission.reference),
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
            heading=_decision_heading(
                workflow_of(submission).submissions_are, submission.reference
            ),
            facts=facts,
            intro=[clean(p) for p in paragraphs],
            labels=_labels(),
            addressee=_addressee(submission, spec),
            place_date=f"{place}, {day}" if place else day,
        )


def _addressee(submission, spec: FormSpec) -> list[str]:
    """To whom the letter goes: the applicant's name (the call's name question) and email."""
    from forms.applicant_name import applicant_name

    name = clean(applicant_name(spec, submission.answers_by_field())).strip()
    return [line for line in (name, submission.applicant_email or "") if line]
