"""Searching submissions by their reference and the text of their answers. One entry point,
`submission_matches`, used by the dashboard's list and the exports; what each database does:

**The stored texts (both databases).** Each submission keeps its words in `search_text`: the
reference and every string inside its answers (groups and multiple choices included),
NFKC-normalised, lower-cased, split into words of letters and digits (punctuation separates,
so `MSAS-2027-0007` is the words `msas 2027 0007` and `anna.k@example.org` is
`anna k example org`), joined by single blanks. `search_text_blind` is the same without the
answers that identify the applicant (services.blind_review.identifying_fields). Queries go
through the same word splitting, in Python, so neither side depends on the database's locale.

**PostgreSQL: full-text search.** A GIN index on `to_tsvector('simple', search_text)` answers
the query: the 'simple' configuration neither stems nor drops stop words, which is right for
names and for Polish, Swedish, German and Lithuanian text alike (an English or Polish stemmer
would mangle the other languages). The query becomes `websearch_to_tsquery` (`"a phrase"`,
`or`, and `-word` to exclude when a letter follows the dash), and every word matches as a
prefix: `kar` finds Karin, `łodz` finds Łodzi, `alfa-2027-00` finds ALFA-2027-0001…0099
(words joined by punctuation in the query are a phrase), `-0002` finds …-0002. A part from
the middle of a word is not found (`berg` does not find Öberg).

**SQLite: substring search in the stored text.** Each word of the query (or each "quoted
text") must be part of `search_text`, in any order; any part of a word matches (`berg` finds
Öberg), case-insensitively in every language; `%` and `_` are no wildcards, `or` and `-`
mean nothing special. Punctuation inside a term counts as a blank, as in the stored text
(`anna.k@exa` is `anna k exa`, and `f_s` finds "off sale"). An FTS5 table with the
trigram tokenizer, `submissions_search` (migration f6039d15c30d; external content: the
submissions table, kept current by triggers), finds every term of 3 or more characters from
its index; shorter terms are compared with LIKE on the rows the others left (on all rows
when every term is that short). A term with no letter or digit at all (`—`, `%`) cannot be
in the stored text: it is looked for in the answers as written, below.

**The answers as written (fallback).** A case-insensitive LIKE over the strings of each
answer and the reference, decoding each answer's JSON (stored JSON escapes non-ASCII letters
as `\\u0105` and SQLite's `lower()` knows only ASCII, so SQLite gets a small Python function;
PostgreSQL decodes through jsonb). It reads every answer, so it is used only where the stored
texts cannot answer: a query with no letter or digit at all (on PostgreSQL), such terms of a
query after the other terms have narrowed the rows (SQLite), and a caller hiding answers the
blind text keeps.

**Blind review.** A reviewer of a blind-reviewed call must not find a submission by an
answer they may not see. For the form versions whose identifying answers are hidden from the
user, `search_text_blind` is searched instead of `search_text`: PostgreSQL through its own
GIN index; SQLite indexes only `search_text` (a second trigram index would double its size),
but every word of the blind text is a word of the full one, so the index narrows the rows by
each word of the query and LIKE on `search_text_blind` decides. The fallback leaves the
hidden answers out per form version (`hidden_fields`).

**Keeping the texts current.** After every flush that adds, changes or removes answers (or a
submission's reference), both texts of the submissions concerned are computed again from
the rows as written and updated in the same transaction — whoever wrote them (submitting,
the applicant's edits, anonymisation, tests), so no writer can forget; on SQLite the
triggers then update the trigram index in the same transaction. Submissions that exist
before the migrations get their texts and index from the migrations themselves."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import (
    Text,
    and_,
    bindparam,
    cast,
    event,
    exists,
    func,
    inspect,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from extensions import db
from models import Answer, FormVersion, Submission
from services.blind_review import identifying_fields
from services.catalog import spec_for

MAX_QUERY_LENGTH = 200
# Longer texts are cut at a word (PostgreSQL's tsvector holds at most 1 MB; no real
# application comes near this).
MAX_SEARCH_TEXT = 100_000
FTS_CONFIG = "simple"
_SQLITE_FUNCTION = "formdesk_answer_text"


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


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def search_text(reference: str | None, values: Iterable) -> str:
    """What `Submission.search_text` holds for this reference and these answer values."""
    words = search_words(reference or "")
    for value in values:
        for string in _strings(value):
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


def _both_texts(reference: str | None, pairs: list[tuple], spec) -> tuple[str, str]:
    """(search_text, search_text_blind) from the answers as (field, value) in form order,
    each answer's strings as its field type says (a country by its names too)."""
    secret = identifying_fields(spec)
    questions = {question.name: question for question in spec.inputs}

    def strings(field: str, value) -> list:
        question = questions.get(field)
        return [value] if question is None else list(question.kind.search_strings(value, question))

    return (
        search_text(reference, [strings(field, value) for field, value in pairs]),
        search_text(reference, [strings(f, value) for f, value in pairs if f not in secret]),
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
    specs = {
        version.id: spec_for(version)  # published versions never change
        for version in connection.execute(
            select(versions.c.id, versions.c.checksum, versions.c.definition).where(
                versions.c.id.in_({row.form_version_id for row in rows})
            )
        )
    }
    texts = {
        row.id: _both_texts(row.reference, given[row.id], specs[row.form_version_id])
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


@event.listens_for(Session, "before_flush")
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
            obj.reference, pairs, spec_for(version)
        )
        done.add(obj)


@event.listens_for(Session, "after_flush")
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


# --- substring search (SQLite, and queries without words) --------------------------------------


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


def answer_text_of(stored: str | None) -> str:
    """SQLite's side of `answer_text`: the JSON text as stored → its strings, lower-cased."""
    if stored is None:
        return ""
    try:
        value = json.loads(stored)
    except (TypeError, ValueError):
        return str(stored).lower()
    return "\n".join(_strings(value)).lower()


def _dialect() -> str:
    """The session's database; on SQLite also registers the answer-text function on its
    connection (cheap; idempotent)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        raw.create_function(_SQLITE_FUNCTION, 1, answer_text_of, deterministic=True)
    return connection.dialect.name


_TERM = re.compile(r'"([^"]*)"?|([^\s"]+)')
MAX_TERMS = 10


def substring_terms(needle: str) -> list[str]:
    """The parts of a query the substring search looks for, each on its own: the words
    between blanks, or a "quoted text" as one part; lower-cased, at most MAX_TERMS."""
    terms = []
    for match in _TERM.finditer(needle.lower()):
        quoted, word = match.groups()
        term = (quoted if quoted is not None else word).strip()
        if term and term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def _substring_matches(needle: str, hidden_fields: dict[int, set[str]]) -> ColumnElement[bool]:
    """Every term is part of the reference or of some answer (not one hidden from the user)."""
    return _written_matches(substring_terms(needle) or [needle.lower()], hidden_fields)


def _written_matches(terms: list[str], hidden_fields: dict[int, set[str]]) -> ColumnElement[bool]:
    hidden = [
        and_(Submission.form_version_id == version_id, Answer.field.in_(sorted(fields)))
        for version_id, fields in hidden_fields.items()
        if fields
    ]
    conditions = []
    for term in terms:
        in_answer = [
            Answer.submission_id == Submission.id,
            answer_text(Answer.value).contains(term, autoescape=True),
        ]
        if hidden:
            in_answer.append(not_(or_(*hidden)))
        conditions.append(
            or_(
                func.lower(Submission.reference).contains(term, autoescape=True),
                exists(select(Answer.id).where(*in_answer)),
            )
        )
    return and_(*conditions)


# --- substring search in the stored texts (SQLite) ---------------------------------------------

SQLITE_FTS_TABLE = "submissions_search"  # made by migration f6039d15c30d
TRIGRAM = 3  # the shortest text FTS5's trigram tokenizer finds


def schema_name_in_models(name: str | None, type_: str, _parent_names) -> bool:
    """Alembic's `include_name`: False for the FTS5 table and the shadow tables SQLite
    keeps for it, which a migration makes and the models do not describe (so autogenerate
    neither drops them nor reports them missing)."""
    return not (
        type_ == "table"
        and name is not None
        and (name == SQLITE_FTS_TABLE or name.startswith(SQLITE_FTS_TABLE + "_"))
    )


_FTS = sql_table(SQLITE_FTS_TABLE, sql_column("rowid"))


def _fts_match(query: str) -> ColumnElement[bool]:
    """`id IN (SELECT rowid FROM submissions_search WHERE submissions_search MATCH :q)`: a
    plain IN on the primary key, which SQLite's planner can read the rows by."""
    matches = literal_column(SQLITE_FTS_TABLE).bool_op("MATCH")(literal(query))
    return Submission.id.in_(select(_FTS.c.rowid).where(matches))


_trigram_index: dict[str, bool] = {}


def has_trigram_index() -> bool:
    """Whether this SQLite database has `submissions_search` (the migration leaves it out
    where SQLite lacks FTS5 or its trigram tokenizer, before 3.34). Asked once per database."""
    connection = db.session.connection()
    key = connection.engine.url.render_as_string()
    if key not in _trigram_index:
        found = connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = ?", (SQLITE_FTS_TABLE,)
        ).first()
        _trigram_index[key] = found is not None
    return _trigram_index[key]


