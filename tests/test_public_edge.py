"""The public edge (issue 14): every answer of every question of every demo call is cleaned
(NFC, one kind of line break) and bounded before it is checked or kept. NUL and other
control characters, a line break in a one-line answer, an over-long value, a choice not
offered, too many choices or group items: refused beside the question, in the page's
language, never stored in the draft, every other answer kept; never a 500."""

from __future__ import annotations

import json
import unicodedata

import pytest
from sqlalchemy import select

from tests.conftest import demo_definition, errors_in
from tests.definitions import base
from tests.journey import calls

BAD_TEXT = {
    "nul": "ab\x00cd",
    "escape": "ab\x1b[31mcd",
    "bell": "ab\x07cd",
    "tab": "ab\tcd",
}
CONTROL_MESSAGE = "Remove the invisible control characters from this answer"
ONE_LINE_MESSAGE = "Write this answer on one line."
TYPED = ("text", "textarea", "email", "phone", "number", "date", "time", "datetime", "url")
# A postal address is typed part by part: its street stands for the parts typed.
ADDRESS_PART = "-street"


def _questions():
    """(call, page number, posted name, field spec) for every input of every demo call."""
    for spec in calls():
        for page in spec.pages:
            for field in page.inputs:
                if field.type == "group":
                    for child in field.children:
                        if child.is_input:
                            yield spec.slug, page.index + 1, f"{field.name}-0-{child.name}", child
                elif field.type == "address":
                    yield spec.slug, page.index + 1, field.name + ADDRESS_PART, field
                elif field.type not in ("file", "consent"):
                    yield spec.slug, page.index + 1, field.name, field


QUESTIONS = list(_questions())
IDS = [f"{slug}-{name}" for slug, _n, name, _f in QUESTIONS]


def _limit(field) -> int:
    """Past every type's bound (a question's own max_length, or 320 for an email)."""
    if field.type == "address":
        return 200  # a street
    return field.options.get("max_length", 5000)


def hostile_values(field) -> list[tuple[str, object, str]]:
    """(case, value posted, message expected beside the question)."""
    if field.type in TYPED or field.type == "address":
        cases = [(case, value, CONTROL_MESSAGE) for case, value in BAD_TEXT.items()]
        if field.type != "textarea":
            cases += [("line break", "ab\ncd", ONE_LINE_MESSAGE)]
            cases += [("carriage return", "ab\rcd", ONE_LINE_MESSAGE)]
            cases += [("next line", "ab\x85cd", ONE_LINE_MESSAGE)]
        cases.append(("too long", "x" * (_limit(field) + 1), "Use at most"))
        return cases
    offered = [c["value"] for c in field.options.get("choices", [])] or ["yes", "no"]
    cases = [
        ("nul choice", offered[0] + "\x00", "Select one of the options offered."),
        ("unknown choice", "not-offered", "Select one of the options offered."),
    ]
    if field.type == "multichoice":
        cases.append(("twice", [offered[0]] * 2, "Select one of the options offered."))
        cases.append(("many", offered * 50, "Select one of the options offered."))
    return cases


CASES = [
    (slug, number, name, field, case, value, message)
    for slug, number, name, field in QUESTIONS
    for case, value, message in hostile_values(field)
]


def _draft_answers(app) -> dict:
    from extensions import db
    from models import Draft

    with app.app_context():
        draft = db.session.scalars(select(Draft).order_by(Draft.id.desc())).first()
        return dict(draft.answers) if draft else {}


def _is_shown(app, slug: str, name: str) -> bool:
    """Shown on an empty draft (a question behind a condition is hidden, so not checked)."""
    from forms.conditions import visible_fields
    from services.answers import visible_names

    spec = next(s for s in calls() if s.slug == slug)
    visible = visible_names(spec, {})
    name = name.removesuffix(ADDRESS_PART)
    group, _sep, child = name.partition("-0-")
    if not child:
        return name in visible
    if group not in visible:
        return False
    children = next(f for f in spec.inputs if f.name == group).children
    return child in visible_fields(children, {}, visible, {})


