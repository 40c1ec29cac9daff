"""Reviewers read their notifications in their own language: the one they last chose for
the dashboard (at sign-in or with the language switcher) or on their account page."""

from __future__ import annotations

import pytest

from tests.conftest import FormClient
from tests.conftest_mail import deliver
from tests.test_auth import PASSWORD, sign_in
from tests.test_mail import apply, body_of, call


def create_reviewer(app, address: str, notify: str = "immediate") -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", address, "--role", "call_manager", "--all-forms"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    from extensions import db
    from models import User

    with app.app_context():
        db.session.scalar(db.select(User).where(User.email == address)).notify = notify
        db.session.commit()


def language_of(app, address: str) -> str | None:
    from extensions import db
    from models import User

    with app.app_context():
        return db.session.scalar(db.select(User.language).where(User.email == address))


def test_signing_in_keeps_the_language_the_dashboard_was_used_in(app):
    create_reviewer(app, "ewa@example.org")
    client = FormClient(app.test_client())
    client.get("/login?lang=pl")  # the language switcher on the sign-in page
    sign_in(client, "ewa@example.org")
    assert language_of(app, "ewa@example.org") == "pl"
    client.get("/dashboard/?lang=de")  # switched later, while signed in
    assert language_of(app, "ewa@example.org") == "de"

    # On another computer, with an English browser, the dashboard keeps her language.
    other = FormClient(app.test_client())
    sign_in(other, "ewa@example.org")
    assert '<html lang="de">' in other.get("/dashboard/").get_data(as_text=True)
    assert language_of(app, "ewa@example.org") == "de"


def test_a_reviewer_chooses_the_language_on_the_account_page(app):
    create_reviewer(app, "sven@example.org")
    client = FormClient(app.test_client())
    sign_in(client, "sven@example.org")
    client.get("/account/password")
    response = client.post("/account/language", {"language": "sv"})
    assert response.status_code == 302
    assert language_of(app, "sven@example.org") == "sv"
    assert '<option selected value="sv">' in client.get("/account/password").get_data(as_text=True)
    # A password change that fails shows the page again, with the language still hers.
    client.post("/account/password", {"current": "wrong", "new": "x", "repeat": "x"})
    assert '<option selected value="sv">' in client.last_html
    # Only a language of the installation.
    assert client.post("/account/language", {"language": "xx"}).status_code == 400
    assert language_of(app, "sven@example.org") == "sv"


@pytest.mark.parametrize(
    ("language", "notice_words", "digest_words"),
    [
        ("pl", "Nowe zgłoszenie", "Nowe zgłoszenia od wczoraj"),
        ("sv", "Ny ansökan", "Nya ansökningar sedan i går"),
        ("en", "New submission", "New submissions since yesterday"),
    ],
)
def test_notices_and_digests_go_out_in_the_reviewers_language(
    app, create_form, smtp, language, notice_words, digest_words
):
    create_form(call())
    create_reviewer(app, "now@example.org")
    create_reviewer(app, "daily@example.org", notify="daily")
    for address in ("now@example.org", "daily@example.org"):
        client = FormClient(app.test_client())
        client.get(f"/login?lang={language}")
        sign_in(client, address)
    reference = apply(app, "en")  # the applicant writes in English
    assert app.test_cli_runner().invoke(args=["mail", "digest"]).exit_code == 0
    deliver(app)
    by_recipient = {str(m["To"]): m for m in smtp.inbox.wait_for(3)}
    notice = by_recipient["now@example.org"]
    assert notice_words in notice["Subject"] and reference in notice["Subject"]
    assert notice.get_body(preferencelist=("html",)).get_content().count(f'lang="{language}"')
    assert digest_words in body_of(by_recipient["daily@example.org"])


def test_a_language_the_installation_no_longer_offers_is_replaced_at_sign_in(app):
    from extensions import db
    from models import User

    create_reviewer(app, "outi@example.org")
    with app.app_context():
        db.session.scalar(db.select(User).where(User.email == "outi@example.org")).language = "fi"
        db.session.commit()
    client = FormClient(app.test_client())
    client.get("/login?lang=sv")
    client.get("/login")  # the switcher's choice is kept in the session…
    response = sign_in(client, "outi@example.org")
    assert response.status_code == 302
    assert language_of(app, "outi@example.org") == "sv"
    client2 = FormClient(app.test_client())  # …and without it, the browser's language
    with app.app_context():
        db.session.scalar(db.select(User).where(User.email == "outi@example.org")).language = "fi"
        db.session.commit()
    assert sign_in(client2, "outi@example.org").status_code == 302
    assert language_of(app, "outi@example.org") == "en"
