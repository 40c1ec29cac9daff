"""Public pages: the list of calls, a call's pages, check your answers, confirmation,
save and resume. No account needed."""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale

from extensions import limiter
from forms.build import build_page_form
from forms.published import spec_for
from forms.spec import FormSpec
from forms.validators import clean_formdata
from models import Draft, Form, FormVersion
from services import drafts as draft_service
from services import page_flow
from services.catalog import find_form, visible_calls
from services.deadlines import CallStatus, call_status, draft_accepts_answers, window_of
from services.duplicates import earlier_submission
from services.page_flow import Go
from services.submissions import (
    SubmissionRefused,
    Submitted,
    find_submission,
    submit,
    submitted_draft,
)
from web import bot_checks
from web.language import preferred_language
from workflows.outcome import outcome_of

bp = Blueprint("public", __name__)

# Throttling per client address (config.py): pages sent, applications sent, and secret links
# opened, with a tighter count for links that open nothing (guessing).
page_limit = limiter.limit(lambda: current_app.config["FORMDESK_PAGE_LIMIT"], methods=["POST"])
submit_limit = limiter.limit(lambda: current_app.config["FORMDESK_SUBMIT_LIMIT"], methods=["POST"])
token_limit = limiter.shared_limit(
    lambda: current_app.config["FORMDESK_TOKEN_LIMIT"], scope="secret-links"
)
token_miss_limit = limiter.shared_limit(
    lambda: current_app.config["FORMDESK_TOKEN_MISS_LIMIT"],
    scope="secret-links-unknown",
    deduct_when=lambda response: response.status_code == 404,
)
SENT_KEY = "sent_references"  # what this browser sent, to name it again without leaking


# --- helpers ---------------------------------------------------------------------------


@dataclass
class Flow:
    """Where a person answers a call: its public pages (by slug), or its preview link
    (web/preview.py: a test, whatever the dates, on the draft's questions or the current
    version's). The page flow, the templates and the checks are the same for both."""

    prefix: str  # the blueprint: "public" or "preview"
    args: dict  # what its addresses need: {"slug": …} or {"token": …}
    key: str  # this flow's draft in the session (`drafts`)
    form: Form
    version: FormVersion  # what a new draft answers
    test: bool = False

    def url(self, endpoint: str, **args) -> str:
        return url_for(f"{self.prefix}.{endpoint}", **self.args, **args)

    def accepts(self, draft: Draft | None) -> bool:
        """Whether answers are taken now: a draft by its call's current dates and grace
        (services.deadlines), a new one while the call is open; a test always."""
        if self.test:
            return True
        if draft is not None:
            return draft_accepts_answers(draft)
        return window_of(self.version).accepts(None)

    def dates_version(self) -> FormVersion:
        """The version whose dates the pages state: the call's current one."""
        return self.form.current_version or self.version

    def template_values(self) -> dict:
        """What the shared templates need to build this flow's addresses, and the banner."""
        return {
            "test_mode": self.test,
            "flow_page_endpoint": f"{self.prefix}.page",
            "flow_args": self.args,
            "start_url": self.url("page", number=1),
            "calls_url": url_for("public.calls"),
        }


def public_flow(slug: str) -> Flow:
    """The call's public pages; an unknown call is not found, an archived one says that it
    is no longer available (both 404)."""
    form = find_form(slug)
    if form is None or form.current_version is None:
        abort(404)
    if form.archived_at is not None:
        abort(make_response(render_template("public/archived.html"), 404))
    return Flow("public", {"slug": slug}, slug, form, form.current_version)


def load_call(slug: str) -> tuple[FormVersion, FormSpec]:
    flow = public_flow(slug)
    return flow.version, spec_for(flow.version)


def use_language(spec: FormSpec) -> str:
    g.language = spec.language_for(preferred_language(spec.languages, spec.default_language))
    return g.language


