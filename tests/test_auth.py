"""Staff accounts: the CLI, signing in and out, throttling, password change."""

import time

import pytest

from tests.conftest import FormClient

PASSWORD = "correct horse battery staple"  # noqa: S105


@pytest.fixture
def reviewer(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Rita@Example.org",
            "--role",
            "reviewer",
            "--name",
            "Rita Reviewer",
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    return "rita@example.org"


def sign_in(client: FormClient, email: str, password: str = PASSWORD, next_url: str = ""):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    client.get(url)
    return client.post(url, {"email": email, "password": password})


def test_cli_creates_a_user_with_a_hashed_password(app, reviewer):
    from models import User

    with app.app_context():
        user = User.query.one()
    assert user.email == reviewer and user.role == "reviewer" and user.name == "Rita Reviewer"
    assert PASSWORD not in user.password_hash and user.password_hash.startswith("scrypt:")


@pytest.mark.parametrize(
    ("args", "typed", "message"),
    [
        (["--role", "reviewer"], "one-password-long\nanother-password\n", "twice"),
        (["--role", "reviewer"], "short\nshort\n", "at least 12"),
        # Issue 14 (9): twelve characters, and nothing else to guess.
        (["--role", "reviewer"], "aaaaaaaaaaaa\naaaaaaaaaaaa\n", "too easy to guess"),
        (["--role", "reviewer"], "password1234\npassword1234\n", "too easy to guess"),
        (["--role", "boss"], f"{PASSWORD}\n{PASSWORD}\n", "Invalid value for '--role'"),
        (["--role", "reviewer", "--form", "nope"], f"{PASSWORD}\n{PASSWORD}\n", "no form"),
    ],
)
def test_cli_refuses_bad_accounts(app, args, typed, message):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "x@example.org", *args], input=typed
    )
    assert result.exit_code != 0
    assert message in result.output
    from models import User

    with app.app_context():
        assert User.query.count() == 0


