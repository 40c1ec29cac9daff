"""Every field type over HTTP: a valid answer is stored in its documented shape, and a bad
answer is refused with a clear message beside the field while every other answer stays."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from tests.conftest import errors_in
from tests.definitions import VALID_ALL_TYPES, all_types, base

PAGE = "/calls/all-types/page/1"
CHECK = "/calls/all-types/check"


# --- helpers ---------------------------------------------------------------------------


class _FormValues(HTMLParser):
    """What a browser would send back from the page as it is rendered: values of text-like
    inputs, ticked boxes and radios, selected options and textarea contents."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.setdefault(name, []).append(a.get("value") or "on")
            elif kind not in ("submit", "file", "hidden", "button"):
                self.values.setdefault(name, []).append(a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values.setdefault(name, []).append("")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values.setdefault(self._select, []).append(a.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            text = self.values[self._textarea][-1]
            # A newline straight after <textarea> is not part of the value (HTML parsing rule).
            self.values[self._textarea][-1] = re.sub(r"^\r?\n", "", text)
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea][-1] += data


def form_values(html: str) -> dict[str, list[str]]:
    parser = _FormValues()
    parser.feed(html)
    return parser.values


def as_sent(value) -> list[str]:
    return list(value) if isinstance(value, list) else [value]


def error_beside(html: str, field_id: str) -> str | None:
    """The message shown in the error element tied to one field, or None."""
    match = re.search(
        rf'id="{re.escape(field_id)}-error">\s*<span class="visually-hidden">[^<]*</span>'
        r"\s*([^<]*?)\s*</p>",
        html,
    )
    return unescape(match.group(1)) if match else None


def submit_page_and_check(client, data: dict, slug: str = "all-types") -> None:
    response = client.fill(slug, 1, data)
    assert response.status_code == 302, errors_in(client.last_html)
    assert response.headers["Location"].endswith(f"/calls/{slug}/check")
    assert client.get(f"/calls/{slug}/check").status_code == 200
    response = client.post(f"/calls/{slug}/check", {})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/calls/{slug}/confirmation")


def stored_submission(app) -> tuple[dict, list[tuple[str, int]], str]:
    """(answers by field, (field, position) rows in order, language) of the only submission."""
    from extensions import db
    from models import Answer, Submission

    with app.app_context():
        submission = db.session.scalars(select(Submission)).one()
        rows = db.session.scalars(
            select(Answer).where(Answer.submission_id == submission.id).order_by(Answer.position)
        ).all()
        return (
            {row.field: row.value for row in rows},
            [(row.field, row.position) for row in rows],
            submission.language,
        )


def submission_count(app) -> int:
    from extensions import db
    from models import Submission

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Submission))


# --- valid answers are stored in the right shape ---------------------------------------


def test_every_field_type_is_stored_in_its_documented_shape(app, client, create_form):
    create_form(all_types())
    submit_page_and_check(client, VALID_ALL_TYPES)

    answers, rows, language = stored_submission(app)
    assert answers == {
        "name": "Zażółć Gęślą",
        "code": "ABC-12",
        "story": "Åsa and Łukasz went to the library.",
        "email": "person@example.org",
        "phone": "+48 42 123 45 67",
        "people": 12,
        "day": "2027-01-15",
        "colour": "blue",
        "country": "se",
        "topics": ["a", "c"],
        "member": True,
        "agree": {"agreed": True, "text": "I agree to the processing of my data."},
    }
    # Real JSON types, not strings: a number is a number, yes/no a boolean.
    assert type(answers["people"]) is int
    assert answers["member"] is True
    # One row per answered field, in form order (no row for the unanswered file).
    assert [name for name, _ in rows] == list(answers)
    assert [position for _, position in rows] == list(range(len(rows)))
    assert "cv" not in answers
    assert language == "en"


