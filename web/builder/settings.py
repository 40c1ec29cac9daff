"""A call's settings pages, generated from the declared schema (forms/call_settings.py):
one page per section, each setting shown with the input of its kind, read back the same
way, and each problem shown beside the setting it names. Plus the declaration (the consent
question at the end of the last page).

Input that cannot be stored (a garbage date, letters in a number, more than 2000
characters, control characters) is refused beside the field with everything else kept;
input that can be stored is saved, even when it is not publishable yet, and its problems
(forms.schema) are shown beside each setting after the save."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from config import LANGUAGES
from forms import placeholders
from forms.call_settings import SETTINGS, CallSetting, of_section
from forms.problems import Problem
from forms.schema import check
from services import call_drafts
from web.builder.common import (
    languages_of,
    load_call,
    posted_revision,
    problems_by_path,
    save_or_conflict,
    working_copy,
)
from workflows.engine import WorkflowError, get_workflow, known_workflows

bp = Blueprint("call_settings", __name__, url_prefix="/dashboard/build")

SECTION_TITLES = {
    "details": _l("Call details"),
    "languages": _l("Languages"),
    "dates": _l("Dates"),
    "places": _l("Places"),
    "next": _l("What happens next"),
}
WORKFLOW_DESCRIPTIONS = {
    "application-review": _l(
        "Applications decided by review, with limited places: reviewers score them, "
        "organisers accept, put on the waiting list or decline; freed places go to the "
        "waiting list in order."
    ),
    "event-registration": _l(
        "First come, first served: a registration is confirmed while seats last, "
        "otherwise it joins the waiting list; seats are counted in participants."
    ),
    "request-handling": _l(
        "Requests to a service: scheduled with a date or declined; the organiser may ask "
        "for what a request does not say yet."
    ),
}
MAX_LENGTH = 2000
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TIME = re.compile(r"\d{1,2}:\d{2}")
WHOLE = re.compile(r"-?\d{1,9}")
NUMBER = re.compile(r"-?\d{1,6}(\.\d{1,4})?")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


# --- reading the document as inputs ----------------------------------------------------------


def get_in(document: dict, path: tuple):
    node = document
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def set_in(document: dict, path: tuple, value) -> None:
    """Set the value at `path` (None: take the key out), making mappings on the way."""
    node = document
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            if value is None:
                return
            node[part] = {}
        node = node[part]
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def text_values(name: str, value, languages: list[str]) -> dict[str, str]:
    own = value if isinstance(value, dict) else ({} if value is None else {"*": str(value)})
    return {
        f"{name}.{language}": str(own.get(language) or own.get("*") or "") for language in languages
    }


def zone_of(document: dict) -> ZoneInfo | None:
    try:
        return ZoneInfo(str(document.get("timezone")))
    except (ValueError, KeyError, OSError):
        return None


def moment_values(name: str, value, zone: ZoneInfo | None) -> dict[str, str]:
    try:
        moment = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return {f"{name}.date": str(value)[:10], f"{name}.time": ""}
    if moment is None:
        return {f"{name}.date": "", f"{name}.time": ""}
    if moment.tzinfo is not None and zone is not None:
        moment = moment.astimezone(zone)
    return {f"{name}.date": moment.date().isoformat(), f"{name}.time": moment.strftime("%H:%M")}


def values_of(document: dict, settings, languages: list[str]) -> dict:
    """Each input's value (by input name) as the document holds it."""
    values: dict = {}
    for setting in settings:
        value = get_in(document, setting.path)
        name = setting.key
        if setting.kind in ("text", "longtext"):
            values.update(text_values(name, value, languages))
        elif setting.kind == "moment":
            values.update(moment_values(name, value, zone_of(document)))
        elif setting.kind == "languages":
            values[name] = [lang for lang in value or [] if isinstance(lang, str)]
        elif setting.kind == "truth":
            shown = setting.default if value is None else value
            values[name] = "yes" if shown is True else "no"
        elif setting.kind == "rubric":
            rows = value if isinstance(value, list) else []
            values["rubric"] = []
            for index, row in enumerate(rows):
                row = row if isinstance(row, dict) else {}
                prefix = f"rubric[{index}]"
                values["rubric"].append(index)
                values[f"{prefix}.key"] = str(row.get("key") or "")
                values[f"{prefix}.weight"] = "" if row.get("weight") is None else str(row["weight"])
                values.update(text_values(f"{prefix}.label", row.get("label"), languages))
        elif setting.kind == "letters":
            letters = value if isinstance(value, dict) else {}
            for state in lettered_states(document):
                values.update(text_values(f"letters.{state}", letters.get(state), languages))
        else:
            values[name] = "" if value is None else str(value)
    return values


