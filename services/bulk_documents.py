"""Which submissions a reviewer may take as PDFs in one go: the dashboard list's filters
(services.dashboard.listing), limited to the reviewer's forms, refused where blind review hides who
applied (a copy shows every answer), and logged like other exports of personal data."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from extensions import db
from models import AuditEntry, Submission, User
from services.access import actor_kind
from services.blind_review import hides_identity
from services.dashboard.listing import list_choices, matching_ids, read_filters
from services.staff_input import ListQuery

# Copies missing for the current revision are made during the download (the background
# worker normally made them long before); past this many, the command line is the tool.
BULK_DOCUMENTS_LIMIT = 1000


class BulkRefused(Exception):
    """The message says why, for the person who asked."""


def select_submissions(user: User, query: ListQuery, language: str) -> list[int]:
    """Ids in the list's order. LookupError when `form` names a call the user does not
    review (or none): the caller answers 404, as for every other form of theirs."""
    choices = list_choices(user, language)
    if query.form and all(info.form.slug != query.form for info in choices.forms):
        raise LookupError(query.form)
    filters, problems = read_filters(query, choices)
    if problems:  # the list shows them and carries on; a download must not guess
        raise BulkRefused(" ".join(problems))
    ids = matching_ids(user, filters, choices)
    if not ids:
        raise BulkRefused(_("No submission matches these filters."))
    if len(ids) > BULK_DOCUMENTS_LIMIT:
        raise BulkRefused(
            _(
                "These filters match %(count)d submissions; at most %(limit)d can be downloaded "
                "at once. Narrow the filters, or ask an administrator to use the command line.",
                count=len(ids),
                limit=BULK_DOCUMENTS_LIMIT,
            )
        )
    form_ids = set(
        db.session.scalars(select(Submission.form_id).where(Submission.id.in_(ids)).distinct())
    )
    if any(hides_identity(user, info.spec) for info in choices.forms if info.form.id in form_ids):
        raise BulkRefused(
            _(
                "Blind review: the documents show every answer, including those that identify "
                "the applicant, so they are not available to reviewers of this call."
            )
        )
    return ids


def record_download(user: User, ids: list[int], kind: str, query: ListQuery) -> None:
    """One audit entry per form: who took how many documents, with which filters."""
    counts: dict[int, int] = {}
    for form_id in db.session.scalars(select(Submission.form_id).where(Submission.id.in_(ids))):
        counts[form_id] = counts.get(form_id, 0) + 1
    filters = query.as_args()
    for form_id, count in sorted(counts.items()):
        db.session.add(
            AuditEntry(
                form_id=form_id,
                action="documents.exported",
                actor_type=actor_kind(user),
                actor_id=user.id,
                data={"format": kind, "filters": filters, "count": count},
            )
        )
    db.session.commit()