def test_optional_fields_left_blank_are_not_stored_and_no_is_stored_as_false(
    app, client, create_form
):
    create_form(all_types())
    data = {
        "name": "  Ada  ",
        "email": "ada@example.org",
        "colour": "red",
        "code": "",
        "story": "",
        "phone": "",
        "people": "",
        "day": "",
        "country": "",
        "member": "no",
        "agree": "y",
    }
    submit_page_and_check(client, data)

    answers, _rows, _language = stored_submission(app)
    assert answers == {
        "name": "Ada",  # surrounding spaces are not part of the answer
        "email": "ada@example.org",
        "colour": "red",
        "member": False,
        "agree": {"agreed": True, "text": "I agree to the processing of my data."},
    }


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("12", 12), ("1", 1), ("30", 30), (" 7 ", 7)],
)
def test_an_integer_answer_is_stored_as_a_number(app, client, create_form, typed, stored):
    create_form(all_types())
    submit_page_and_check(client, {**VALID_ALL_TYPES, "people": typed})
    answers, _rows, _language = stored_submission(app)
    assert answers["people"] == stored and type(answers["people"]) is int


def decimal_form() -> dict:
    return base(
        "decimal",
        [
            {
                "title": "Budget",
                "fields": [
                    {
                        "name": "amount",
                        "type": "number",
                        "label": "Amount",
                        "required": True,
                        "integer": False,
                        "min": 0,
                        "max": 1000,
                    }
                ],
            }
        ],
    )


@pytest.mark.parametrize(("typed", "stored"), [("2,5", 2.5), ("2.5", 2.5), ("1000", 1000.0)])
def test_a_decimal_answer_accepts_a_comma_and_is_stored_as_a_number(
    app, client, create_form, typed, stored
):
    create_form(decimal_form())
    submit_page_and_check(client, {"amount": typed}, slug="decimal")
    answers, _rows, _language = stored_submission(app)
    assert answers == {"amount": stored}


@pytest.mark.parametrize("typed", ["nan", "inf", "-Infinity", "1e999", "abc", ""])
def test_a_decimal_answer_that_is_not_a_finite_number_is_refused(app, client, create_form, typed):
    create_form(decimal_form())
    response = client.fill("decimal", 1, {"amount": typed})
    assert response.status_code == 200
    # An empty answer gets the required message, which for a number reads the same.
    assert error_beside(client.last_html, "amount") == "Enter a number."
    assert submission_count(app) == 0


def test_a_date_typed_in_another_iso_form_is_stored_as_yyyy_mm_dd(app, client, create_form):
    # Browsers without a date picker send what the person typed.
    create_form(all_types())
    submit_page_and_check(client, {**VALID_ALL_TYPES, "day": "20270115"})
    answers, _rows, _language = stored_submission(app)
    assert answers["day"] == "2027-01-15"


def test_a_textarea_counts_a_line_break_as_one_character(app, client, create_form):
    # Browsers send line breaks as CRLF, while the person (and the counter) sees one character.
    create_form(all_types())
    story = "\r\n".join(["a" * 15] * 3) + "\r\n" + "b" * 2  # 50 characters as typed
    submit_page_and_check(client, {**VALID_ALL_TYPES, "story": story})
    answers, _rows, _language = stored_submission(app)
    assert answers["story"] == story.replace("\r\n", "\n")


def test_text_at_exactly_the_maximum_length_is_accepted(app, client, create_form):
    create_form(all_types())
    name = "Łukasz " + "ż" * 33  # 40 characters, most of them two bytes in UTF-8
    assert len(name) == 40
    submit_page_and_check(client, {**VALID_ALL_TYPES, "name": name})
    answers, _rows, _language = stored_submission(app)
    assert answers["name"] == name


# --- bad answers are refused beside the field, everything else is kept -----------------

