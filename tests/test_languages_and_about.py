"""Languages and the pages about the service, over HTTP on the real app: the accessibility
statement and the privacy notice in every language with the operator's name and address,
linked from every page; the language kept across sign-in and stored with an application;
form texts shown in a language the page is not in are marked with `lang`; sizes of files
in the page's language."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import FormClient
from tests.definitions import base

LANGUAGES = ["en", "pl", "sv", "de", "lt"]
PASSWORD = "correct horse battery staple"  # noqa: S105
PAGES = [
    {
        "title": {"en": "About you", "pl": "O tobie", "sv": "Om dig"},
        "fields": [
            {"name": "name", "type": "text", "label": "Name", "required": True},
            {"name": "email", "type": "email", "label": "Email", "required": True},
        ],
    }
]


def h1(html: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)).strip()


@pytest.mark.parametrize("path", ["/accessibility", "/privacy"])
def test_the_statement_and_the_notice_are_public_in_every_language(client, path):
    headings = set()
    for language in LANGUAGES:
        response = client.get(f"{path}?lang={language}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'<html lang="{language}">' in html
        # The organisation running the installation, with a way to reach it: unnamed yet,
        # the product's name and the address mail comes from, never an example's.
        assert "Formdesk" in html and "Example Organisation" not in html
        assert re.search(r'<a href="mailto:([^"@]+@[^"]+)">\1</a>', html)
        assert "%(" not in html and "&lt;a" not in html  # placeholders filled, link not escaped
        headings.add(h1(html))
    assert len(headings) == len(LANGUAGES), f"a heading is not translated: {headings}"


def test_the_operator_is_named_from_the_configuration(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "FORMDESK_OPERATOR_NAME", "Gmina Przykładowo")
    monkeypatch.setitem(app.config, "FORMDESK_OPERATOR_EMAIL", "dostepnosc@example.org")
    monkeypatch.setitem(app.config, "FORMDESK_ACCESSIBILITY_REVIEWED", "2027-02-03")
    html = client.get("/accessibility?lang=pl").get_data(as_text=True)
    assert "Gmina Przykładowo" in html and "mailto:dostepnosc@example.org" in html
    assert "3 lutego 2027" in html  # the review date in the page's language
    html = client.get("/privacy?lang=sv").get_data(as_text=True)
    assert "Gmina Przykładowo" in html and "mailto:dostepnosc@example.org" in html


def test_every_page_links_to_the_statement_and_the_notice(client, create_form):
    create_form(base("about-links", PAGES))
    for path in ("/", "/calls/about-links", "/calls/about-links/page/1", "/login", "/nowhere"):
        html = client.get(path).get_data(as_text=True)
        footer = html[html.index("<footer") :]
        assert 'href="/accessibility"' in footer and 'href="/privacy"' in footer, path


@pytest.fixture
def staff(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "ada@example.org", "--role", "call_manager", "--all-forms"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    return "ada@example.org"


def sign_in(client: FormClient, email: str):
    client.get("/login")
    response = client.post("/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, client.last_html[:500]
    return response


def test_the_language_chosen_before_signing_in_is_kept(client, staff):
    assert '<html lang="sv">' in client.get("/login?lang=sv").get_data(as_text=True)
    sign_in(client, staff)
    assert '<html lang="sv">' in client.get("/dashboard/").get_data(as_text=True)


def _send(client: FormClient, slug: str, page_language: str, check_language: str) -> None:
    client.get(f"/calls/{slug}/page/1?lang={page_language}")
    data = {"name": "Ada", "email": "ada@example.org", "action": "continue"}
    assert client.post(f"/calls/{slug}/page/1", data).status_code == 302
    client.get(f"/calls/{slug}/check?lang={check_language}")
    assert client.post(f"/calls/{slug}/check", {}).status_code == 302


def test_an_application_keeps_the_language_of_the_page_that_sent_it(app, client, create_form):
    """The receipt and every later email use Submission.language."""
    from extensions import db
    from models import Submission

    create_form(base("lang-kept", PAGES))
    _send(client, "lang-kept", "en", "sv")  # switched language on "check your answers"
    with app.app_context():
        assert db.session.scalars(select(Submission.language)).all() == ["sv"]


def test_form_texts_in_another_language_than_the_page_say_which(client, create_form, staff):
    create_form(
        base(
            "polish-only",
            PAGES,
            languages=["pl", "en"],
            default_language="pl",
            title={"pl": "Nabór w Łodzi", "en": "A call in Łódź"},
        )
    )
    _send(client, "polish-only", "pl", "pl")
    staff_client = FormClient(client.client.application.test_client())
    staff_client.get("/?lang=sv")  # the dashboard in Swedish, which the call does not have
    sign_in(staff_client, staff)
    html = staff_client.get("/dashboard/").get_data(as_text=True)
    assert re.search(r'<h2 id="form-\d+" lang="pl">Nabór w Łodzi</h2>', html)
    html = staff_client.get("/dashboard/submissions").get_data(as_text=True)
    # One call: its name is in the call filter, not repeated on every row.
    assert re.search(r'<option value="polish-only"\s+lang="pl">Nabór w Łodzi</option>', html)
    detail = re.search(r'href="(/dashboard/submissions/\d+)"', html).group(1)
    html = staff_client.get(detail).get_data(as_text=True)
    assert '<p class="caption" lang="pl">Nabór w Łodzi</p>' in html
    assert '<dt lang="pl">Name</dt>' in html


@pytest.mark.parametrize(
    ("language", "size", "shown"),
    [("en", 1_234_567, "1.2 MB"), ("pl", 1_234_567, "1,2 MB"), ("de", 12_300, "12,3 kB")],
)
def test_file_sizes_are_written_the_way_the_page_language_writes_numbers(
    app, language, size, shown
):
    from flask import g, render_template_string

    with app.test_request_context("/"):
        g.language = language
        assert render_template_string("{{ size|filesizeformat }}", size=size) == shown


def test_a_pages_cached_form_class_keeps_the_words_of_each_language(client, create_form):
    """One page shown in Polish, English and Polish again in one process: forms.build keeps
    the page's form class, made once per language, and "Yes"/"No"/"Choose…" (translated
    when the class is made) stay those of the language shown."""
    fields = [
        {"name": "member", "type": "yesno", "label": "Member?"},
        {
            "name": "size",
            "type": "choice",
            "label": "Size",
            "widget": "select",
            "choices": [{"value": "s", "label": "Small"}, {"value": "l", "label": "Large"}],
        },
    ]
    create_form(base("cached-page", [{"title": "You", "fields": fields}]))
    for page_language, words in (
        ("pl", ("Tak", "Nie", "Wybierz…")),
        ("en", ("Yes", "No", "Choose…")),
        ("pl", ("Tak", "Nie", "Wybierz…")),
    ):
        html = client.get(f"/calls/cached-page/page/1?lang={page_language}").get_data(as_text=True)
        options = re.findall(
            r"<label[^>]*>\s*([^<]+?)\s*</label>|<option[^>]*>([^<]+)</option>", html
        )
        shown = {text for pair in options for text in pair if text}
        assert set(words) <= shown, (page_language, shown)