def _indexed(texts: list[str]) -> ColumnElement[bool]:
    """Every one of `texts` is part of `search_text`, from the trigram index. Texts of fewer
    than 3 characters are left out: the index cannot find them. Without the index, LIKE on
    the stored text (one row per submission, still no JSON to decode)."""
    long = [text for text in texts if len(text) >= TRIGRAM]
    if not long:
        return true()
    if not has_trigram_index():
        return and_(*_contains(Submission.__table__.c.search_text, long))
    # Words hold no quote, so a "phrase" per text is safe; a trigram phrase matches where
    # its characters occur in this order: any part of the text.
    query = " AND ".join(f'"{text}"' for text in long)
    return _fts_match(query)


def _contains(column, texts: list[str]) -> list[ColumnElement[bool]]:
    # No escaping needed: the words hold neither `%` nor `_`.
    return [column.like(f"%{text}%") for text in texts]


def _stored_text_matches(terms: list[str], hidden_fields: dict[int, set[str]]):
    """SQLite: each term is part of the submission's stored search text, compared in the
    same words (NFKC, lower case, punctuation as a blank); the blind text for the form
    versions that hide identifying answers. A term without any letter or digit is looked
    for in the answers as written (as `_substring_matches` does).

    Only `search_text` is indexed. Every word of `search_text_blind` is a word of
    `search_text` (the same answers, fewer of them), so each word of a term found in the
    blind text is part of `search_text` too: the index narrows the rows by those words, and
    LIKE on the blind text decides among them."""
    texts, written = [], []
    for term in terms:
        words = search_words(term)
        if words:
            texts.append(" ".join(words))
        else:
            written.append(term)
    texts = list(dict.fromkeys(texts))
    table = Submission.__table__
    short = [text for text in texts if len(text) < TRIGRAM]
    blind_versions = sorted(version_id for version_id, fields in hidden_fields.items() if fields)
    if not blind_versions:
        condition = and_(_indexed(texts), *_contains(table.c.search_text, short))
    else:
        words = list(dict.fromkeys(word for text in texts for word in text.split(" ")))
        blind = Submission.form_version_id.in_(blind_versions)
        # The words' index lookup stands first and alone, so that it narrows the rows
        # before either branch reads one (inside the OR, SQLite read every row: 0.8 s at
        # 110 000 submissions, 30 ms this way).
        condition = and_(
            _indexed(words),
            or_(
                and_(not_(blind), _indexed(texts), *_contains(table.c.search_text, short)),
                and_(blind, *_contains(table.c.search_text_blind, texts)),
            ),
        )
    if written:  # e.g. `—` or `%`: rare, and only on the rows the words left
        condition = and_(condition, _written_matches(written, hidden_fields))
    return condition


