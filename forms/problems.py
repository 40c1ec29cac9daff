"""Structured problems of a form definition: where (a path into the document), what (a
code) and the facts (parameters). The YAML loader prints them in English, one line each;
the browser builder shows each one beside the setting it names, in the page's language.

A path is a tuple of keys and list indexes into the INPUT document (the YAML file as
JSON): ("pages", 0, "fields", 2, "label", "pl") is the Polish label of the third question
of the first page; `where` writes it "pages[0].fields[2].label.pl". Every code has one
message template here (`MESSAGES`), a lazy translation with %(name)s parameters, so
`pybabel extract` finds them all."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import has_app_context
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

Path = tuple[str | int, ...]

MESSAGES: dict[str, Any] = {
    # --- the document ---------------------------------------------------------------------
    "document.not_utf8": _l("not UTF-8 text (byte %(byte)s)"),
    "document.not_yaml": _l("not valid YAML: %(error)s"),
    "document.not_mapping": _l("the file must be a mapping with slug, title, pages…"),
    "document.not_checked": _l(
        "could not be checked (%(error)s); this is a bug in Formdesk, please report it"
    ),
    "key.unknown": _l("unknown key"),
    # --- the call -------------------------------------------------------------------------
    "slug.invalid": _l("must be lowercase letters, digits and '-'"),
    "reference_prefix.invalid": _l("must be 2–8 capital letters, like MSAS"),
    "languages.invalid": _l("must be a list from %(known)s"),
    "languages.unknown": _l("unknown language '%(language)s'"),
    "default_language.not_offered": _l("must be one of 'languages'"),
    "timezone.unknown": _l("unknown time zone '%(zone)s', use e.g. Europe/Warsaw"),
    "moment.invalid": _l("must be a date-time like 2027-01-21T23:59"),
    "closes_at.not_after_opens_at": _l("must be after opens_at"),
    "capacity.invalid": _l("must be a whole number ≥ 1"),
    "grace_minutes.invalid": _l("must be a whole number of minutes from 0 to 1440 (a day)"),
    "workflow.invalid": _l("must name a workflow, like application-review"),
    "workflow.unknown": _l("no workflow named '%(workflow)s'"),
    "pages.invalid": _l("must be a non-empty list of pages with fields"),
    "applicant_email_field.not_email": _l("'%(field)s' is not an email field"),
    "seats_field.not_count": _l("'%(field)s' is not a group or number field"),
    "applicant_name_field.not_text": _l("'%(field)s' is not a text field"),
    "truth.invalid": _l("must be true or false"),
    "organisation.invalid": _l("needs 'name'"),
    "contact.invalid": _l("needs at least 'email' (and usually 'name')"),
    # --- texts ----------------------------------------------------------------------------
    "text.required": _l("is required"),
    "text.invalid": _l("must be a text or a mapping of language to text"),
    "text.unknown_languages": _l("unknown language(s) %(languages)s"),
    "text.empty": _l("is empty"),
    "text.says_optional": _l(
        "says the question is optional; leave that out: the page writes “(optional)” "
        "beside every question that is not required"
    ),
    # --- letters --------------------------------------------------------------------------
    "letters.invalid": _l("must map a state (e.g. accepted) to a text"),
    "letters.state_invalid": _l("must be a workflow state, like accepted"),
    "letters.not_a_state": _l("not a state of %(workflow)s"),
    "placeholder.unknown": _l("unknown placeholder(s): %(unknown)s; use %(allowed)s"),
    "placeholder.stray_brace": _l("a brace that is not part of a {placeholder}; use %(allowed)s"),
    # --- the event --------------------------------------------------------------------------
    "event.invalid": _l("must have 'start' and 'end' dates and may have 'location'"),
    "event.date_invalid": _l("must be a date like 2030-04-19"),
    "event.end_before_start": _l("is before the start"),
    # --- the rubric -------------------------------------------------------------------------
    "rubric.invalid": _l("must be a list of {key, label, weight}"),
    "rubric.key_invalid": _l("needs a 'key' of lowercase letters, digits and '_'"),
    "rubric.key_twice": _l("the key '%(key)s' is used twice"),
    "rubric.weight_invalid": _l("must be a positive number, like 1 or 0.5"),
    # --- pages and questions ----------------------------------------------------------------
    "page.invalid": _l("a page needs 'title' and a list of 'fields'"),
    "field.invalid": _l("a field must be a mapping with name and type"),
    "field.unknown_type": _l("unknown type '%(type)s' (known: %(known)s)"),
    "field.not_in_group": _l("a group cannot contain a %(type)s field"),
    "field.unknown_key": _l("unknown key '%(key)s' for type '%(type)s'"),
    "field.options_invalid": _l("must be a mapping of the question's settings"),
    "name.invalid": _l("must be lowercase letters, digits and '_', starting with a letter"),
    "name.reserved": _l(
        "the name '%(name)s' is reserved for the form itself; choose another "
        "(reserved: %(reserved)s and names starting with '_')"
    ),
    "name.twice": _l("the name '%(name)s' is used twice"),
    "group.fields_invalid": _l("a group needs a list of 'fields'"),
    # --- conditions (show_if) ---------------------------------------------------------------
    "condition.invalid": _l("must map earlier field names to values"),
    "condition.any_invalid": _l("'any' must be a list of conditions"),
    "condition.not_earlier": _l("refers to '%(field)s', which is not an earlier field"),
    "condition.wrong_type": _l(
        "'%(field)s' is a %(type)s question; a condition may refer only to a %(types)s question"
    ),
    "condition.value_never": _l("'%(field)s' never has the value(s) %(values)s"),
    "condition.value_truth": _l(
        "'%(field)s' never has the value(s) %(values)s (YAML reads a bare yes, no, "
        'true or false as a truth value: write "yes")'
    ),
    # --- the settings of a question (forms/field_types/settings.py) --------------------------
    "setting.required": _l("'%(key)s' is required"),
    "setting.whole": _l("must be a whole number ≥ %(minimum)s"),
    "setting.number": _l("must be a number"),
    "setting.positive_number": _l("must be a positive number"),
    "setting.date": _l("must be a date like 2027-03-14"),
    "setting.time": _l('must be a time like "09:30" (in quotes)'),
    "setting.regex": _l("is not a valid regular expression: %(error)s"),
    "setting.one_of": _l("must be one of: %(choices)s"),
    "setting.order": _l("'%(low)s' is greater than '%(high)s'"),
    "setting.extensions": _l("must be a list of file extensions, like [pdf, docx]"),
    "setting.territories": _l("must be a non-empty list of ISO country codes, like [PL, SE]"),
    "setting.unknown_countries": _l("unknown country code(s) %(codes)s"),
    "setting.territory": _l("must be an ISO country code, like PL"),
    "choices.invalid": _l("must be a non-empty list of {value, label}"),
    "choices.item_invalid": _l("needs 'value' and 'label'"),
    "choices.truth_value": _l(
        "YAML reads a bare yes, no, true or false as a truth value; write the value in "
        'quotes, like "yes"'
    ),
    "choices.value_twice": _l("value '%(value)s' appears twice"),
    "consent.text_missing": _l(
        "a consent field needs 'text': the exact words the person agrees to"
    ),
    "block.text_missing": _l("a %(type)s needs 'text'"),
    # --- every language offered, covered (forms.schema.language_gaps) -----------------------
    "language.text_missing": _l(
        "has no text in '%(language)s', which the call offers: add it, or take "
        "'%(language)s' out of languages"
    ),
    "language.state_label_missing": _l(
        "'%(language)s' is offered but the label of state '%(state)s' has no text in it "
        "(%(source)s)"
    ),
    "language.action_label_missing": _l(
        "'%(language)s' is offered but the label of action '%(action)s' has no text in it "
        "(%(source)s)"
    ),
    "language.action_question_missing": _l(
        "'%(language)s' is offered but the question of action '%(action)s' has no text in "
        "it (%(source)s)"
    ),
    "language.email_missing": _l(
        "'%(language)s' is offered but the email '%(event)s' has no text in it (mail/defaults.yaml)"
    ),
    "language.letter_missing": _l(
        "'%(language)s' is offered but the decision letter for '%(state)s' has no text in "
        "it (%(source)s)"
    ),
    # --- calls in the database (services/call_drafts.py) ----------------------------------
    "workflow.broken": _l("the workflow '%(workflow)s' cannot be read: %(error)s"),
    "call.not_published": _l("the call has no published version yet"),
    "call.unknown_source": _l("there is no call '%(slug)s' to copy"),
    "slug.taken": _l("the address '%(slug)s' is already used by another call"),
    "load.newer_browser_edits": _l(
        "%(slug)s has changes made in the browser that are not in this file (draft revision "
        "%(revision)s, saved by %(who)s at %(when)s); save them first with `flask forms "
        "export %(slug)s`, or overwrite them with --force"
    ),
    "load.newer_browser_version": _l(
        "%(slug)s was published from the browser (version %(version)s, by %(who)s at "
        "%(when)s) and this file differs from it; export it with `flask forms export "
        "%(slug)s`, or overwrite it with --force"
    ),
}


def _msgid(template: Any) -> str:
    """The English template of a lazy translation (outside an app, str() gives it too)."""
    args = getattr(template, "_args", None)
    return args[0] if args else str(template)


class _Shown(dict):
    """Parameters for a template: one a caller left out shows as "?", never an error."""

    def __missing__(self, key: str) -> str:
        return "?"


def shown(value: Any) -> str:
    """A parameter as a message writes it: a list joined with commas, a truth value as
    YAML writes it (true, false), anything else as it is."""
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return ", ".join(shown(item) for item in items)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def render_path(path: Path, names: tuple[tuple[int, str], ...] = ()) -> str:
    """("pages", 0, "fields", 2, "label") -> "pages[0].fields[2].label"; with `names`
    (index in the path -> a question's name) -> "pages[0].fields[2] (email).label"."""
    named = dict(names)
    text = ""
    for index, part in enumerate(path):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
        if index in named:
            text += f" ({named[index]})"
    return text


@dataclass(frozen=True)
class Problem:
    path: Path = ()
    code: str = "invalid"
    # Plain values (strings, numbers, lists); not part of a problem's identity (a problem
    # is where and what), which keeps problems hashable.
    params: dict = field(default_factory=dict, compare=False, hash=False)
    # The names of the questions on the path, for the CLI's "pages[0].fields[3] (email)";
    # not part of the problem's identity.
    names: tuple[tuple[int, str], ...] = field(default=(), compare=False, repr=False)

    @property
    def where(self) -> str:
        """The path as today's messages write it: "pages[0].fields[2].label.pl"."""
        return render_path(self.path)

    @property
    def place(self) -> str:
        """`where` with the names of the questions on the way, for people reading a file."""
        return render_path(self.path, self.names)

    def _values(self) -> dict:
        return _Shown({key: shown(value) for key, value in self.params.items()})

    def english(self) -> str:
        template = MESSAGES.get(self.code)
        if template is None:  # a code of no catalogue: its own words, if it brought any
            return str(self.params.get("message", self.code))
        return _msgid(template) % self._values()

    def message(self) -> str:
        """The message in the current Flask-Babel locale; English outside an app."""
        template = MESSAGES.get(self.code)
        if template is None:
            return self.english()
        if not has_app_context():
            return self.english()
        return gettext(_msgid(template)) % self._values()

    def __str__(self) -> str:
        place = self.place
        return f"{place}: {self.english()}" if place else self.english()
