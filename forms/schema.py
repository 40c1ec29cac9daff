"""Load and validate form definition files. Every problem is reported with the file, the
place in it and the field name, all at once, so an author fixes a file in one go."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from config import LANGUAGES
from forms import placeholders
from forms.build import RESERVED_NAMES
from forms.field_types import REGISTRY
from forms.placeholders import LETTER
from forms.texts import normalise_text, says_optional

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,59}")
PREFIX = re.compile(r"[A-Z]{2,8}")
COMMON_FIELD_KEYS = {
    "name",
    "type",
    "label",
    "help",
    "required",
    "show_if",
    "identifying",
}
TOP_KEYS = {
    "slug",
    "reference_prefix",
    "default_language",
    "languages",
    "title",
    "description",
    "organisation",
    "contact",
    "timezone",
    "opens_at",
    "closes_at",
    "capacity",
    "workflow",
    "applicant_email_field",
    "pages",
    "seats_field",
    "rubric",
    "blind_review",
    "hide_scores_until_scored",
    "event",
    "applicant_name_field",
    "letters",
}
# What `show_if` may refer to: questions with a fixed set of answers, which the server
# (forms/conditions.py) and the page script (static/js/formdesk.js) read the same way.
CONDITION_TYPES = tuple(name for name, kind in REGISTRY.items() if kind.condition_target)
STATE_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class DefinitionError(ValueError):
    def __init__(self, source: str, problems: list[str]):
        self.source, self.problems = source, problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


def load_file(path: Path) -> dict:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DefinitionError(str(path), [f"not UTF-8 text (byte {exc.start})"]) from exc
    except yaml.YAMLError as exc:
        raise DefinitionError(str(path), [f"not valid YAML: {exc}"]) from exc
    return validate(raw, str(path))


def checksum(definition: dict) -> str:
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate(raw: object, source: str) -> dict:
    """Return the normalised definition or raise DefinitionError listing every problem."""
    checker = _Checker()
    definition = checker.definition(raw)
    if checker.problems:
        raise DefinitionError(source, checker.problems)
    return definition


class _Checker:
    def __init__(self):
        self.problems: list[str] = []
        self.seen: dict[str, dict] = {}  # top-level input fields so far, for show_if

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def text(self, value, where: str, required: bool = False):
        if value is None:
            if required:
                self.problem(where, "is required")
            return None
        try:
            text = normalise_text(value)
        except TypeError as exc:
            self.problem(where, str(exc))
            return None
        unknown = set(text) - set(LANGUAGES) - {"*"}
        if unknown:
            self.problem(where, f"unknown language(s) {sorted(unknown)}")
        return text

    def definition(self, raw: object) -> dict:
        if not isinstance(raw, dict):
            self.problem("", "the file must be a mapping with slug, title, pages…")
            return {}
        for key in sorted(set(raw) - TOP_KEYS):
            self.problem(key, "unknown key")
        d: dict = {}
        slug = str(raw.get("slug", ""))
        if not SLUG.fullmatch(slug):
            self.problem("slug", "must be lowercase letters, digits and '-'")
        d["slug"] = slug
        prefix = str(raw.get("reference_prefix", ""))
        if not PREFIX.fullmatch(prefix):
            self.problem("reference_prefix", "must be 2–8 capital letters, like MSAS")
        d["reference_prefix"] = prefix
        languages = raw.get("languages")
        if not isinstance(languages, list) or not languages:
            self.problem("languages", f"must be a list from {list(LANGUAGES)}")
            languages = []
        for language in languages:
            if language not in LANGUAGES:
                self.problem("languages", f"unknown language '{language}'")
        d["languages"] = [str(lang) for lang in languages]
        d["default_language"] = raw.get("default_language")
        if d["default_language"] not in d["languages"]:
            self.problem("default_language", "must be one of 'languages'")
        d["title"] = self.text(raw.get("title"), "title", required=True)
        d["description"] = self.text(raw.get("description"), "description")
        d["organisation"] = self.organisation(raw.get("organisation"))
        d["contact"] = self.contact(raw.get("contact"))
        zone = self.timezone(raw.get("timezone"))
        d["timezone"] = str(raw.get("timezone"))
        d["opens_at"] = self.moment(raw.get("opens_at"), "opens_at", zone)
        d["closes_at"] = self.moment(raw.get("closes_at"), "closes_at", zone)
        if d["opens_at"] and d["closes_at"] and d["opens_at"] >= d["closes_at"]:
            self.problem("closes_at", "must be after opens_at")
        capacity = raw.get("capacity")
        if capacity is not None and (
            isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1
        ):
            self.problem("capacity", "must be a whole number ≥ 1")
        d["capacity"] = capacity
        workflow = raw.get("workflow")
        if not isinstance(workflow, str) or not SLUG.fullmatch(workflow):
            self.problem("workflow", "must name a workflow, like application-review")
        d["workflow"] = workflow
        pages = raw.get("pages")
        if not isinstance(pages, list) or not pages:
            self.problem("pages", "must be a non-empty list of pages with fields")
            pages = []
        d["pages"] = [self.page(page, f"pages[{i}]", i) for i, page in enumerate(pages)]
        email_field = raw.get("applicant_email_field")
        if email_field is not None:
            if self.seen.get(email_field, {}).get("type") != "email":
                self.problem("applicant_email_field", f"'{email_field}' is not an email field")
            d["applicant_email_field"] = email_field
        seats_field = raw.get("seats_field")
        if seats_field is not None:
            if self.seen.get(seats_field, {}).get("type") not in ("group", "number"):
                self.problem("seats_field", f"'{seats_field}' is not a group or number field")
            d["seats_field"] = seats_field
        d["rubric"] = self.rubric(raw.get("rubric"))
        d["blind_review"] = bool(raw.get("blind_review", False))
        if raw.get("event") is not None:
            d["event"] = self.event(raw["event"])
        name_field = raw.get("applicant_name_field")
        if name_field is not None:
            if self.seen.get(name_field, {}).get("type") != "text":
                self.problem("applicant_name_field", f"'{name_field}' is not a text field")
            d["applicant_name_field"] = name_field
        # Default true; stored only when given, so other definitions keep their checksum.
        if "hide_scores_until_scored" in raw:
            if not isinstance(raw["hide_scores_until_scored"], bool):
                self.problem("hide_scores_until_scored", "must be true or false")
            d["hide_scores_until_scored"] = bool(raw["hide_scores_until_scored"])
        # Stored only when given, so other definitions keep their checksum.
        if "letters" in raw:
            d["letters"] = self.letters(raw["letters"])
        for key in ("opens_at", "closes_at"):
            d[key] = d[key].isoformat() if d[key] else None
        return d

    def letters(self, raw) -> dict:
        """Decision letters: workflow state → text (per language) with `{placeholder}`s."""
        if not isinstance(raw, dict):
            self.problem("letters", "must map a state (e.g. accepted) to a text")
            return {}
        letters = {}
        for state, value in raw.items():
            where = f"letters.{state}"
            if not STATE_NAME.fullmatch(str(state)):
                self.problem(where, "must be a workflow state, like accepted")
                continue
            text = self.text(value, where, required=True)
            if not text:
                continue
            for language, body in text.items():
                if not body.strip():
                    self.problem(f"{where}.{language}", "is empty")
                for found in placeholders.problems("", body, placeholders.LETTER):
                    allowed = ", ".join("{" + k + "}" for k in placeholders.names(LETTER))
                    self.problem(f"{where}.{language}", f"{found}; use {allowed}")
            letters[str(state)] = text
        return letters

    def event(self, raw) -> dict | None:
        """The dates of an event people register for: receipts carry a calendar file."""
        if not isinstance(raw, dict):
            self.problem("event", "must have 'start' and 'end' dates and may have 'location'")
            return None
        dates = {}
        for key in ("start", "end"):
            try:
                dates[key] = date.fromisoformat(str(raw.get(key)))
            except ValueError:
                self.problem(f"event.{key}", "must be a date like 2030-04-19")
        if len(dates) == 2 and dates["end"] < dates["start"]:
            self.problem("event.end", "is before the start")
        location = self.text(raw.get("location"), "event.location")
        return {**{k: v.isoformat() for k, v in dates.items()}, "location": location}

    def rubric(self, raw) -> list[dict]:
        """Scoring criteria: each scored 1–5 by every reviewer, weighted in the average."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem("rubric", "must be a list of {key, label, weight}")
            return []
        criteria, keys = [], set()
        for index, item in enumerate(raw):
            where = f"rubric[{index}]"
            if not isinstance(item, dict) or not FIELD_NAME.fullmatch(str(item.get("key", ""))):
                self.problem(where, "needs a 'key' of lowercase letters, digits and '_'")
                continue
            if item["key"] in keys:
                self.problem(where, f"the key '{item['key']}' is used twice")
            keys.add(item["key"])
            weight = item.get("weight", 1)
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
                self.problem(where, "'weight' must be a positive number")
                weight = 1
            criteria.append(
                {
                    "key": item["key"],
                    "label": self.text(item.get("label"), f"{where}.label", required=True),
                    "weight": weight,
                }
            )
        return criteria

    def organisation(self, raw) -> dict:
        if not isinstance(raw, dict):
            self.problem("organisation", "needs 'name'")
            return {}
        return {
            "name": self.text(raw.get("name"), "organisation.name", required=True),
            "website": raw.get("website"),
            # Paper: where letters are written from, and where a paper form is posted.
            "place": self.text(raw.get("place"), "organisation.place"),
            "address": self.text(raw.get("address"), "organisation.address"),
        }

    def contact(self, raw) -> dict:
        if not isinstance(raw, dict) or not raw.get("email"):
            self.problem("contact", "needs at least 'email' (and usually 'name')")
            return {}
        return {k: str(raw[k]) for k in ("name", "email", "phone") if raw.get(k)}

    def timezone(self, name) -> ZoneInfo | None:
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            self.problem("timezone", f"unknown time zone '{name}', use e.g. Europe/Warsaw")
            return None

    def moment(self, value, where: str, zone: ZoneInfo | None) -> datetime | None:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time())
        else:
            try:
                moment = datetime.fromisoformat(str(value))
            except ValueError:
                self.problem(where, "must be a date-time like 2027-01-21T23:59")
                return None
        if moment.tzinfo is None:
            if zone is None:
                return None  # the time zone is already reported; a naive time means nothing
            moment = moment.replace(tzinfo=zone)
        return moment

    def page(self, raw, where: str, index: int) -> dict:
        if not isinstance(raw, dict) or not isinstance(raw.get("fields"), list):
            self.problem(where, "a page needs 'title' and a list of 'fields'")
            return {"title": None, "fields": []}
        fields = [
            self.field(f, f"{where}.fields[{i}]", self.seen, f"_p{index}b{i}")
            for i, f in enumerate(raw["fields"])
        ]
        return {"title": self.text(raw.get("title"), f"{where}.title"), "fields": fields}

    def field(self, raw, where: str, scope: dict, block_name: str, in_group=False) -> dict:
        if not isinstance(raw, dict):
            self.problem(where, "a field must be a mapping with name and type")
            return {}
        kind = REGISTRY.get(raw.get("type"))
        name = raw.get("name") or (None if kind and kind.is_input else block_name)
        where = f"{where} ({name})" if name else where
        if kind is None:
            self.problem(where, f"unknown type '{raw.get('type')}' (known: {sorted(REGISTRY)})")
            return {}
        if in_group and not kind.allowed_in_group:
            self.problem(where, f"a group cannot contain a {kind.name} field")
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name.lstrip("_")):
            self.problem(where, "'name' must be lowercase letters, digits and '_'")
        elif kind.is_input and (name in RESERVED_NAMES or name.startswith("_")):
            self.problem(
                where,
                f"the name '{name}' is reserved for the form itself; choose another "
                f"(reserved: {', '.join(sorted(RESERVED_NAMES))} and names starting with '_')",
            )
        elif name in scope or (in_group and name in self.seen):
            self.problem(where, f"the name '{name}' is used twice")
        for key in sorted(set(raw) - COMMON_FIELD_KEYS - kind.keys):
            self.problem(where, f"unknown key '{key}' for type '{kind.name}'")
        field: dict = {"name": name, "type": kind.name}
        if kind.is_input and kind.name != "consent":
            field["label"] = self.text(raw.get("label"), f"{where}.label", required=True)
        else:
            field["label"] = self.text(raw.get("label"), f"{where}.label")
        texts = ["help", *(s.key for s in kind.settings if s.kind == "text")]
        for key in texts:
            if key in raw:
                field[key] = self.text(raw[key], f"{where}.{key}")
        for key in ("label", "help"):
            for language, words in (field.get(key) or {}).items():
                if says_optional(key, words, language):
                    self.problem(
                        f"{where}.{key}",
                        "says the question is optional; leave that out: the page writes "
                        "“(optional)” beside every question that is not required",
                    )
        for key in ("required", "identifying"):
            if key in raw:
                if not isinstance(raw[key], bool):
                    self.problem(where, f"'{key}' must be true or false")
                field[key] = bool(raw[key])
        for setting in kind.settings:  # kept beside the texts, as before settings were declared
            if setting.on_field and setting.kind != "text" and setting.key in raw:
                field[setting.key] = raw[setting.key]
        field["options"] = kind.check(raw, lambda message: self.problem(where, message))
        if "show_if" in raw:
            field["show_if"] = self.condition(raw["show_if"], where, scope)
        if "fields" in kind.keys:
            children = raw.get("fields")
            if not isinstance(children, list) or not children:
                self.problem(where, "a group needs a list of 'fields'")
                children = []
            inner: dict = {}
            field["fields"] = [
                self.field(c, f"{where}.fields[{i}]", inner, f"{name}_b{i}", in_group=True)
                for i, c in enumerate(children)
            ]
        if kind.is_input and isinstance(name, str):
            scope[name] = field
        return field

    def condition(self, raw, where: str, scope: dict) -> dict | None:
        if not isinstance(raw, dict) or not raw:
            self.problem(where, "'show_if' must map earlier field names to values")
            return None
        normalised: dict = {}
        for key, expected in raw.items():
            if key == "any":
                if not isinstance(expected, list) or not expected:
                    self.problem(where, "'show_if.any' must be a list of conditions")
                    continue
                normalised["any"] = [self.condition(alt, where, scope) or {} for alt in expected]
                continue
            values = expected if isinstance(expected, list) else [expected]
            normalised[key] = values
            target = scope.get(key) or self.seen.get(key)
            if target is None:
                self.problem(where, f"show_if refers to '{key}', which is not an earlier field")
                continue
            if target.get("type") not in CONDITION_TYPES:
                self.problem(
                    where,
                    f"show_if: '{key}' is a {target.get('type')} question; a condition may "
                    f"refer only to a {', '.join(CONDITION_TYPES)} question",
                )
                continue
            offered = REGISTRY[target["type"]].condition_values(target.get("options", {}))
            wrong = [value for value in values if value not in offered]
            if offered and wrong:
                hint = ""
                truth = any(isinstance(v, bool) for v in offered)
                if not truth and any(isinstance(v, bool) for v in wrong):
                    hint = (
                        ' (YAML reads a bare yes, no, true or false as a truth value: write "yes")'
                    )
                self.problem(where, f"show_if: '{key}' never has the value(s) {wrong}{hint}")
        return normalised


