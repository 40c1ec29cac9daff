"""One submission for reviewers: answers, files, changes, history, internal comments, tags,
scores, conflicts of interest and the workflow's moves.

Every view needs a signed-in staff member who reviews the submission's form; anyone else
gets 404, the same as for an id that does not exist. Every action is a POST carrying the
CSRF token (CSRFProtect checks it for the whole app) and redirects back on success."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from documents.letters import LETTER_KINDS, letter_document, letter_rows, letter_wanted
from documents.store import COPY_KINDS, current_document, render
from extensions import db
from forms.published import spec_for
from services import annotations, assignment, scoring
from services import submission_detail as detail
from services.access import actor_kind
from services.blind_review import hides_identity
from services.staff_input import InputRefused, clean_text, normalise, refuse_control_characters
from services.transitions import (
    Actor,
    OutcomeChanged,
    TransitionRefused,
    preview,
    transition,
    workflow_of,
)
from services.uploads import display_name
from web.downloads import send_document, send_stored
from workflows.engine import Transition

bp = Blueprint("review", __name__, url_prefix="/dashboard/submissions")

MAX_COMMENT = annotations.MAX_COMMENT_LENGTH


def _submission_or_404(submission_id: int):
    submission = detail.find_reviewable(submission_id, current_user)
    if submission is None:
        abort(404)
    return submission


def _back(submission_id: int, anchor: str = ""):
    return redirect(url_for("review.show", submission_id=submission_id) + anchor)


def _render(submission, status: int = 200, errors: dict | None = None, typed: dict | None = None):
    """The page; `errors` by section (transition, comment, tag, scores, conflict) and
    `typed` (what the person wrote) when an action was refused."""
    language = str(get_locale())
    spec = spec_for(submission.form_version)
    workflow = workflow_of(submission)
    blind = hides_identity(current_user, spec)
    page = render_template(
        "dashboard/detail.html",
        submission=submission,
        spec=spec,
        language=language,
        title=spec.text("title", language),
        state_label=workflow.state_label(submission.state, language),
        submitted_at=submission.submitted_at.astimezone(spec.timezone),
        blind=blind,
        answers=detail.answer_rows(submission, spec, language, blind),
        changes=detail.changes_since_previous(submission, spec, language, blind),
        attachments=detail.attachment_rows(submission, spec, language, blind),
        history=detail.history(submission, spec, language),
        comments=[
            (comment, author, comment.created_at.astimezone(spec.timezone))
            for comment, author in annotations.comments_of(submission.id)
        ],
        tags=annotations.tags_of(submission.id),
        known_tags=annotations.tags_in_form(submission.form_id),
        conflicts=annotations.conflicts_of(submission.id),
        scores=scoring.score_panel(submission, current_user),
        assignment=assignment.panel(submission, current_user),
        score_values=scoring.SCORE_VALUES,
        transitions=detail.available_transitions(submission, current_user),
        letters=[] if blind else letter_rows(submission, language),
        errors=errors or {},
        typed=typed or {},
        max_comment=MAX_COMMENT,
    )
    return page, status


@bp.get("/<int:submission_id>")
@login_required
def show(submission_id: int):
    return _render(_submission_or_404(submission_id))


@bp.get("/<int:submission_id>/attachments/<int:attachment_id>")
@login_required
def attachment(submission_id: int, attachment_id: int):
    submission = _submission_or_404(submission_id)
    found = detail.downloadable(submission, attachment_id, current_user)
    if found is None:
        abort(404)
    return send_stored(
        found.storage_name, found.content_type, display_name(found.original_name), found.sha256
    )


def _documents_hidden(submission) -> bool:
    """Copies and letters show every answer and the applicant's name: in blind review
    they are for administrators only, like the identifying answers themselves."""
    return hides_identity(current_user, spec_for(submission.form_version))


@bp.get("/<int:submission_id>/documents/<kind>")
@login_required
def document(submission_id: int, kind: str):
    submission = _submission_or_404(submission_id)
    if kind not in COPY_KINDS or _documents_hidden(submission):
        abort(404)
    return send_document(current_document(submission, kind))


@bp.get("/<int:submission_id>/letters/<int:entry_id>/<kind>")
@login_required
def letter(submission_id: int, entry_id: int, kind: str):
    submission = _submission_or_404(submission_id)
    if (
        kind not in LETTER_KINDS
        or _documents_hidden(submission)
        or not letter_wanted(submission, entry_id)
    ):
        abort(404)
    return send_document(letter_document(submission, entry_id, kind))


@dataclass(frozen=True)
class AskedMove:
    """A move as the reviewer's form asks for it."""

    name: str
    step: Transition | None
    comment: str
    expected_state: str
    scheduled_for: date | None
    typed: dict  # as written, to show again
    problem: str | None = None  # why it cannot be taken as written


