"""Searching submissions by their reference and the text of their answers.

For now a case-insensitive LIKE over a text rendering of the answers, the same on SQLite and
PostgreSQL; PostgreSQL full-text search replaces `submission_matches` later (it is the only
entry point, so the dashboard does not change when it does).

The text rendering is every string inside an answer (groups and multiple choices included),
lower-cased. Stored JSON escapes non-ASCII letters (`\\u0105`) and SQLite's `lower()` knows
only ASCII, so SQLite gets a small Python function; PostgreSQL decodes through jsonb."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable

from sqlalchemy import Text, and_, exists, func, not_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from extensions import db
from models import Answer, Submission

MAX_QUERY_LENGTH = 200
_SQLITE_FUNCTION = "formdesk_answer_text"


class answer_text(FunctionElement):  # noqa: N801  (used like a SQL function)
    """The lower-cased strings of a JSON answer, as one text."""

    type = Text()
    inherit_cache = True
    name = "answer_text"


@compiles(answer_text, "postgresql")
def _answer_text_postgresql(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    return (
        "lower(CAST(jsonb_path_query_array(CAST("
        + value
        + " AS JSONB), 'strict $.** ? (@.type() == \"string\")') AS TEXT))"
    )


@compiles(answer_text, "sqlite")
def _answer_text_sqlite(element, compiler, **kw):
    return f"{_SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


@compiles(answer_text)
def _answer_text_other(element, compiler, **kw):
    return f"lower(CAST({compiler.process(element.clauses, **kw)} AS TEXT))"


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def answer_text_of(stored: str | None) -> str:
    """SQLite's side of `answer_text`: the JSON text as stored → its strings, lower-cased."""
    if stored is None:
        return ""
    try:
        value = json.loads(stored)
    except (TypeError, ValueError):
        return str(stored).lower()
    return "\n".join(_strings(value)).lower()


def _prepare_connection() -> None:
    """Register the SQLite function on the session's connection (cheap; idempotent)."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    raw.create_function(_SQLITE_FUNCTION, 1, answer_text_of, deterministic=True)


def clean_query(text: str) -> str:
    """What a query may hold: no control characters (PostgreSQL refuses NUL in text), no
    surrounding blanks, at most MAX_QUERY_LENGTH characters."""
    printable = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return printable.strip()[:MAX_QUERY_LENGTH]


def submission_matches(
    text: str, hidden_fields: dict[int, set[str]] | None = None
) -> ColumnElement[bool]:
    """A condition on `Submission`: the reference or some answer contains `text`, ignoring
    case. `hidden_fields` maps a form version id to answers not searched (blind review: a
    reviewer must not find an applicant by the name they may not see)."""
    _prepare_connection()
    needle = clean_query(text).lower()
    in_answer = [
        Answer.submission_id == Submission.id,
        answer_text(Answer.value).contains(needle, autoescape=True),
    ]
    hidden = [
        and_(Submission.form_version_id == version_id, Answer.field.in_(sorted(fields)))
        for version_id, fields in (hidden_fields or {}).items()
        if fields
    ]
    if hidden:
        in_answer.append(not_(or_(*hidden)))
    return or_(
        func.lower(Submission.reference).contains(needle, autoescape=True),
        exists(select(Answer.id).where(*in_answer)),
    )