# --- full-text search (PostgreSQL) -------------------------------------------------------------

_CHUNK = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def websearch_text(query: str) -> str:
    """The query for `websearch_to_tsquery`, in the stored texts' words: quoted phrases and a
    `-` before a word's first letter (not) are kept, `or` is a word websearch understands,
    words joined by punctuation become a phrase, other punctuation goes. Empty when no word
    is left."""
    parts = []
    for match in _CHUNK.finditer(query):
        negated, quoted, chunk = match.groups()
        if quoted is not None:
            words = search_words(quoted)
            phrase = True
        else:
            # `-kraków` excludes; `-0002` (the end of a reference) is just a word.
            negated = "-" if chunk.startswith("-") and chunk[1:2].isalpha() else ""
            words = search_words(chunk)
            phrase = len(words) > 1
        if words:
            text = " ".join(words)
            parts.append(negated + (f'"{text}"' if phrase else text))
    return " ".join(parts)


def _fts_vector(column) -> ColumnElement:
    # Written exactly as the migration's index expression, so PostgreSQL uses the index.
    return func.to_tsvector(literal_column(f"'{FTS_CONFIG}'"), column)


def _prefix_tsquery(text: str) -> ColumnElement:
    """websearch_to_tsquery(text) with every lexeme made a prefix (`'kar'` → `'kar':*`).
    The lexemes are words of letters and digits, so the quotes in its text form are only
    the ones around each lexeme."""
    config = literal_column(f"'{FTS_CONFIG}'")
    parsed = cast(func.websearch_to_tsquery(config, text), Text)
    return func.to_tsquery(config, func.regexp_replace(parsed, "'([^']+)'", r"'\1':*", "g"))


