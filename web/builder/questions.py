"""The builder's Questions task: a call's pages and their questions, each question's
settings in a form made from its field type's settings schema, conditions picked from
earlier questions, repeatable groups' own questions, and a preview of any page of the
draft in any of the call's languages, as an applicant sees it.

One thing per page and no JavaScript needed (GOV.UK Forms' builder is the model): moving is
a button, adding a choice is a button, a condition is ticked boxes. static/js/builder.js
adds dragging and a live preview panel on top.

A question is named in URLs by where it is: "0-2" is page 0's question 2, "0-2-1" the
first... second question inside that group; a container (where questions are added) is "0"
(a page) or "0-2" (a group)."""

from __future__ import annotations

import re
import unicodedata

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from forms.build import RESERVED_NAMES, build_page_form
from forms.field_types import REGISTRY, TYPES
from forms.field_types.settings import ABSENT, TIME
from forms.problems import Problem
from forms.schema import CONDITION_TYPES, FIELD_NAME, DefinitionError, check, validate
from forms.spec import FormSpec
from forms.texts import localise
from forms.validators import text_refusal
from services import page_flow
from web.builder.common import (
    languages_of,
    load_call,
    posted_revision,
    problems_by_path,
    save_or_conflict,
    working_copy,
)

bp = Blueprint("questions", __name__, url_prefix="/dashboard/build")

MAX_TEXT = 2000  # the most characters any one text of a definition may have here
REFERRING_KEYS = ("applicant_email_field", "seats_field", "applicant_name_field")
COMMON = ("label", "help", "required", "identifying", "name", "type", "show_if", "options")

# What each setting is called on the page (its `doc`, when it has one, is shown as a hint).
SETTING_LABELS = {
    "min_length": _l("Fewest characters"),
    "max_length": _l("Most characters"),
    "pattern": _l("Pattern the answer must match (regular expression)"),
    "pattern_message": _l("Message when the answer does not match the pattern"),
    "rows": _l("Height of the box, in lines"),
    "min": _l("Lowest"),
    "max": _l("Highest"),
    "integer": _l("Whole numbers only"),
    "choices": _l("Choices"),
    "widget": _l("Shown as"),
    "min_choices": _l("Fewest options to tick"),
    "max_choices": _l("Most options to tick"),
    "countries": _l("Countries offered (ISO codes, for example PL SE; empty: all)"),
    "country": _l("Country chosen at first (ISO code)"),
    "text": _l("Text"),
    "accept": _l("File types accepted (extensions, for example pdf docx)"),
    "max_size_mb": _l("Largest file, in MB"),
    "item_label": _l("What each item is called (for example Participant)"),
}
MOMENT_LABELS = {"min": _l("Earliest"), "max": _l("Latest")}
GROUP_LABELS = {"min": _l("Fewest items"), "max": _l("Most items")}
ONE_OF_LABELS = {"radio": _l("Radio buttons"), "select": _l("A drop-down list")}


# --- the document ------------------------------------------------------------------------


def parse_where(text: str, lengths: tuple[int, ...] = (1, 2, 3)) -> tuple[int, ...]:
    parts = text.split("-")
    if len(parts) not in lengths or not all(p.isascii() and p.isdigit() for p in parts):
        abort(404)
    return tuple(int(p) for p in parts)


def where_text(where: tuple[int, ...]) -> str:
    return "-".join(str(i) for i in where)


def pages_of(document: dict) -> list[dict]:
    """The document's pages, made editable: a page that is not a mapping with a list of
    fields (a broken draft) gets one, so the builder can always show and mend it."""
    pages = document.get("pages")
    if not isinstance(pages, list):
        pages = document["pages"] = []
    for index, page in enumerate(pages):
        if not isinstance(page, dict):
            page = pages[index] = {}
        if not isinstance(page.get("fields"), list):
            page["fields"] = []
    return pages


def container_of(document: dict, at: tuple[int, ...]) -> list:
    """The list questions are added to: a page's fields, or a group's."""
    pages = pages_of(document)
    if not 0 <= at[0] < len(pages):
        abort(404)
    fields = pages[at[0]]["fields"]
    if len(at) == 1:
        return fields
    if len(at) != 2 or not 0 <= at[1] < len(fields):
        abort(404)
    group = fields[at[1]]
    if not isinstance(group, dict) or not repeats(group):
        abort(404)
    if not isinstance(group.get("fields"), list):
        group["fields"] = []
    return group["fields"]