def _session_draft(flow: Flow) -> Draft | None:
    token = session.get("drafts", {}).get(flow.key)
    draft = draft_service.find_draft(token)
    if draft is not None and bool(draft.is_test) != flow.test:
        return None  # a test draft never continues as a real one, nor the other way
    return draft


def _remember_draft(key: str, token: str) -> None:
    session["drafts"] = {**session.get("drafts", {}), key: token}


def _forget_draft(key: str) -> None:
    session["drafts"] = {k: v for k, v in session.get("drafts", {}).items() if k != key}


def _call_dates(version: FormVersion, spec: FormSpec) -> dict:
    """Whether the call is open, and when it opens and closes in its own time zone."""
    return {
        "status": call_status(version.opens_at, version.closes_at).value,
        "opens_at": version.opens_at.astimezone(spec.timezone),
        "closes_at": version.closes_at.astimezone(spec.timezone),
    }


def _flow_dates(flow: Flow, spec: FormSpec) -> dict:
    """The call's dates as its pages state them; a test is always open."""
    dates = _call_dates(flow.dates_version(), spec)
    if flow.test:
        dates["status"] = CallStatus.OPEN.value
    return dates


def _returning_to_check() -> bool:
    return request.args.get("return") == page_flow.CHECK


# --- pages -----------------------------------------------------------------------------


@bp.get("/")
def calls():
    entries = []
    for version in visible_calls():
        spec = spec_for(version)
        language = spec.language_for(preferred_language(spec.languages, spec.default_language))
        entries.append(
            {
                "slug": spec.slug,
                "title": spec.text("title", language),
                "organisation": spec.organisation_name(language),
                "language": language,
                **_call_dates(version, spec),
            }
        )
    groups = {
        status.value: [e for e in entries if e["status"] == status.value] for status in CallStatus
    }
    return render_template("public/calls.html", groups=groups)


@bp.get("/calls/<slug>")
def call(slug: str):
    return call_page(public_flow(slug))


def call_page(flow: Flow):
    spec = spec_for(flow.version)
    language = use_language(spec)
    return render_template(
        "public/call.html",
        spec=spec,
        language=language,
        **_flow_dates(flow, spec),
        draft=_session_draft(flow),
        **flow.template_values(),
    )


@bp.route("/calls/<slug>/page/<int:number>", methods=["GET", "POST"])
@page_limit
def page(slug: str, number: int, csrf_failed: bool = False):
    return answer_page(public_flow(slug), number, csrf_failed)


def answer_page(flow: Flow, number: int, csrf_failed: bool = False):
    version = flow.version
    draft = _session_draft(flow)
    if draft is not None:
        version = draft.form_version  # a draft answers the version it was started on
    spec = spec_for(version)
    language = use_language(spec)
    if not 1 <= number <= len(spec.pages):
        abort(404)
    if not flow.accepts(draft):
        return _closed(flow, spec, language)
    page_spec = spec.pages[number - 1]
    form_class = build_page_form(page_spec, language, str(get_locale()))
    answers = dict(draft.answers) if draft else {}

    if request.method == "GET" or csrf_failed:
        bot_checks.note_served(flow.key)
        if csrf_failed:
            # What was sent, shown again but not trusted or saved.
            form = form_class(formdata=posted_answers())
        else:
            # Sent back from "check your answers": show what still needs an answer.
            review = bool(request.args.get("review") and draft)
            form = page_flow.page_form(form_class, spec, page_spec, answers, language, review)
        return _render_page(flow, spec, page_spec, form, answers, draft, csrf_failed=csrf_failed)

    if bot_checks.refused(flow.key, draft):
        # What was sent is shown again but not stored; sending it again a moment later works.
        return _render_page(
            flow, spec, page_spec, form_class(formdata=posted_answers()), answers, draft, robot=True
        )
    if draft is None:
        draft, token = draft_service.start_draft(version, language, test=flow.test)
        _remember_draft(flow.key, token)
    draft_service.set_language(draft, language)
    form = form_class(formdata=posted_answers())
    action = request.form.get("action", "continue")
    saved = page_flow.save_page(draft, spec, page_spec, form, action, request.files)
    step = page_flow.next_after(
        spec, page_spec.index, saved, to_check=_returning_to_check(), save_and_back=True
    )
    if step.go is Go.SAME_PAGE:
        return redirect(
            flow.url("page", number=page_spec.index + 1, **_return_args()) + step.anchor
        )
    if step.go is Go.SAVED:
        if not flow.test:  # a test's answers are not emailed anywhere
            draft_service.save_for_later(draft, session["drafts"][flow.key])
        return redirect(flow.url("saved"))
    if step.go is Go.START:
        return redirect(flow.url("call"))
    if step.go is Go.SHOW_ERRORS:
        return _render_page(flow, spec, page_spec, form, saved.answers, draft)
    if step.go is Go.CHECK:
        return redirect(flow.url("check"))
    return redirect(flow.url("page", number=step.page + 1))