def _asked_move(submission) -> AskedMove:
    form = request.form
    # One form of line end, so the comment the confirmation page carries back in a hidden
    # field writes the same email as the one typed in the text box.
    name, comment = form.get("transition", ""), normalise(form.get("comment"), multiline=True)
    typed = {"transition": name, "comment": comment, "date": form.get("date", "")}
    step = workflow_of(submission).transition(name)
    # The state the person saw: a double click or another reviewer's move runs once.
    # Missing, it matches no state, so a request without it never moves anything.
    expected = form.get("expected_state", "")
    asked = AskedMove(name, step, comment, expected, None, typed)
    try:
        clean_text(
            comment,
            _("Comment"),
            MAX_COMMENT,
            multiline=True,
            too_long=_("A comment can be at most %(max)d characters long.", max=MAX_COMMENT),
        )
        refuse_control_characters(name + expected, _("Action"))
    except InputRefused as refusal:
        return replace(asked, problem=str(refusal))
    if step is not None and step.needs_date:
        try:
            return replace(asked, scheduled_for=date.fromisoformat(typed["date"].strip()))
        except ValueError:
            return replace(asked, problem=_("Choose the date."))
    return asked


def _move_arguments(asked: AskedMove) -> dict:
    return {
        "comment": asked.comment,
        "expected_state": asked.expected_state,
        "scheduled_for": asked.scheduled_for,
    }


def _actor() -> Actor:
    return Actor(actor_kind(current_user), current_user.id)


@bp.post("/<int:submission_id>/transition")
@login_required
def take_transition(submission_id: int):
    """A move. One that writes to the applicant is shown first (the confirmation page:
    the email and letter as they will be sent) and taken when the person confirms what
    they saw; "change" goes back to the page with what they wrote."""
    submission = _submission_or_404(submission_id)
    asked = _asked_move(submission)
    if asked.problem:
        return _render(submission, 400, {"transition": asked.problem}, asked.typed)
    if request.form.get("decision") == "change":
        return _render(submission, 200, {}, asked.typed)
    confirmed = request.form.get("confirmed")
    needs_check = asked.step is not None and asked.step.informs_applicant
    if needs_check and not confirmed:
        return _confirmation(submission, asked)
    try:
        transition(
            submission.id,
            asked.name,
            _actor(),
            confirmed=confirmed if needs_check else None,
            **_move_arguments(asked),
        )
    except OutcomeChanged as changed:
        db.session.rollback()
        return _confirmation(submission, asked, str(changed))
    except TransitionRefused as refusal:
        db.session.rollback()  # the form's lock and anything half done
        db.session.refresh(submission)
        return _render(submission, 409, {"transition": str(refusal)}, asked.typed)
    workflow = workflow_of(submission)
    language = str(get_locale())
    flash(
        _(
            "Done: %(action)s. The state is now: %(state)s.",
            action=asked.step.title(language) if asked.step else asked.name,
            state=workflow.state_label(submission.state, language),
        )
    )
    return _back(submission.id)


@bp.get("/<int:submission_id>/transition")
@login_required
def transition_page(submission_id: int):
    """The confirmation page answers a POST; its language links (and a reload after a
    sign-in) GET the same address: they go back to the submission, taking nothing."""
    submission = _submission_or_404(submission_id)
    language = request.args.get("lang")
    return redirect(url_for("review.show", submission_id=submission.id, lang=language))


def _confirmation(submission, asked: AskedMove, changed: str | None = None):
    """The page that shows what the move will send, before it is taken (409 when what
    the person confirmed has changed meanwhile)."""
    try:
        outcome = preview(submission.id, asked.name, _actor(), **_move_arguments(asked))
    except TransitionRefused as refusal:
        db.session.refresh(submission)
        return _render(submission, 409, {"transition": str(refusal)}, asked.typed)
    language = str(get_locale())
    spec = spec_for(submission.form_version)
    workflow = workflow_of(submission)
    page = render_template(
        "dashboard/confirm_transition.html",
        submission=submission,
        spec=spec,
        title=spec.text("title", language),
        step=asked.step,
        step_title=asked.step.title(language),
        asked=asked,
        outcome=outcome,
        state_label=workflow.state_label(submission.state, language),
        target_label=workflow.state_label(outcome.state, language),
        blind=hides_identity(current_user, spec),
        changed=changed,
    )
    return page, 409 if changed else 200


