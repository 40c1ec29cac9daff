"""The applicant's own page, opened by the secret link from the receipt (no account): state
and the organiser's message, their answers and files, the actions open to them (each behind
a confirmation page), and changing the answers while nothing is decided.

An unknown token is a plain 404, the same as any unknown address: nothing tells whether a
link ever existed. These pages carry the token in their address, so they are never cached
and never send it on as a referrer."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from documents.letters import LETTER_KINDS, letter_document, letter_rows, letter_wanted
from documents.store import COPY_KINDS, current_document
from forms.build import build_page_form
from forms.published import spec_for
from forms.spec import FormSpec
from forms.validators import clean_formdata
from models import Draft, Submission
from models.types import utcnow
from moments import local_date
from services import applicant as service
from services import page_flow
from services.page_flow import Go
from services.submissions import find_submission
from services.transitions import TransitionRefused

# The page helpers of the public form, shared so an edit behaves exactly like the first time.
from web.downloads import send_document, send_stored
from web.public import (
    token_limit,
    token_miss_limit,
)
from workflows.lookup import workflow_of

bp = Blueprint("applicant", __name__, url_prefix="/s")
# Throttled per client address, together with /resume/<token> (web/public.py).
token_limit(bp)
token_miss_limit(bp)

EDIT_KEY = "applicant_edit"


@bp.after_request
def _private(response):
    response.headers["Cache-Control"] = "no-store"
    # Never sent to other sites; sent to this one, because Flask-WTF refuses a form posted
    # over HTTPS without a same-site Referer (no-referrer broke every button here on HTTPS).
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- helpers ---------------------------------------------------------------------------


def _load(token: str) -> tuple[Submission, FormSpec, str]:
    submission = find_submission(token)
    if submission is None:
        abort(404)
    spec = spec_for(submission.form_version)
    # The language the person applied in, unless they chose another with the switcher.
    chosen = session.get("lang")
    g.language = chosen if chosen in spec.languages else spec.language_for(submission.language)
    return submission, spec, g.language


def _status_url(token: str) -> str:
    return url_for("applicant.status", token=token)


def _question(step, reference: str, language: str) -> str:
    """What the applicant confirms: the workflow's own question for this step, else one
    made from its title."""
    own = step.confirm_question(language)
    if own:
        return own.replace("{reference}", reference)
    return _(
        "Are you sure: %(action)s (%(reference)s)?",
        action=step.title(language),
        reference=reference,
    )


def _edit_started(submission: Submission) -> datetime | None:
    """When this browser began the edit in progress, if it is one of this revision."""
    entry = (session.get(EDIT_KEY) or {}).get(str(submission.id)) or {}
    if entry.get("revision") != submission.revision:
        return None
    try:
        return datetime.fromisoformat(entry["started"])
    except (KeyError, TypeError, ValueError):
        return None


def _remember_edit(submission: Submission) -> None:
    """One entry per submission, so two applications edited side by side keep their
    changes; the oldest entries go first."""
    entries = dict(session.get(EDIT_KEY) or {})
    entries.pop(str(submission.id), None)
    entries[str(submission.id)] = {
        "revision": submission.revision,
        "started": utcnow().isoformat(),
    }
    session[EDIT_KEY] = dict(list(entries.items())[-5:])


def _forget_edit(submission: Submission) -> None:
    entries = dict(session.get(EDIT_KEY) or {})
    if entries.pop(str(submission.id), None) is not None:
        session[EDIT_KEY] = entries


def _workspace(submission: Submission) -> Draft:
    """The edit in progress; a new one (from the submitted answers) when this browser has
    none for the current revision."""
    draft = service.edit_workspace(submission) if _edit_started(submission) else None
    if draft is None:
        draft = service.open_edit(submission)
        _remember_edit(submission)
    return draft


def _refused(spec, language, submission, message: str, status: int):
    return (
        render_template(
            "applicant/refused.html",
            spec=spec,
            language=language,
            submission=submission,
            token=request.view_args["token"],
            message=message,
        ),
        status,
    )


# --- the page --------------------------------------------------------------------------


@bp.get("/<token>")
def status(token: str):
    submission, spec, language = _load(token)
    state = service.status_of(submission, language)
    attachments = service.current_attachments(submission)
    answers = submission.answers_by_field()
    workflow = workflow_of(submission)
    # What carries the application on (confirm a place, send it again) is the primary
    # action and comes first; what ends it (cancel, withdraw) follows, plainer.
    actions = sorted(
        ((step, not workflow.is_final(step.target)) for step in state.actions),
        key=lambda pair: not pair[1],
    )
    return render_template(
        "applicant/status.html",
        spec=spec,
        language=language,
        submission=submission,
        token=token,
        status=state,
        actions=actions,
        scheduled_for=local_date(state.scheduled_for, str(get_locale()))
        if state.scheduled_for
        else None,
        offer_expires_at=state.offer_expires_at.astimezone(spec.timezone)
        if state.offer_expires_at
        else None,
        submitted_at=submission.submitted_at.astimezone(spec.timezone),
        **page_flow.check_view(spec, answers),
        attachments=attachments,
        downloads={a.id for a in attachments},
        letters=letter_rows(submission, language),
    )


@bp.get("/<token>/attachments/<int:attachment_id>")
def attachment(token: str, attachment_id: int):
    submission, _spec, _language = _load(token)
    found = service.attachment_of(submission, attachment_id)
    if found is None:
        abort(404)
    return send_stored(found.storage_name, found.content_type, found.original_name, found.sha256)


@bp.get("/<token>/documents/<kind>")
def document(token: str, kind: str):
    """The applicant's PDF or DOCX copy of what they sent (current version)."""
    submission, _spec, _language = _load(token)
    if kind not in COPY_KINDS:
        abort(404)
    return send_document(current_document(submission, kind))


