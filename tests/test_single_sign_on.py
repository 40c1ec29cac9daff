"""Single sign-on through a real OpenID Connect provider (tests/conftest_oidc.py): the app
sends the test client to the provider, the provider's redirect is followed with requests,
and the app fetches and checks the ID token from the provider over HTTP. Who the token
names is chosen per test; nothing in the app is mocked."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from sqlalchemy import select

from tests.conftest import FormClient
from tests.test_review_detail import staff
from tests.test_staff import audit_actions, signed_in, text, user

REFUSED_NOT_INVITED = "No staff account was invited for this address"


def app_with(app, database_url, tmp_path_factory, **settings):
    """An app configured with `settings`, on the test database (`app` empties it)."""
    from app import create_app

    return create_app(
        {
            **{k: app.config[k] for k in ("TESTING", "SECRET_KEY", "SERVER_NAME")},
            "SQLALCHEMY_DATABASE_URI": database_url,
            "FORMDESK_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
            "FORMDESK_LOAD_FORMS_ON_START": False,
            "FORMDESK_PUBLIC_URL": "http://formdesk.test",
            **settings,
        }
    )


@pytest.fixture(scope="module")
def sso_app(app, database_url, oidc_provider, tmp_path_factory):
    """The app as configured with the test's provider."""
    return app_with(app, database_url, tmp_path_factory, **oidc_provider.settings())


def invited(app, email: str, role: str = "reviewer") -> None:
    from extensions import db
    from services import staff as staff_service

    admin_email = staff(app, "ada@example.org", "admin")
    with app.app_context():
        admin = user_in_session(admin_email)
        staff_service.invite(admin, email, role, [], True, "en")
        db.session.commit()


def user_in_session(email: str):
    from extensions import db
    from models import User

    return db.session.scalar(select(User).where(User.email == email))


