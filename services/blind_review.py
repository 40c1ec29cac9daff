"""Blind review: which answers identify the applicant, and who may not see them. Reviewers
of a call with `blind_review: true` neither see these answers nor find a submission by them;
admins, who coordinate the call and contact applicants, do. The dashboard, the submission's
page, the exports and the search all ask here."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from extensions import db
from forms.published import spec_for
from forms.spec import FieldSpec, FormSpec
from models import FormVersion, User


def hides_identity(user: User | None, spec: FormSpec) -> bool:
    """Whether `user` reviews this call blind (no user: as a reviewer, not an admin)."""
    return bool(spec.raw.get("blind_review")) and not (user is not None and user.is_admin)


def is_hidden(field: FieldSpec, blind: bool) -> bool:
    """Whether the answer to `field` is left out for someone reviewing `blind`."""
    return blind and field.identifying


def identifies(field: FieldSpec) -> bool:
    """A group identifies when one of its fields does (showing or searching it would)."""
    return field.identifying or any(identifies(child) for child in field.children)


def identifying_fields(spec: FormSpec) -> set[str]:
    """Answers that identify the applicant; a group counts when any of its fields does."""
    return {f.name for f in spec.inputs if identifies(f)}


def hidden_fields(user: User, form_ids: Iterable[int]) -> dict[int, set[str]]:
    """Per form version of these forms, the answers blind review hides from this user (and
    does not search for them)."""
    hidden = {}
    versions = db.session.scalars(select(FormVersion).where(FormVersion.form_id.in_(form_ids)))
    for version in versions:
        spec = spec_for(version)
        if hides_identity(user, spec):
            hidden[version.id] = identifying_fields(spec)
    return hidden