# --- every language offered, covered ----------------------------------------------------------

# Emails every call can send besides its workflow's: the receipt and the resume link.
ALWAYS_SENT = ("receipt", "resume")


def language_gaps(definition: dict, workflow, email_texts: dict, letter_texts: dict) -> list[str]:
    """What each language the call offers lacks: the definition's own texts, its workflow's
    state and action labels, the emails it sends (mail/defaults.yaml) and its decision
    letters (`letters`, else documents/letters.yaml). Anything missing would reach people
    in another language, so the definition is refused with the list."""
    found = []
    for language in definition["languages"]:
        missing = []
        if own := _own_gaps(definition, language):
            shown = ", ".join(own[:5]) + (f" and {len(own) - 5} more" if len(own) > 5 else "")
            missing.append(f"the definition's own texts at {shown}")
        missing += _workflow_gaps(workflow, language)
        for event in _emails_sent(workflow):
            texts = email_texts.get(event) or {}
            if language not in texts:
                missing.append(f"the email '{event}' (mail/defaults.yaml)")
        for state in _lettered_states(workflow):
            own = (definition.get("letters") or {}).get(state)
            texts = own or letter_texts.get(state) or letter_texts["decision"]
            if not _covers(texts, language):
                where = f"letters.{state}" if own else "documents/letters.yaml"
                missing.append(f"the decision letter for '{state}' ({where})")
        if missing:
            found.append(f"languages: '{language}' is offered but lacks " + "; ".join(missing))
    return found