def _return_args() -> dict:
    return {"return": page_flow.CHECK} if _returning_to_check() else {}


def posted_answers():
    """The page's posted fields, cleaned at this edge (NFC, one kind of line break) before
    the form engine reads them; uploads are read apart, by services/uploads.py."""
    return clean_formdata(request.form)


def _render_page(
    flow, spec, page_spec, form, answers, draft, csrf_failed=False, status=None, robot=False
):
    language = g.language
    has_errors = csrf_failed or robot or any(field.errors for field in form)
    return (
        render_template(
            "public/page.html",
            spec=spec,
            page=page_spec,
            form=form,
            language=language,
            draft=draft,
            csrf_failed=csrf_failed,
            robot_suspected=robot,
            has_errors=has_errors,
            **page_flow.page_view(spec, page_spec, answers),
            **flow.template_values(),
        ),
        status or (400 if csrf_failed or robot else 200),
    )


def _closed(flow, spec, language):
    return (
        render_template(
            "public/closed.html",
            spec=spec,
            language=language,
            **_flow_dates(flow, spec),
            **flow.template_values(),
        ),
        403,
    )


@bp.route("/calls/<slug>/check", methods=["GET", "POST"])
@submit_limit
def check(slug: str):
    return check_page(public_flow(slug))


def check_page(flow: Flow):
    draft = _session_draft(flow)
    if draft is None:
        # Sent already by a request that left this one's cookie behind (a double click).
        if (sent := submitted_draft(session.get("drafts", {}).get(flow.key))) is not None:
            return _confirm(flow, sent)
        return redirect(flow.url("call"))
    version = draft.form_version
    spec = spec_for(version)
    language = use_language(spec)
    if not flow.accepts(draft):
        return _closed(flow, spec, language)
    if request.method == "POST":
        # The receipt and later emails go in the language of the page that sent the answers.
        draft_service.set_language(draft, language)
        if bot_checks.honeypot_filled():
            return _render_check(flow, spec, language, draft, robot=True)
        try:
            result = submit(draft, confirm_duplicate=request.form.get("confirm_duplicate") == "yes")
        except SubmissionRefused as refusal:
            if refusal.reason == "incomplete":
                return redirect(flow.url("page", number=refusal.page + 1, review=1))
            if refusal.reason == "closed":
                return _closed(flow, spec, language)
            if refusal.reason == "duplicate":
                return _render_check(
                    flow, spec, language, draft, earlier=refusal.earlier, unconfirmed=True
                )
            abort(409)
        return _confirm(flow, result)

    if (index := page_flow.page_to_review(spec, draft.answers, language)) is not None:
        return redirect(flow.url("page", number=index + 1, review=1))
    return _render_check(flow, spec, language, draft)