# (field, what is sent, id of the element the message is tied to, the message)
REFUSALS = [
    ("name", "", "name", "Answer this question."),
    ("name", "   ", "name", "Answer this question."),
    ("name", "x" * 41, "name", "Use at most 40 characters (you used 41)."),
    ("name", "ż" * 45, "name", "Use at most 40 characters (you used 45)."),
    ("code", "abc-12", "code", "Use three capitals, a dash and two digits"),
    ("code", "ABC-123", "code", "Use three capitals, a dash and two digits"),
    ("story", "abc", "story", "Use at least 5 characters (you used 3)."),
    ("story", "y" * 51, "story", "Use at most 50 characters (you used 51)."),
    ("email", "", "email", "Enter an email address."),
    (
        "email",
        "person@",
        "email",
        "Enter an email address in the right format, like name@example.org.",
    ),
    (
        "email",
        "person.example.org",
        "email",
        "Enter an email address in the right format, like name@example.org.",
    ),
    (
        "email",
        "two@@example.org",
        "email",
        "Enter an email address in the right format, like name@example.org.",
    ),
    (
        "phone",
        "call me maybe",
        "phone",
        "Enter a telephone number, like +44 20 7946 0958 or 020 7946 0958.",
    ),
    (
        "phone",
        "12345",
        "phone",
        "Enter a telephone number, like +44 20 7946 0958 or 020 7946 0958.",
    ),
    (
        "phone",
        "+48 " + "1" * 21,
        "phone",
        "Enter a telephone number, like +44 20 7946 0958 or 020 7946 0958.",
    ),
    ("people", "many", "people", "Enter a whole number."),
    ("people", "2.5", "people", "Enter a whole number."),
    ("people", "0", "people", "Enter a number from 1 to 30."),
    ("people", "31", "people", "Enter a number from 1 to 30."),
    ("day", "tomorrow", "day", "Enter a real date, for example 2027-03-14."),
    ("day", "2027-02-30", "day", "Enter a real date, for example 2027-03-14."),
    ("day", "15.01.2027", "day", "Enter a real date, for example 2027-03-14."),
    ("day", "2025-12-31", "day", "Enter a date on or after 2026-01-01."),
    ("day", "2031-01-01", "day", "Enter a date on or before 2030-12-31."),
    ("colour", None, "colour", "Select an option."),
    ("colour", "green", "colour", "Select one of the options offered."),
    ("country", "de", "country", "Select one of the options offered."),
    ("topics", ["a", "b", "c"], "topics", "Select at most 2 options."),
    ("topics", ["a", "z"], "topics", "Select one of the options offered."),
    ("member", "maybe", "member", "Select one of the options offered."),
    ("agree", None, "agree", "You must agree to this to continue."),
]


@pytest.mark.parametrize(
    ("field", "sent", "field_id", "message"),
    REFUSALS,
    ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSALS)],
)
def test_a_bad_answer_is_refused_beside_its_field_and_other_answers_are_kept(
    app, client, create_form, field, sent, field_id, message
):
    create_form(all_types())
    data = {**VALID_ALL_TYPES}
    if sent is None:
        del data[field]  # an unticked box or unchosen radio is not sent at all
    else:
        data[field] = sent

    response = client.fill("all-types", 1, data)
    html = client.last_html

    assert response.status_code == 200
    assert errors_in(html) == [message]
    assert error_beside(html, field_id) == message
    # The field is marked for assistive technology and linked from the error summary.
    assert 'aria-invalid="true"' in html
    assert "There is a problem" in html
    summary_target = field_id + ("-0" if field in ("colour", "topics", "member") else "")
    links = re.findall(rf'<a href="#{re.escape(summary_target)}">([^<]*)</a>', unescape(html))
    assert len(links) == 1 and links[0].endswith(message)
    # Everything else the person typed is still on the page.
    shown = form_values(html)
    for other, value in VALID_ALL_TYPES.items():
        if other != field:
            assert shown.get(other) == as_sent(value), other
    assert submission_count(app) == 0


def test_several_bad_answers_are_all_reported_in_page_order(app, client, create_form):
    create_form(all_types())
    data = {**VALID_ALL_TYPES, "name": "", "people": "99", "topics": ["a", "b", "c"]}
    del data["agree"]
    response = client.fill("all-types", 1, data)
    assert response.status_code == 200
    assert errors_in(client.last_html) == [
        "Answer this question.",
        "Enter a number from 1 to 30.",
        "Select at most 2 options.",
        "You must agree to this to continue.",
    ]
    shown = form_values(client.last_html)
    assert shown["email"] == ["person@example.org"]
    assert shown["people"] == ["99"]  # the wrong answer is shown again to be corrected
    assert "agree" not in shown


def test_a_refused_answer_cannot_be_sent_through_check_your_answers(app, client, create_form):
    create_form(all_types())
    client.fill("all-types", 1, {**VALID_ALL_TYPES, "email": "not-an-email"})
    assert client.last_html and errors_in(client.last_html)

    message = "Enter an email address in the right format, like name@example.org."
    response = client.get(CHECK)
    assert response.status_code == 302
    assert "/calls/all-types/page/1" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert errors_in(page) == [message]

    # Sending anyway (a stale check page) is refused the same way.
    response = client.post(CHECK, {})
    assert response.status_code == 302
    assert "/calls/all-types/page/1" in response.headers["Location"]
    assert submission_count(app) == 0