def question_at(document: dict, where: tuple[int, ...]) -> dict:
    siblings = container_of(document, where[:-1])
    if not 0 <= where[-1] < len(siblings) or not isinstance(siblings[where[-1]], dict):
        abort(404)
    return siblings[where[-1]]


def path_of(where: tuple[int, ...]) -> tuple:
    """The question's path in the document, as problems name it."""
    path: tuple = ("pages", where[0])
    for index in where[1:]:
        path = (*path, "fields", index)
    return path


def every_question(document: dict):
    """(where, question) for every question in order, a group's own questions after it."""
    for p, page in enumerate(pages_of(document)):
        for i, field in enumerate(page["fields"]):
            if not isinstance(field, dict):
                continue
            yield (p, i), field
            children = field.get("fields") if repeats(field) else None
            for c, child in enumerate(children if isinstance(children, list) else []):
                if isinstance(child, dict):
                    yield (p, i, c), child


def names_in(document: dict) -> set[str]:
    return {str(q["name"]) for _w, q in every_question(document) if q.get("name")}


def key_from(label: str, taken: set[str], fallback: str) -> str:
    """A question's key from its label: ASCII letters, digits and _, starting with a
    letter, unique in the call and not a name the form engine keeps for itself."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:40].strip("_")
    if not key or not key[0].isalpha():
        key = f"{fallback}_{key}".strip("_") if key else fallback
    candidate, number = key, 1
    while candidate in taken or candidate in RESERVED_NAMES:
        number += 1
        candidate = f"{key}_{number}"
    return candidate


def references_to(document: dict, names: set[str], gone: tuple[int, ...]) -> list[str]:
    """What refers to any of `names` (the questions at `gone`, a page or a question, which
    is deleted with what is inside it): conditions of other questions and the call's
    settings naming a question (the applicant's email, the seats, the applicant's name)."""
    found = []
    for key in REFERRING_KEYS:
        if document.get(key) in names:
            found.append(_("the call's setting “%(setting)s”", setting=key))
    for where, question in every_question(document):
        if where[: len(gone)] == gone:
            continue
        if names & condition_names(question.get("show_if")):
            found.append(_("the condition of “%(question)s”", question=question_title(question)))
    return found


def condition_names(condition) -> set[str]:
    if not isinstance(condition, dict):
        return set()
    found = set()
    for key, value in condition.items():
        if key == "any" and isinstance(value, list):
            for alternative in value:
                found |= condition_names(alternative)
        else:
            found.add(str(key))
    return found


def editor_language(document: dict) -> str:
    languages = languages_of(document)
    locale = str(get_locale())
    return locale if locale in languages else (languages[0] if languages else "en")


def text_of(value, language: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return localise({k: v for k, v in value.items() if isinstance(v, str)}, language, "en")
    return ""


def question_title(question: dict, language: str | None = None) -> str:
    language = language or str(get_locale())
    words = text_of(question.get("label"), language) or text_of(question.get("text"), language)
    return words or str(question.get("name") or question.get("type") or "?")


def settings_value(question: dict, key: str):
    """A setting as the question holds it: on the question (YAML's way) or in `options`
    (the normalised way older drafts hold)."""
    if key in question:
        return question[key]
    options = question.get("options")
    return options.get(key) if isinstance(options, dict) else None


def type_name(name: object) -> str:
    kind = REGISTRY.get(name) if isinstance(name, str) else None
    return _(kind.summary) if kind and kind.summary else str(name)


# --- reading a question's form ---------------------------------------------------------


class Posted:
    """A question's form as posted: the question it makes, what was typed (to show again),
    and the messages for what could not even be kept."""

    def __init__(self, kind, languages: list[str], form):
        self.kind, self.languages, self.form = kind, languages, form
        self.errors: dict[str, list[str]] = {}
        self.values: dict = {}  # field name -> what to show in it
        self.changes: dict = {}  # key -> value (None: remove the key)

    def refuse(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def text(self, key: str, multiline: bool = False) -> None:
        words = {}
        for language in self.languages:
            field = f"{key}.{language}"
            value = self.form.get(field, "")
            shown = value.replace("\r\n", "\n")
            refusal = text_refusal(shown, multiline, MAX_TEXT)
            if refusal:
                self.refuse(field, refusal)
            elif shown.strip():
                words[language] = shown.strip()
        self.values[key] = {lang: self.form.get(f"{key}.{lang}", "") for lang in self.languages}
        self.changes[key] = words or None

    def line(self, key: str) -> str:
        value = self.form.get(key, "")
        self.values[key] = value
        refusal = text_refusal(value, False, MAX_TEXT)
        if refusal:
            self.refuse(key, refusal)
            return ""
        return value.strip()

    def setting(self, setting) -> None:
        key = setting.key
        if setting.kind == "text":
            self.text(key, multiline=True)
            return
        if setting.kind == "fields":
            return
        if setting.kind == "choices":
            self.choices()
            return
        if setting.kind == "truth":
            self.values[key] = key in self.form
            self.changes[key] = key in self.form
            return
        raw = self.line(key)
        if key in self.errors:
            return
        if not raw:
            self.changes[key] = None
            return
        if setting.kind == "whole":
            if not re.fullmatch(r"-?\d{1,9}", raw):
                self.refuse(key, _("Enter a whole number, like 20."))
                return
            self.changes[key] = int(raw)
        elif setting.kind == "number":
            try:
                number = float(raw.replace(",", "."))
            except ValueError:
                number = None
            if number is None or number != number or abs(number) > 1e12:
                self.refuse(key, _("Enter a number, like 2.5."))
                return
            self.changes[key] = int(number) if number.is_integer() else number
        elif setting.kind in ("extensions", "territories"):
            items = [item for item in re.split(r"[\s,;]+", raw) if item]
            if setting.kind == "territories":
                items = [item.upper() for item in items]
            self.changes[key] = items
        elif setting.kind == "territory":
            self.changes[key] = raw.upper()
        elif setting.kind == "time" and not TIME.fullmatch(raw):
            self.refuse(key, _("Enter a time like 09:30."))
        else:  # date, time, regex, one_of: the schema says what is wrong with them
            self.changes[key] = raw

    def choices(self) -> None:
        rows = []
        try:
            count = min(int(self.form.get("choice_count", "0")), 200)
        except ValueError:
            count = 0
        for index in range(count):
            value = self.form.get(f"choice-{index}-value", "")
            labels = {
                lang: self.form.get(f"choice-{index}-label.{lang}", "") for lang in self.languages
            }
            rows.append({"value": value, "label": labels})
        action = self.form.get("action", "")
        if action.startswith("remove_choice:"):
            try:
                del rows[int(action.split(":", 1)[1])]
            except (ValueError, IndexError):
                pass
        if action == "add_choice":
            rows.append({"value": "", "label": {lang: "" for lang in self.languages}})
        self.values["choices"] = rows
        stored = []
        for index, row in enumerate(rows):
            value = row["value"].strip()
            refusal = text_refusal(row["value"], False, 200)
            if refusal:
                self.refuse(f"choices[{index}].value", refusal)
            labels = {}
            for language, words in row["label"].items():
                refusal = text_refusal(words, False, MAX_TEXT)
                if refusal:
                    self.refuse(f"choices[{index}].label.{language}", refusal)
                elif words.strip():
                    labels[language] = words.strip()
            if not value and labels:
                value = key_from(
                    next(iter(labels.values())), {c["value"] for c in stored}, "choice"
                )
                row["value"] = value
            if value or labels:
                stored.append({"value": value, "label": labels or value})
        self.changes["choices"] = stored


def read_posted(kind, languages: list[str], form, key_editable: bool) -> Posted:
    posted = Posted(kind, languages, form)
    if kind.is_input:
        posted.text("label")
        posted.text("help", multiline=True)
        posted.values["required"] = posted.changes["required"] = "required" in form
        posted.values["identifying"] = posted.changes["identifying"] = "identifying" in form
        if key_editable and "name" in form:
            posted.values["name"] = form.get("name", "")
    for setting in kind.settings:
        posted.setting(setting)
    return posted


def values_of(question: dict, kind, languages: list[str]) -> dict:
    """What the question's form shows for a stored question."""
    values: dict = {}
    for key in ("label", "help"):
        values[key] = question.get(key)
    values["required"] = bool(question.get("required"))
    values["identifying"] = bool(question.get("identifying"))
    values["name"] = question.get("name") or ""
    for setting in kind.settings:
        value = settings_value(question, setting.key)
        if setting.kind == "text":
            values[setting.key] = value
        elif setting.kind == "choices":
            rows = []
            for choice in value if isinstance(value, list) else []:
                if isinstance(choice, dict):
                    label = choice.get("label")
                    label = label if isinstance(label, dict) else {"*": str(label or "")}
                    words = {lang: label.get(lang) or label.get("*") or "" for lang in languages}
                    rows.append({"value": str(choice.get("value", "")), "label": words})
            values["choices"] = rows or [{"value": "", "label": {lang: "" for lang in languages}}]
        elif setting.kind == "truth":
            default = setting.default if setting.default is not ABSENT else False
            values[setting.key] = bool(default if value is None else value)
        elif isinstance(value, list):
            values[setting.key] = " ".join(str(item) for item in value)
        else:
            values[setting.key] = "" if value is None else str(value)
    return values


def apply(question: dict, posted: Posted) -> None:
    options = question.get("options") if isinstance(question.get("options"), dict) else None
    for key, value in posted.changes.items():
        if options is not None:
            options.pop(key, None)
        if value is None or (key in ("required", "identifying") and value is False):
            question.pop(key, None)
        else:
            question[key] = value
    if options is not None and not options:
        question.pop("options")


def rename(document: dict, old: str, new: str) -> None:
    """A key changed before the call was ever published: what referred to it follows."""
    for key in REFERRING_KEYS:
        if document.get(key) == old:
            document[key] = new
    for _where, question in every_question(document):
        _rename_in(question.get("show_if"), old, new)


def _rename_in(condition, old: str, new: str) -> None:
    if not isinstance(condition, dict):
        return
    if old in condition:
        condition[new] = condition.pop(old)
    for alternative in condition.get("any") or []:
        _rename_in(alternative, old, new)


def key_refusal(document: dict, question: dict, key: str) -> str | None:
    if not FIELD_NAME.fullmatch(key) or key.startswith("_"):
        return _("A key is lower-case letters a to z, digits and _, and begins with a letter.")
    if key in RESERVED_NAMES:
        return _("“%(key)s” is a name the form keeps for itself: choose another.", key=key)
    if key != question.get("name") and key in names_in(document):
        return _("Another question has the key “%(key)s”.", key=key)
    return None


# --- views -------------------------------------------------------------------------------


def _common(form, draft, document) -> dict:
    return {
        "call_form": form,
        "draft": draft,
        "languages": languages_of(document),
        "language": None,
        "editing": editor_language(document),
        "text_of": text_of,
        "question_title": question_title,
        "type_name": type_name,
        "where_text": where_text,
        "key_editable": form.current_version is None,
        "widget_of": widget_of,
        "default_of": default_of,
        "repeats": repeats,
    }


@bp.get("/<slug>/questions")
@login_required
def pages(slug: str):
    form, draft = load_call(slug)
    document = working_copy(draft)
    return render_template(
        "builder/questions/pages.html",
        pages=pages_of(document),
        troubled=troubled_questions(check(document)),
        path_of=path_of,
        **_common(form, draft, document),
    )


@bp.route("/<slug>/questions/pages/new", methods=["GET", "POST"])
@login_required
def add_page(slug: str):
    return _page_form(slug, None)


@bp.route("/<slug>/questions/pages/<int:page>", methods=["GET", "POST"])
@login_required
def edit_page(slug: str, page: int):
    return _page_form(slug, page)


def _page_form(slug: str, page: int | None):
    form, draft = load_call(slug)
    document = working_copy(draft)
    pages = pages_of(document)
    if page is not None and not 0 <= page < len(pages):
        abort(404)
    languages = languages_of(document)
    errors: dict = {}
    conflict = None
    title = pages[page].get("title") if page is not None else None
    revision = draft.revision
    if request.method == "POST":
        posted = Posted(None, languages, request.form)
        posted.text("title")
        title, errors, revision = posted.values["title"], posted.errors, posted_revision()
        if not errors:
            if page is None:
                pages.append({"title": posted.changes["title"], "fields": []})
                if posted.changes["title"] is None:
                    pages[-1].pop("title")
                page = len(pages) - 1
                summary = f"page {page + 1} added"
            else:
                apply(pages[page], posted)
                pages[page].setdefault("fields", [])
                summary = f"page {page + 1} title changed"
            conflict = save_or_conflict(form, document, summary)
            if conflict is None:
                return redirect(url_for(".pages", slug=slug) + f"#page-{page}")
    if page is not None and request.method == "GET":
        errors = problems_by_path(check(document), ("pages", page))
    return render_template(
        "builder/questions/page.html",
        page=page,
        title=title,
        errors=errors,
        conflict=conflict,
        revision=revision,
        **_common(form, draft, document),
    ), 200


@bp.post("/<slug>/questions/pages/<int:page>/move")
@login_required
def move_page(slug: str, page: int):
    form, draft = load_call(slug)
    document = working_copy(draft)
    pages = pages_of(document)
    if not 0 <= page < len(pages):
        abort(404)
    target = page - 1 if request.form.get("direction") == "up" else page + 1
    if 0 <= target < len(pages):
        pages.insert(target, pages.pop(page))
        conflict = save_or_conflict(form, document, f"page {page + 1} moved to {target + 1}")
        if conflict:
            return _conflict_page(form, draft, document, conflict)
        page = target
    return redirect(url_for(".pages", slug=slug) + f"#page-{page}")


@bp.route("/<slug>/questions/pages/<int:page>/delete", methods=["GET", "POST"])
@login_required
def delete_page(slug: str, page: int):
    form, draft = load_call(slug)
    document = working_copy(draft)
    pages = pages_of(document)
    if not 0 <= page < len(pages):
        abort(404)
    names = {str(q["name"]) for w, q in every_question(document) if w[0] == page and q.get("name")}
    referred = references_to(document, names, (page,)) if names else []
    conflict = None
    if request.method == "POST" and not referred:
        del pages[page]
        conflict = save_or_conflict(form, document, f"page {page + 1} deleted")
        if conflict is None:
            return redirect(url_for(".pages", slug=slug))
    return render_template(
        "builder/questions/delete_page.html",
        page=page,
        page_fields=pages[page]["fields"] if page < len(pages) else [],
        referred=referred,
        conflict=conflict,
        revision=posted_revision() if conflict else draft.revision,
        **_common(form, draft, document),
    )


def troubled_questions(problems: list[Problem]) -> set[tuple[int, ...]]:
    """Where the questions with problems are: (page, index) or (page, index, child)."""
    found = set()
    for problem in problems:
        path = problem.path
        if len(path) >= 4 and path[0] == "pages" and path[2] == "fields":
            found.add((path[1], path[3]))
            if len(path) >= 6 and path[4] == "fields" and isinstance(path[5], int):
                found.add((path[1], path[3], path[5]))
    return found


def _conflict_page(form, draft, document, conflict):
    return render_template(
        "builder/questions/pages.html",
        pages=pages_of(working_copy(draft)),
        troubled=set(),
        path_of=path_of,
        conflict=conflict,
        **_common(form, draft, document),
    )


def _allowed_types(at: tuple[int, ...]):
    return [kind for kind in TYPES if len(at) == 1 or kind.allowed_in_group]


@bp.get("/<slug>/questions/add/<at>")
@login_required
def choose_type(slug: str, at: str):
    form, draft = load_call(slug)
    document = working_copy(draft)
    place = parse_where(at, (1, 2))
    container_of(document, place)
    allowed = _allowed_types(place)
    chosen = request.args.get("type")
    if chosen in {kind.name for kind in allowed}:
        return redirect(url_for(".add_question", slug=slug, at=at, type_=chosen))
    error = _("Choose a type of question.") if "type" in request.args else None
    return render_template(
        "builder/questions/choose_type.html",
        at=at,
        place=place,
        kinds=allowed,
        error=error,
        group=question_at(document, place) if len(place) == 2 else None,
        **_common(form, draft, document),
    ), 200


@bp.route("/<slug>/questions/add/<at>/<type_>", methods=["GET", "POST"])
@login_required
def add_question(slug: str, at: str, type_: str):
    form, draft = load_call(slug)
    document = working_copy(draft)
    place = parse_where(at, (1, 2))
    siblings = container_of(document, place)
    kind = REGISTRY.get(type_)
    if kind is None or kind not in [REGISTRY[k.name] for k in _allowed_types(place)]:
        abort(404)
    languages = languages_of(document)
    question: dict = {"type": kind.name}
    if request.method == "GET":
        values = values_of(question, kind, languages)
        return _question_page(
            form, draft, document, kind, None, place, values, {}, None, draft.revision
        )
    posted = read_posted(kind, languages, request.form, key_editable=False)
    if posted.form.get("action", "save") != "save" or posted.errors:
        return _question_page(
            form,
            draft,
            document,
            kind,
            None,
            place,
            posted.values,
            posted.errors,
            None,
            posted_revision(),
        )
    apply(question, posted)
    if kind.is_input:
        label = posted.changes.get("label") or {}
        first = label.get(languages[0]) if languages else None
        first = first or next(iter(label.values()), "")
        question = {"name": key_from(first, names_in(document), kind.name), **question}
    siblings.append(question)
    where = (*place, len(siblings) - 1)
    conflict = save_or_conflict(
        form, document, f"question {question.get('name') or kind.name} added"
    )
    if conflict:
        return _question_page(
            form,
            draft,
            document,
            kind,
            None,
            place,
            posted.values,
            posted.errors,
            conflict,
            posted_revision(),
        )
    return redirect(url_for(".edit_question", slug=slug, where=where_text(where), saved=1))


@bp.route("/<slug>/questions/q/<where>", methods=["GET", "POST"])
@login_required
def edit_question(slug: str, where: str):
    form, draft = load_call(slug)
    document = working_copy(draft)
    place = parse_where(where, (2, 3))
    question = question_at(document, place)
    kind = REGISTRY.get(question.get("type")) if isinstance(question.get("type"), str) else None
    if kind is None:
        abort(404)  # a question of no known type: mended in the file, not here
    languages = languages_of(document)
    key_editable = form.current_version is None and kind.is_input
    if request.method == "GET":
        errors = problems_by_path(check(document), path_of(place))
        for key, messages in list(errors.items()):
            if key.startswith("options."):
                errors.setdefault(key.removeprefix("options."), []).extend(messages)
        values = values_of(question, kind, languages)
        return _question_page(
            form,
            draft,
            document,
            kind,
            place,
            place[:-1],
            values,
            errors,
            None,
            draft.revision,
            saved="saved" in request.args,
        )
    posted = read_posted(kind, languages, request.form, key_editable)
    new_key = posted.values.get("name", "").strip() if key_editable else None
    if new_key is not None and "name" in request.form and new_key != question.get("name"):
        refusal = key_refusal(document, question, new_key)
        if refusal:
            posted.refuse("name", refusal)
    if posted.form.get("action", "save") != "save" or posted.errors:
        return _question_page(
            form,
            draft,
            document,
            kind,
            place,
            place[:-1],
            posted.values,
            posted.errors,
            None,
            posted_revision(),
        )
    apply(question, posted)
    if new_key and new_key != question.get("name"):
        old = question.get("name")
        question["name"] = new_key
        if old:
            rename(document, str(old), new_key)
    conflict = save_or_conflict(
        form, document, f"question {question.get('name') or kind.name} changed"
    )
    if conflict:
        return _question_page(
            form,
            draft,
            document,
            kind,
            place,
            place[:-1],
            posted.values,
            posted.errors,
            conflict,
            posted_revision(),
        )
    return redirect(url_for(".edit_question", slug=slug, where=where, saved=1))


def _question_page(
    form, draft, document, kind, place, at, values, errors, conflict, revision, saved=False
):
    question = question_at(document, place) if place else {"type": kind.name}
    pages = pages_of(document)
    return render_template(
        "builder/questions/question.html",
        kind=kind,
        place=place,
        at=at,
        question=question,
        values=values,
        errors=errors,
        conflict=conflict,
        revision=revision,
        saved=saved and not errors,
        setting_label=lambda setting: _setting_label(kind, setting),
        one_of_labels=ONE_OF_LABELS,
        page_count=len(pages),
        children=_children(question) if kind.repeats and place else None,
        group=question_at(document, place[:-1]) if place and len(place) == 3 else None,
        has_errors=bool(errors),
        **_common(form, draft, document),
    ), 200


WIDGETS = {
    "text": "texts",
    "choices": "choices",
    "fields": "none",  # a group's own questions: listed under its form
    "truth": "checkbox",
    "one_of": "select",
    "date": "date",
    "time": "time",
    "whole": "whole",
    "number": "number",
}


def widget_of(setting) -> str:
    """How the question's form asks for a setting, by the setting's kind."""
    return WIDGETS.get(setting.kind, "line")


def default_of(setting) -> str:
    """The value a setting left empty has, as a hint ("" when none is worth saying)."""
    default = setting.default
    if default is ABSENT or default is None or isinstance(default, bool | tuple | list):
        return ""
    return str(default)


def repeats(question: dict) -> bool:
    kind = REGISTRY.get(question.get("type")) if isinstance(question.get("type"), str) else None
    return bool(kind and kind.repeats)


def _children(group: dict) -> list:
    fields = group.get("fields")
    return fields if isinstance(fields, list) else []


def _setting_label(kind, setting) -> str:
    if kind.repeats and setting.key in GROUP_LABELS:
        return str(GROUP_LABELS[setting.key])
    if kind.name in ("date", "time", "datetime") and setting.key in MOMENT_LABELS:
        return str(MOMENT_LABELS[setting.key])
    return str(SETTING_LABELS.get(setting.key, setting.key))


@bp.post("/<slug>/questions/q/<where>/move")
@login_required
def move_question(slug: str, where: str):
    form, draft = load_call(slug)
    document = working_copy(draft)
    place = parse_where(where, (2, 3))
    siblings = container_of(document, place[:-1])
    question = question_at(document, place)
    index = place[-1]
    direction = request.form.get("direction")
    to_page = request.form.get("to_page", "")
    position = request.form.get("position", "")
    if direction in ("up", "down"):
        target = index - 1 if direction == "up" else index + 1
        moved_to = (*place[:-1], target) if 0 <= target < len(siblings) else place
    elif position.isascii() and position.isdigit():
        moved_to = (*place[:-1], min(int(position), len(siblings) - 1))
    elif len(place) == 2 and to_page.isascii() and to_page.isdigit():
        pages = pages_of(document)
        page = int(to_page)
        if not 0 <= page < len(pages):
            abort(404)
        moved_to = (page, len(pages[page]["fields"]) - (1 if page == place[0] else 0))
    else:
        abort(400)
    if moved_to != place:
        del siblings[index]
        container_of(document, moved_to[:-1]).insert(moved_to[-1], question)
        summary = f"question {question.get('name') or question.get('type')} moved"
        conflict = save_or_conflict(form, document, summary)
        if conflict:
            return _conflict_page(form, draft, document, conflict)
    if request.form.get("back") == "question":
        return redirect(url_for(".edit_question", slug=slug, where=where_text(moved_to)))
    if len(moved_to) == 3:
        target_url = url_for(".edit_question", slug=slug, where=where_text(moved_to[:-1]))
        return redirect(target_url + f"#q-{where_text(moved_to)}")
    return redirect(url_for(".pages", slug=slug) + f"#q-{where_text(moved_to)}")


@bp.route("/<slug>/questions/q/<where>/delete", methods=["GET", "POST"])
@login_required
def delete_question(slug: str, where: str):
    form, draft = load_call(slug)
    document = working_copy(draft)
    place = parse_where(where, (2, 3))
    question = question_at(document, place)
    names = {str(question["name"])} if question.get("name") else set()
    for child in _children(question) if repeats(question) else []:
        if isinstance(child, dict) and child.get("name"):
            names.add(str(child["name"]))
    referred = references_to(document, names, place) if names else []
    conflict = None
    if request.method == "POST" and not referred:
        del container_of(document, place[:-1])[place[-1]]
        conflict = save_or_conflict(
            form, document, f"question {question.get('name') or question.get('type')} deleted"
        )
        if conflict is None:
            if len(place) == 3:
                return redirect(url_for(".edit_question", slug=slug, where=where_text(place[:-1])))
            return redirect(url_for(".pages", slug=slug) + f"#page-{place[0]}")
    return render_template(
        "builder/questions/delete_question.html",
        place=place,
        question=question,
        referred=referred,
        conflict=conflict,
        revision=posted_revision() if conflict else draft.revision,
        **_common(form, draft, document),
    )


# --- conditions --------------------------------------------------------------------------


def condition_targets(document: dict, place: tuple[int, ...], language: str) -> list[dict]:
    """The questions a condition of the question at `place` may name: earlier ones whose
    answers are a fixed set, each with its possible answers and their words."""
    targets = []
    for where, question in every_question(document):
        if where >= place:
            break
        if len(where) == 3 and where[:2] != place[:2]:
            continue  # inside another group: not answered beside this question
        if where == place[: len(where)] or question.get("type") not in CONDITION_TYPES:
            continue
        kind = REGISTRY[question["type"]]
        raw = {s.key: settings_value(question, s.key) for s in kind.settings}
        options = kind.check({k: v for k, v in raw.items() if v is not None}, lambda *a, **k: None)
        values = []
        for value in kind.condition_values(options):
            if isinstance(value, bool):
                words = _("Yes") if value else _("No")
            else:
                label = next(
                    (c.get("label") for c in options.get("choices", []) if c.get("value") == value),
                    None,
                )
                words = text_of(label, language) or str(value)
            values.append({"value": value, "posted": _posted(value), "words": words})
        if values:
            targets.append(
                {
                    "name": str(question.get("name")),
                    "title": question_title(question, language),
                    "values": values,
                }
            )
    return targets


def _posted(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@bp.route("/<slug>/questions/q/<where>/condition", methods=["GET", "POST"])
@login_required
def condition(slug: str, where: str):
    form, draft = load_call(slug)
    document = working_copy(draft)
    place = parse_where(where, (2, 3))
    question = question_at(document, place)
    language = editor_language(document)
    targets = condition_targets(document, place, language)
    current = question.get("show_if") if isinstance(question.get("show_if"), dict) else {}
    chosen = {
        name: {_posted(v) for v in (vs if isinstance(vs, list) else [vs])}
        for name, vs in current.items()
        if name != "any"
    }
    error = conflict = None
    revision = draft.revision
    if request.method == "POST":
        revision = posted_revision()
        if request.form.get("action") == "remove":
            question.pop("show_if", None)
            chosen = {}
        else:
            chosen = {}
            condition_value: dict = {}
            for target in targets:
                ticked = set(request.form.getlist(f"values.{target['name']}"))
                picked = [v["value"] for v in target["values"] if v["posted"] in ticked]
                if picked:
                    chosen[target["name"]] = ticked
                    condition_value[target["name"]] = picked
            if not condition_value:
                error = _("Tick at least one answer of an earlier question.")
            else:
                question["show_if"] = condition_value
        if error is None:
            conflict = save_or_conflict(
                form,
                document,
                f"condition of {question.get('name') or question.get('type')} changed",
            )
            if conflict is None:
                return redirect(url_for(".edit_question", slug=slug, where=where, saved=1))
    problems = problems_by_path(check(document), (*path_of(place), "show_if"))
    return render_template(
        "builder/questions/condition.html",
        place=place,
        question=question,
        targets=targets,
        chosen=chosen,
        error=error,
        problems=[m for messages in problems.values() for m in messages],
        other_forms="any" in current,
        conflict=conflict,
        revision=revision,
        **_common(form, draft, document),
    ), 200


# --- preview -----------------------------------------------------------------------------


def draft_spec(document: dict, slug: str) -> tuple[FormSpec | None, list[Problem]]:
    try:
        return FormSpec(validate(document, slug)), []
    except DefinitionError as error:
        return None, [p for p in error.problems if isinstance(p, Problem)]


def problem_link(slug: str, problem: Problem) -> str | None:
    """The builder page where a problem is mended (a question's or a page's), if any."""
    path = problem.path
    if len(path) >= 4 and path[0] == "pages" and path[2] == "fields" and isinstance(path[3], int):
        where = [path[1], path[3]]
        if len(path) >= 6 and path[4] == "fields" and isinstance(path[5], int):
            where.append(path[5])
        return url_for(".edit_question", slug=slug, where=where_text(tuple(where)))
    if len(path) >= 2 and path[0] == "pages" and isinstance(path[1], int):
        return url_for(".edit_page", slug=slug, page=path[1])
    if path[:1] == ("pages",):
        return url_for(".pages", slug=slug)
    return None


@bp.get("/<slug>/preview/<int:page>")
@login_required
def preview(slug: str, page: int):
    form, draft = load_call(slug)
    document = working_copy(draft)
    spec, problems = draft_spec(document, slug)
    common = _common(form, draft, document)
    if spec is None:
        return render_template(
            "builder/questions/preview_problems.html",
            problems=problems,
            link=lambda p: problem_link(slug, p),
            **common,
        )
    if not 1 <= page <= len(spec.pages):
        abort(404)
    language = request.args.get("language", "")
    if language not in spec.languages:
        language = spec.default_language
    page_spec = spec.pages[page - 1]
    with force_locale(language):
        form_class = build_page_form(page_spec, language, language)
        page_form = page_flow.page_form(form_class, spec, page_spec, {}, language, False)
        return render_template(
            "builder/questions/preview.html",
            spec=spec,
            page=page_spec,
            form=page_form,
            language=language,
            draft=None,
            call_form=form,
            number=page,
            has_errors=False,
            fragment="fragment" in request.args,
            **page_flow.page_view(spec, page_spec, {}),
        )