def through_provider(app, provider, start: str = "/login/sso", **claims):
    """Start single sign-on in a fresh client, let the provider sign in the person with
    `claims`, and return the client and the app's answer to the provider's redirect."""
    provider.issue(**claims)
    client = FormClient(app.test_client())
    begun = client.get(start)
    assert begun.status_code == 302, begun.status_code
    assert begun.headers["Location"].startswith(provider.issuer + "/authorize?")
    sent = dict(parse_qsl(urlsplit(begun.headers["Location"]).query))
    assert sent["nonce"] and sent["state"] and sent["code_challenge_method"] == "S256"
    assert sent["redirect_uri"] == "http://formdesk.test/login/sso/callback"
    at_provider = requests.get(begun.headers["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["Location"])
    assert back.path == "/login/sso/callback"
    return client, client.get(f"{back.path}?{back.query}")


def test_an_invited_reviewer_signs_in_and_accepts_the_invitation(sso_app, oidc_provider):
    invited(sso_app, "rita@example.org")
    client, answer = through_provider(
        sso_app, oidc_provider, email="Rita@Example.ORG", email_verified=True, name="Rita Råd"
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/dashboard/")
    assert client.get("/dashboard/").status_code == 200
    rita = user(sso_app, "rita@example.org")
    assert rita.name == "Rita Råd" and rita.has_password and rita.last_login_at is not None
    actions = audit_actions(sso_app)
    assert actions[-2:] == ["staff.invitation_accepted", "staff.signed_in_oidc"]
    # No password opens the account; the invitation link is used up.
    refused = FormClient(sso_app.test_client())
    refused.get("/login")
    for guess in ("!single-sign-on", "single-sign-on", "x"):
        answer = refused.post("/login", {"email": "rita@example.org", "password": guess})
        assert answer.status_code == 401
    from extensions import db
    from models import AccountLink

    with sso_app.app_context():
        links = db.session.scalars(select(AccountLink).where(AccountLink.user_id == rita.id))
        assert all(link.used_at is not None for link in links)
    # Signed in again the same way, now as an accepted account.
    _client, again = through_provider(sso_app, oidc_provider, email="rita@example.org")
    assert again.status_code == 302 and again.headers["Location"].endswith("/dashboard/")


def test_someone_without_an_invitation_is_refused_and_audited(sso_app, oidc_provider):
    client, answer = through_provider(
        sso_app, oidc_provider, email="mallory@example.org", email_verified=True
    )
    assert answer.status_code == 403
    assert REFUSED_NOT_INVITED in text(answer) and "mallory@example.org" in text(answer)
    assert client.get("/dashboard/").status_code == 302  # not signed in
    assert audit_actions(sso_app) == ["staff.oidc_refused"]
    assert user(sso_app, "mallory@example.org") is None  # no account made from a token


def test_the_refusal_is_in_the_language_of_the_page(sso_app, oidc_provider):
    oidc_provider.issue(email="mallory@example.org")
    client = FormClient(sso_app.test_client())
    client.get("/login?lang=sv")
    begun = client.get("/login/sso")
    at_provider = requests.get(begun.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(at_provider.headers["Location"])
    answer = client.get(f"{back.path}?{back.query}")
    assert answer.status_code == 403
    assert "Inget personalkonto har bjudits in för den här adressen" in text(answer)


def test_a_deactivated_account_is_refused(sso_app, oidc_provider):
    staff(sso_app, "ada@example.org", "admin")
    staff(sso_app, "rita@example.org", "reviewer")
    from services import staff as staff_service

    with sso_app.app_context():
        staff_service.deactivate_by_email("rita@example.org")
    client, answer = through_provider(sso_app, oidc_provider, email="rita@example.org")
    assert answer.status_code == 403 and "deactivated" in text(answer)
    assert client.get("/dashboard/").status_code == 302
    assert audit_actions(sso_app)[-1] == "staff.oidc_refused"


def test_an_unverified_email_is_refused(sso_app, oidc_provider):
    staff(sso_app, "rita@example.org", "reviewer")
    _client, answer = through_provider(
        sso_app, oidc_provider, email="rita@example.org", email_verified=False
    )
    assert answer.status_code == 403 and "not verified" in text(answer)


def test_an_expired_invitation_is_refused(sso_app, oidc_provider):
    from datetime import timedelta

    from sqlalchemy import update

    from extensions import db
    from models import AccountLink
    from models.types import utcnow

    invited(sso_app, "rita@example.org")
    with sso_app.app_context():
        db.session.execute(update(AccountLink).values(expires_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    _client, answer = through_provider(sso_app, oidc_provider, email="rita@example.org")
    assert answer.status_code == 403 and "invitation has expired" in text(answer)
    assert not user(sso_app, "rita@example.org").has_password


def test_a_name_with_a_control_character_is_not_stored(sso_app, oidc_provider):
    invited(sso_app, "rita@example.org")
    _client, answer = through_provider(
        sso_app, oidc_provider, email="rita@example.org", name="Rita\u0000\u001b[31m"
    )
    assert answer.status_code == 302
    assert user(sso_app, "rita@example.org").name == ""


def test_an_account_with_two_factor_still_gives_its_code(sso_app, oidc_provider):
    import time

    import pyotp

    from tests.test_staff import enrol

    staff(sso_app, "rita@example.org", "reviewer")
    secret, _codes = enrol(signed_in(sso_app, "rita@example.org"))
    client, answer = through_provider(
        sso_app, oidc_provider, start="/login/sso?next=/dashboard/", email="rita@example.org"
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/code")
    assert client.get("/dashboard/").status_code == 302  # not signed in before the code
    client.get("/login/code")
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert client.post("/login/code", {"code": code}).status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_sign_out_ends_the_session_as_for_a_password(sso_app, oidc_provider):
    staff(sso_app, "rita@example.org", "reviewer")
    client, _answer = through_provider(sso_app, oidc_provider, email="rita@example.org")
    assert client.get("/dashboard/").status_code == 200
    copy = client.client.get_cookie("session", domain="formdesk.test").value
    client.get("/dashboard/")
    client.post("/logout", {})
    stolen = sso_app.test_client()
    stolen.set_cookie("session", copy, domain="formdesk.test")
    assert stolen.get("/dashboard/").status_code == 302


def test_a_forged_or_replayed_callback_signs_nobody_in(sso_app, oidc_provider):
    staff(sso_app, "rita@example.org", "reviewer")
    oidc_provider.issue(email="rita@example.org")
    victim = FormClient(sso_app.test_client())
    begun = victim.get("/login/sso")
    at_provider = requests.get(begun.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(at_provider.headers["Location"])
    # Another browser (no state in its session) cannot use the code.
    other = FormClient(sso_app.test_client())
    forged = other.get(f"{back.path}?{back.query}")
    assert forged.status_code == 400 and "did not complete" in text(forged)
    assert other.get("/dashboard/").status_code == 302
    # A wrong state in the right session is refused too.
    query = dict(parse_qsl(back.query)) | {"state": "not-the-state"}
    wrong = victim.get(f"{back.path}?{urlencode(query)}")
    assert wrong.status_code == 400
    # The provider's own refusal (the person said no) is a clear page, no traceback.
    denied = victim.get("/login/sso/callback?error=access_denied&state=x")
    assert denied.status_code == 400 and "did not complete" in text(denied)


def test_the_button_is_on_the_sign_in_page(sso_app):
    page = FormClient(sso_app.test_client()).get("/login")
    assert "Sign in with Test IdP" in text(page)


def test_without_configuration_there_is_no_button_and_no_route(app):
    client = FormClient(app.test_client())
    assert "Sign in with" not in text(client.get("/login"))
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404


def test_half_a_configuration_stops_the_start():
    from config import StartupRefused, oidc_settings

    with pytest.raises(StartupRefused):
        oidc_settings({"FORMDESK_OIDC_ISSUER": "https://id.example.org"})
    with pytest.raises(StartupRefused):
        oidc_settings(
            {"FORMDESK_OIDC_ISSUER": "http://id.example.org", "FORMDESK_OIDC_CLIENT_ID": "c"}
        )
    assert oidc_settings({}) is None
    settings = oidc_settings(
        {"FORMDESK_OIDC_ISSUER": "https://id.example.org/", "FORMDESK_OIDC_CLIENT_ID": "x"}
    )
    assert settings.discovery_url == "https://id.example.org/.well-known/openid-configuration"


@pytest.mark.parametrize(
    "bad",
    [{"aud": "another-client"}, {"iss": "http://127.0.0.1:1"}, {"nonce": "not-the-nonce"}],
    ids=["audience", "issuer", "nonce"],
)
def test_an_id_token_for_someone_else_is_refused(sso_app, oidc_provider, bad):
    staff(sso_app, "rita@example.org", "reviewer")
    client, answer = through_provider(sso_app, oidc_provider, email="rita@example.org", **bad)
    assert answer.status_code == 400 and "did not complete" in text(answer)
    assert client.get("/dashboard/").status_code == 302


def test_an_unreachable_provider_gives_a_clear_page(app, database_url, tmp_path_factory):
    from tests.browser import free_port

    down = app_with(
        app,
        database_url,
        tmp_path_factory,
        FORMDESK_OIDC_ISSUER=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        FORMDESK_OIDC_CLIENT_ID="formdesk",
    )
    answer = down.test_client().get("/login/sso")
    assert answer.status_code == 503 and "cannot be reached right now" in text(answer)
