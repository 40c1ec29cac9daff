"""The call builder's front and settings (#16): calls list, creating a call (blank, copy,
demo), the task list, the settings pages generated from forms/call_settings.py, two
editors on one draft, and making a call live."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.conftest import FormClient
from tests.definitions import base
from tests.test_dashboard_list import signed_in, staff

FIELDS = [
    {
        "title": "Only",
        "fields": [
            {"name": "name", "type": "text", "label": "Name", "required": True},
            {"name": "email", "type": "email", "label": "Email", "required": True},
            {"name": "people", "type": "number", "label": "People"},
        ],
    }
]


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def errors_beside(html: str) -> dict[str, list[str]]:
    """Messages shown beside inputs, by the input's name (from the message's id)."""
    found: dict[str, list[str]] = {}
    for name, message in re.findall(
        r'class="error-message" id="([^"]+)-error"><span class="visually-hidden">[^<]*</span>'
        r"\s*([^<]*?)\s*</p>",
        html,
    ):
        found.setdefault(unescape(name), []).append(unescape(message))
    return found


def texts_errors(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<p class="error-message">([^<]*)</p>', html)]


def draft_document(app, slug: str) -> dict:
    from extensions import db
    from models import Form
    from services import call_drafts

    with app.app_context():
        form = db.session.query(Form).filter_by(slug=slug).one()
        return call_drafts.draft_of(form).document


def revision_of(html: str) -> str:
    return re.search(r'name="revision" value="(\d+)"', html).group(1)


@pytest.fixture
def admin(app) -> FormClient:
    return signed_in(app, staff(app, "root@example.org", "admin"))


@pytest.fixture
def made(app, admin) -> FormClient:
    """An admin who has created the call `grants` from scratch."""
    admin.get("/dashboard/build/new")
    response = admin.post(
        "/dashboard/build/new",
        {"source": "blank", "slug": "grants", "title": "Grants 2027", "language": "en"},
    )
    assert response.status_code == 302, admin.last_html[:2000]
    return admin


def save(client: FormClient, section: str, data: dict, slug: str = "grants", **kwargs):
    url = f"/dashboard/build/{slug}/settings/{section}"
    page = client.get(url)
    assert page.status_code == 200, client.last_html[:2000]
    return client.post(url, {"revision": revision_of(client.last_html), **data}, **kwargs)


DETAILS = {
    "title.en": "Grants 2027",
    "description.en": "Small grants.",
    "reference_prefix": "GR",
    "organisation.name.en": "Example Foundation",
    "organisation.website": "https://example.org",
    "organisation.place.en": "Łódź",
    "organisation.address.en": "ul. Piotrkowska 1\n90-001 Łódź",
    "contact.name": "Ada",
    "contact.email": "grants@example.org",
    "contact.phone": "+48 42 000 00 00",
}


# --- the calls list and creating a call ----------------------------------------------------


def test_the_calls_list_marks_published_draft_only_and_archived(app, admin, create_form):
    create_form(base("alfa", FIELDS, title={"en": "Alfa call"}))
    admin.get("/dashboard/build/new")
    admin.post(
        "/dashboard/build/new",
        {"source": "blank", "slug": "beta", "title": "Beta call", "language": "pl"},
    )
    response = admin.get("/dashboard/build/")
    assert response.status_code == 200
    text = text_of(admin.last_html)
    assert "Alfa call" in text and "Published" in text
    assert "Beta call" in text and "Draft only" in text and "root@example.org" in text
    assert 'href="/dashboard/build/"' in admin.get("/dashboard/").get_data(as_text=True)


def test_create_from_scratch_asks_slug_title_language(app, made):
    document = draft_document(app, "grants")
    assert document["slug"] == "grants" and document["title"] == {"en": "Grants 2027"}
    assert document["default_language"] == "en"
    page = made.get("/dashboard/build/grants/").get_data(as_text=True)
    assert "Call details" in page and "Make it live" in page and "Has problems" in page
    # A section with problems opens with them beside its settings.
    assert 'href="/dashboard/build/grants/settings/dates?check=1"' in page
    assert 'href="/dashboard/build/grants/settings/languages"' in page


@pytest.mark.parametrize(
    "slug, expected",
    [("Bad Slug!", "must be lowercase letters"), ("grants", "already used")],
)
def test_a_bad_or_taken_address_is_refused_beside_the_field(app, made, slug, expected):
    made.get("/dashboard/build/new")
    response = made.post(
        "/dashboard/build/new",
        {"source": "blank", "slug": slug, "title": "Another", "language": "en"},
    )
    assert response.status_code == 400
    errors = errors_beside(made.last_html)
    assert any(expected in message for message in errors["slug"]), errors
    assert 'value="Another"' in made.last_html  # the rest is kept


def test_create_from_a_copy_of_another_call(app, made):
    save(made, "details", DETAILS)
    made.get("/dashboard/build/new")
    response = made.post(
        "/dashboard/build/new",
        {
            "source": "copy",
            "copy_from": "grants",
            "slug": "grants-2028",
            "title": "Grants 2028",
            "language": "en",
        },
    )
    assert response.status_code == 302
    copy = draft_document(app, "grants-2028")
    assert copy["slug"] == "grants-2028" and copy["title"]["en"] == "Grants 2028"
    assert copy["contact"]["email"] == "grants@example.org"


def test_create_from_a_demo_call(app, admin):
    admin.get("/dashboard/build/new")
    response = admin.post(
        "/dashboard/build/new",
        {
            "source": "demo",
            "demo": "msas",
            "slug": "msas-2031",
            "title": "MSAS 2031",
            "language": "pl",
        },
    )
    assert response.status_code == 302, admin.last_html[:3000]
    document = draft_document(app, "msas-2031")
    assert document["rubric"] and document["pages"]
    assert document["title"]["pl"] == "MSAS 2031"
    assert document["default_language"] == "pl" and document["languages"] == ["pl", "en"]
    # Another default language: the copy starts in it, and offers it.
    admin.post(
        "/dashboard/build/new",
        {
            "source": "demo",
            "demo": "msas",
            "slug": "msas-sv",
            "title": "MSAS på svenska",
            "language": "sv",
        },
    )
    document = draft_document(app, "msas-sv")
    assert document["default_language"] == "sv" and document["languages"] == ["pl", "en", "sv"]
    page = admin.get("/dashboard/build/msas-sv/").get_data(as_text=True)
    assert "Has problems" in page  # its texts in Swedish are missing


def test_a_reserved_question_name_is_a_problem_on_the_publish_page(app, made):
    import copy

    from extensions import db
    from models import Form
    from services import call_drafts

    complete(made)
    with app.app_context():
        form = db.session.query(Form).filter_by(slug="grants").one()
        draft = call_drafts.draft_of(form)
        document = copy.deepcopy(draft.document)
        document["pages"][0]["fields"] = [{"name": "meta", "type": "text", "label": {"en": "Meta"}}]
        call_drafts.save_draft(form, document, revision=draft.revision, user=None, summary="test")
    page = text_of(made.get("/dashboard/build/grants/publish").get_data(as_text=True))
    assert "the name 'meta' is reserved" in page
    task_list = made.get("/dashboard/build/grants/").get_data(as_text=True)
    assert re.search(r"Questions(</a>)?\s*</span>\s*<strong[^>]*>Has problems", task_list)


# --- settings pages ---------------------------------------------------------------------------


def test_call_details_save_and_problems_show_beside_the_setting(app, made):
    response = save(made, "details", {**DETAILS, "reference_prefix": "gr1"}, follow_redirects=True)
    assert response.status_code == 200
    errors = errors_beside(made.last_html)
    assert any("capital letters" in m for m in errors["reference_prefix"]), errors
    document = draft_document(app, "grants")
    assert document["organisation"]["address"]["en"].startswith("ul. Piotrkowska 1\n")
    assert document["contact"] == {
        "name": "Ada",
        "email": "grants@example.org",
        "phone": "+48 42 000 00 00",
    }


def test_input_that_cannot_be_stored_is_refused_beside_the_field_and_the_rest_kept(app, made):
    before = draft_document(app, "grants")
    response = save(
        made,
        "details",
        {
            **DETAILS,
            "description.en": "x" * 2001,
            "contact.name": "Ada\x07",
            "contact.email": "not an email",
        },
    )
    assert response.status_code == 400
    errors = errors_beside(made.last_html)
    assert {"contact.name", "contact.email"} <= set(errors), errors
    assert any("at most 2000" in m for m in texts_errors(made.last_html))
    assert "Example Foundation" in made.last_html  # everything else kept
    assert draft_document(app, "grants") == before  # nothing saved


def test_dates_garbage_is_refused_and_closing_before_opening_shown(app, made):
    response = save(
        made,
        "dates",
        {
            "timezone": "Europe/Warsaw",
            "opens_at.date": "2027-13-45",
            "opens_at.time": "09:00",
            "closes_at.date": "2027-01-01",
            "closes_at.time": "late",
            "grace_minutes": "ten",
        },
    )
    assert response.status_code == 400
    errors = errors_beside(made.last_html)
    assert {"opens_at.date", "closes_at.time", "grace_minutes"} <= set(errors), errors
    response = save(
        made,
        "dates",
        {
            "timezone": "Europe/Warsaw",
            "opens_at.date": "2027-03-01",
            "opens_at.time": "09:00",
            "closes_at.date": "2027-02-01",
            "closes_at.time": "23:59",
            "grace_minutes": "30",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    errors = errors_beside(made.last_html)
    assert any("after opens_at" in m for m in errors["closes_at"]), errors
    document = draft_document(app, "grants")
    assert document["opens_at"] == "2027-03-01T09:00" and document["grace_minutes"] == 30
    page = made.get("/dashboard/build/grants/settings/dates").get_data(as_text=True)
    assert 'value="2027-03-01"' in page and 'value="09:00"' in page
    assert page.index("Europe/Warsaw") < page.index("America/New_York")


def test_a_time_zone_not_in_the_list_is_refused(app, made):
    response = save(made, "dates", {"timezone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "timezone" in errors_beside(made.last_html)


def test_languages_removed_keep_their_texts_and_missing_texts_are_marked(app, made):
    save(made, "details", DETAILS)
    response = save(made, "languages", {"languages": ["en", "lt"], "default_language": "en"})
    assert response.status_code == 302
    page = made.get("/dashboard/build/grants/settings/details?check=1").get_data(as_text=True)
    assert 'id="title.lt"' in page and "Missing" in page
    assert any("has no text in 'lt'" in m for m in texts_errors(page)), texts_errors(page)
    save(made, "details", {**DETAILS, "title.lt": "Dotacijos"})
    save(made, "languages", {"languages": ["en"], "default_language": "en"})
    assert draft_document(app, "grants")["title"] == {"en": "Grants 2027", "lt": "Dotacijos"}
    response = save(made, "languages", {"default_language": "en"})
    assert response.status_code == 400  # no language at all


def test_places_offers_number_and_group_questions(app, made, create_form):
    made.get("/dashboard/build/new")
    made.post(
        "/dashboard/build/new",
        {
            "source": "demo",
            "demo": "study-visit-stralsund",
            "slug": "visit",
            "title": "Visit",
            "language": "en",
        },
    )
    page = made.get("/dashboard/build/visit/settings/places").get_data(as_text=True)
    assert 'name="seats_field"' in page
    response = save(made, "places", {"capacity": "0", "seats_field": ""}, slug="visit")
    assert response.status_code == 400 and "capacity" in errors_beside(made.last_html)
    response = save(made, "places", {"capacity": "12", "seats_field": ""}, slug="visit")
    assert response.status_code == 302
    document = draft_document(app, "visit")
    assert document["capacity"] == 12 and "seats_field" not in document


def test_what_happens_next_rubric_rows_and_letters(app, made):
    url = "/dashboard/build/grants/settings/next"
    made.get(url)
    revision = revision_of(made.last_html)
    # Adding a row without JavaScript: the page comes back with an empty row, nothing saved.
    response = made.post(
        url,
        {
            "revision": revision,
            "workflow": "application-review",
            "action": "add_row",
            "blind_review": "no",
            "hide_scores_until_scored": "yes",
        },
    )
    assert response.status_code == 200 and 'name="rubric[0].key"' in made.last_html
    response = made.post(
        url,
        {
            "revision": revision,
            "workflow": "application-review",
            "blind_review": "yes",
            "hide_scores_until_scored": "yes",
            "rubric[0].key": "quality",
            "rubric[0].label.en": "Quality",
            "rubric[0].weight": "0",
            "rubric[1].key": "fit",
            "rubric[1].label.en": "Fit",
            "rubric[1].weight": "1.5",
            "letters.accepted.en": "Dear {applicant_name}, welcome {nonsense}.",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200, made.last_html[:2000]
    errors = errors_beside(made.last_html)
    assert any("positive number" in m for m in errors["rubric[0].weight"]), errors
    assert any("{nonsense}" in m for m in texts_errors(made.last_html)), texts_errors(
        made.last_html
    )
    assert "{applicant_name}" in made.last_html  # the allowed placeholders are listed
    document = draft_document(app, "grants")
    assert document["rubric"][1] == {"key": "fit", "label": {"en": "Fit"}, "weight": 1.5}
    assert document["blind_review"] is True and "hide_scores_until_scored" not in document
    # Removing a row saves the rest.
    made.post(
        url,
        {
            "revision": revision_of(made.last_html),
            "workflow": "application-review",
            "blind_review": "yes",
            "hide_scores_until_scored": "yes",
            "rubric[0].key": "quality",
            "rubric[0].label.en": "Quality",
            "rubric[0].weight": "0",
            "rubric[1].key": "fit",
            "rubric[1].label.en": "Fit",
            "rubric[1].weight": "1.5",
            "action": "remove_row:0",
        },
    )
    assert [row["key"] for row in draft_document(app, "grants")["rubric"]] == ["fit"]
    page = made.get(url).get_data(as_text=True)
    assert "event-registration" in page and "First come, first served" in page
    assert "/admin/emails" in page
    assert "/reviewers" not in page  # the reviewers page is there once the call is published


def test_letters_in_a_number_are_refused(app, made):
    response = save(
        made,
        "next",
        {
            "workflow": "application-review",
            "blind_review": "no",
            "hide_scores_until_scored": "yes",
            "rubric[0].key": "q",
            "rubric[0].label.en": "Q",
            "rubric[0].weight": "one",
        },
    )
    assert response.status_code == 400
    assert "rubric[0].weight" in errors_beside(made.last_html)
    assert 'value="one"' in made.last_html


def test_the_declaration_is_created_when_missing(app, made):
    url = "/dashboard/build/grants/declaration"
    made.get(url)
    response = made.post(
        url, {"revision": revision_of(made.last_html), "label.en": "Consent", "text.en": "I agree."}
    )
    assert response.status_code == 302
    fields = draft_document(app, "grants")["pages"][-1]["fields"]
    assert fields[-1]["type"] == "consent" and fields[-1]["text"] == {"en": "I agree."}
    made.get(url)
    made.post(
        url,
        {
            "revision": revision_of(made.last_html),
            "label.en": "Consent",
            "text.en": "I agree fully.",
        },
    )
    fields = draft_document(app, "grants")["pages"][-1]["fields"]
    assert len(fields) == 1 and fields[0]["text"] == {"en": "I agree fully."}


def test_every_top_level_key_is_declared():
    from forms.call_settings import declared_top_keys
    from forms.schema import TOP_KEYS

    assert declared_top_keys() == TOP_KEYS


# --- two editors ------------------------------------------------------------------------------


def test_a_second_save_from_the_same_revision_is_refused_and_nothing_lost(app, made):
    other = signed_in(app, staff(app, "eve@example.org", "admin"))
    url = "/dashboard/build/grants/settings/details"
    made.get(url)
    other.get(url)
    first = made.post(url, {**DETAILS, "revision": revision_of(made.last_html)})
    assert first.status_code == 302
    second = other.post(
        url, {**DETAILS, "title.en": "Eve's title", "revision": revision_of(other.last_html)}
    )
    assert second.status_code == 409
    text = text_of(other.last_html)
    assert "root@example.org saved this call" in text
    assert 'value="Eve&#39;s title"' in other.last_html  # her input is kept
    stale = revision_of(other.last_html)
    assert other.post(url, {**DETAILS, "title.en": "Eve's", "revision": stale}).status_code == 409
    assert draft_document(app, "grants")["title"]["en"] == "Grants 2027"


# --- making it live ---------------------------------------------------------------------------


def complete(client: FormClient, slug: str = "grants") -> None:
    assert save(client, "details", DETAILS, slug).status_code == 302
    assert (
        save(
            client,
            "dates",
            {
                "timezone": "Europe/Warsaw",
                "opens_at.date": "2026-01-01",
                "opens_at.time": "00:00",
                "closes_at.date": "2030-12-31",
                "closes_at.time": "23:59",
            },
            slug,
        ).status_code
        == 302
    )


def test_publish_lists_problems_linking_to_their_pages(app, made):
    page = made.get("/dashboard/build/grants/publish").get_data(as_text=True)
    assert "/dashboard/build/grants/settings/dates?check=1#opens_at" in unescape(page)
    assert 'name="revision"' not in page  # nothing to publish yet


def test_publish_makes_a_version_with_the_workflow_and_the_public_page_shows_it(app, made):
    from extensions import db
    from models import Form

    made.get("/dashboard/build/grants/")
    complete(made)
    made.get("/dashboard/build/grants/declaration")
    made.post(
        "/dashboard/build/grants/declaration",
        {"revision": revision_of(made.last_html), "text.en": "I agree."},
    )
    page = made.get("/dashboard/build/grants/publish").get_data(as_text=True)
    assert "stops this call" not in page, text_of(page)[:3000]
    response = made.post("/dashboard/build/grants/publish", {"revision": revision_of(page)})
    assert response.status_code == 302, text_of(made.last_html)[:3000]
    made.get(response.headers["Location"])
    assert "/calls/grants" in made.last_html
    with app.app_context():
        version = db.session.query(Form).filter_by(slug="grants").one().current_version
        assert version.number == 1 and version.workflow_snapshot and version.origin == "browser"
    next_page = made.get("/dashboard/build/grants/settings/next").get_data(as_text=True)
    assert "/dashboard/calls/grants/reviewers" in next_page
    public = FormClient(app.test_client()).get("/calls/grants")
    assert public.status_code == 200 and "Grants 2027" in public.get_data(as_text=True)
    # A change shows what it changes, and a stale revision is refused with a message.
    save(made, "details", {**DETAILS, "title.en": "Grants 2027 (new)"})
    page = made.get("/dashboard/build/grants/publish").get_data(as_text=True)
    stale = int(revision_of(page)) - 1
    response = made.post("/dashboard/build/grants/publish", {"revision": str(stale)})
    assert response.status_code == 409 and "saved this call" in text_of(made.last_html)
    assert "title" in text_of(page)
    page = made.get("/dashboard/build/grants/").get_data(as_text=True)
    assert "The draft has changes that are not live yet" in page


def test_a_reviewer_without_management_rights_gets_404(app, made):
    reviewer = signed_in(app, staff(app, "rita@example.org", "reviewer"))
    for url in (
        "/dashboard/build/",
        "/dashboard/build/grants/",
        "/dashboard/build/new",
        "/dashboard/build/grants/settings/details",
        "/dashboard/build/grants/publish",
        "/dashboard/build/grants/declaration",
    ):
        assert reviewer.get(url).status_code == 404, url


def test_a_call_manager_sees_only_their_calls(app, made, create_form):
    create_form(base("alfa", FIELDS, title={"en": "Alfa call"}))
    manager = signed_in(app, staff(app, "maria@example.org", "call_manager", "alfa"))
    text = text_of(manager.get("/dashboard/build/").get_data(as_text=True))
    assert "Alfa call" in text and "Grants 2027" not in text
    assert manager.get("/dashboard/build/grants/").status_code == 404
    # A call they create is theirs to run.
    manager.get("/dashboard/build/new")
    response = manager.post(
        "/dashboard/build/new",
        {"source": "blank", "slug": "mine", "title": "Mine", "language": "sv"},
    )
    assert response.status_code == 302
    assert manager.get("/dashboard/build/mine/").status_code == 200


def test_an_unknown_section_is_404_and_never_500(app, made):
    assert made.get("/dashboard/build/grants/settings/nothing").status_code == 404
    response = made.post("/dashboard/build/grants/settings/details", {"revision": "x"})
    assert response.status_code in (400, 409)


def test_publishing_a_call_with_submissions_says_what_changes_and_who_is_affected(
    app, admin, create_form
):
    import copy
    import secrets

    from extensions import db
    from models import Draft, Form, User
    from services import call_drafts
    from tests.test_dashboard_list import add

    create_form(base("alfa", FIELDS, title={"en": "Alfa call"}, languages=["en"]))
    add(app, "alfa", 2)
    with app.app_context():
        form = db.session.query(Form).filter_by(slug="alfa").one()
        db.session.add(
            Draft(
                form_version_id=form.current_version_id,
                token_hash=secrets.token_hex(32),
                language="en",
            )
        )
        db.session.commit()
        draft = call_drafts.draft_of(form)
        db.session.commit()
        document = copy.deepcopy(draft.document)
        fields = document["pages"][0]["fields"]
        fields[0]["label"] = {"en": "Full name"}  # renamed: the key stays
        del fields[2]  # people: removed
        fields.append({"name": "town", "type": "text", "label": {"en": "Town"}})
        user = db.session.query(User).filter_by(email="root@example.org").one()
        call_drafts.save_draft(form, document, revision=draft.revision, user=user, summary="test")
    page = admin.get("/dashboard/build/alfa/publish").get_data(as_text=True)
    text = text_of(page)
    assert "Questions added Town town" in text, text
    assert "Questions removed People people" in text
    assert "“Name” becomes “Full name”" in text
    assert "1 application in progress continues with the questions it started on" in text
    assert "2 sent submissions keep their questions and answers" in text
    response = admin.post("/dashboard/build/alfa/publish", {"revision": revision_of(page)})
    assert response.status_code == 302, text_of(admin.last_html)[:2000]
    with app.app_context():
        form = db.session.query(Form).filter_by(slug="alfa").one()
        assert form.current_version.number == 2


WEIRD = [
    "",
    " ",
    "x" * 5000,
    "\x00",
    "\u202e\u0000",
    "2027-02-30",
    "99:99",
    "-1",
    "1e9",
    "１２",  # full-width digits
    "<script>",
    "{",
    "NaN",
]


@pytest.mark.parametrize("section", ["details", "languages", "dates", "places", "next"])
def test_garbage_on_any_settings_page_is_never_a_500(app, made, section):
    from forms.call_settings import of_section

    url = f"/dashboard/build/grants/settings/{section}"
    names = []
    for setting in of_section(section):
        names += [setting.key, f"{setting.key}.en", f"{setting.key}.date", f"{setting.key}.time"]
    names += ["rubric[0].key", "rubric[0].weight", "rubric[0].label.en", "rubric[999].key"]
    names += ["letters.accepted.en", "workflow", "action"]
    for weird in WEIRD:
        made.get(url)
        revision = revision_of(made.last_html)
        response = made.post(url, {"revision": revision, **{name: weird for name in names}})
        assert response.status_code < 500, (section, weird)
        made.get(url + "?check=1")
        assert made.get(url + "?check=1").status_code == 200, (section, weird)
        assert made.get("/dashboard/build/grants/").status_code == 200
        assert made.get("/dashboard/build/grants/publish").status_code == 200
    for action in ("remove_row:x", "remove_row:", "add_row", "nonsense"):
        made.get(url)
        response = made.post(url, {"revision": revision_of(made.last_html), "action": action})
        assert response.status_code < 500, action


def test_problems_in_questions_link_to_the_questions_page_when_it_exists(app):
    from forms.problems import Problem
    from web.builder import calls

    path = ("pages", 1, "fields", 2, "fields", 0, "label", "pl")
    with app.test_request_context("/"):
        build = "/dashboard/build/g"
        assert calls.question_link("g", path) == f"{build}/questions/q/1-2-0"
        assert calls.question_link("g", ("pages", 1, "fields", 2, "label")) == (
            f"{build}/questions/q/1-2"
        )
        assert calls.question_link("g", ("pages", 3, "title", "en")) == f"{build}/questions/pages/3"
        assert calls.question_link("g", ("pages",)) == f"{build}/questions"
    assert Problem(path).where == "pages[1].fields[2].fields[0].label.pl"