@bp.post("/<int:submission_id>/transition/letter")
@login_required
def preview_letter(submission_id: int):
    """The letter the move would make, as a PDF rendered by the code that will make it;
    nothing is kept."""
    submission = _submission_or_404(submission_id)
    asked = _asked_move(submission)
    if asked.problem or _documents_hidden(submission):
        abort(404)
    try:
        outcome = preview(submission.id, asked.name, _actor(), **_move_arguments(asked))
    except TransitionRefused:
        abort(404)
    if outcome.letter is None:
        abort(404)
    rendered = render(outcome.letter, "letter_pdf", keywords=submission.reference)
    response = Response(rendered.data, mimetype=rendered.content_type)
    filename = f"{submission.reference}-{outcome.state}-preview.{rendered.extension}"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/<int:submission_id>/comments")
@login_required
def add_comment(submission_id: int):
    submission = _submission_or_404(submission_id)
    body = request.form.get("body", "")
    try:
        annotations.add_comment(submission.id, current_user, body)
    except annotations.AnnotationRefused as refusal:
        return _render(submission, 400, {"comment": str(refusal)}, {"body": body})
    flash(_("Your comment is added."))
    return _back(submission.id, "#comments")


@bp.post("/<int:submission_id>/tags")
@login_required
def add_tag(submission_id: int):
    submission = _submission_or_404(submission_id)
    name = request.form.get("tag", "")
    try:
        tag = annotations.add_tag(submission.id, current_user, name)
    except annotations.AnnotationRefused as refusal:
        return _render(submission, 400, {"tag": str(refusal)}, {"tag": name})
    flash(_("Tag added: %(tag)s", tag=tag.name))
    return _back(submission.id, "#tags")


@bp.post("/<int:submission_id>/tags/<int:tag_id>/remove")
@login_required
def remove_tag(submission_id: int, tag_id: int):
    submission = _submission_or_404(submission_id)
    annotations.remove_tag(submission.id, current_user, tag_id)
    flash(_("The tag is removed."))
    return _back(submission.id, "#tags")


@bp.post("/<int:submission_id>/scores")
@login_required
def save_scores(submission_id: int):
    submission = _submission_or_404(submission_id)
    rubric = scoring.rubric_of(spec_for(submission.form_version))
    given = {c.key: request.form.get(f"score-{c.key}", "") for c in rubric}
    try:
        scoring.save_scores(submission.id, current_user, given)
    except scoring.ScoringRefused as refusal:
        errors = {"scores": str(refusal)} | {f"score-{k}": v for k, v in refusal.errors.items()}
        return _render(submission, 400, errors, {"scores": given})
    flash(_("Your scores are saved."))
    return _back(submission.id, "#scores")


@bp.post("/<int:submission_id>/conflict")
@login_required
def declare_conflict(submission_id: int):
    submission = _submission_or_404(submission_id)
    reason = request.form.get("reason", "")
    try:
        annotations.declare_conflict(submission.id, current_user, reason)
    except annotations.AnnotationRefused as refusal:
        return _render(submission, 400, {"conflict": str(refusal)}, {"reason": reason})
    flash(_("Your conflict of interest is recorded. You will not see or give scores here."))
    return _back(submission.id, "#scores")


@bp.post("/<int:submission_id>/reviewers")
@login_required
def assign_reviewers(submission_id: int):
    """Review assignment by hand: the checked reviewers become the assigned ones."""
    submission = _submission_or_404(submission_id)
    wanted = [
        int(value)
        for value in request.form.getlist("reviewer")[:100]
        if value.isascii() and value.isdigit() and len(value) <= 18
    ]
    try:
        added, removed = assignment.set_reviewers(submission.id, current_user, wanted)
    except assignment.AssignmentRefused as refusal:
        return _render(submission, 400, {"assign": str(refusal)}, {"reviewers": set(wanted)})
    flash(_("Reviewers saved: %(added)d added, %(removed)d removed.", added=added, removed=removed))
    return _back(submission.id, "#assignment")