@pytest.mark.parametrize(
    ("slug", "number", "name", "field", "case", "value", "message"),
    CASES,
    ids=[f"{slug}-{name}-{case}" for slug, _n, name, _f, case, _v, _m in CASES],
)
def test_every_question_refuses_what_cannot_be_kept(
    app, create_form, client, slug, number, name, field, case, value, message
):
    create_form(demo_definition(slug))
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    kept = {"a-neighbour": "kept"}  # not a question: just shows the rest is untouched
    response = client.fill(slug, number, {name: value, **kept})
    assert response.status_code < 500
    stored = json.dumps(_draft_answers(app))
    for bad in ("\\u0000", "\\u001b", "\\u0007", "\\t", "\\u0085", "ab\\ncd", "xxxxxxxxxx" * 4):
        if bad in json.dumps(value):
            assert bad not in stored, f"{case} was stored: {stored[:300]}"
    if field.type == "multichoice":
        assert "not-offered" not in stored and stored.count('"') < 200
    with app.app_context():
        shown = _is_shown(app, slug, name)
    if shown:
        assert response.status_code == 200, "refused answers bring the page back"
        assert any(m.startswith(message) for m in errors_in(client.last_html)), errors_in(
            client.last_html
        )


TEXT_QUESTIONS = [q for q in QUESTIONS if q[3].type in ("text", "textarea")]


@pytest.mark.parametrize(
    ("slug", "number", "name", "field"),
    TEXT_QUESTIONS,
    ids=[f"{q[0]}-{q[2]}" for q in TEXT_QUESTIONS],
)
def test_text_is_kept_in_nfc(app, create_form, client, slug, number, name, field):
    create_form(demo_definition(slug))
    decomposed = "Zo\u0065\u0308 Z\u0307o\u0301\u0142kiewska"  # "Zoë Żółkiewska", decomposed
    client.fill(slug, number, {name: decomposed})
    answers = _draft_answers(app)
    group, _sep, child = name.partition("-0-")
    value = answers[group][0][child] if child else answers[name]
    assert value == unicodedata.normalize("NFC", decomposed)


def test_long_text_keeps_its_line_breaks_as_one_kind(app, create_form, client):
    create_form(
        base("lines", [{"fields": [{"name": "story", "type": "textarea", "label": "Story"}]}])
    )
    client.fill("lines", 1, {"story": "one\r\ntwo\rthree\u2028four"})
    assert _draft_answers(app)["story"] == "one\ntwo\nthree\nfour"


def test_refused_in_the_pages_language_every_other_answer_kept(app, create_form, client):
    create_form(
        base(
            "polish",
            [
                {
                    "fields": [
                        {"name": "name", "type": "text", "label": "Name", "required": True},
                        {"name": "city", "type": "text", "label": "City", "required": True},
                    ]
                }
            ],
        )
    )
    headers = {"Accept-Language": "pl"}
    client.get("/calls/polish/page/1", headers=headers)
    response = client.post(
        "/calls/polish/page/1",
        {"name": "Zofia\x00", "city": "Łódź", "action": "save"},
        headers=headers,
    )
    assert response.status_code == 200, "refused: the page comes back, not saved for later"
    assert errors_in(client.last_html) == [
        "Usuń z tej odpowiedzi niewidoczne znaki sterujące "
        "(często kopiują się razem z tekstem z innego programu)."
    ]
    assert 'value="Łódź"' in client.last_html
    assert _draft_answers(app) == {"city": "Łódź"}


# --- repeatable groups and request bodies -------------------------------------------------


def _page_with(slug: str, kind: str) -> int:
    """The number of the first page of the call that asks a question of this type."""
    spec = next(s for s in calls() if s.slug == slug)
    return next(p.index + 1 for p in spec.pages if any(f.type == kind for f in p.inputs))


def _participants(count: int) -> dict:
    return {f"participants-{i}-first_name": f"Person {i}" for i in range(count)}


def test_group_items_beyond_max_are_refused(app, create_form, client):
    create_form(demo_definition("study-visit-stralsund"))
    spec = next(s for s in calls() if s.slug == "study-visit-stralsund")
    page = next(p for p in spec.pages if any(f.name == "participants" for f in p.inputs))
    group = next(f for f in page.inputs if f.name == "participants")
    maximum = group.options["max"]
    response = client.fill(spec.slug, page.index + 1, _participants(maximum + 1))
    assert response.status_code == 200
    assert f"You can add at most {maximum}." in errors_in(client.last_html)
    assert "participants" not in _draft_answers(app)