def _confirm(flow: Flow, result: Submitted):
    _forget_draft(flow.key)
    sent = [r for r in session.get(SENT_KEY, []) if r != result.reference]
    session[SENT_KEY] = [*sent, result.reference][-10:]
    session["confirmation"] = {
        "slug": flow.key,
        "reference": result.reference,
        "token": result.token,  # the applicant's link; the database keeps only its hash
    }
    return redirect(flow.url("confirmation"))


def _render_check(flow, spec, language, draft, earlier=None, unconfirmed=False, robot=False):
    """The check page; `earlier` is an application with the same email sent recently, which
    the applicant must confirm sending again (`unconfirmed`: they pressed Send without)."""
    if earlier is None and spec.applicant_email_field and not flow.test:
        earlier = earlier_submission(
            draft.form_version.form_id, draft.answers.get(spec.applicant_email_field)
        )
    return (
        render_template(
            "public/check.html",
            spec=spec,
            language=language,
            **page_flow.check_view(spec, draft.answers),
            earlier=earlier,
            # The reference and date only for the browser that sent it: typing someone
            # else's address must not tell when they applied or under which reference.
            earlier_is_ours=earlier is not None and earlier.reference in session.get(SENT_KEY, []),
            earlier_at=earlier.submitted_at.astimezone(spec.timezone) if earlier else None,
            unconfirmed=unconfirmed,
            robot_suspected=robot,
            has_errors=unconfirmed or robot,
            **flow.template_values(),
        ),
        409 if unconfirmed else 400 if robot else 200,
    )


@bp.get("/calls/<slug>/confirmation")
def confirmation(slug: str):
    return confirmation_page(public_flow(slug))


def confirmation_page(flow: Flow):
    confirmed = session.get("confirmation") or {}
    if confirmed.get("slug") != flow.key:
        return redirect(flow.url("call"))
    token = confirmed.get("token")
    submission = find_submission(token)
    version = submission.form_version if submission is not None else flow.version
    spec = spec_for(version)
    language = use_language(spec)
    return render_template(
        "public/confirmation.html",
        spec=spec,
        language=language,
        reference=confirmed["reference"],
        # What really happened (a place, the waiting list, a review or a reply to come);
        # None only if the submission is gone since (withdrawn and removed).
        outcome=outcome_of(submission, language) if submission else None,
        applicant_url=url_for("applicant.status", token=token, _external=True) if token else None,
        **flow.template_values(),
    )


@bp.get("/calls/<slug>/saved")
def saved(slug: str):
    return saved_page(public_flow(slug), "public.resume")


def saved_page(flow: Flow, resume_endpoint: str, **resume_args):
    token = session.get("drafts", {}).get(flow.key)
    draft = _session_draft(flow)
    if draft is None:
        return redirect(flow.url("call"))
    spec = spec_for(draft.form_version)
    language = use_language(spec)
    return render_template(
        "public/saved.html",
        spec=spec,
        language=language,
        resume_url=url_for(resume_endpoint, token=token, _external=True, **resume_args),
        emailed_to=None if flow.test else draft_service.resume_link_emailed_to(draft),
        # The deadline of the call's current version: it is the one that counts.
        closes_at=flow.dates_version().closes_at.astimezone(spec.timezone),
        **flow.template_values(),
    )


@bp.get("/resume/<token>")
@token_limit
@token_miss_limit
def resume(token: str):
    draft = draft_service.find_draft(token)
    if draft is None or draft.is_test:  # a test draft resumes through its preview link
        return render_template("public/resume_invalid.html"), 404
    slug = draft.form_version.form.slug
    return resume_draft(public_flow(slug), draft, token)


def resume_draft(flow: Flow, draft: Draft, token: str):
    _remember_draft(flow.key, token)
    session["lang"] = draft.language  # continue in the language the person was using
    spec = spec_for(draft.form_version)
    if (index := page_flow.first_unfinished_page(spec, draft)) is not None:
        return redirect(flow.url("page", number=index + 1))
    return redirect(flow.url("check"))
