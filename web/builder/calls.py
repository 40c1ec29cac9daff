"""The builder's front: the calls someone may build, a new call (blank, a copy of another
call, or a demo call), each call's task list, and making the draft live (publishing)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from config import LANGUAGES
from extensions import db
from forms.call_settings import of_section, section_of, top_keys
from forms.problems import Problem
from models import Draft, FormVersion, ReviewerAssignment, Submission, User
from services import call_drafts
from services.access import can_create_calls, manageable_forms, reviews_every_form
from web.builder.common import conflict_message, languages_of, load_call, posted_revision
from web.builder.settings import SECTION_TITLES, find_declaration

bp = Blueprint("builder", __name__, url_prefix="/dashboard/build")

NOT_STARTED, IN_PROGRESS, COMPLETED, HAS_PROBLEMS = (
    "not_started",
    "in_progress",
    "completed",
    "has_problems",
)
STATUS_NAMES = {
    NOT_STARTED: _l("Not started"),
    IN_PROGRESS: _l("In progress"),
    COMPLETED: _l("Completed"),
    HAS_PROBLEMS: _l("Has problems"),
}


def endpoint_url(endpoint: str, **values) -> str | None:
    """A link to another helper's page when that page exists in this app (else None)."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


@bp.app_template_global()
def builder_link(endpoint: str, **values) -> str | None:
    return endpoint_url(endpoint, **values)


# --- the calls --------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    if not can_create_calls(current_user) and not manageable_forms(current_user):
        abort(404)
    forms = manageable_forms(current_user)
    editors = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(
                User.id.in_(
                    [f.draft.updated_by_id for f in forms if f.draft and f.draft.updated_by_id]
                )
            )
        )
    }
    rows = []
    for form in forms:
        draft = form.draft
        title = _title(
            draft.document
            if draft
            else (form.current_version.definition if form.current_version else {})
        )
        editor = editors.get(draft.updated_by_id) if draft and draft.updated_by_id else None
        rows.append(
            {
                "form": form,
                "title": title,
                "published": form.current_version is not None,
                "changed": bool(draft and draft.edited_in_browser and form.current_version),
                "archived": form.archived_at is not None,
                "updated_at": draft.updated_at if draft else form.created_at,
                "who": (editor.name or editor.email) if editor else None,
            }
        )
    return render_template(
        "builder/index.html", rows=rows, may_create=can_create_calls(current_user)
    )


def _title(document: dict) -> str:
    title = document.get("title") if isinstance(document, dict) else None
    if isinstance(title, dict):
        return str(title.get(str(get_locale())) or next(iter(title.values()), "") or "")
    return str(title or "")