def test_a_refused_answer_in_a_group_item_keeps_the_items_other_answers(app, create_form, client):
    create_form(demo_definition("study-visit-stralsund"))
    number = _page_with("study-visit-stralsund", "group")
    posted = {"participants-0-first_name": "Ada\x00", "participants-0-last_name": "Lovelace"}
    response = client.fill("study-visit-stralsund", number, posted)
    assert response.status_code == 200
    assert errors_in(client.last_html)[0].startswith(CONTROL_MESSAGE)
    [item] = _draft_answers(app)["participants"]
    assert item["last_name"] == "Lovelace" and "first_name" not in item


def test_a_large_urlencoded_body_is_refused_before_it_is_read(app, create_form, client):
    """Finding 3: 20 000 items from a 5 MB urlencoded body were read, checked and stored."""
    create_form(demo_definition("study-visit-stralsund"))
    client.get("/calls/study-visit-stralsund/page/1")
    data = {**_participants(20_000), "csrf_token": client.csrf_token()}
    response = client.client.post("/calls/study-visit-stralsund/page/1", data=data)
    assert response.status_code == 413
    assert _draft_answers(app) == {}


def test_many_urlencoded_keys_are_refused(app, create_form, client):
    create_form(demo_definition("study-visit-stralsund"))
    client.get("/calls/study-visit-stralsund/page/1")
    data = {f"k{i}": "" for i in range(app.config["MAX_FORM_PARTS"] + 1)}
    response = client.client.post(
        "/calls/study-visit-stralsund/page/1", data={**data, "csrf_token": client.csrf_token()}
    )
    assert response.status_code == 413


@pytest.mark.parametrize("index", ["²", "9" * 5000, "١"])
def test_odd_group_indices_are_ignored(app, create_form, client, index):
    create_form(demo_definition("study-visit-stralsund"))
    number = _page_with("study-visit-stralsund", "group")
    response = client.fill(
        "study-visit-stralsund", number, {f"participants-{index}-first_name": "A"}
    )
    assert response.status_code < 500


def test_a_multipart_part_without_a_name_is_no_500(app, create_form, client):
    """Finding 9: a part without a name gave a 500."""
    create_form(demo_definition("msas"))
    url = f"/calls/msas/page/{_page_with('msas', 'file')}"
    client.get(url)
    boundary = "formdeskboundary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="csrf_token"\r\n\r\n'
        f"{client.csrf_token()}\r\n"
        f"--{boundary}\r\n"
        "Content-Disposition: form-data\r\n\r\n"
        "nameless\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; filename="x.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
        "%PDF-1.4\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    response = client.client.post(
        url,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code < 500


# --- a draft that holds a NUL already -----------------------------------------------------


def test_a_stored_nul_sends_the_person_back_to_its_page_not_a_500(app, create_form, client):
    """Finding 5: a draft holding a NUL made Send answer 500 on PostgreSQL, every time."""
    from extensions import db
    from models import Draft, Submission

    fields = [
        {"name": "name", "type": "text", "label": "Name", "required": True},
        {"name": "email", "type": "email", "label": "Email", "required": True},
    ]
    create_form(base("nul", [{"fields": fields}]))  # the receipt's text holds the answers
    client.fill("nul", 1, {"name": "Ada", "email": "ada@example.org"})
    with app.app_context():
        draft = db.session.scalars(select(Draft)).one()
        # As an older version could have stored it.
        draft.answers = {**draft.answers, "name": "A\x00da"}
        db.session.commit()
    client.get("/calls/nul/page/1")  # a page open in another tab: Send from there
    response = client.post("/calls/nul/check", {})
    assert response.status_code == 302
    assert "/calls/nul/page/1" in response.headers["Location"]
    client.get(response.headers["Location"])
    assert errors_in(client.last_html)[0].startswith(CONTROL_MESSAGE)
    with app.app_context():
        assert db.session.scalars(select(Submission)).all() == []