def posted_values(settings, languages: list[str], document: dict) -> dict:
    """The inputs as posted, by name (what the page shows again when they are refused)."""
    values: dict = {}
    for setting in settings:
        name = setting.key
        if setting.kind in ("text", "longtext"):
            for language in languages:
                values[f"{name}.{language}"] = request.form.get(f"{name}.{language}", "")
        elif setting.kind == "moment":
            for part in ("date", "time"):
                values[f"{name}.{part}"] = request.form.get(f"{name}.{part}", "")
        elif setting.kind == "languages":
            values[name] = request.form.getlist(name)
        elif setting.kind == "rubric":
            indexes = sorted(
                {
                    int(m.group(1))
                    for k in request.form
                    if (m := re.match(r"rubric\[(\d{1,3})\]\.", k))
                }
            )
            values["rubric"] = indexes
            for index in indexes:
                prefix = f"rubric[{index}]"
                values[f"{prefix}.key"] = request.form.get(f"{prefix}.key", "")
                values[f"{prefix}.weight"] = request.form.get(f"{prefix}.weight", "")
                for language in languages:
                    key = f"{prefix}.label.{language}"
                    values[key] = request.form.get(key, "")
        elif setting.kind == "letters":
            for state in lettered_states(document):
                for language in languages:
                    key = f"letters.{state}.{language}"
                    values[key] = request.form.get(key, "")
        else:
            values[name] = request.form.get(name, "")
    return values


# --- writing inputs into the document --------------------------------------------------------


class Refusals(dict):
    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(message)


def plain(values: dict, name: str, refusals: Refusals, multiline: bool = False) -> str:
    """A posted string that can be stored, else "" with a refusal beside it."""
    value = str(values.get(name) or "").replace("\r\n", "\n").strip()
    if len(value) > MAX_LENGTH:
        refusals.add(name, _("Write at most %(count)s characters.", count=MAX_LENGTH))
        return ""
    if CONTROL.search(value) or (not multiline and ("\n" in value or "\t" in value)):
        refusals.add(
            name, _("Remove the control characters (invisible characters) from this text.")
        )
        return ""
    return value


def apply_text(old, values: dict, name: str, languages, refusals, multiline=False):
    """The text with the posted words in the call's languages; texts in other languages
    are kept (a language taken out and put back gets its texts back)."""
    own = dict(old) if isinstance(old, dict) else ({} if old is None else {"*": str(old)})
    star = own.pop("*", None)
    if star is not None:
        for language in LANGUAGES:
            own.setdefault(language, star)
        own = {lang: words for lang, words in own.items() if lang in languages}
    for language in languages:
        words = plain(values, f"{name}.{language}", refusals, multiline)
        if words:
            own[language] = words
        else:
            own.pop(language, None)
    return own or None


def parse_moment(values: dict, name: str, refusals: Refusals) -> str | None:
    day = plain(values, f"{name}.date", refusals)
    clock = plain(values, f"{name}.time", refusals)
    if not day and not clock:
        return None
    try:
        if not DATE.fullmatch(day):
            raise ValueError
        parsed_day = date.fromisoformat(day)
    except ValueError:
        refusals.add(f"{name}.date", _("Enter a real date, like 2027-03-14."))
        return None
    clock = clock or "00:00"
    try:
        if not TIME.fullmatch(clock):
            raise ValueError
        hours, minutes = (int(part) for part in clock.split(":"))
        parsed_time = time(hours, minutes)
    except ValueError:
        refusals.add(f"{name}.time", _("Enter a time like 09:30 (24-hour clock)."))
        return None
    return datetime.combine(parsed_day, parsed_time).isoformat(timespec="minutes")


