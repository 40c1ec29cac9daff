"""The field types as classes (forms/field_types): the docs' table is theirs, the code
elsewhere names no type, and the types added by extending (time, datetime, country,
address, url) each work alone and through a page, the check page, the receipt, the
dashboard and the export."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.conftest import errors_in
from tests.definitions import base
from tests.test_exports import csv_rows, form_id, signed_in, staff

ROOT = Path(__file__).resolve().parents[1]


# --- the classes own their behaviour --------------------------------------------------------


def test_the_docs_table_of_field_types_is_the_one_the_classes_write():
    from forms.field_types.docs import DOCS, docs_with_table

    text = DOCS.read_text(encoding="utf-8")
    assert text == docs_with_table(text), "run: python -m forms.field_types.docs"


def test_every_field_type_has_its_macro_and_documents_its_settings():
    from forms.field_types import REGISTRY

    for name, kind in REGISTRY.items():
        assert (ROOT / "templates" / "fields" / f"{kind.macro}.html").exists(), name
        assert kind.summary and kind.stores, name
        for setting in kind.settings:
            assert setting.describe().startswith(f"`{setting.key}`")


def test_templates_and_the_page_script_never_name_a_field_type():
    switch = re.compile(r"(\.type|\bkind)\s*(==|!=|in |not in )")
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8").replace("row.kind", "")
        assert not switch.search(text), path
    script = (ROOT / "static" / "js" / "formdesk.js").read_text(encoding="utf-8")
    assert "multichoice" not in script and "dataset.type" not in script


def test_the_form_engine_reads_no_request():
    source = (ROOT / "forms" / "build.py").read_text(encoding="utf-8")
    assert "flask import request" not in source and "get_locale" not in source


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"type": "time", "min": 930}, 'min: must be a time like "09:30" (in quotes)'),
        ({"type": "time", "min": "18:00", "max": "08:00"}, "'min' is greater than 'max'"),
        ({"type": "country", "countries": ["PL", "XX"]}, "countries: unknown country code(s) XX"),
        ({"type": "address", "country": "Poland"}, "country: unknown country code(s) Poland"),
        ({"type": "url", "max_length": 5}, "unknown key 'max_length' for type 'url'"),
    ],
)
def test_a_wrong_setting_of_a_new_type_is_refused_by_its_schema(raw, problem):
    from forms.schema import DefinitionError, validate

    definition = base("settings", [{"title": "P", "fields": [{"name": "q", "label": "Q", **raw}]}])
    with pytest.raises(DefinitionError) as caught:
        validate(definition, "test")
    assert problem in str(caught.value)


# --- each new type alone ------------------------------------------------------------------


@pytest.fixture
def spec_of():
    from forms.schema import validate
    from forms.spec import FormSpec

    def make(*fields):
        definition = base("types", [{"title": "P", "fields": list(fields)}])
        return FormSpec(validate(definition, "test")).pages[0].fields

    return make


def test_time_is_stored_as_hh_mm_and_read_in_the_readers_language(app, spec_of):
    (time_field,) = spec_of({"name": "t", "type": "time", "label": "T", "min": "08:00"})
    kind = time_field.kind
    with app.test_request_context():
        assert kind.stored("9.05", time_field, "en") == "09:05"
        assert kind.problem("9.05", time_field) is None
        assert kind.problem("07:59", time_field) == "Enter a time at or after 08:00."
        assert kind.problem("25:00", time_field) == "Enter a time like 14:30."
        assert kind.display("09:05", time_field, "de") == "09:05"


def test_datetime_is_stored_with_the_calls_offset_and_refuses_a_skipped_time(app, spec_of):
    (moment,) = spec_of({"name": "m", "type": "datetime", "label": "M"})
    kind = moment.kind
    with app.test_request_context():
        # Europe/Warsaw: summer time in May, winter time in January.
        assert kind.stored("2027-05-12T14:30", moment, "en") == "2027-05-12T14:30:00+02:00"
        assert kind.stored("2027-01-12 14:30", moment, "en") == "2027-01-12T14:30:00+01:00"
        assert kind.problem("2027-03-28T02:30", moment) is not None  # the clocks skip it
        # Of 02:30 on the night winter time begins (it happens twice), the first.
        assert kind.stored("2027-10-31T02:30", moment, "en") == "2027-10-31T02:30:00+02:00"
        stored = "2027-05-12T14:30:00+02:00"
        assert kind.form_data(stored) == "2027-05-12T14:30"
        assert kind.display(stored, moment, "pl") == "12 maja 2027, 14:30"
        assert kind.spreadsheet_value(stored, moment, "en") == datetime(2027, 5, 12, 14, 30)
        assert datetime.fromisoformat(stored).astimezone(ZoneInfo("UTC")).hour == 12


def test_country_is_stored_as_its_code_and_named_in_the_readers_language(app, spec_of):
    (country,) = spec_of({"name": "c", "type": "country", "label": "C"})
    kind = country.kind
    with app.test_request_context():
        assert kind.display("SE", country, "pl") == "Szwecja"
        assert kind.display("DE", country, "lt") == "Vokietija"
        assert kind.refusal("XX", country) is not None
        assert kind.refusal("LT", country) is None
        codes = [code for code, _name in kind.pairs(country, "sv")]
        assert "EU" not in codes and "001" not in codes and len(codes) > 200
        names = [name for _code, name in kind.pairs(country, "de")]
        assert names.index("Österreich") < names.index("Polen")  # sorted as a reader looks


@pytest.mark.parametrize(
    ("country", "typed", "stored"),
    [
        ("PL", "00950", "00-950"),
        ("PL", "00-950", "00-950"),
        ("SE", "11455", "114 55"),
        ("SE", "114 55", "114 55"),
        ("DE", "10115", "10115"),
        ("LT", "01100", "LT-01100"),
        ("LT", "lt-01100", "LT-01100"),
        ("NO", "0150", "0150"),
    ],
)
def test_a_postcode_is_written_the_countrys_way(country, typed, stored):
    from forms.field_types.address import normal_postcode

    assert normal_postcode(typed, country) == stored


@pytest.mark.parametrize(
    ("country", "typed"), [("PL", "009-50"), ("SE", "1145"), ("DE", "1011"), ("LT", "LV-01100")]
)
def test_a_postcode_against_the_countrys_rule_is_refused_with_an_example(app, country, typed):
    from forms.field_types.address import address_problems

    value = {"street": "Main 1", "postcode": typed, "town": "X", "country": country}
    with app.test_request_context():
        problems = address_problems(value, required=True, countries=None)
    assert list(problems) == ["postcode"]
    assert problems["postcode"].startswith("Enter a postcode like ")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("example.org", "https://example.org/"),
        ("HTTP://Example.ORG/Path?q=1", "http://example.org/Path?q=1"),
        ("https://bibliotek.example.se:8443/a", "https://bibliotek.example.se:8443/a"),
        ("javascript:alert(1)", None),
        ("ftp://example.org/file", None),
        ("https://user@example.org", None),
        ("https://exa mple.org", None),
        ("localhost", None),
    ],
)
def test_a_web_address_is_http_or_https_and_normalised(typed, stored):
    from forms.field_types.text import normalise_url

    assert normalise_url(typed) == stored


# --- through the real parts ---------------------------------------------------------------

NEW_TYPES = [
    {"name": "contact_name", "type": "text", "label": "Name", "required": True},
    {"name": "email", "type": "email", "label": "Email", "required": True},
    {"name": "arrival", "type": "datetime", "label": "Arrival", "required": True},
    {"name": "opening", "type": "time", "label": "Opening time"},
    {"name": "country", "type": "country", "label": "Country", "required": True},
    {
        "name": "postal",
        "type": "address",
        "label": "Postal address",
        "required": True,
        "countries": ["PL", "SE", "DE", "LT"],
    },
    {"name": "website", "type": "url", "label": "Website"},
]
ANSWERS = {
    "contact_name": "Ona Petraitė",
    "email": "ona@example.org",
    "arrival": "2027-05-12T14:30",
    "opening": "9:00",
    "country": "LT",
    "postal-street": "Gedimino pr. 51",
    "postal-postcode": "01109",
    "postal-town": "Vilnius",
    "postal-country": "LT",
    "website": "Biblioteka.example.lt/en",
}


def test_the_new_types_work_through_page_check_receipt_dashboard_and_export(
    app, client, create_form
):
    from extensions import db
    from models import Answer, OutboxMessage, Submission

    create_form(base("new-types", [{"title": "P", "fields": NEW_TYPES}]))
    page = client.get("/calls/new-types/page/1").get_data(as_text=True)
    assert 'data-value-type="parts"' in page and 'type="datetime-local"' in page
    assert '<option value="LT">Lithuania</option>' in page

    wrong = {**ANSWERS, "postal-postcode": "0110", "website": "javascript:alert(1)"}
    client.fill("new-types", 1, wrong)
    assert errors_in(client.last_html) == [
        "Enter a postcode like LT-01100.",
        "Enter a web address like https://example.org.",
    ]
    assert 'href="#postal-postcode"' in client.last_html  # the summary goes to the part

    response = client.fill("new-types", 1, ANSWERS)
    assert response.status_code == 302, errors_in(client.last_html)
    check = client.get("/calls/new-types/check").get_data(as_text=True)
    check = check.replace("\u202f", " ").replace("\xa0", " ")
    assert "Gedimino pr. 51<br>LT-01109 Vilnius<br>Lithuania" in check
    assert "12 May 2027, 14:30" in check and '#postal-street"' in check
    assert 'href="https://biblioteka' not in check
    assert client.post("/calls/new-types/check", {}).status_code == 302

    with app.app_context():
        submission = db.session.scalars(select(Submission)).one()
        stored = {
            a.field: a.value
            for a in db.session.scalars(select(Answer).where(Answer.submission_id == submission.id))
        }
        receipt = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "receipt"))
        submission_id = submission.id
    assert stored["arrival"] == "2027-05-12T14:30:00+02:00"
    assert stored["opening"] == "09:00"
    assert stored["country"] == "LT"
    assert stored["postal"] == {
        "street": "Gedimino pr. 51",
        "postcode": "LT-01109",
        "town": "Vilnius",
        "country": "LT",
    }
    assert stored["website"] == "https://biblioteka.example.lt/en"
    assert "- Website: https://biblioteka.example.lt/en" in receipt.text_body
    assert '<a href="https://biblioteka' not in (receipt.html_body or "")

    staff(app, "admin@example.org", "admin")
    admin = signed_in(app, "admin@example.org")
    detail = admin.get(f"/dashboard/submissions/{submission_id}").get_data(as_text=True)
    assert "LT-01109 Vilnius" in detail and "Lithuania" in detail and "09:00" in detail
    assert 'href="https://biblioteka' not in detail
    rows = csv_rows(admin.client.get(f"/dashboard/exports/{form_id(app, 'new-types')}.csv"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Arrival"] == "2027-05-12T14:30:00"
    assert row["Country"] == "Lithuania"
    assert row["Postal address"] == "Gedimino pr. 51\nLT-01109 Vilnius\nLithuania"
    assert row["Website"] == "https://biblioteka.example.lt/en"
    # Search finds the country by its name in another language, the address by its town.
    for query in ("Litauen", "Vilnius"):
        found = admin.get(f"/dashboard/submissions?q={query}").get_data(as_text=True)
        assert f"/dashboard/submissions/{submission_id}" in found, query


def test_search_finds_a_country_by_its_name_in_any_language_and_an_address_by_its_town(app):
    from forms.field_types.address import Address
    from forms.field_types.choices import Country

    assert {"LT", "Lithuania", "Litauen", "Litwa", "Lietuva"} <= set(
        Country().search_strings("LT", None)
    )
    address = {"street": "Storgatan 1", "postcode": "114 55", "town": "Stockholm", "country": "SE"}
    strings = list(Address().search_strings(address, None))
    assert {"Storgatan 1", "114 55", "Stockholm", "Sverige", "Schweden"} <= set(strings)


def test_every_type_checks_an_answer_without_wtforms(app, spec_of):
    """The class says what is wrong with a typed answer; WTForms only carries it to the page."""
    fields = spec_of(
        {"name": "e", "type": "email", "label": "E"},
        {"name": "n", "type": "number", "label": "N", "min": 1, "max": 5},
        {"name": "d", "type": "date", "label": "D", "max": "2030-01-01"},
        {"name": "t", "type": "text", "label": "T", "pattern": "[A-Z]+", "min_length": 2},
        {"name": "u", "type": "url", "label": "U"},
    )
    by_name = {f.name: f for f in fields}

    def problem(name, data):
        return by_name[name].kind.problem(data, by_name[name])

    with app.test_request_context():
        assert problem("e", "anna@example.org") is None
        assert problem("e", "anna@") == (
            "Enter an email address in the right format, like name@example.org."
        )
        assert problem("n", "7") == "Enter a number from 1 to 5."
        assert problem("d", "2031-05-01") == "Enter a date on or before 2030-01-01."
        assert problem("t", "A") == "Use at least 2 characters (you used 1)."
        assert problem("t", "ab") == "The format of this answer is not valid."
        assert problem("u", "https://example.org") is None


def test_an_address_and_a_time_inside_a_repeatable_group(app, client, create_form):
    group = {
        "name": "venues",
        "type": "group",
        "label": "Venues",
        "item_label": "Venue",
        "min": 1,
        "fields": [
            {"name": "where", "type": "address", "label": "Where", "required": True},
            {"name": "opens", "type": "time", "label": "Opens"},
        ],
    }
    create_form(base("venues", [{"title": "P", "fields": [group]}]))
    item = {
        "venues-0-where-street": "Kungsgatan 2",
        "venues-0-where-postcode": "11143",
        "venues-0-where-town": "Stockholm",
        "venues-0-where-country": "SE",
        "venues-0-opens": "8.15",
    }
    client.fill("venues", 1, {**item, "venues-0-where-postcode": "1114"})
    assert errors_in(client.last_html) == ["Enter a postcode like 114 55."]
    assert 'href="#venues-0-where-postcode"' in client.last_html
    assert "Venue 1, Where, Postcode" in client.last_html  # the summary names item and part
    response = client.fill("venues", 1, item)
    assert response.status_code == 302, errors_in(client.last_html)
    check = client.get("/calls/venues/check").get_data(as_text=True)
    assert "Where: Kungsgatan 2\n111 43 Stockholm\nSweden" in check
    assert "Opens: 08:15" in check
