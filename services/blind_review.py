"""Blind review: which answers identify the applicant. Reviewers of a call with
`blind_review: true` neither see these answers nor find a submission by them (admins do)."""

from __future__ import annotations

from forms.spec import FieldSpec, FormSpec


def identifies(field: FieldSpec) -> bool:
    """A group identifies when one of its fields does (showing or searching it would)."""
    return field.identifying or any(identifies(child) for child in field.children)


def identifying_fields(spec: FormSpec) -> set[str]:
    """Answers that identify the applicant; a group counts when any of its fields does."""
    return {f.name for f in spec.inputs if identifies(f)}