def _blind_text_covers(hidden_fields: dict[int, set[str]]) -> bool:
    """True when, for every version, what must stay unsearched is left out of
    `search_text_blind` (it leaves out that version's identifying answers)."""
    for version_id, fields in hidden_fields.items():
        version = db.session.get(FormVersion, version_id)
        if version is None or not set(fields) <= identifying_fields(spec_for(version)):
            return False
    return True


def _full_text_matches(words: str, hidden_fields: dict[int, set[str]]) -> ColumnElement[bool]:
    query = _prefix_tsquery(words)
    everything = _fts_vector(Submission.search_text).bool_op("@@")(query)
    blind_versions = sorted(version_id for version_id, fields in hidden_fields.items() if fields)
    if not blind_versions:
        return everything
    without_identity = _fts_vector(Submission.search_text_blind).bool_op("@@")(query)
    blind = Submission.form_version_id.in_(blind_versions)
    return or_(and_(not_(blind), everything), and_(blind, without_identity))


# --- the entry point -----------------------------------------------------------------------------


def clean_query(text: str) -> str:
    """What a query may hold: no control characters (PostgreSQL refuses NUL in text), no
    surrounding blanks, at most MAX_QUERY_LENGTH characters."""
    printable = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return printable.strip()[:MAX_QUERY_LENGTH]


def submission_matches(
    text: str, hidden_fields: dict[int, set[str]] | None = None
) -> ColumnElement[bool]:
    """A condition on `Submission`: the reference or some answer matches `text` (see the
    module's description). `hidden_fields` maps a form version id to answers not searched
    (blind review: a reviewer must not find an applicant by the name they may not see)."""
    needle = clean_query(text)
    hidden = {version_id: set(fields) for version_id, fields in (hidden_fields or {}).items()}
    dialect = _dialect()
    covered = _blind_text_covers({v: f for v, f in hidden.items() if f})
    if dialect == "postgresql":
        words = websearch_text(needle)
        if words and covered:
            return _full_text_matches(words, hidden)
    elif dialect == "sqlite" and covered:
        terms = substring_terms(needle)
        if any(search_words(term) for term in terms):
            return _stored_text_matches(terms, hidden)
    return _substring_matches(needle, hidden)