@pytest.mark.parametrize(
    "email", ["evil<script>@example.org", "nobody", "a@b", "two@@example.org", "a b@example.org"]
)
def test_cli_refuses_what_is_not_an_email_address(app, email):
    """Issue 14 (9): `evil<script>@example.org` was a valid staff email."""
    result = app.test_cli_runner().invoke(
        args=["users", "create", email, "--role", "admin"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: not an email address"), result.stderr
    from models import User

    with app.app_context():
        assert User.query.count() == 0


def test_a_password_easy_to_guess_is_refused_on_the_account_page(app, reviewer):
    client = FormClient(app.test_client())
    sign_in(client, reviewer)
    client.get("/account/password")
    for weak in ("aaaaaaaaaaaa", "rita@example.org1"):  # a repeat; the person's own email
        response = client.post(
            "/account/password", {"current": PASSWORD, "new": weak, "repeat": weak}
        )
        assert response.status_code == 200 and "too easy to guess" in client.last_html, weak


def test_cli_refuses_a_second_account_with_the_same_email(app, reviewer):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "RITA@example.org", "--role", "admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code != 0 and "exists already" in result.output


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sign_in_and_out(client, reviewer):
    response = sign_in(client, "RITA@example.org")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/")
    assert "Your calls" in client.get("/dashboard/").get_data(as_text=True)
    # Signing out needs the CSRF token, like every state change.
    assert client.client.post("/logout").status_code == 400
    client.post("/logout", {})
    assert client.get("/dashboard/").status_code == 302


def test_a_wrong_password_is_refused_without_saying_which_part(client, reviewer):
    response = sign_in(client, reviewer, "wrong password!!")
    assert response.status_code == 401
    assert "The email address or the password is not right." in client.last_html
    unknown = sign_in(client, "nobody@example.org", "wrong password!!")
    assert unknown.status_code == 401


def test_sign_in_never_redirects_to_another_site(client, reviewer):
    response = sign_in(client, reviewer, next_url="//evil.example.com/x")
    assert response.headers["Location"].endswith("/dashboard/")
    response = sign_in(
        FormClient(client.client.application.test_client()), reviewer, next_url="/dashboard/?page=2"
    )
    assert response.headers["Location"].endswith("/dashboard/?page=2")


def test_repeated_wrong_passwords_are_throttled(app, reviewer):
    client = FormClient(app.test_client())
    codes = [sign_in(client, reviewer, f"guess number {i}").status_code for i in range(7)]
    assert codes[:5] == [401] * 5
    assert codes[5:] == [429, 429]
    assert "Too many attempts" in client.last_html
    # Even the right password waits, from this address: no guess counts meanwhile.
    assert sign_in(client, reviewer).status_code == 429


def from_address(app, address: str) -> FormClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return FormClient(client)


def test_an_attacker_cannot_lock_the_owner_out_of_the_account(app, reviewer):
    """Issue 14 (9): five wrong passwords from anywhere locked the account for everyone."""
    attacker = from_address(app, "203.0.113.66")
    for attempt in range(12):
        sign_in(attacker, reviewer, f"guess number {attempt}")
    assert sign_in(attacker, reviewer).status_code == 429
    owner = from_address(app, "198.51.100.7")
    assert sign_in(owner, reviewer).status_code == 302
    assert owner.get("/dashboard/").status_code == 200


@pytest.mark.slow  # waits out real delays
def test_each_failure_beyond_the_free_ones_doubles_the_wait(app, reviewer, monkeypatch):
    from extensions import limiter

    monkeypatch.setitem(app.config, "FORMDESK_LOGIN_FIRST_DELAY_SECONDS", 1)
    # Flask-Limiter's headers would set Retry-After to the later of ours and the reset of
    # the per-address window (up to a minute): without them, ours is the one read here.
    monkeypatch.setattr(limiter, "_headers_enabled", False)
    client = from_address(app, "203.0.113.77")
    waits = []
    for attempt in range(8):
        response = sign_in(client, reviewer, f"guess number {attempt}")
        if response.status_code == 429:  # wait it out, as a patient guesser would
            waits.append(int(response.headers["Retry-After"]))
            time.sleep(waits[-1])
            response = sign_in(client, reviewer, f"guess number {attempt}")
        assert response.status_code == 401
    assert waits == [1, 2, 4]  # none for the free attempts, then twice the last each time


def copy_of_the_session_cookie(app, client: FormClient) -> FormClient:
    """Another browser holding the same cookie (copied from a shared computer, a proxy log)."""
    thief = FormClient(app.test_client())
    cookie = client.client.get_cookie("session", domain="formdesk.test")
    thief.client.set_cookie("session", cookie.value, domain="formdesk.test")
    return thief


def test_signing_out_ends_the_session_on_the_server(app, reviewer):
    """Issue 14 (6): a cookie copied before signing out opened the dashboard for 31 days."""
    client = FormClient(app.test_client())
    sign_in(client, reviewer)
    thief = copy_of_the_session_cookie(app, client)
    assert thief.get("/dashboard/").status_code == 200  # the copy works while signed in
    client.get("/dashboard/")
    client.post("/logout", {})
    response = thief.get("/dashboard/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # Signing in again starts a new session that works; the old copy stays dead.
    assert sign_in(client, reviewer).status_code == 302
    assert client.get("/dashboard/").status_code == 200
    assert thief.get("/dashboard/").status_code == 302


def test_deactivating_an_account_ends_its_sessions(app, reviewer):
    client = FormClient(app.test_client())
    sign_in(client, reviewer)
    assert client.get("/dashboard/").status_code == 200
    result = app.test_cli_runner().invoke(args=["users", "deactivate", reviewer])
    assert result.exit_code == 0, result.output
    assert result.output == f"deactivated {reviewer}\n"
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert sign_in(client, reviewer).status_code == 401
