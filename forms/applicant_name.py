"""Whom a message or a letter greets, read from the answers as the form says."""

from __future__ import annotations

from forms.spec import FormSpec


def applicant_name(spec: FormSpec, answers: dict) -> str:
    """The person to greet: the answer to the call's `applicant_name_field`, else nothing.
    (Guessing from field names greeted organisations: "Hello Hansestadt Beispielstadt".)"""
    value = answers.get(spec.raw.get("applicant_name_field") or "")
    return value.strip() if isinstance(value, str) else ""