def _new_page(values: dict, errors: dict, status: int = 200):
    own = [f for f in manageable_forms(current_user)]
    return (
        render_template(
            "builder/new.html",
            values=values,
            errors=errors,
            calls=[(f.slug, _title(f.draft.document) if f.draft else f.slug) for f in own],
            demos=[(slug, _title(doc)) for slug, doc in call_drafts.demo_documents().items()],
            languages=list(LANGUAGES.items()),
            has_errors=bool(errors),
        ),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not can_create_calls(current_user):
        abort(404)
    if request.method == "GET":
        page_language = str(get_locale())
        language = page_language if page_language in LANGUAGES else "en"
        return _new_page({"source": "blank", "language": language}, {})
    values = {
        key: request.form.get(key, "")[:300] for key in ("source", "slug", "title", "language")
    }
    values["copy_from"] = request.form.get("copy_from", "")[:100]
    values["demo"] = request.form.get("demo", "")[:100]
    source = values["source"] if values["source"] in ("blank", "copy", "demo") else "blank"
    copy_from = {"copy": values["copy_from"], "demo": values["demo"]}.get(source)
    errors: dict[str, list[str]] = {}
    if (
        source == "copy"
        and copy_from
        and copy_from not in {f.slug for f in manageable_forms(current_user)}
    ):
        errors["copy_from"] = [
            Problem(("copy_from",), "call.unknown_source", {"slug": copy_from}).message()
        ]
    if source in ("copy", "demo") and not copy_from:
        errors["copy_from" if source == "copy" else "demo"] = [_("Choose the call to start from.")]
    if "\x00" in "".join(values.values()):
        errors["title"] = [
            _("Remove the control characters (invisible characters) from this text.")
        ]
    if not errors:
        try:
            form = call_drafts.create_call(
                slug=values["slug"],
                user=current_user,
                source="copy" if source in ("copy", "demo") else "blank",
                copy_from=copy_from,
                title=values["title"],
                language=values["language"],
            )
        except call_drafts.NotPublishable as refused:
            for problem in refused.problems:
                key = {
                    "default_language": "language",
                    "copy_from": "copy_from" if source == "copy" else "demo",
                }.get(problem.where, problem.where)
                errors.setdefault(key, []).append(problem.message())
        else:
            _use_language(form, values["language"])
            if not current_user.is_admin and not reviews_every_form(current_user):
                # a call manager runs the calls they make
                db.session.add(ReviewerAssignment(user_id=current_user.id, form_id=form.id))
                db.session.commit()
            flash(_("The call was created. Work through its tasks, then make it live."))
            return redirect(url_for("builder.task_list", slug=form.slug))
    return _new_page(values, errors, 400)


def _use_language(form, language: str) -> None:
    """A copy starts in the default language asked for (offered too, if it was not: its
    missing texts then show as problems to fill in)."""
    draft = call_drafts.draft_of(form)
    document = dict(draft.document)
    languages = [lang for lang in document.get("languages") or [] if isinstance(lang, str)]
    if document.get("default_language") == language and language in languages:
        return
    document["default_language"] = language
    document["languages"] = languages if language in languages else [*languages, language]
    call_drafts.save_draft(
        form, document, revision=draft.revision, user=current_user, summary="default language"
    )


# --- the task list ----------------------------------------------------------------------------


def _has(value) -> bool:
    if isinstance(value, dict):
        return any(_has(v) for v in value.values())
    if isinstance(value, list):
        return bool(value)
    return value not in (None, "")


def section_status(section: str, document: dict, problems: list[Problem]) -> str:
    """Not started / In progress / Completed / Has problems, from the section's settings
    and the publishing problems whose path is under one of them."""
    keys = top_keys(section)
    if any(section_of(p.path) == section for p in problems):
        return HAS_PROBLEMS
    settings = of_section(section)
    given = [s for s in settings if _has(_get(document, s.path))]
    required = [s for s in settings if s.required]
    if not given and not any(k in document for k in keys):
        return NOT_STARTED
    if all(_has(_get(document, s.path)) for s in required):
        return COMPLETED
    return IN_PROGRESS


def _get(document: dict, path: tuple):
    node = document
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def questions_status(document: dict, problems: list[Problem]) -> str:
    if any(p.path[:1] == ("pages",) for p in problems):
        return HAS_PROBLEMS
    pages = document.get("pages") or []
    count = sum(len(p.get("fields") or []) for p in pages if isinstance(p, dict))
    return NOT_STARTED if count == 0 else COMPLETED


def declaration_status(document: dict, problems: list[Problem]) -> str:
    where = find_declaration(document)
    if where is None:
        return NOT_STARTED
    prefix = ("pages", where[0], "fields", where[1])
    if any(tuple(p.path[:4]) == prefix for p in problems):
        return HAS_PROBLEMS
    return COMPLETED


def task_sections(form, draft, problems: list[Problem]) -> list[dict]:
    document = draft.document if isinstance(draft.document, dict) else {}
    slug = form.slug

    def setting(section: str) -> dict:
        status = section_status(section, document, problems)
        # A section with problems opens with them shown beside its settings.
        check = {"check": 1} if status == HAS_PROBLEMS else {}
        return {
            "title": SECTION_TITLES[section],
            "url": url_for("call_settings.section", slug=slug, section=section, **check),
            "status": status,
        }

    details = setting("details")
    questions = {
        "title": _l("Questions"),
        "url": endpoint_url("questions.pages", slug=slug),
        "status": questions_status(document, problems),
    }
    declared = declaration_status(document, problems)
    declaration = {
        "title": _l("Declaration"),
        "url": url_for(
            "call_settings.declaration",
            slug=slug,
            **({"check": 1} if declared == HAS_PROBLEMS else {}),
        ),
        "status": declared,
    }
    test_links = [
        link
        for link in (
            {
                "title": _l("Preview link and test submissions"),
                "url": endpoint_url("life.test", slug=slug),
            },
            {
                "title": _l("Close, extend or archive"),
                "url": endpoint_url("life.status", slug=slug),
            },
            {"title": _l("History"), "url": endpoint_url("life.history", slug=slug)},
        )
        if link["url"]
    ]
    live = {
        "title": _l("Make it live"),
        "url": url_for("builder.publish", slug=slug),
        "status": (
            HAS_PROBLEMS
            if problems
            else (
                COMPLETED if form.current_version and not draft.edited_in_browser else IN_PROGRESS
            )
        ),
    }
    return [
        {
            "heading": _l("Prepare the call"),
            "tasks": [details, setting("languages"), setting("dates"), setting("places")],
        },
        {"heading": _l("Questions"), "tasks": [questions, declaration]},
        {"heading": _l("What happens next"), "tasks": [setting("next")]},
        {
            "heading": _l("Test it"),
            "tasks": [{**t, "status": None} for t in test_links],
            "empty": not test_links,
        },
        {"heading": _l("Make it live"), "tasks": [live]},
    ]


@bp.get("/<slug>/")
@login_required
def task_list(slug: str):
    form, draft = load_call(slug)
    problems = call_drafts.publish_problems(draft.document)
    return render_template(
        "builder/task_list.html",
        call_form=form,
        draft=draft,
        title=_title(draft.document) or form.slug,
        languages=languages_of(draft.document),
        problems=problems,
        sections=task_sections(form, draft, problems),
        status_names=STATUS_NAMES,
    )


# --- making it live ---------------------------------------------------------------------------


def problem_link(slug: str, problem: Problem) -> str | None:
    path = problem.path
    if path[:1] == ("pages",):
        where = find_declaration_path(slug, path)
        return where or question_link(slug, path)
    section = section_of(path)
    if section is None:
        return None
    anchor = problem.where
    return url_for("call_settings.section", slug=slug, section=section, check=1) + "#" + anchor


def question_link(slug: str, path: tuple) -> str | None:
    """The questions helper's page of the question (or page) a problem's path names:
    ("pages", 1, "fields", 2, ...) -> its question "1-2"; a group's child "1-2-0"."""
    numbers = []
    for index, part in enumerate(path[:6]):
        if index % 2 == 1:
            if not isinstance(part, int):
                break
            numbers.append(part)
        elif part != ("pages" if index == 0 else "fields"):
            break
    if len(numbers) >= 2:
        where = "-".join(str(n) for n in numbers[:3])
        link = endpoint_url("questions.edit_question", slug=slug, where=where)
        if link:
            return link
    if len(numbers) == 1:
        link = endpoint_url("questions.edit_page", slug=slug, page=numbers[0])
        if link:
            return link
    return endpoint_url("questions.pages", slug=slug)


def find_declaration_path(slug: str, path: tuple) -> str | None:
    form, draft = load_call(slug)
    where = find_declaration(draft.document)
    if where and tuple(path[:4]) == ("pages", where[0], "fields", where[1]):
        return url_for("call_settings.declaration", slug=slug, check=1)
    return None


def _fields(document: dict) -> dict[str, dict]:
    found: dict[str, dict] = {}

    def walk(fields):
        for field in fields or []:
            if isinstance(field, dict):
                if field.get("name"):
                    found[str(field["name"])] = field
                walk(field.get("fields"))

    for page in (document or {}).get("pages") or []:
        if isinstance(page, dict):
            walk(page.get("fields"))
    return found


def _label(field: dict, language: str) -> str:
    label = field.get("label")
    if isinstance(label, dict):
        return str(label.get(language) or next(iter(label.values()), ""))
    return str(label or "")


def changes(form, draft) -> dict:
    """What publishing changes compared with the current version: questions added,
    removed, renamed (by key), and the dates."""
    current = form.current_version.definition if form.current_version else None
    if current is None:
        return {}
    language = str(draft.document.get("default_language") or "en")
    old, new = _fields(current), _fields(draft.document)
    renamed = [
        (key, _label(old[key], language), _label(new[key], language))
        for key in new
        if key in old and old[key].get("label") != new[key].get("label")
    ]
    dates = [
        (key, current.get(key), draft.document.get(key))
        for key in ("timezone", "opens_at", "closes_at", "grace_minutes")
        if current.get(key) != draft.document.get(key)
    ]
    other = sorted(
        key
        for key in set(current) | set(draft.document)
        if key not in ("pages", "timezone", "opens_at", "closes_at", "grace_minutes")
        and current.get(key) != draft.document.get(key)
    )
    return {
        "added": [(key, _label(new[key], language)) for key in new if key not in old],
        "removed": [(key, _label(old[key], language)) for key in old if key not in new],
        "renamed": renamed,
        "dates": dates,
        "other": other,
    }


def impact(form) -> dict | None:
    """What applicants with a draft in progress and the existing submissions will see."""
    try:
        from services.call_life import publishing_impact  # noqa: PLC0415 (helper "life")
    except ImportError:
        publishing_impact = None
    if publishing_impact is not None:
        return {"life": publishing_impact(form)}
    submissions = db.session.scalar(
        select(func.count(Submission.id)).where(
            Submission.form_id == form.id, Submission.is_test.is_(False)
        )
    )
    drafts = db.session.scalar(
        select(func.count(Draft.id))
        .join(FormVersion, FormVersion.id == Draft.form_version_id)
        .where(
            FormVersion.form_id == form.id,
            FormVersion.number > 0,  # previews are numbered below 0
            Draft.is_test.is_(False),
            Draft.submission_id.is_(None),
        )
    )
    if not submissions and not drafts:
        return None
    return {"submissions": submissions or 0, "drafts": drafts or 0}


def _publish_page(form, draft, *, conflict=None, status=200, refused=None):
    problems = refused if refused is not None else call_drafts.publish_problems(draft.document)
    return (
        render_template(
            "builder/publish.html",
            call_form=form,
            draft=draft,
            problems=[(p, problem_link(form.slug, p)) for p in problems],
            changes=changes(form, draft),
            impact=impact(form) if form.current_version else None,
            conflict=conflict,
            has_errors=bool(problems),
        ),
        status,
    )


@bp.route("/<slug>/publish", methods=["GET", "POST"])
@login_required
def publish(slug: str):
    form, draft = load_call(slug)
    if request.method == "GET":
        return _publish_page(form, draft)
    try:
        version = call_drafts.publish_draft(form, revision=posted_revision(), user=current_user)
    except call_drafts.DraftConflict as conflict:
        return _publish_page(
            form, conflict.draft, conflict=conflict_message(conflict.draft), status=409
        )
    except call_drafts.NotPublishable as refused:
        return _publish_page(form, draft, refused=refused.problems, status=400)
    number = version.number if version else form.current_version.number
    return redirect(url_for("builder.published", slug=slug, number=number))


@bp.get("/<slug>/published/<int:number>")
@login_required
def published(slug: str, number: int):
    form, draft = load_call(slug)
    return render_template(
        "builder/published.html",
        call_form=form,
        number=number,
        public_url=url_for("public.call", slug=slug, _external=True),
    )
