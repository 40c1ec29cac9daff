"""One submission for reviewers: answers, files, changes, history, internal comments, tags,
scores, conflicts of interest and the workflow's moves.

Every view needs a signed-in staff member who reviews the submission's form; anyone else
gets 404, the same as for an id that does not exist. Every action is a POST carrying the
CSRF token (CSRFProtect checks it for the whole app) and redirects back on success."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
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
from documents.store import COPY_KINDS, current_document
from extensions import db
from services import annotations, scoring
from services import submission_detail as detail
from services.catalog import spec_for
from services.transitions import Actor, TransitionRefused, transition, workflow_of
from services.uploads import display_name
from web.downloads import send_document, send_stored

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
    blind = detail.hides_identifying(spec, current_user)
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
    return detail.hides_identifying(spec_for(submission.form_version), current_user)


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


@bp.post("/<int:submission_id>/transition")
@login_required
def take_transition(submission_id: int):
    submission = _submission_or_404(submission_id)
    name = request.form.get("transition", "")
    comment = request.form.get("comment", "")
    typed = {"transition": name, "comment": comment, "date": request.form.get("date", "")}
    step = workflow_of(submission).transition(name)
    scheduled_for = None
    if len(comment) > MAX_COMMENT:
        message = _("A comment can be at most %(max)d characters long.", max=MAX_COMMENT)
        return _render(submission, 400, {"transition": message}, typed)
    if step is not None and step.needs_date:
        try:
            scheduled_for = date.fromisoformat(typed["date"].strip())
        except ValueError:
            return _render(submission, 400, {"transition": _("Choose the date.")}, typed)
    try:
        # The state the person saw: a double click or another reviewer's move runs once.
        # Missing, it matches no state, so a request without it never moves anything.
        transition(
            submission.id,
            name,
            Actor(detail.actor_kind(current_user), current_user.id),
            comment=comment,
            expected_state=request.form.get("expected_state", ""),
            scheduled_for=scheduled_for,
        )
    except TransitionRefused as refusal:
        db.session.rollback()  # the form's lock and anything half done
        db.session.refresh(submission)
        return _render(submission, 409, {"transition": str(refusal)}, typed)
    workflow = workflow_of(submission)
    flash(
        _(
            "Done: %(action)s. The state is now: %(state)s.",
            action=step.title(str(get_locale())) if step else name,
            state=workflow.state_label(submission.state, str(get_locale())),
        )
    )
    return _back(submission.id)


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