@bp.get("/<token>/letters/<int:entry_id>/<kind>")
def letter(token: str, entry_id: int, kind: str):
    """A decision letter (PDF or DOCX) of this submission; 202 while it is being made."""
    submission, _spec, _language = _load(token)
    if kind not in LETTER_KINDS or not letter_wanted(submission, entry_id):
        abort(404)
    return send_document(letter_document(submission, entry_id, kind))


@bp.route("/<token>/actions/<name>", methods=["GET", "POST"])
def action(token: str, name: str):
    submission, spec, language = _load(token)
    step = service.transition_for(submission, name)
    if request.method == "POST":
        expected = request.form.get("expected_state") or None
        try:
            service.act(submission.id, name, expected)
        except TransitionRefused as refusal:
            return _refused(spec, language, submission, str(refusal), 409)
        workflow_state = service.status_of(submission, language)
        flash(_("Done. The status is now: %(state)s.", state=workflow_state.state_label))
        return redirect(_status_url(token))
    if step is None:
        return _refused(
            spec,
            language,
            submission,
            _("This action is not possible in the current state."),
            409,
        )
    workflow = workflow_of(submission)
    holds = workflow.capacity.holds if workflow.capacity else ()
    return render_template(
        "applicant/confirm.html",
        spec=spec,
        language=language,
        submission=submission,
        token=token,
        step=step,
        title=step.title(language),
        question=_question(step, submission.reference, language),
        final=workflow.is_final(step.target),
        frees_place=submission.state in holds and step.target not in holds,
    )


# --- changing the answers --------------------------------------------------------------


def _edit_refusal(submission, spec, language):
    reason = service.edit_refusal(submission, _edit_started(submission))
    if reason is None:
        return None
    _forget_edit(submission)
    return _refused(spec, language, submission, reason, 403)


@bp.get("/<token>/edit")
def edit(token: str):
    submission, spec, language = _load(token)
    if (refusal := _edit_refusal(submission, spec, language)) is not None:
        return refusal
    draft = _workspace(submission)
    if (index := page_flow.page_to_review(spec, draft.answers, language)) is not None:
        return redirect(url_for("applicant.edit_page", token=token, number=index + 1, review=1))
    return render_template(
        "applicant/edit_check.html",
        spec=spec,
        language=language,
        submission=submission,
        token=token,
        **page_flow.check_view(spec, draft.answers),
        completing=workflow_of(submission).edit_sends(submission.state) is not None,
    )


@bp.post("/<token>/edit")
def save(token: str):
    submission, spec, language = _load(token)
    try:
        expected = int(request.form.get("revision", ""))
    except ValueError:
        expected = -1
    try:
        result = service.save_edit(submission.id, expected, _edit_started(submission))
    except service.EditRefused as refusal:
        if refusal.page is not None:
            return redirect(
                url_for("applicant.edit_page", token=token, number=refusal.page + 1, review=1)
            )
        return _refused(spec, language, submission, str(refusal), 409)
    except TransitionRefused as refusal:
        return _refused(spec, language, submission, str(refusal), 409)
    _forget_edit(submission)
    if result.resubmitted:
        flash(_("Your changes are saved and your application was sent to the organiser again."))
    else:
        flash(_("Your changes are saved."))
    return redirect(_status_url(token))


@bp.post("/<token>/edit/discard")
def discard(token: str):
    submission, _spec, _language = _load(token)
    _forget_edit(submission)  # the next edit starts again from the saved answers
    flash(_("Your changes were not saved. Your application is as it was."))
    return redirect(_status_url(token))


@bp.route("/<token>/edit/<int:number>", methods=["GET", "POST"])
def edit_page(token: str, number: int):
    submission, spec, language = _load(token)
    if not 1 <= number <= len(spec.pages):
        abort(404)
    if (refusal := _edit_refusal(submission, spec, language)) is not None:
        return refusal
    draft = _workspace(submission)
    page_spec = spec.pages[number - 1]
    form_class = build_page_form(page_spec, language, str(get_locale()))
    answers = dict(draft.answers)
    if request.method == "GET":
        review = bool(request.args.get("review"))
        form = page_flow.page_form(form_class, spec, page_spec, answers, language, review)
        return _render_page(token, submission, spec, page_spec, form, answers, draft)

    form = form_class(formdata=clean_formdata(request.form))  # see public.posted_answers
    action = request.form.get("action", "continue")
    saved = page_flow.save_page(draft, spec, page_spec, form, action, request.files)
    # Every valid page goes back to the summary: there is no "save for later" or "back".
    step = page_flow.next_after(spec, page_spec.index, saved, to_check=True, save_and_back=False)
    if step.go is Go.SAME_PAGE:
        return redirect(url_for("applicant.edit_page", token=token, number=number) + step.anchor)
    if step.go is Go.SHOW_ERRORS:
        return _render_page(token, submission, spec, page_spec, form, saved.answers, draft)
    return redirect(url_for("applicant.edit", token=token))


def _render_page(token, submission, spec, page_spec, form, answers, draft):
    view = page_flow.page_view(spec, page_spec, answers)
    return render_template(
        "applicant/edit_page.html",
        spec=spec,
        language=g.language,
        submission=submission,
        token=token,
        page=page_spec,
        form=form,
        answers=answers,
        visible=view["visible"],
        shown_answers=view["shown_answers"],  # for the script
        draft=draft,
        has_errors=any(field.errors for field in form),
    )
