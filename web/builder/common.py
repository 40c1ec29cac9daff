"""What every builder page shares: finding the call and its draft with the rights to edit
it, saving a changed document with the revision the editor saw, and problems by setting."""

from __future__ import annotations

import copy

from flask import abort, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from forms.problems import Problem
from models import Form, FormDraft
from services import call_drafts
from services.access import can_manage_call
from services.catalog import find_form


def load_call(slug: str) -> tuple[Form, FormDraft]:
    """The call and its draft, for someone who may manage it; anyone else gets 404, as
    for a call that does not exist."""
    form = find_form(slug)
    if form is None or not can_manage_call(current_user, form.id):
        abort(404)
    return form, call_drafts.draft_of(form)


def working_copy(draft: FormDraft) -> dict:
    """A copy of the draft's document to change: the stored one stays as it is until saved."""
    return copy.deepcopy(draft.document)


def posted_revision() -> int:
    """The draft revision the page was made from (the hidden `revision` field)."""
    try:
        return int(request.form.get("revision", ""))
    except ValueError:
        return -1  # never a draft's revision: the save is refused as a conflict


def save_or_conflict(form: Form, document: dict, summary: str) -> str | None:
    """Save `document` as the call's draft. None when saved; else the message that says
    who changed the draft since this page was made (nothing is saved then, and the page is
    shown again with what the person entered)."""
    try:
        call_drafts.save_draft(
            form, document, revision=posted_revision(), user=current_user, summary=summary
        )
    except call_drafts.DraftConflict as conflict:
        return conflict_message(conflict.draft)
    return None


def editor_name(draft: FormDraft) -> str:
    """Who saved the draft last: a staff member's name or email, or the command line."""
    editor = call_drafts.last_editor(draft)
    return (editor.name or editor.email) if editor else _("the command line")


def conflict_message(draft: FormDraft) -> str:
    who = editor_name(draft)
    return _(
        "%(who)s saved this call at %(when)s, after you opened this page. Your change was "
        "not saved, so that theirs is not lost: what you entered is below. Open the page "
        "again to see their version, then make your change there.",
        who=who,
        when=format_datetime(draft.updated_at, "short"),
    )


def problems_by_path(problems: list[Problem], prefix: tuple = ()) -> dict[str, list[str]]:
    """Messages (in the page's language) by the `where` of each problem under `prefix`,
    relative to it: a page about one question shows its problems beside its settings."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        if tuple(problem.path[: len(prefix)]) != tuple(prefix):
            continue
        rest = Problem(tuple(problem.path[len(prefix) :]), problem.code, problem.params)
        found.setdefault(rest.where, []).append(problem.message())
    return found


def languages_of(document: dict) -> list[str]:
    """The call's languages, its default first (a new call has at least its default)."""
    languages = [lang for lang in document.get("languages") or [] if isinstance(lang, str)]
    default = document.get("default_language")
    if isinstance(default, str) and default in languages:
        languages.remove(default)
        languages.insert(0, default)
    return languages or ([default] if isinstance(default, str) else [])