def apply_setting(setting: CallSetting, document: dict, values: dict, languages, refusals) -> None:
    name, kind = setting.key, setting.kind
    old = get_in(document, setting.path)
    if kind in ("text", "longtext"):
        new = apply_text(old, values, name, languages, refusals, kind == "longtext")
    elif kind == "moment":
        new = parse_moment(values, name, refusals)
    elif kind == "languages":
        chosen = [lang for lang in values.get(name) or [] if lang in LANGUAGES]
        new = [lang for lang in LANGUAGES if lang in chosen] or None
        if not new:
            refusals.add(name, _("Choose at least one language."))
    elif kind == "truth":
        raw = values.get(name)
        if raw not in ("yes", "no"):
            refusals.add(name, _("Choose yes or no."))
            return
        new = raw == "yes"
        if old is None and new == setting.default:
            new = None  # the default: left out, as the file would leave it
    elif kind == "whole":
        raw = plain(values, name, refusals)
        new = None
        if raw:
            if not WHOLE.fullmatch(raw):
                refusals.add(name, _("Enter a whole number, like 30."))
                return
            new = int(raw)
            low, high = setting.minimum, setting.maximum
            if (low is not None and new < low) or (high is not None and new > high):
                if high is None:
                    message = _("Enter a whole number of at least %(low)s.", low=low)
                else:
                    message = _(
                        "Enter a whole number from %(low)s to %(high)s.", low=low, high=high
                    )
                refusals.add(name, message)
                return
    elif kind == "date":
        raw = plain(values, name, refusals)
        new = None
        if raw:
            try:
                if not DATE.fullmatch(raw):
                    raise ValueError
                new = date.fromisoformat(raw).isoformat()
            except ValueError:
                refusals.add(name, _("Enter a real date, like 2027-03-14."))
                return
    elif kind == "email":
        new = plain(values, name, refusals) or None
        if new and not EMAIL.fullmatch(new):
            refusals.add(name, _("Enter an email address, like name@example.org."))
            return
    elif kind == "url":
        new = plain(values, name, refusals) or None
        if new and not re.fullmatch(r"https?://\S+", new):
            refusals.add(name, _("Enter a web address starting with https://."))
            return
    elif kind == "timezone":
        new = plain(values, name, refusals) or None
        if new and new not in available_timezones():
            refusals.add(name, _("Choose a time zone from the list."))
            return
    elif kind == "rubric":
        new = apply_rubric(old, values, languages, refusals)
    elif kind == "letters":
        new = apply_letters(old, document, values, languages, refusals)
    else:  # string, prefix, language, workflow, question
        new = plain(values, name, refusals) or None
        if kind == "prefix" and new:
            new = new.upper()
    set_in(document, setting.path, new)


def apply_rubric(old, values: dict, languages, refusals) -> list | None:
    olds = old if isinstance(old, list) else []
    rows = []
    for index in values.get("rubric") or []:
        prefix = f"rubric[{index}]"
        key = plain(values, f"{prefix}.key", refusals)
        raw_weight = plain(values, f"{prefix}.weight", refusals)
        previous = olds[index] if index < len(olds) and isinstance(olds[index], dict) else {}
        label = apply_text(previous.get("label"), values, f"{prefix}.label", languages, refusals)
        if not key and not raw_weight and not label:
            continue  # an empty row: nothing to keep
        row: dict = {"key": key, "label": label or {}}
        if raw_weight:
            if not NUMBER.fullmatch(raw_weight):
                refusals.add(f"{prefix}.weight", _("Enter a number, like 1 or 0.5."))
                continue
            weight = float(raw_weight)
            row["weight"] = int(weight) if weight.is_integer() else weight
        rows.append(row)
    return rows or None


def lettered_states(document: dict) -> list[str]:
    try:
        workflow = get_workflow(str(document.get("workflow") or ""))
    except (WorkflowError, OSError, ValueError, KeyError):
        return []
    return list(
        dict.fromkeys(
            step.target
            for step in workflow.transitions
            if any(effect.startswith("document:") for effect in step.effects)
        )
    )


def apply_letters(old, document: dict, values: dict, languages, refusals) -> dict | None:
    letters = dict(old) if isinstance(old, dict) else {}
    for state in lettered_states(document):
        text = apply_text(letters.get(state), values, f"letters.{state}", languages, refusals, True)
        if text:
            letters[state] = text
        else:
            letters.pop(state, None)
    return letters or None


# --- the pages ---------------------------------------------------------------------------------


def shown_problems(document: dict) -> list:
    """The problems to show beside the settings: the schema's and the texts missing in a
    language the call offers; once the schema has none, everything publishing checks."""
    problems = check(document)
    if not problems:
        return call_drafts.publish_problems(document)
    languages = languages_of(document)
    return problems + [
        Problem((*path, language), "language.text_missing", {"language": language})
        for path, language in text_gaps(document, (), languages)
    ]


def _is_text(value) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and set(value) <= set(LANGUAGES) | {"*"}
        and all(isinstance(v, str) for v in value.values())
    )


