"""The search texts each submission keeps (`search_text`, and `search_text_blind` without
the answers that identify the applicant), computed from its answers and kept current by
Session listeners after every flush that touches them, whoever writes (services/search.py
says how they are searched). The listeners are connected by `install`, called by
create_app (wiring.py), which also gives the rules of each form version: which answers
identify the applicant (blind review) and what each answer is found by (its field type: a
country by its name in every language, say), both above the models."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from sqlalchemy import bindparam, event, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models.forms import FormVersion
from models.submissions import Answer, Submission

# Longer texts are cut at a word (PostgreSQL's tsvector holds at most 1 MB; no real
# application comes near this).
MAX_SEARCH_TEXT = 100_000


@dataclass(frozen=True)
class SearchRules:
    """A form version's rules: the answers left out of `search_text_blind`, and the strings
    an answer (field name, stored value) is found by."""

    secret: set[str] = dataclass_field(default_factory=set)
    strings: Callable[[str, Any], list] = lambda _field, value: [value]


# version (a FormVersion, or a row with its id, checksum and definition) → its rules. Set
# by `install`.
RulesOf = Callable[[object], SearchRules]
_rules_of: RulesOf = lambda _version: SearchRules()  # noqa: E731 (until installed)


def install(rules_of: RulesOf) -> None:
    """Connect the listeners (once per process) and say how each version's answers read."""
    global _rules_of
    _rules_of = rules_of
    if not event.contains(Session, "before_flush", _texts_of_new_submissions):
        event.listen(Session, "before_flush", _texts_of_new_submissions)
        event.listen(Session, "after_flush", _keep_search_texts_current)


# --- words ------------------------------------------------------------------------------------


def search_words(text: str) -> list[str]:
    """The words of `text`: runs of letters, marks and digits, NFKC-normalised and
    lower-cased in Python (so the result does not depend on the database's locale)."""
    words, word = [], []
    for ch in unicodedata.normalize("NFKC", text).lower():
        if unicodedata.category(ch)[0] in "LMN":
            word.append(ch)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return words


def strings_of(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_of(item)


def search_text(reference: str | None, values: Iterable) -> str:
    """What `Submission.search_text` holds for this reference and these answer values."""
    words = search_words(reference or "")
    for value in values:
        for string in strings_of(value):
            words.extend(search_words(string))
    text = " ".join(words)
    if len(text) > MAX_SEARCH_TEXT:
        text = text[:MAX_SEARCH_TEXT].rsplit(" ", 1)[0]
    return text


# --- keeping the texts current -----------------------------------------------------------------


def _touched_submissions(session: Session) -> set[int]:
    done = session.info.get(_TEXTS_SET_BEFORE_FLUSH, ())
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Answer):
            if obj.__dict__.get("submission") in done:
                continue
            submission_id = obj.submission_id
            if submission_id is None and obj.submission is not None:
                submission_id = obj.submission.id
            if submission_id is not None:
                ids.add(submission_id)
        elif isinstance(obj, Submission) and obj not in session.deleted and obj not in done:
            state = inspect(obj)
            if obj in session.new or any(
                state.attrs[name].history.has_changes()
                for name in ("reference", "form_version_id", "answers")
            ):
                ids.add(obj.id)
    return ids


def _both_texts(reference: str | None, pairs: list[tuple], rules: SearchRules) -> tuple[str, str]:
    """(search_text, search_text_blind) from the answers as (field, value) in form order."""
    return (
        search_text(reference, [rules.strings(f, value) for f, value in pairs]),
        search_text(reference, [rules.strings(f, v) for f, v in pairs if f not in rules.secret]),
    )


def refresh_search_texts(connection: Connection, ids: Iterable[int]) -> dict[int, tuple]:
    """Compute both texts of these submissions from their rows and store them. Returns
    {id: (search_text, search_text_blind)}."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    table = Submission.__table__
    rows = connection.execute(
        select(table.c.id, table.c.reference, table.c.form_version_id).where(table.c.id.in_(ids))
    ).all()
    given: dict[int, list] = defaultdict(list)
    answers = Answer.__table__
    for submission_id, field, value in connection.execute(
        select(answers.c.submission_id, answers.c.field, answers.c.value)
        .where(answers.c.submission_id.in_(ids))
        .order_by(answers.c.submission_id, answers.c.position)
    ):
        given[submission_id].append((field, value))
    versions = FormVersion.__table__
    rules = {
        version.id: _rules_of(version)  # published versions never change
        for version in connection.execute(
            select(versions.c.id, versions.c.checksum, versions.c.definition).where(
                versions.c.id.in_({row.form_version_id for row in rows})
            )
        )
    }
    texts = {
        row.id: _both_texts(row.reference, given[row.id], rules[row.form_version_id])
        for row in rows
    }
    if texts:
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("sid"))
            # `updated_at` stays: this is bookkeeping, not a change by anyone.
            .values(
                search_text=bindparam("full"),
                search_text_blind=bindparam("blind"),
                updated_at=table.c.updated_at,
            ),
            [{"sid": sid, "full": full, "blind": blind} for sid, (full, blind) in texts.items()],
        )
    return texts


_TEXTS_SET_BEFORE_FLUSH = "formdesk.search_texts_set_before_flush"


def _texts_of_new_submissions(session: Session, _context, _instances) -> None:
    """A submission being inserted with all its answers (submitting) gets its texts from
    the objects in memory, so its INSERT carries them: no reading back and updating after
    the flush, which is four statements inside the call's lock when applying."""
    done = session.info[_TEXTS_SET_BEFORE_FLUSH] = set()  # this flush's, never an older one's
    for obj in session.new:
        if not isinstance(obj, Submission):
            continue
        answers, version = obj.__dict__.get("answers"), obj.__dict__.get("form_version")
        if answers is None or version is None or not all(a in session.new for a in answers):
            continue  # not all known here: the after-flush way reads what was written
        pairs = [(a.field, a.value) for a in sorted(answers, key=lambda a: a.position)]
        obj.search_text, obj.search_text_blind = _both_texts(
            obj.reference, pairs, _rules_of(version)
        )
        done.add(obj)


def _keep_search_texts_current(session: Session, _context) -> None:
    ids = _touched_submissions(session)
    session.info.pop(_TEXTS_SET_BEFORE_FLUSH, None)
    if not ids:
        return
    texts = refresh_search_texts(session.connection(), ids)
    for submission_id, (full, blind) in texts.items():
        loaded = session.identity_map.get(session.identity_key(Submission, (submission_id,)))
        if loaded is not None:  # the object in memory says what the row says
            set_committed_value(loaded, "search_text", full)
            set_committed_value(loaded, "search_text_blind", blind)
