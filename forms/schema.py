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
from forms.field_types.settings import ABSENT
from forms.placeholders import LETTER
from forms.problems import Problem
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
    "options",  # the settings, as the normalised definition keeps them
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
    "grace_minutes",
}
# What `show_if` may refer to: questions with a fixed set of answers, which the server
# (forms/conditions.py) and the page script (static/js/formdesk.js) read the same way.
CONDITION_TYPES = tuple(name for name, kind in REGISTRY.items() if kind.condition_target)
STATE_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class DefinitionError(ValueError):
    """A definition refused: `problems` are forms.problems.Problem (older callers may add
    plain strings); the message is one line per problem, each naming the source first."""

    def __init__(self, source: str, problems: list):
        self.source, self.problems = source, list(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


def read_document(path: Path | str) -> dict:
    """The file as the input document: what `validate` reads and a draft stores, JSON-safe
    (YAML's dates and date-times become ISO strings, read back as the same moments;
    nothing else is changed). Text that is not UTF-8 or not YAML, or not a mapping, is
    refused with DefinitionError."""
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = Problem((), "document.not_utf8", {"byte": exc.start})
        raise DefinitionError(source, [problem]) from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = Problem((), "document.not_yaml", {"error": str(exc)})
        raise DefinitionError(source, [problem]) from exc
    if not isinstance(raw, dict):
        raise DefinitionError(source, [Problem((), "document.not_mapping")])
    return _json_safe(raw)


def _json_safe(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


def load_file(path: Path) -> dict:
    """The normalised definition of a file (read_document, then validate)."""
    return validate(read_document(path), str(path))


def checksum(definition: dict) -> str:
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check(document: object, *, published: bool = False) -> list[Problem]:
    """Every problem of an input document (empty: it is valid); never raises. With
    `published`, for a version published earlier: rules that only guide authors
    (AUTHORING_ONLY, some added after old versions were published) are left out."""
    return _checked(document, published)[1]


def validate(document: object, source: str, *, published: bool = False) -> dict:
    """Return the normalised definition or raise DefinitionError listing every problem.
    The normalised definition is itself a valid document that validates to itself.
    `published`: see `check` (a spec built for an old version must not be refused for
    a rule of style made since)."""
    definition, problems = _checked(document, published)
    if problems:
        raise DefinitionError(source, problems)
    return definition


# Problems that guide authors but change nothing in what the definition means: checked when
# a call is loaded or published, not when an already published version is read again (its
# label may say "(optional)": the rule came after it).
AUTHORING_ONLY = frozenset({"text.says_optional"})


def _checked(document: object, published: bool = False) -> tuple[dict, list[Problem]]:
    checker = _Checker()
    try:
        definition = checker.definition(document)
    except Exception as exc:  # a document the checker did not foresee: say so, never crash
        checker.problem((), "document.not_checked", error=f"{type(exc).__name__}: {exc}")
        definition = {}
    problems = checker.problems
    if published:
        problems = [p for p in problems if p.code not in AUTHORING_ONLY]
    return definition, problems


Names = tuple[tuple[int, str], ...]


class _Checker:
    def __init__(self):
        self.problems: list[Problem] = []
        self.seen: dict[str, dict] = {}  # top-level input fields so far, for show_if

    def problem(self, path: tuple, code: str, names: Names = (), **params) -> None:
        self.problems.append(Problem(tuple(path), code, params, names))

    def text(self, value, path: tuple, required: bool = False, names: Names = ()):
        if value is None:
            if required:
                self.problem(path, "text.required", names)
            return None
        try:
            text = normalise_text(value)
        except TypeError:
            self.problem(path, "text.invalid", names)
            return None
        unknown = set(text) - set(LANGUAGES) - {"*"}
        if unknown:
            self.problem(path, "text.unknown_languages", names, languages=sorted(unknown))
        return text

    def truth(self, raw: dict, key: str, path: tuple, names: Names = ()) -> bool:
        if not isinstance(raw[key], bool):
            self.problem(path, "truth.invalid", names)
        return bool(raw[key])

    def definition(self, raw: object) -> dict:
        if not isinstance(raw, dict):
            self.problem((), "document.not_mapping")
            return {}
        for key in sorted(set(raw) - TOP_KEYS, key=str):
            self.problem((key,), "key.unknown")
        d: dict = {}
        slug = str(raw.get("slug", ""))
        if not SLUG.fullmatch(slug):
            self.problem(("slug",), "slug.invalid")
        d["slug"] = slug
        prefix = str(raw.get("reference_prefix", ""))
        if not PREFIX.fullmatch(prefix):
            self.problem(("reference_prefix",), "reference_prefix.invalid")
        d["reference_prefix"] = prefix
        languages = raw.get("languages")
        if not isinstance(languages, list) or not languages:
            self.problem(("languages",), "languages.invalid", known=list(LANGUAGES))
            languages = []
        for language in languages:
            if not isinstance(language, str) or language not in LANGUAGES:
                self.problem(("languages",), "languages.unknown", language=str(language))
        d["languages"] = [str(lang) for lang in languages]
        d["default_language"] = raw.get("default_language")
        if d["default_language"] not in d["languages"]:
            self.problem(("default_language",), "default_language.not_offered")
        d["title"] = self.text(raw.get("title"), ("title",), required=True)
        d["description"] = self.text(raw.get("description"), ("description",))
        d["organisation"] = self.organisation(raw.get("organisation"))
        d["contact"] = self.contact(raw.get("contact"))
        zone = self.timezone(raw.get("timezone"))
        d["timezone"] = str(raw.get("timezone"))
        d["opens_at"] = self.moment(raw.get("opens_at"), "opens_at", zone)
        d["closes_at"] = self.moment(raw.get("closes_at"), "closes_at", zone)
        if d["opens_at"] and d["closes_at"] and d["opens_at"] >= d["closes_at"]:
            self.problem(("closes_at",), "closes_at.not_after_opens_at")
        capacity = raw.get("capacity")
        if capacity is not None and (
            isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1
        ):
            self.problem(("capacity",), "capacity.invalid")
        d["capacity"] = capacity
        workflow = raw.get("workflow")
        if not isinstance(workflow, str) or not SLUG.fullmatch(workflow):
            self.problem(("workflow",), "workflow.invalid")
        d["workflow"] = workflow
        pages = raw.get("pages")
        if not isinstance(pages, list) or not pages:
            self.problem(("pages",), "pages.invalid")
            pages = []
        d["pages"] = [self.page(page, ("pages", i), i) for i, page in enumerate(pages)]
        email_field = raw.get("applicant_email_field")
        if email_field is not None:
            if self._seen_type(email_field) != "email":
                self.problem(
                    ("applicant_email_field",), "applicant_email_field.not_email", field=email_field
                )
            d["applicant_email_field"] = email_field
        seats_field = raw.get("seats_field")
        if seats_field is not None:
            if self._seen_type(seats_field) not in ("group", "number"):
                self.problem(("seats_field",), "seats_field.not_count", field=seats_field)
            d["seats_field"] = seats_field
        d["rubric"] = self.rubric(raw.get("rubric"))
        d["blind_review"] = False
        if raw.get("blind_review") is not None:
            d["blind_review"] = self.truth(raw, "blind_review", ("blind_review",))
        if raw.get("event") is not None:
            d["event"] = self.event(raw["event"])
        name_field = raw.get("applicant_name_field")
        if name_field is not None:
            if self._seen_type(name_field) != "text":
                self.problem(
                    ("applicant_name_field",), "applicant_name_field.not_text", field=name_field
                )
            d["applicant_name_field"] = name_field
        # Default true; stored only when given, so other definitions keep their checksum.
        if "hide_scores_until_scored" in raw:
            d["hide_scores_until_scored"] = self.truth(
                raw, "hide_scores_until_scored", ("hide_scores_until_scored",)
            )
        # Stored only when given, so other definitions keep their checksum.
        if "letters" in raw:
            d["letters"] = self.letters(raw["letters"])
        # Minutes after closing that a submission is still taken; absent: the installation's.
        grace = raw.get("grace_minutes")
        if grace is not None:
            if isinstance(grace, bool) or not isinstance(grace, int) or not 0 <= grace <= 1440:
                self.problem(("grace_minutes",), "grace_minutes.invalid")
            d["grace_minutes"] = grace
        for key in ("opens_at", "closes_at"):
            d[key] = d[key].isoformat() if d[key] else None
        return d

    def _seen_type(self, name: object) -> object:
        if not isinstance(name, str):
            return None
        return self.seen.get(name, {}).get("type")

    def letters(self, raw) -> dict:
        """Decision letters: workflow state → text (per language) with `{placeholder}`s."""
        if not isinstance(raw, dict):
            self.problem(("letters",), "letters.invalid")
            return {}
        known = placeholders.names(LETTER)
        allowed = ["{" + name + "}" for name in known]
        letters = {}
        for state, value in raw.items():
            path = ("letters", str(state))
            if not STATE_NAME.fullmatch(str(state)):
                self.problem(path, "letters.state_invalid")
                continue
            text = self.text(value, path, required=True)
            if not text:
                continue
            for language, body in text.items():
                where = path if language == "*" else (*path, language)
                if not body.strip():
                    self.problem(where, "text.empty")
                unknown = sorted(
                    set(placeholders.PLACEHOLDER.findall(body)) - set(placeholders.names(LETTER))
                )
                if unknown:
                    self.problem(
                        where,
                        "placeholder.unknown",
                        unknown=["{" + name + "}" for name in unknown],
                        allowed=allowed,
                    )
                stripped = placeholders.PLACEHOLDER.sub("", body)
                if "{" in stripped or "}" in stripped:
                    self.problem(where, "placeholder.stray_brace", allowed=allowed)
            letters[str(state)] = text
        return letters

    def event(self, raw) -> dict | None:
        """The dates of an event people register for: receipts carry a calendar file."""
        if not isinstance(raw, dict):
            self.problem(("event",), "event.invalid")
            return None
        dates = {}
        for key in ("start", "end"):
            try:
                dates[key] = date.fromisoformat(str(raw.get(key)))
            except ValueError:
                self.problem(("event", key), "event.date_invalid")
        if len(dates) == 2 and dates["end"] < dates["start"]:
            self.problem(("event", "end"), "event.end_before_start")
        location = self.text(raw.get("location"), ("event", "location"))
        return {**{k: v.isoformat() for k, v in dates.items()}, "location": location}

    def rubric(self, raw) -> list[dict]:
        """Scoring criteria: each scored 1–5 by every reviewer, weighted in the average."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(("rubric",), "rubric.invalid")
            return []
        criteria, keys = [], set()
        for index, item in enumerate(raw):
            path = ("rubric", index)
            if not isinstance(item, dict):
                self.problem(path, "rubric.key_invalid")
                continue
            if not FIELD_NAME.fullmatch(str(item.get("key", ""))):
                self.problem((*path, "key"), "rubric.key_invalid")
                continue
            if item["key"] in keys:
                self.problem((*path, "key"), "rubric.key_twice", key=item["key"])
            keys.add(item["key"])
            weight = item.get("weight", 1)
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
                self.problem((*path, "weight"), "rubric.weight_invalid")
                weight = 1
            criteria.append(
                {
                    "key": item["key"],
                    "label": self.text(item.get("label"), (*path, "label"), required=True),
                    "weight": weight,
                }
            )
        return criteria

    def organisation(self, raw) -> dict:
        if not isinstance(raw, dict):
            self.problem(("organisation",), "organisation.invalid")
            return {}
        return {
            "name": self.text(raw.get("name"), ("organisation", "name"), required=True),
            "website": raw.get("website"),
            # Paper: where letters are written from, and where a paper form is posted.
            "place": self.text(raw.get("place"), ("organisation", "place")),
            "address": self.text(raw.get("address"), ("organisation", "address")),
        }

    def contact(self, raw) -> dict:
        if not isinstance(raw, dict):
            self.problem(("contact",), "contact.invalid")
            return {}
        if not raw.get("email"):
            self.problem(("contact", "email"), "contact.invalid")
            return {}
        return {k: str(raw[k]) for k in ("name", "email", "phone") if raw.get(k)}

    def timezone(self, name) -> ZoneInfo | None:
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(("timezone",), "timezone.unknown", zone=str(name))
            return None

    def moment(self, value, key: str, zone: ZoneInfo | None) -> datetime | None:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time())
        else:
            try:
                moment = datetime.fromisoformat(str(value))
            except ValueError:
                self.problem((key,), "moment.invalid")
                return None
        if moment.tzinfo is None:
            if zone is None:
                return None  # the time zone is already reported; a naive time means nothing
            moment = moment.replace(tzinfo=zone)
        return moment

    def page(self, raw, path: tuple, index: int) -> dict:
        if not isinstance(raw, dict) or not isinstance(raw.get("fields"), list):
            self.problem(path, "page.invalid")
            return {"title": None, "fields": []}
        fields = [
            self.field(f, (*path, "fields", i), (), self.seen, f"_p{index}b{i}")
            for i, f in enumerate(raw["fields"])
        ]
        return {"title": self.text(raw.get("title"), (*path, "title")), "fields": fields}

    def field(
        self, raw, path: tuple, names: Names, scope: dict, block_name: str, in_group=False
    ) -> dict:
        if not isinstance(raw, dict):
            self.problem(path, "field.invalid", names)
            return {}
        kind = REGISTRY.get(raw.get("type")) if isinstance(raw.get("type"), str) else None
        name = raw.get("name") or (None if kind and kind.is_input else block_name)
        if name:
            names = (*names, (len(path) - 1, str(name)))

        def problem(suffix: tuple, code: str, **params) -> None:
            self.problem((*path, *suffix), code, names, **params)

        if kind is None:
            problem(("type",), "field.unknown_type", type=raw.get("type"), known=sorted(REGISTRY))
            return {}
        if in_group and not kind.allowed_in_group:
            problem(("type",), "field.not_in_group", type=kind.name)
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name.lstrip("_")):
            problem(("name",), "name.invalid")
        elif kind.is_input and (name in RESERVED_NAMES or name.startswith("_")):
            problem(("name",), "name.reserved", name=name, reserved=sorted(RESERVED_NAMES))
        elif name in scope or (in_group and name in self.seen):
            problem(("name",), "name.twice", name=name)
        for key in sorted(set(raw) - COMMON_FIELD_KEYS - kind.keys, key=str):
            problem((key,), "field.unknown_key", key=key, type=kind.name)
        settings, at = self.settings_of(raw, kind, problem)
        field: dict = {"name": name, "type": kind.name}
        label_required = kind.is_input and kind.name != "consent"
        field["label"] = self.text(raw.get("label"), (*path, "label"), label_required, names)
        texts = ["help", *(s.key for s in kind.settings if s.kind == "text")]
        for key in texts:
            if key in raw:
                field[key] = self.text(raw[key], (*path, key), names=names)
        for key in ("label", "help"):
            for language, words in (field.get(key) or {}).items():
                if says_optional(key, words, language):
                    where = (key,) if language == "*" else (key, language)
                    problem(where, "text.says_optional")
        for key in ("required", "identifying"):
            if key in raw:
                field[key] = self.truth(raw, key, (*path, key), names)
        for setting in kind.settings:  # kept beside the texts, as before settings were declared
            if setting.on_field and setting.kind != "text" and setting.key in raw:
                field[setting.key] = raw[setting.key]
        field["options"] = kind.check(settings, problem, at)
        if "show_if" in raw:
            field["show_if"] = self.condition(raw["show_if"], (*path, "show_if"), names, scope)
        if "fields" in kind.keys:
            children = raw.get("fields")
            if not isinstance(children, list) or not children:
                problem(("fields",), "group.fields_invalid")
                children = []
            inner: dict = {}
            field["fields"] = [
                self.field(c, (*path, "fields", i), names, inner, f"{name}_b{i}", in_group=True)
                for i, c in enumerate(children)
            ]
        if kind.is_input and isinstance(name, str):
            scope[name] = field
        return field

    def settings_of(self, raw: dict, kind, problem):
        """A question's settings, given on the question itself (as YAML files write them) or
        in its `options` (as the normalised definition keeps them, so that validating it
        again accepts it): the values, and where each one is."""
        values = {key: value for key, value in raw.items() if key != "options"}
        inside: set[str] = set()
        if "options" in raw:
            options = raw["options"]
            if not isinstance(options, dict):
                problem(("options",), "field.options_invalid")
                options = {}
            # Texts, child fields and settings kept on the question are never in `options`.
            kept = {
                setting.key
                for setting in kind.settings
                if not setting.on_field and setting.kind not in ("text", "fields")
            }
            for key, value in options.items():
                if kind.fixed_options.get(key, ABSENT) == value:
                    continue  # what every question of the type has
                if key not in kept:
                    problem(("options", key), "field.unknown_key", key=key, type=kind.name)
                    continue
                if key not in values:
                    values[key] = value
                    inside.add(key)

        def at(key: str) -> tuple:
            return ("options", key) if key in inside else (key,)

        return values, at

    def condition(self, raw, path: tuple, names: Names, scope: dict) -> dict | None:
        if not isinstance(raw, dict) or not raw:
            self.problem(path, "condition.invalid", names)
            return None
        normalised: dict = {}
        for key, expected in raw.items():
            if key == "any":
                if not isinstance(expected, list) or not expected:
                    self.problem(path, "condition.any_invalid", names)
                    continue
                normalised["any"] = [
                    self.condition(alt, path, names, scope) or {} for alt in expected
                ]
                continue
            values = expected if isinstance(expected, list) else [expected]
            normalised[key] = values
            target = scope.get(key) or self.seen.get(key)
            if target is None:
                self.problem(path, "condition.not_earlier", names, field=key)
                continue
            if target.get("type") not in CONDITION_TYPES:
                self.problem(
                    path,
                    "condition.wrong_type",
                    names,
                    field=key,
                    type=target.get("type"),
                    types=list(CONDITION_TYPES),
                )
                continue
            offered = REGISTRY[target["type"]].condition_values(target.get("options", {}))
            wrong = [value for value in values if value not in offered]
            if offered and wrong:
                truth = any(isinstance(v, bool) for v in offered)
                code = "condition.value_never"
                if not truth and any(isinstance(v, bool) for v in wrong):
                    code = "condition.value_truth"
                shown = [f"'{v}'" if isinstance(v, str) else v for v in wrong]
                self.problem(path, code, names, field=key, values=shown)
        return normalised


# --- every language offered, covered ----------------------------------------------------------

# Emails every call can send besides its workflow's: the receipt and the resume link.
ALWAYS_SENT = ("receipt", "resume")


def language_gaps(
    definition: dict, workflow, email_texts: dict, letter_texts: dict, document: dict | None = None
) -> list[Problem]:
    """What each language the call offers lacks: the definition's own texts (each one
    named by its path, with the language: "pages[0].fields[2].label.lt"), its workflow's
    state and action labels, the emails it sends (mail/defaults.yaml) and its decision
    letters (`letters`, else documents/letters.yaml). Anything missing would reach people
    in another language, so the definition is refused with the list.

    `definition` is the normalised definition; the paths are those of the input document
    (`document`, else the YAML file's shape: a question's settings on the question)."""
    found: list[Problem] = []
    for language in definition["languages"]:
        for path, names in _own_gaps(definition, language):
            found.append(
                Problem(
                    (*_input_path(path, document), language),
                    "language.text_missing",
                    {"language": language},
                    names,
                )
            )
        found += _workflow_gaps(workflow, language)
        for event in _emails_sent(workflow):
            texts = email_texts.get(event) or {}
            if language not in texts:
                found.append(
                    Problem(
                        ("languages",),
                        "language.email_missing",
                        {"language": language, "event": event},
                    )
                )
        for state in _lettered_states(workflow):
            own = (definition.get("letters") or {}).get(state)
            if own:
                continue  # the definition's own letter: one of its own texts, above
            texts = letter_texts.get(state) or letter_texts["decision"]
            if not _covers(texts, language):
                found.append(
                    Problem(
                        ("letters",),
                        "language.letter_missing",
                        {"language": language, "state": state, "source": "documents/letters.yaml"},
                    )
                )
    return found


def _input_path(path: tuple, document: dict | None) -> tuple:
    """A path in the normalised definition as a path in the input document: a question's
    settings are on the question in a YAML file, in its `options` once normalised."""
    result, node = [], document
    for index, part in enumerate(path):
        if part == "options" and index > 0 and isinstance(path[index - 1], int):
            if not (isinstance(node, dict) and "options" in node):
                continue
        result.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(result)


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


def _own_gaps(
    value: object, language: str, path: tuple = (), names: Names = ()
) -> list[tuple[tuple, Names]]:
    """Places in the normalised definition whose text has no version in `language`, with
    the names of the questions on the way."""
    if _is_text(value):
        return [] if _covers(value, language) else [(path, names)]
    if isinstance(value, dict):
        if path and isinstance(path[-1], int) and isinstance(value.get("name"), str):
            if "type" in value:
                names = (*names, (len(path) - 1, value["name"]))
        return [
            gap
            for key, item in value.items()
            for gap in _own_gaps(item, language, (*path, key), names)
        ]
    if isinstance(value, list):
        return [
            gap
            for index, item in enumerate(value)
            for gap in _own_gaps(item, language, (*path, index), names)
        ]
    return []


def _workflow_gaps(workflow, language: str) -> list[Problem]:
    source = f"workflows/definitions/{workflow.name}.yaml"
    where = ("workflow",)
    missing = [
        Problem(
            where,
            "language.state_label_missing",
            {"language": language, "state": state, "source": source},
        )
        for state, spec in workflow.states.items()
        if not _covers(spec.get("label"), language)
    ]
    missing += [
        Problem(
            where,
            "language.action_label_missing",
            {"language": language, "action": step.name, "source": source},
        )
        for step in workflow.transitions
        if not _covers(step.label, language)
    ]
    missing += [
        Problem(
            where,
            "language.action_question_missing",
            {"language": language, "action": step.name, "source": source},
        )
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