def text_gaps(value, path: tuple, languages: list[str]) -> list[tuple[tuple, str]]:
    """(path, language) of each text written in some language but not in `languages`."""
    if _is_text(value):
        if value.get("*", "").strip():
            return []
        return [(path, lang) for lang in languages if not (value.get(lang) or "").strip()]
    if isinstance(value, dict):
        return [gap for k, v in value.items() for gap in text_gaps(v, (*path, k), languages)]
    if isinstance(value, list):
        return [gap for i, v in enumerate(value) for gap in text_gaps(v, (*path, i), languages)]
    return []


def section_problems(problems, settings) -> dict[str, list[str]]:
    tops = {s.top for s in settings}
    return {
        where: messages
        for where, messages in problems_by_path(problems).items()
        if re.split(r"[.\[]", where, maxsplit=1)[0] in tops
    }


def questions_of(document: dict, types: tuple[str, ...], language: str) -> list[tuple[str, str]]:
    found = []
    for page in document.get("pages") or []:
        if not isinstance(page, dict):
            continue
        for field in page.get("fields") or []:
            if isinstance(field, dict) and field.get("type") in types and field.get("name"):
                label = field.get("label")
                if isinstance(label, dict):
                    label = label.get(language) or next(iter(label.values()), "")
                found.append((str(field["name"]), str(label or field["name"])))
    return found


def timezones() -> list[str]:
    names = sorted(available_timezones())
    return [n for n in names if n.startswith("Europe/")] + [
        n for n in names if not n.startswith("Europe/")
    ]


def workflow_choices() -> list[tuple[str, str]]:
    choices = []
    for name in sorted(known_workflows()):
        description = WORKFLOW_DESCRIPTIONS.get(name)
        if description is None:
            description = _file_comment(name)
        choices.append((name, str(description)))
    return choices


def _file_comment(name: str) -> str:
    path = Path(current_app.config["FORMDESK_WORKFLOWS_DIR"]) / f"{name}.yaml"
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# "))
    return " ".join(lines)


def choices_for(setting: CallSetting, document: dict, languages: list[str]) -> list:
    page_language = languages[0] if languages else "en"
    if setting.kind == "question":
        return questions_of(document, setting.types, page_language)
    if setting.kind == "language":  # every language: one added on the same page may be it
        return list(LANGUAGES.items())
    if setting.kind == "languages":
        return list(LANGUAGES.items())
    if setting.kind == "timezone":
        return [(zone, zone) for zone in timezones()]
    if setting.kind == "workflow":
        return workflow_choices()
    return []


def merged(errors: dict, refused: dict | None) -> dict[str, list[str]]:
    both = {key: list(messages) for key, messages in errors.items()}
    for key, messages in (refused or {}).items():
        both.setdefault(key, []).extend(messages)
    return both


def _render(form, draft, section, values, *, errors, refused=None, conflict=None, status=200):
    document = draft.document
    languages = languages_of(document)
    settings = of_section(section)
    errors = merged(errors, refused)
    return (
        render_template(
            "builder/settings.html",
            call_form=form,
            draft=draft,
            section=section,
            section_title=SECTION_TITLES[section],
            settings=settings,
            values=values,
            errors=errors,
            refused=refused or {},
            conflict=conflict,
            stale={"revision": posted_revision()} if conflict else None,
            languages=languages,
            choices={s.key: choices_for(s, document, languages) for s in settings},
            states=lettered_states(
                {**document, "workflow": values.get("workflow") or document.get("workflow")}
            ),
            letter_placeholders=placeholders.of(placeholders.LETTER),
            has_errors=bool(errors),
            links=_links(form),
        ),
        status,
    )


def _links(form) -> dict:
    views = current_app.view_functions
    links = {}
    if current_user.is_admin and "admin.email_texts" in views:
        links["emails"] = url_for("admin.email_texts")
    if "assignment.reviewers" in views and form.current_version is not None:
        links["reviewers"] = url_for("assignment.reviewers", slug=form.slug)
    return links


