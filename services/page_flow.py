"""The page-by-page form flow, shared by the first application (web/public.py) and changing
the answers afterwards (web/applicant.py), so an edit behaves exactly like the first time:
which pages are shown, saving one page (files, group buttons, validation), going back,
where to go next, and the check-your-answers page.

Nothing here reads `flask.request`: the blueprints pass in the form WTForms built from the
request, the button pressed (`action`) and the uploaded files; they turn the `Next` step
returned into their own addresses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from flask_babel import gettext as _

from forms.build import form_data_for
from forms.spec import FormSpec, PageSpec
from models import Draft
from services import drafts as draft_service
from services.answers import first_page_with_problems, page_problems, visible_names
from services.uploads import UploadRefused, accept_upload, discard

CHECK = "check"  # `return=check` in a page's address: the person came from the check page


# --- which page ------------------------------------------------------------------------


def shown_pages(spec: FormSpec, answers: dict) -> list[int]:
    """Pages with at least one shown field: a page whose every field is hidden is skipped."""
    visible = visible_names(spec, answers)
    return [p.index for p in spec.pages if any(f.name in visible for f in p.fields)]


def neighbour(spec: FormSpec, answers: dict, index: int, step: int) -> int | None:
    """The shown page before (`step` -1) or after (+1) page `index`; None at either end."""
    pages = shown_pages(spec, answers)
    later = [p for p in pages if (p - index) * step > 0]
    if not later:
        return None
    return min(later) if step > 0 else max(later)


def first_unfinished_page(spec: FormSpec, draft: Draft) -> int | None:
    """Where a resumed draft continues: its first shown page not yet completed."""
    for index in shown_pages(spec, draft.answers):
        if index not in (draft.completed_pages or []):
            return index
    return None


def page_to_review(spec: FormSpec, answers: dict, language: str) -> int | None:
    """The first page whose answers still need attention: the check page sends there."""
    return first_page_with_problems(spec, answers, language)


# --- showing a page --------------------------------------------------------------------


def page_form(
    form_class, spec: FormSpec, page_spec: PageSpec, answers: dict, language: str, review: bool
):
    """The page's form filled from the stored answers; `review` (sent back from the check
    page) shows what still needs an answer."""
    form = form_class(formdata=None, data=form_data_for(page_spec, answers))
    if review:
        attach_errors(form, page_problems(spec, page_spec, answers, language))
    return form


def page_view(spec: FormSpec, page_spec: PageSpec, answers: dict) -> dict:
    """What the page template needs beside the form: which fields are shown, the answers
    the script evaluates conditions with, and the step counter."""
    shown = shown_pages(spec, answers)
    visible = visible_names(spec, answers)
    return {
        "answers": answers,
        "visible": visible,
        "shown_answers": {k: v for k, v in answers.items() if k in visible},  # for the script
        "step": shown.index(page_spec.index) + 1
        if page_spec.index in shown
        else page_spec.index + 1,
        "steps": len(shown),
    }


def check_view(spec: FormSpec, answers: dict) -> dict:
    """What the check-your-answers summary needs: the shown pages and fields."""
    return {
        "answers": answers,
        "visible": visible_names(spec, answers),
        "pages": [spec.pages[i] for i in shown_pages(spec, answers)],
    }


def attach_errors(form, problems: dict[str, list[str]]) -> None:
    for name, messages in problems.items():
        if name in form._fields:
            form[name].errors = list(form[name].errors or []) + list(messages)
    form._errors = None  # recomputed by WTForms from the fields


# --- saving a page ---------------------------------------------------------------------


@dataclass
class SavedPage:
    action: str  # the button pressed; "continue" when an answer was refused outright
    answers: dict  # the draft's answers with this page's merged in
    valid: bool
    anchor: str | None = None  # a group's item added or removed: the page again, there


def save_page(
    draft: Draft, spec: FormSpec, page_spec: PageSpec, form, action: str, files: Mapping
) -> SavedPage:
    """Keep what was sent on this page in the draft (invalid input too, so nothing typed is
    lost), with its files stored at once; the page counts as completed only when valid."""
    page_answers = form.page_answers()
    if form.refused() & visible_names(spec, {**draft.answers, **page_answers}):
        action = "continue"  # the page comes back with why, before anything else is done
    file_errors = take_files(draft, page_spec, action, page_answers, files)

    group_change = apply_group_action(page_spec, action, page_answers)
    if group_change is not None:
        draft_service.save_answers(draft, page_answers, page_spec.index, valid=False)
        return SavedPage(action, {**draft.answers}, False, group_change)

    merged = {**draft.answers, **page_answers}
    visible = visible_names(spec, merged)
    valid = form.validate_visible(visible, merged)
    for field in page_spec.inputs:
        if field.kind.holds_files and field.name in visible and field.required:
            if not merged.get(field.name) and field.name not in file_errors:
                file_errors[field.name] = _("Choose a file to upload.")
    attach_errors(form, {name: [message] for name, message in file_errors.items()})
    valid = valid and not file_errors
    draft_service.save_answers(draft, page_answers, page_spec.index, valid=valid)
    return SavedPage(action, merged, valid)


def take_files(
    draft: Draft, page_spec: PageSpec, action: str, page_answers: dict, files: Mapping
) -> dict[str, str]:
    """Store files uploaded on this page at once, so an error elsewhere never loses them."""
    errors = {}
    for field in page_spec.inputs:
        if not field.kind.holds_files:
            continue
        if action == f"remove-file-{field.name}":
            for attachment in [a for a in draft.attachments if a.field == field.name]:
                discard(attachment)
            page_answers[field.name] = None
            continue
        upload = files.get(field.name)
        if upload is None or not upload.filename:
            continue
        try:
            page_answers[field.name] = accept_upload(draft, field, upload, field.name)
        except UploadRefused as refusal:
            errors[field.name] = str(refusal)
    return errors


def apply_group_action(page_spec: PageSpec, action: str, page_answers: dict) -> str | None:
    """ "Add another" and "Remove" buttons of repeatable groups; returns the anchor to show."""
    for field in page_spec.inputs:
        if not field.kind.repeats:
            continue
        items = list(page_answers.get(field.name) or [])
        if action == f"add-{field.name}":
            if len(items) < field.options["max"]:
                items.append({})
            page_answers[field.name] = items
            return f"#{field.name}-{len(items) - 1}"
        prefix = f"remove-{field.name}-"
        if action.startswith(prefix) and action[len(prefix) :].isdigit():
            index = int(action[len(prefix) :])
            if 0 <= index < len(items):
                items.pop(index)
            page_answers[field.name] = items
            return f"#{field.name}"
    return None


# --- where next ------------------------------------------------------------------------


class Go(Enum):
    SAME_PAGE = "same page"  # after a group or file button, at `Next.anchor`
    SHOW_ERRORS = "show errors"  # the page again, as it was sent, with why
    PAGE = "page"  # page `Next.page`
    CHECK = "check"  # the check-your-answers page
    START = "start"  # back from the first page: the call's page
    SAVED = "saved"  # "save and continue later"


@dataclass
class Next:
    go: Go
    page: int | None = None
    anchor: str = ""


def next_after(
    spec: FormSpec, page_index: int, saved: SavedPage, to_check: bool, save_and_back: bool
) -> Next:
    """Where the person goes after saving page `page_index`. `to_check`: a valid page goes
    back to the check page (sent from it to change an answer, or changing a sent
    application) rather than on to the next page. `save_and_back`: the page has the
    "Save and continue later" and "Back" buttons (the first application has)."""
    if saved.anchor is not None:
        return Next(Go.SAME_PAGE, page_index, saved.anchor)
    if save_and_back and saved.action == "save":
        return Next(Go.SAVED)
    if save_and_back and saved.action == "back":
        previous = neighbour(spec, saved.answers, page_index, -1)
        return Next(Go.PAGE, previous) if previous is not None else Next(Go.START)
    if saved.action.startswith("remove-file-"):
        return Next(Go.SAME_PAGE, page_index)
    if not saved.valid:
        return Next(Go.SHOW_ERRORS, page_index)
    following = neighbour(spec, saved.answers, page_index, +1)
    if following is None or to_check:
        return Next(Go.CHECK)
    return Next(Go.PAGE, following)
