"""The declared schema of a call's top-level settings: every key of a definition except
its pages (which the questions builder edits), with its kind, whether publishing needs it,
the builder section (page) that edits it, its label and what it means.

The builder's settings pages (web/builder/settings.py) are generated from this list: a page
shows the settings of its section in this order, each with the input of its kind, reads
them back the same way and shows each problem of `forms.schema.check` beside the setting
its path names. A key added to `forms.schema.TOP_KEYS` must be declared here too
(tests/test_builder_calls.py checks that every key but `pages` is).

Kinds:
  text      a text in each of the call's languages ({language: words})
  longtext  the same, written in several lines
  string    one line, the same in every language
  email     an email address
  url       a web address
  prefix    2–8 capital letters
  whole     a whole number (absent when left empty)
  truth     yes or no
  languages the languages offered (a list)
  language  one of the call's languages
  timezone  an IANA time zone name
  moment    a date and a time in the call's time zone ("2027-01-21T23:59")
  date      a date ("2027-03-14")
  workflow  the name of a workflow (workflows/definitions)
  question  the key of a question of the types in `types`
  rubric    a list of {key, label per language, weight}
  letters   a text per language for each state of the workflow that sends a letter
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

SECTIONS = ("details", "languages", "dates", "places", "next")


@dataclass(frozen=True)
class CallSetting:
    key: str  # a top-level key, or "organisation.name" for a key inside one
    kind: str
    section: str
    label: object  # a lazy translation
    required: bool = False
    doc: object = ""  # a lazy translation: the hint under the label
    types: tuple[str, ...] = ()  # for kind "question": the question types it may name
    minimum: int | None = None
    maximum: int | None = None
    default: object = None  # what an absent value means (shown, not stored)

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.key.split("."))

    @property
    def top(self) -> str:
        return self.path[0]


SETTINGS: tuple[CallSetting, ...] = (
    # --- Call details ---------------------------------------------------------------------
    CallSetting("title", "text", "details", _l("Title"), required=True),
    CallSetting(
        "description",
        "longtext",
        "details",
        _l("Description"),
        doc=_l("Shown on the call's page, under its title."),
    ),
    CallSetting(
        "reference_prefix",
        "prefix",
        "details",
        _l("Reference prefix"),
        required=True,
        doc=_l("2–8 capital letters that start every reference number, like MSAS-2027-0001."),
    ),
    CallSetting("organisation.name", "text", "details", _l("Organisation name"), required=True),
    CallSetting("organisation.website", "url", "details", _l("Organisation website")),
    CallSetting(
        "organisation.place",
        "text",
        "details",
        _l("Place"),
        doc=_l("Where letters are written from, like Łódź."),
    ),
    CallSetting(
        "organisation.address",
        "longtext",
        "details",
        _l("Postal address"),
        doc=_l("Where a paper form is posted."),
    ),
    CallSetting("contact.name", "string", "details", _l("Contact name")),
    CallSetting("contact.email", "email", "details", _l("Contact email"), required=True),
    CallSetting("contact.phone", "string", "details", _l("Contact phone")),
    CallSetting(
        "applicant_email_field",
        "question",
        "details",
        _l("The applicant's email address"),
        types=("email",),
        doc=_l("The question whose answer receives the receipt and every email."),
    ),
    CallSetting(
        "applicant_name_field",
        "question",
        "details",
        _l("The applicant's name"),
        types=("text",),
        doc=_l("The question whose answer greets the applicant in emails and letters."),
    ),
    # --- Languages ------------------------------------------------------------------------
    CallSetting(
        "languages",
        "languages",
        "languages",
        _l("Languages offered"),
        required=True,
        doc=_l(
            "Every text of the call must be written in each language offered. Taking a "
            "language out keeps its texts, so that adding it back restores them."
        ),
    ),
    CallSetting(
        "default_language",
        "language",
        "languages",
        _l("Default language"),
        required=True,
        doc=_l("The language of a visitor whose browser asks for none of the call's."),
    ),
    # --- Dates ----------------------------------------------------------------------------
    CallSetting("timezone", "timezone", "dates", _l("Time zone"), required=True),
    CallSetting("opens_at", "moment", "dates", _l("Opens"), required=True),
    CallSetting("closes_at", "moment", "dates", _l("Closes"), required=True),
    CallSetting(
        "grace_minutes",
        "whole",
        "dates",
        _l("Grace period in minutes"),
        minimum=0,
        maximum=1440,
        doc=_l(
            "How long after closing a submission that was started in time is still taken. "
            "Leave empty for the installation's default."
        ),
    ),
    CallSetting("event.start", "date", "dates", _l("Event starts")),
    CallSetting("event.end", "date", "dates", _l("Event ends")),
    CallSetting(
        "event.location",
        "text",
        "dates",
        _l("Event location"),
        doc=_l("For an event people register for: receipts then carry a calendar file."),
    ),
    # --- Places ---------------------------------------------------------------------------
    CallSetting(
        "capacity",
        "whole",
        "places",
        _l("Places"),
        minimum=1,
        doc=_l("How many applications (or seats) can be accepted. Leave empty for no limit."),
    ),
    CallSetting(
        "seats_field",
        "question",
        "places",
        _l("Question that counts seats"),
        types=("number", "group"),
        doc=_l(
            "A number question (how many people) or a group (one seat per entry). Without "
            "one, each submission takes one place."
        ),
    ),
    # --- What happens next ----------------------------------------------------------------
    CallSetting("workflow", "workflow", "next", _l("Workflow"), required=True),
    CallSetting(
        "rubric",
        "rubric",
        "next",
        _l("Scoring criteria"),
        doc=_l(
            "Reviewers score each submission 1–5 on each criterion; the list shows the "
            "weighted mean. A key is lowercase letters, digits and '_'; a weight is a "
            "positive number."
        ),
    ),
    CallSetting(
        "blind_review",
        "truth",
        "next",
        _l("Blind review"),
        default=False,
        doc=_l("Reviewers do not see the answers that identify the applicant."),
    ),
    CallSetting(
        "hide_scores_until_scored",
        "truth",
        "next",
        _l("Hide other reviewers' scores until one has scored"),
        default=True,
    ),
    CallSetting(
        "letters",
        "letters",
        "next",
        _l("Decision letters"),
        doc=_l("Leave a letter empty to use the standard one."),
    ),
)

# Keys of a definition that are not edited on a settings page: the address (asked when
# the call is made), the questions (the questions builder).
ELSEWHERE = ("slug", "pages")


def of_section(section: str) -> tuple[CallSetting, ...]:
    return tuple(s for s in SETTINGS if s.section == section)


def section_of(path: tuple) -> str | None:
    """The section whose page edits the setting at `path` (None: the questions)."""
    if not path:
        return None
    top = path[0]
    for setting in SETTINGS:
        if setting.top == top:
            return setting.section
    return None


def top_keys(section: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.top for s in of_section(section)))


def declared_top_keys() -> set[str]:
    return {s.top for s in SETTINGS} | set(ELSEWHERE)