@bp.route("/<slug>/settings/<section>", methods=["GET", "POST"])
@login_required
def section(slug: str, section: str):
    if section not in SECTION_TITLES:
        abort(404)
    form, draft = load_call(slug)
    settings = of_section(section)
    languages = languages_of(draft.document)
    if request.method == "GET":
        values = values_of(draft.document, settings, languages)
        errors = {}
        if request.args.get("check"):
            errors = section_problems(shown_problems(draft.document), settings)
        return _render(form, draft, section, values, errors=errors)

    values = posted_values(settings, languages, draft.document)
    action = request.form.get("action", "save")
    if action == "add_row":
        values["rubric"] = [*values.get("rubric", []), max(values.get("rubric") or [-1]) + 1]
        return _render(form, draft, section, values, errors={})
    if action.startswith("remove_row:"):
        try:
            gone = int(action.split(":", 1)[1])
        except ValueError:
            gone = -1
        values["rubric"] = [i for i in values.get("rubric", []) if i != gone]
    document = working_copy(draft)
    refusals = Refusals()
    for setting in settings:
        apply_setting(setting, document, values, languages, refusals)
    if refusals:
        return _render(form, draft, section, values, errors={}, refused=refusals, status=400)
    conflict = save_or_conflict(form, document, f"settings: {section}")
    if conflict:
        return _render(form, draft, section, values, errors={}, conflict=conflict, status=409)
    flash(_("Saved."))
    return redirect(url_for("call_settings.section", slug=slug, section=section, check=1))


# --- the declaration ---------------------------------------------------------------------------


def find_declaration(document: dict) -> tuple[int, int] | None:
    """(page, field) of the consent question at the end of the last page, if there is one."""
    pages = document.get("pages")
    if not isinstance(pages, list) or not pages or not isinstance(pages[-1], dict):
        return None
    fields = pages[-1].get("fields")
    if not isinstance(fields, list):
        return None
    for index in range(len(fields) - 1, -1, -1):
        if isinstance(fields[index], dict) and fields[index].get("type") == "consent":
            return len(pages) - 1, index
    return None


def _unused_name(document: dict, wanted: str) -> str:
    used = set()

    def walk(fields):
        for field in fields or []:
            if isinstance(field, dict):
                used.add(field.get("name"))
                walk(field.get("fields"))

    for page in document.get("pages") or []:
        if isinstance(page, dict):
            walk(page.get("fields"))
    name, number = wanted, 2
    while name in used:
        name, number = f"{wanted}_{number}", number + 1
    return name


def _declaration_page(form, draft, values, *, errors, refused=None, conflict=None, status=200):
    errors = merged(errors, refused)
    return (
        render_template(
            "builder/declaration.html",
            call_form=form,
            draft=draft,
            values=values,
            errors=errors,
            refused=refused or {},
            conflict=conflict,
            stale={"revision": posted_revision()} if conflict else None,
            languages=languages_of(draft.document),
            exists=find_declaration(draft.document) is not None,
            has_errors=bool(errors),
        ),
        status,
    )


@bp.route("/<slug>/declaration", methods=["GET", "POST"])
@login_required
def declaration(slug: str):
    form, draft = load_call(slug)
    languages = languages_of(draft.document)
    where = find_declaration(draft.document)
    if request.method == "GET":
        field = draft.document["pages"][where[0]]["fields"][where[1]] if where else {}
        values = {
            **text_values("label", field.get("label"), languages),
            **text_values("text", field.get("text"), languages),
        }
        errors = {}
        if where and request.args.get("check"):
            errors = problems_by_path(
                shown_problems(draft.document), ("pages", where[0], "fields", where[1])
            )
        return _declaration_page(form, draft, values, errors=errors)

    values = {
        f"{key}.{lang}": request.form.get(f"{key}.{lang}", "")
        for key in ("label", "text")
        for lang in languages
    }
    document = working_copy(draft)
    refusals = Refusals()
    if where is None:
        pages = document.get("pages")
        if not isinstance(pages, list) or not pages or not isinstance(pages[-1], dict):
            document["pages"] = pages = [
                *(pages if isinstance(pages, list) else []),
                {"fields": []},
            ]
        if not isinstance(pages[-1].get("fields"), list):
            pages[-1]["fields"] = []
        pages[-1]["fields"].append(
            {"name": _unused_name(document, "consent"), "type": "consent", "required": True}
        )
        where = (len(pages) - 1, len(pages[-1]["fields"]) - 1)
    field = document["pages"][where[0]]["fields"][where[1]]
    for key in ("label", "text"):
        text = apply_text(field.get(key), values, key, languages, refusals, key == "text")
        if text:
            field[key] = text
        else:
            field.pop(key, None)
    if refusals:
        return _declaration_page(form, draft, values, errors={}, refused=refusals, status=400)
    conflict = save_or_conflict(form, document, "declaration")
    if conflict:
        return _declaration_page(form, draft, values, errors={}, conflict=conflict, status=409)
    flash(_("Saved."))
    return redirect(url_for("call_settings.declaration", slug=slug, check=1))


def every_setting() -> tuple[CallSetting, ...]:
    return SETTINGS
