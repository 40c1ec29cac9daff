"""The builder's Questions task (web/builder/questions.py): pages and questions of every
field type added through the HTTP routes, settings from the types' schemas, choices,
conditions on earlier questions, repeatable groups, moving and deleting, refusals beside
the field (never a 500), conflicts, and the preview of a draft page."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from tests.conftest import FormClient
from tests.definitions import base
from tests.test_auth import PASSWORD, sign_in

ADMIN, REVIEWER = "ada@example.org", "rita@example.org"
SLUG = "built"


def _create_user(app, email: str, role: str) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", email, "--role", role, "--all-forms"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output


@pytest.fixture
def admin(app, client):
    _create_user(app, ADMIN, "admin")
    sign_in(client, ADMIN)
    return client


@pytest.fixture
def call(app, admin):
    """A call never published, its draft a complete call with one empty page (en, pl)."""
    from extensions import db
    from models import User
    from services import call_drafts

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == ADMIN))
        form = call_drafts.create_call(
            slug=SLUG, user=user, source="blank", copy_from=None, title="Built", language="en"
        )
        document = base(SLUG, [{"fields": []}])
        document["languages"] = ["en", "pl"]
        document["title"] = {"en": "Built", "pl": "Zbudowany"}
        document["description"] = {"en": "A call.", "pl": "Nabór."}
        document["organisation"] = {"name": {"en": "Org", "pl": "Org"}}
        call_drafts.save_draft(form, document, revision=1, user=user, summary="test")
    return SLUG


def document(app) -> dict:
    from extensions import db
    from models import Form

    with app.app_context():
        db.session.expire_all()
        form = db.session.scalar(select(Form).where(Form.slug == SLUG))
        return form.draft.document


def revision(client: FormClient) -> str:
    found = re.search(r'name="revision" value="(-?\d+)"', client.last_html)
    return found.group(1) if found else "-1"  # a page without a form (a refusal)


def post(client: FormClient, url: str, data: dict):
    client.get(url)
    return client.post(url, {"revision": revision(client), **data})


def add(client: FormClient, at: str, type_: str, data: dict):
    return post(client, f"/dashboard/build/{SLUG}/questions/add/{at}/{type_}", data)


def label(en: str, pl: str = "") -> dict:
    return {"label.en": en, "label.pl": pl or en + " (pl)"}


EVERY_TYPE = {
    "text": {**label("Full name"), "max_length": "80", "required": "yes"},
    "textarea": {**label("Your story"), "max_length": "500", "rows": "5"},
    "email": {**label("Email address"), "required": "yes"},
    "phone": label("Phone"),
    "url": label("Website"),
    "number": {**label("People"), "min": "1", "max": "30", "integer": "yes"},
    "date": {**label("Day"), "min": "2026-01-01"},
    "time": {**label("Time"), "min": "08:00"},
    "datetime": label("Arrival"),
    "choice": {
        **label("Track"),
        "choice_count": "2",
        "choice-0-value": "a",
        "choice-0-label.en": "Track A",
        "choice-0-label.pl": "Ścieżka A",
        "choice-1-value": "",
        "choice-1-label.en": "Track B",
        "choice-1-label.pl": "Ścieżka B",
        "widget": "radio",
    },
    "multichoice": {
        **label("Topics"),
        "choice_count": "1",
        "choice-0-value": "x",
        "choice-0-label.en": "X",
        "choice-0-label.pl": "X",
    },
    "yesno": label("Need a visa?"),
    "country": {**label("Country"), "countries": "pl se"},
    "address": {**label("Address"), "country": "pl"},
    "consent": {"text.en": "I agree", "text.pl": "Zgadzam się"},
    "file": {**label("CV"), "accept": "pdf docx", "max_size_mb": "5"},
    "group": {
        **label("Participants"),
        "min": "1",
        "max": "4",
        "item_label.en": "Participant",
        "item_label.pl": "Uczestnik",
    },
    "heading": {"text.en": "About you", "text.pl": "O tobie"},
    "paragraph": {"text.en": "Read this.", "text.pl": "Przeczytaj."},
}


def test_every_field_type_added_through_the_builder_makes_a_publishable_call(app, call, admin):
    from forms.field_types import TYPES
    from forms.schema import check
    from services.call_drafts import publish_problems

    assert set(EVERY_TYPE) == {kind.name for kind in TYPES}
    for type_, data in EVERY_TYPE.items():
        response = add(admin, "0", type_, data)
        assert response.status_code == 302, (type_, admin.last_html[:3000])
    # The group's own question, added inside it.
    group_at = list(EVERY_TYPE).index("group")
    response = add(admin, f"0-{group_at}", "text", label("Participant's name"))
    assert response.status_code == 302
    fields = document(app)["pages"][0]["fields"]
    assert [f["type"] for f in fields] == list(EVERY_TYPE)
    assert fields[0]["name"] == "full_name" and fields[0]["max_length"] == 80
    assert fields[0]["label"] == {"en": "Full name", "pl": "Full name (pl)"}
    assert fields[0]["required"] is True
    assert fields[5]["min"] == 1 and fields[5]["integer"] is True
    assert fields[9]["choices"][1]["value"] == "track_b"
    assert fields[12]["countries"] == ["PL", "SE"]
    assert fields[group_at]["fields"][0]["name"] == "participant_s_name"
    assert "name" not in fields[-1]  # a paragraph asks nothing: no key
    with app.app_context():
        assert check(document(app)) == []
        assert publish_problems(document(app)) == []
    # The pages list names each question by its label, with its key.
    page = admin.get(f"/dashboard/build/{SLUG}/questions").get_data(as_text=True)
    assert "Full name" in page and "full_name" in page


def test_a_new_key_is_unique_and_not_reserved(app, call, admin):
    add(admin, "0", "text", label("Name"))
    add(admin, "0", "text", label("Name"))
    add(admin, "0", "text", label("Meta"))  # `meta` is kept by the form engine
    add(admin, "0", "text", label("2024 budget"))
    names = [f["name"] for f in document(app)["pages"][0]["fields"]]
    assert names[:2] == ["name", "name_2"]
    assert names[2] != "meta"
    assert re.fullmatch(r"[a-z][a-z0-9_]*", names[3])


def test_choices_are_edited_added_and_removed_without_javascript(app, call, admin):
    add(admin, "0", "choice", EVERY_TYPE["choice"])
    url = f"/dashboard/build/{SLUG}/questions/q/0-0"
    admin.get(url)
    rev = revision(admin)
    form = {**EVERY_TYPE["choice"], "revision": rev}
    response = admin.post(url, {**form, "action": "add_choice"})
    assert response.status_code == 200
    assert 'name="choice-2-value"' in admin.last_html  # a new empty row, nothing saved yet
    assert document(app)["pages"][0]["fields"][0]["choices"][1]["value"] == "track_b"
    form.update(
        {
            "choice_count": "3",
            "choice-2-value": "c",
            "choice-2-label.en": "Track C",
            "choice-2-label.pl": "Ścieżka C",
            "choice-1-value": "track_b",
        }
    )
    response = admin.post(url, {**form, "action": "remove_choice:0"})
    assert response.status_code == 200
    assert 'value="Track A"' not in admin.last_html
    form = {
        **form,
        "choice_count": "2",
        "choice-0-value": "track_b",
        "choice-0-label.en": "Track B",
        "choice-0-label.pl": "Ścieżka B",
        "choice-1-value": "c",
        "choice-1-label.en": "Track C",
        "choice-1-label.pl": "Ścieżka C",
    }
    del form["choice-2-value"]
    response = admin.post(url, {**form, "action": "save"})
    assert response.status_code == 302
    choices = document(app)["pages"][0]["fields"][0]["choices"]
    assert choices == [
        {"value": "track_b", "label": {"en": "Track B", "pl": "Ścieżka B"}},
        {"value": "c", "label": {"en": "Track C", "pl": "Ścieżka C"}},
    ]


def test_the_condition_picker_offers_only_earlier_condition_targets(app, call, admin):
    add(admin, "0", "text", label("Name"))
    add(admin, "0", "yesno", label("Need a visa"))
    add(admin, "0", "choice", EVERY_TYPE["choice"])
    add(admin, "0", "textarea", label("Why"))
    add(admin, "0", "choice", {**EVERY_TYPE["choice"], **label("Later track")})
    url = f"/dashboard/build/{SLUG}/questions/q/0-3/condition"
    page = admin.get(url).get_data(as_text=True)
    assert 'name="values.need_a_visa"' in page and 'name="values.track"' in page
    assert "values.name" not in page and "values.later_track" not in page
    assert "Track A" in page  # the values' labels, in the editor's language
    response = admin.post(
        url,
        {
            "revision": revision(admin),
            "values.need_a_visa": "true",
            "values.track": ["a", "track_b"],
            "action": "save",
        },
    )
    assert response.status_code == 302
    question = document(app)["pages"][0]["fields"][3]
    assert question["show_if"] == {"need_a_visa": [True], "track": ["a", "track_b"]}
    from forms.schema import check

    assert check(document(app)) == []
    admin.get(url)
    admin.post(url, {"revision": revision(admin), "action": "remove"})
    assert "show_if" not in document(app)["pages"][0]["fields"][3]


def test_a_group_has_its_own_questions_moved_and_deleted(app, call, admin):
    add(admin, "0", "group", EVERY_TYPE["group"])
    page = admin.get(f"/dashboard/build/{SLUG}/questions/add/0-0").get_data(as_text=True)
    assert 'value="file"' not in page and 'value="group"' not in page  # not allowed in groups
    assert admin.get(f"/dashboard/build/{SLUG}/questions/add/0-0/file").status_code == 404
    add(admin, "0-0", "text", label("First name"))
    add(admin, "0-0", "email", label("Email"))
    move = f"/dashboard/build/{SLUG}/questions/q/0-0-1/move"
    admin.get(f"/dashboard/build/{SLUG}/questions/q/0-0")
    response = admin.post(move, {"revision": revision(admin), "direction": "up"})
    assert response.status_code == 302
    children = document(app)["pages"][0]["fields"][0]["fields"]
    assert [c["name"] for c in children] == ["email", "first_name"]
    delete = f"/dashboard/build/{SLUG}/questions/q/0-0-0/delete"
    post(admin, delete, {})
    assert [c["name"] for c in document(app)["pages"][0]["fields"][0]["fields"]] == ["first_name"]


def test_pages_and_questions_move(app, call, admin):
    post(
        admin,
        f"/dashboard/build/{SLUG}/questions/pages/new",
        {"title.en": "Second", "title.pl": "Druga"},
    )
    add(admin, "0", "text", label("One"))
    add(admin, "0", "text", label("Two"))
    add(admin, "0", "text", label("Three"))
    admin.get(f"/dashboard/build/{SLUG}/questions")
    admin.post(
        f"/dashboard/build/{SLUG}/questions/q/0-0/move",
        {"revision": revision(admin), "direction": "down"},
    )
    assert [f["name"] for f in document(app)["pages"][0]["fields"]] == ["two", "one", "three"]
    admin.get(f"/dashboard/build/{SLUG}/questions")  # dragging posts a position
    admin.post(
        f"/dashboard/build/{SLUG}/questions/q/0-2/move",
        {"revision": revision(admin), "position": "0"},
    )
    assert [f["name"] for f in document(app)["pages"][0]["fields"]] == ["three", "two", "one"]
    admin.get(f"/dashboard/build/{SLUG}/questions")
    admin.post(
        f"/dashboard/build/{SLUG}/questions/q/0-0/move",
        {"revision": revision(admin), "to_page": "1"},
    )
    pages = document(app)["pages"]
    assert [f["name"] for f in pages[1]["fields"]] == ["three"]
    admin.get(f"/dashboard/build/{SLUG}/questions")
    admin.post(
        f"/dashboard/build/{SLUG}/questions/pages/1/move",
        {"revision": revision(admin), "direction": "up"},
    )
    assert document(app)["pages"][0]["title"] == {"en": "Second", "pl": "Druga"}


def test_deleting_a_question_something_refers_to_is_refused(app, call, admin):
    from extensions import db
    from models import Form
    from services import call_drafts

    add(admin, "0", "yesno", label("Visa"))
    add(admin, "0", "textarea", label("Why"))
    add(admin, "0", "email", label("Email"))
    url = f"/dashboard/build/{SLUG}/questions/q/0-1/condition"
    admin.get(url)
    admin.post(url, {"revision": revision(admin), "values.visa": "true", "action": "save"})
    with app.app_context():
        form = db.session.scalar(select(Form).where(Form.slug == SLUG))
        changed = {**form.draft.document, "applicant_email_field": "email"}
        call_drafts.save_draft(form, changed, revision=form.draft.revision, user=None, summary="t")
    for where, named in (("0-0", "Why"), ("0-2", "applicant_email_field")):
        response = post(admin, f"/dashboard/build/{SLUG}/questions/q/{where}/delete", {})
        assert response.status_code == 200
        assert named in unescape(admin.last_html)
    assert len(document(app)["pages"][0]["fields"]) == 3
    response = post(admin, f"/dashboard/build/{SLUG}/questions/q/0-1/delete", {})
    assert response.status_code == 302
    assert len(document(app)["pages"][0]["fields"]) == 2


def test_bad_input_is_refused_beside_the_field_and_kept(app, call, admin):
    add(admin, "0", "text", label("Name"))
    url = f"/dashboard/build/{SLUG}/questions/q/0-0"
    before = document(app)
    response = post(admin, url, {**label("Renamed"), "max_length": "abc", "action": "save"})
    assert response.status_code == 200
    html = unescape(admin.last_html)
    assert "Enter a whole number" in html and 'value="abc"' in html and 'value="Renamed"' in html
    long = "x" * 5000
    response = post(admin, url, {"label.en": long, "label.pl": "Imię", "action": "save"})
    assert response.status_code == 200
    assert long in admin.last_html and "Imię" in admin.last_html
    response = post(admin, url, {"label.en": "Bell\x07", "label.pl": "Imię", "action": "save"})
    assert response.status_code == 200
    assert document(app) == before
    # A stale revision: the other editor's save stays; this person's input is shown again.
    admin.get(url)
    stale = revision(admin)
    admin.post(url, {**label("First"), "revision": stale, "action": "save"})
    response = admin.post(url, {**label("Second"), "revision": stale, "action": "save"})
    assert response.status_code == 200
    assert "Someone else changed this call" in admin.last_html
    assert 'value="Second"' in admin.last_html
    assert document(app)["pages"][0]["fields"][0]["label"]["en"] == "First"
    # A setting the schema refuses is saved, and its problem is shown beside it.
    response = post(admin, url, {**label("Name"), "pattern": "[a-", "action": "save"})
    assert response.status_code == 302
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="error-message"' in page


def test_the_key_is_editable_only_until_the_call_is_published(app, call, admin):
    add(admin, "0", "yesno", label("Visa"))
    add(admin, "0", "text", label("Why"))
    cond = f"/dashboard/build/{SLUG}/questions/q/0-1/condition"
    admin.get(cond)
    admin.post(cond, {"revision": revision(admin), "values.visa": "true", "action": "save"})
    url = f"/dashboard/build/{SLUG}/questions/q/0-0"
    response = post(admin, url, {**label("Visa"), "name": "meta", "action": "save"})
    assert response.status_code == 200 and "choose another" in admin.last_html
    response = post(admin, url, {**label("Visa"), "name": "needs_visa", "action": "save"})
    assert response.status_code == 302
    fields = document(app)["pages"][0]["fields"]
    assert fields[0]["name"] == "needs_visa" and fields[1]["show_if"] == {"needs_visa": [True]}

    from extensions import db
    from models import Form
    from services import call_drafts

    with app.app_context():
        form = db.session.scalar(select(Form).where(Form.slug == SLUG))
        call_drafts.publish_draft(form, revision=form.draft.revision, user=None)
    page = admin.get(url).get_data(as_text=True)
    assert 'name="name"' not in page
    post(admin, url, {**label("Visa"), "name": "other", "action": "save"})
    assert document(app)["pages"][0]["fields"][0]["name"] == "needs_visa"


def test_preview_renders_the_draft_page_in_each_language(app, call, admin):
    add(admin, "0", "text", label("Full name", "Imię i nazwisko"))
    add(admin, "0", "choice", EVERY_TYPE["choice"])
    page = admin.get(f"/dashboard/build/{SLUG}/preview/1?language=pl").get_data(as_text=True)
    assert (
        "Imię i nazwisko" in page and "Ścieżka A" in page and "Preview" in page or "Podgląd" in page
    )
    assert 'method="post"' not in page.split('class="builder-preview-page"')[1]
    page = admin.get(f"/dashboard/build/{SLUG}/preview/1?language=en").get_data(as_text=True)
    assert "Full name" in page
    assert admin.get(f"/dashboard/build/{SLUG}/preview/9").status_code == 404
    # A draft with problems shows them, with links to mend them.
    add(admin, "0", "number", {**label("People"), "min": "9", "max": "1"})
    response = admin.get(f"/dashboard/build/{SLUG}/preview/1")
    assert response.status_code == 200
    assert f"/dashboard/build/{SLUG}/questions/q/0-2" in response.get_data(as_text=True)


def test_someone_who_may_not_manage_the_call_gets_404(app, call):
    _create_user(app, REVIEWER, "reviewer")
    other = FormClient(app.test_client())
    sign_in(other, REVIEWER)
    for url in (
        "questions",
        "questions/add/0",
        "questions/add/0/text",
        "preview/1",
        "questions/pages/new",
    ):
        assert other.get(f"/dashboard/build/{SLUG}/{url}").status_code == 404, url
    response = other.client.post(
        f"/dashboard/build/{SLUG}/questions/add/0/text", data={"label.en": "x"}
    )
    assert response.status_code in (400, 404)
    assert document(app)["pages"][0]["fields"] == []


def test_nonsense_addresses_are_404_not_500(app, call, admin):
    for url in (
        "questions/q/9-9",
        "questions/q/x",
        "questions/q/0-0-0-0",
        "questions/add/7",
        "questions/add/0/nonsense",
        "questions/pages/5",
        "questions/q/0-0/condition",
    ):
        assert admin.get(f"/dashboard/build/{SLUG}/{url}").status_code == 404, url


# --- in a real browser ------------------------------------------------------------------------


@pytest.mark.browser
def test_browser_adds_a_question_and_previews_it(live_server, browser):
    """An admin adds a question to a demo call with ordinary links, radios and buttons (no
    step needs the script), and the draft's preview shows it in each language."""
    from playwright.sync_api import expect

    from tests.test_browser_staff import flask

    flask(
        live_server, "users", "create", ADMIN, "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    from tests.test_browser_accessibility import AXE_JS, Audit

    # axe is injected whatever the page's Content-Security-Policy says (bypass_csp).
    context = browser.new_context(
        locale="en-GB", viewport={"width": 1100, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    audit = Audit(AXE_JS.read_text(encoding="utf-8")) if AXE_JS.is_file() else None

    def check(what: str) -> None:
        if audit:
            audit.check(page, what)

    base_url = live_server.url
    page.goto(f"{base_url}/login?lang=en")
    page.locator("#email").fill(ADMIN)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    page.goto(f"{base_url}/dashboard/build/study-visit-stralsund/questions")
    check("questions")
    page.get_by_role("link", name="Add a question to page 1").click()
    check("choose a type")
    page.get_by_label("several of a list of options").check()
    page.get_by_role("button", name="Continue").click()
    check("new question")
    for field in page.locator("input[name^='label.']").all():
        language = field.get_attribute("name").split(".")[1]
        field.fill(f"Favourite harbour ({language})")
    for field in page.locator("input[name^='choice-0-label.']").all():
        field.fill("Stralsund")
    page.get_by_role("button", name="Add another choice").click()
    for field in page.locator("input[name^='choice-1-label.']").all():
        field.fill("Rostock")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("favourite_harbour_en")
    expect(page.locator(".builder-preview .builder-preview-page")).to_contain_text("Rostock")
    check("question, with its live preview")
    question_url = page.url
    page.get_by_role("link", name="Change when it is shown").click()
    check("condition")
    page.goto(question_url)
    page.get_by_role("link", name="Delete this question").click()
    check("delete a question")
    page.goto(question_url)

    page.get_by_role("link", name="Preview page 1 as applicants see it").click()
    expect(page.locator(".builder-preview-page")).to_contain_text("Favourite harbour (en)")
    expect(page.locator(".builder-preview-page")).to_contain_text("Rostock")
    page.get_by_label("Language of the preview").get_by_role("link", name="Deutsch").click()
    expect(page.locator(".builder-preview-page")).to_contain_text("Favourite harbour (de)")
    check("preview")

    # With the script, dragging a question posts the same move as its buttons.
    page.goto(f"{base_url}/dashboard/build/study-visit-stralsund/questions")
    first_page = page.locator("#page-0 ol.builder-questions > li")
    assert first_page.count() > 1
    with page.expect_navigation():
        first_page.last.drag_to(first_page.first)
    expect(page.locator("#page-0 ol.builder-questions > li").first).to_contain_text(
        "Favourite harbour (en)"
    )
    context.close()
    if audit:
        audit.assert_clean()


def test_deleting_a_page_is_refused_while_a_later_page_refers_to_it(app, call, admin):
    add(admin, "0", "yesno", label("Visa"))
    post(admin, f"/dashboard/build/{SLUG}/questions/pages/new", {"title.en": "Two"})
    add(admin, "1", "text", label("Embassy"))
    url = f"/dashboard/build/{SLUG}/questions/q/1-0/condition"
    admin.get(url)
    admin.post(url, {"revision": revision(admin), "values.visa": "true", "action": "save"})
    response = post(admin, f"/dashboard/build/{SLUG}/questions/pages/0/delete", {})
    assert response.status_code == 200 and "Embassy" in unescape(admin.last_html)
    assert len(document(app)["pages"]) == 2
    response = post(admin, f"/dashboard/build/{SLUG}/questions/pages/1/delete", {})
    assert response.status_code == 302
    assert len(document(app)["pages"]) == 1


def test_a_published_call_whose_document_is_normalised_is_edited_in_place(app, admin, create_form):
    """Versions published before drafts kept the normalised definition (settings in
    `options`); the builder reads them there and writes them back on the question."""
    from forms.schema import check
    from tests.definitions import all_types

    create_form(all_types(slug=SLUG))
    before = document(app)
    where = next(i for i, f in enumerate(before["pages"][0]["fields"]) if f.get("name") == "story")
    assert "max_length" in before["pages"][0]["fields"][where]["options"]
    url = f"/dashboard/build/{SLUG}/questions/q/0-{where}"
    page = admin.get(url).get_data(as_text=True)
    assert 'name="max_length" value="50"' in page.replace('id="max_length" ', "")
    assert 'name="name"' not in page  # published: the key stays
    form = {
        "label.en": "Story",
        "label.pl": "Historia",
        "label.sv": "Berättelse",
        "max_length": "60",
        "min_length": "5",
        "action": "save",
    }
    response = post(admin, url, form)
    assert response.status_code == 302
    story = document(app)["pages"][0]["fields"][where]
    assert story["max_length"] == 60 and "max_length" not in story.get("options", {})
    with app.app_context():
        assert check(document(app)) == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.update(pages="nonsense"),
        lambda d: d.update(
            pages=[5, {"fields": "x"}, {"title": ["x"], "fields": [7, {"type": 3}]}]
        ),
        lambda d: d.update(pages=[{"fields": [{"type": "group", "name": "g", "fields": 5}]}]),
        lambda d: d.update(pages=[{"fields": [{"type": ["x"], "label": {"en": 5}}]}]),
        lambda d: d.update(
            languages="en",
            pages=[{"fields": [{"type": "choice", "name": "c", "choices": "x", "show_if": 3}]}],
        ),
    ],
)
def test_a_damaged_draft_never_gives_a_500(app, call, admin, damage):
    from extensions import db
    from models import Form
    from services import call_drafts

    with app.app_context():
        form = db.session.scalar(select(Form).where(Form.slug == SLUG))
        changed = dict(form.draft.document)
        damage(changed)
        call_drafts.save_draft(form, changed, revision=form.draft.revision, user=None, summary="t")
    urls = [
        "questions",
        "questions/pages/0",
        "questions/pages/new",
        "questions/add/0",
        "questions/add/0/text",
        "questions/q/0-0",
        "questions/q/0-1",
        "questions/q/2-1",
        "questions/q/0-0/condition",
        "questions/q/0-0/delete",
        "questions/pages/0/delete",
        "preview/1",
        "preview/2",
        "questions/add/0-0",
    ]
    for url in urls:
        response = admin.get(f"/dashboard/build/{SLUG}/{url}")
        assert response.status_code in (200, 302, 404), (url, response.status_code)
    for url, data in [
        ("questions/q/0-0", {"label.en": "x", "choice_count": "99999999999", "action": "save"}),
        ("questions/q/0-0/move", {"position": "999"}),
        ("questions/q/0-0/move", {"to_page": "9"}),
        ("questions/q/0-0/move", {"direction": "sideways"}),
        ("questions/add/0/choice", {"label.en": "x", "choice_count": "-3"}),
        ("questions/pages/0/move", {"direction": "up"}),
    ]:
        admin.get(f"/dashboard/build/{SLUG}/questions")
        response = admin.post(
            f"/dashboard/build/{SLUG}/{url}", {"revision": revision(admin), **data}
        )
        assert response.status_code in (200, 302, 400, 404), (url, response.status_code)