def test_an_unticked_consent_is_refused_even_after_it_was_ticked_before(app, client, create_form):
    create_form(all_types())
    assert client.fill("all-types", 1, VALID_ALL_TYPES).status_code == 302
    data = {**VALID_ALL_TYPES}
    del data["agree"]
    response = client.fill("all-types", 1, data)
    assert response.status_code == 200
    assert error_beside(client.last_html, "agree") == "You must agree to this to continue."
    response = client.post(CHECK, {})
    assert response.status_code == 302 and "/page/1" in response.headers["Location"]
    assert submission_count(app) == 0


# --- languages -------------------------------------------------------------------------


def test_the_pattern_message_is_shown_in_polish(app, client, create_form):
    create_form(all_types())
    client.get(PAGE + "?lang=pl")
    assert "Imię" in client.last_html
    response = client.fill("all-types", 1, {**VALID_ALL_TYPES, "code": "abc"})
    assert response.status_code == 200
    assert error_beside(client.last_html, "code") == "Trzy wielkie litery, myślnik, dwie cyfry"
    assert form_values(client.last_html)["name"] == ["Zażółć Gęślą"]


def test_the_pattern_message_falls_back_to_the_default_language(app, client, create_form):
    # The definition gives no Swedish text: the form's default language (English) is used.
    create_form(all_types())
    client.get(PAGE + "?lang=sv")
    response = client.fill("all-types", 1, {**VALID_ALL_TYPES, "code": "abc"})
    assert response.status_code == 200
    assert error_beside(client.last_html, "code") == "Use three capitals, a dash and two digits"


def test_a_pattern_without_its_own_message_has_a_general_one(app, client, create_form):
    definition = base(
        "pattern",
        [
            {
                "title": "Code",
                "fields": [
                    {
                        "name": "postcode",
                        "type": "text",
                        "label": "Postcode",
                        "pattern": "[0-9]{2}-[0-9]{3}",
                    }
                ],
            }
        ],
    )
    create_form(definition)
    response = client.fill("pattern", 1, {"postcode": "90210"})
    assert response.status_code == 200
    assert error_beside(client.last_html, "postcode") == "The format of this answer is not valid."
    assert form_values(client.last_html)["postcode"] == ["90210"]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("pl", "Zgadzam się na przetwarzanie danych."),
        ("en", "I agree to the processing of my data."),
        ("sv", "I agree to the processing of my data."),  # no Swedish text: the default
    ],
)
def test_consent_stores_the_exact_text_shown_in_the_persons_language(
    app, client, create_form, language, text
):
    create_form(all_types())
    page = client.get(f"{PAGE}?lang={language}").get_data(as_text=True)
    assert text in page
    submit_page_and_check(client, VALID_ALL_TYPES)
    answers, _rows, stored_language = stored_submission(app)
    assert answers["agree"] == {"agreed": True, "text": text}
    assert stored_language == language


def test_consent_keeps_the_text_agreed_to_when_the_language_changes_before_sending(
    app, client, create_form
):
    # Ticked on the Polish page, sent from the English "check your answers": the words the
    # person agreed to were the Polish ones.
    create_form(all_types())
    client.get(f"{PAGE}?lang=pl")
    assert client.fill("all-types", 1, VALID_ALL_TYPES).status_code == 302
    assert client.get(CHECK + "?lang=en").status_code == 200
    response = client.post(CHECK, {})
    assert response.status_code == 302 and "/confirmation" in response.headers["Location"]
    answers, _rows, _language = stored_submission(app)
    assert answers["agree"] == {"agreed": True, "text": "Zgadzam się na przetwarzanie danych."}


# --- the check page shows what will be stored ------------------------------------------


def test_check_your_answers_shows_each_answer_as_the_person_reads_it(app, client, create_form):
    create_form(all_types())
    assert client.fill("all-types", 1, VALID_ALL_TYPES).status_code == 302
    html = unescape(client.get(CHECK).get_data(as_text=True))
    for shown in (
        "Zażółć Gęślą",
        "ABC-12",
        "person@example.org",
        "+48 42 123 45 67",
        "15 January 2027",  # a date in the reader's language
        "Blue",  # the label, not the value
        "Sweden",
        "A, C",
        "Yes",
        "Agreed: I agree to the processing of my data.",
    ):
        assert shown in html, shown