def _covers(text: dict | None, language: str) -> bool:
    """A plain string (key '*') is the same in every language."""
    return bool(text) and bool((text.get(language) or text.get("*") or "").strip())


def _is_text(value: object) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and set(value) <= set(LANGUAGES) | {"*"}
        and all(isinstance(v, str) for v in value.values())
    )


def _own_gaps(value: object, language: str, where: str = "") -> list[str]:
    """Places in the normalised definition whose text has no version in `language`."""
    if _is_text(value):
        return [] if _covers(value, language) else [where]
    if isinstance(value, dict):
        return [
            gap
            for key, item in value.items()
            for gap in _own_gaps(item, language, f"{where}.{key}" if where else str(key))
        ]
    if isinstance(value, list):
        return [
            gap
            for index, item in enumerate(value)
            for gap in _own_gaps(item, language, f"{where}[{index}]")
        ]
    return []


def _workflow_gaps(workflow, language: str) -> list[str]:
    source = f"workflows/definitions/{workflow.name}.yaml"
    missing = [
        f"the label of state '{state}' ({source})"
        for state, spec in workflow.states.items()
        if not _covers(spec.get("label"), language)
    ]
    missing += [
        f"the label of action '{step.name}' ({source})"
        for step in workflow.transitions
        if not _covers(step.label, language)
    ]
    missing += [
        f"the question of action '{step.name}' ({source})"
        for step in workflow.transitions
        if step.question is not None and not _covers(step.question, language)
    ]
    return missing


def _emails_sent(workflow) -> list[str]:
    return list(dict.fromkeys([*ALWAYS_SENT, *workflow.email_events()]))


def _lettered_states(workflow) -> list[str]:
    return list(
        dict.fromkeys(
            step.target
            for step in workflow.transitions
            if any(effect.startswith("document:") for effect in step.effects)
        )
    )


# SKELETON by the lead (helper "problems" replaces these two).
def read_document(path: Path) -> dict:
    """The file as the JSON document it will be stored as (YAML's dates as ISO text)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DefinitionError(str(path), [f"not valid YAML in UTF-8: {exc}"]) from exc
    return json.loads(json.dumps(raw, default=lambda value: value.isoformat()))


def check(document: object) -> list:
    """Every problem of a document, none raised."""
    from forms.problems import Problem

    try:
        validate(document, "")
    except DefinitionError as exc:
        return [
            p if isinstance(p, Problem) else Problem((), "invalid", {"message": p})
            for p in exc.problems
        ]
    return []
