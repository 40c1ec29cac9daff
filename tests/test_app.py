"""The application factory: configuration from the environment, SQLite tuning, refusing an
insecure production start, and serving under gunicorn."""

import os
import re
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text

from app import create_app
from config import DEVELOPMENT_KEY_FILE
from tests.browser import ServerProcess, clean_environment, free_port

ROOT = Path(__file__).resolve().parent.parent
TEST_KEY = "k" * 40


def make(tmp_path, **config):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_KEY,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.db'}",
            "FORMDESK_LOAD_FORMS_ON_START": False,
            **config,
        }
    )


def test_flask_prefixed_environment_variables_configure_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_FORMDESK_GRACE_MINUTES", "7")
    monkeypatch.setenv("FLASK_MAX_CONTENT_LENGTH", "1234")
    app = make(tmp_path)
    assert app.config["FORMDESK_GRACE_MINUTES"] == 7
    assert app.config["MAX_CONTENT_LENGTH"] == 1234


def test_database_url_is_accepted_as_alias(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.example.org:5432/formdesk")
    app = create_app({"TESTING": True, "FORMDESK_AUTO_MIGRATE": False})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://someone@db.example.org:5432/formdesk"
    )


def test_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMDESK_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True, "FORMDESK_LOAD_FORMS_ON_START": False})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'formdesk.db'}"
    assert (tmp_path / "inst" / "formdesk.db").exists()


def test_every_sqlite_connection_uses_wal_normal_sync_and_a_busy_timeout(tmp_path):
    app = make(tmp_path)
    from extensions import db

    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def production(tmp_path, monkeypatch, **environment):
    """A start with nothing of development about it: no key, no flag, a fresh instance."""
    for name in ("FLASK_SECRET_KEY", "FLASK_DEBUG", "FLASK_FORMDESK_DEVELOPMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FORMDESK_INSTANCE_PATH", str(tmp_path / "instance"))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)


def refusal(config: dict) -> str:
    with pytest.raises(SystemExit) as stopped:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", **config})
    assert stopped.value.code != 0
    message = str(stopped.value.code)
    assert "\n" not in message, message  # one line, printed without a traceback
    return message


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    production(tmp_path, monkeypatch)
    assert "FLASK_SECRET_KEY is not set" in refusal({})
    assert "FLASK_SECRET_KEY is shorter than 32" in refusal({"SECRET_KEY": "short"})
    given = {"SECRET_KEY": TEST_KEY, "FORMDESK_TOKEN_KEY": "short"}
    assert "FLASK_FORMDESK_TOKEN_KEY is shorter than 32" in refusal(given)


def test_the_deployment_example_holds_no_key_anyone_could_copy(tmp_path, monkeypatch):
    """A copied example key is a key everyone knows: the example leaves them empty, and an
    empty one is refused like a missing one."""
    production(tmp_path, monkeypatch)
    example = (ROOT / "deploy" / "formdesk.env.example").read_text()
    settings = dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )
    assert settings["FLASK_SECRET_KEY"] == settings["FLASK_FORMDESK_TOKEN_KEY"] == ""
    monkeypatch.setenv("FLASK_SECRET_KEY", settings["FLASK_SECRET_KEY"])
    assert "FLASK_SECRET_KEY is not set" in refusal({})


def test_flask_debug_does_not_stand_in_for_a_secret_key(tmp_path, monkeypatch):
    """Issue 14 (7): FLASK_DEBUG=1 made the key the public string 'dev-only-not-secret',
    with which anyone could forge an admin session."""
    production(tmp_path, monkeypatch, FLASK_DEBUG="1")
    assert "FLASK_SECRET_KEY is not set" in refusal({})
    assert not (tmp_path / "instance" / DEVELOPMENT_KEY_FILE).exists()


def test_development_keeps_one_random_key_in_the_instance_folder(tmp_path, monkeypatch):
    production(tmp_path, monkeypatch, FLASK_FORMDESK_DEVELOPMENT="true")
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "FORMDESK_AUTO_MIGRATE": False}
    server = create_app(config)
    key_file = tmp_path / "instance" / DEVELOPMENT_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert server.config["SECRET_KEY"] == key_file.read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", server.config["SECRET_KEY"])
    assert server.config["FORMDESK_DEVELOPMENT"] is True

    # A `flask` command beside the server: nothing set, yet the same key, and development.
    monkeypatch.delenv("FLASK_FORMDESK_DEVELOPMENT")
    command = create_app(config)
    assert command.config["SECRET_KEY"] == server.config["SECRET_KEY"]
    assert command.config["FORMDESK_DEVELOPMENT"] is True

    # Another development installation gets a key of its own.
    production(tmp_path / "other", monkeypatch, FLASK_FORMDESK_DEVELOPMENT="true")
    assert create_app(config).config["SECRET_KEY"] != server.config["SECRET_KEY"]


def test_a_given_secret_key_wins_over_the_development_key(tmp_path, monkeypatch):
    production(tmp_path, monkeypatch, FLASK_FORMDESK_DEVELOPMENT="true")
    monkeypatch.setenv("FLASK_SECRET_KEY", TEST_KEY)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "FORMDESK_AUTO_MIGRATE": False})
    assert app.config["SECRET_KEY"] == TEST_KEY
    assert not (tmp_path / "instance" / DEVELOPMENT_KEY_FILE).exists()


def test_demo_forms_are_published_on_first_start(tmp_path):
    app = make(tmp_path, FORMDESK_LOAD_FORMS_ON_START=True)
    from models import Form

    with app.app_context():
        slugs = {form.slug for form in Form.query.all()}
    assert {"msas", "tolerance-requests", "study-visit-stralsund"} <= slugs


HANG_CEILING_SECONDS = 600
GUNICORN_GRACEFUL_SECONDS = 30
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


def served_once_up(server: subprocess.Popen, log: Path, path: str = "/") -> str:
    """The page at `path` once the server answers: the port gunicorn was given by the OS
    (`-b 127.0.0.1:0`, read back from its log), then the page asked for again until it
    comes. It waits as long as the server lives (gunicorn exits when its workers cannot
    boot): a server that dies fails at once, with its log. The hang ceiling is only a net for
    a server alive but deaf, far above any start on a busy machine."""
    port, ceiling = None, time.monotonic() + HANG_CEILING_SECONDS
    while True:
        if time.monotonic() > ceiling:
            raise AssertionError(f"gunicorn alive but not answering:\n{log.read_text()}")
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        if port is None and (found := LISTENING.search(log.read_text(encoding="utf-8"))):
            port = found.group(1)
        if port is not None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as page:  # noqa: S310
                    return page.read().decode()
            except OSError:
                pass  # the workers are still starting
        time.sleep(0.2)


@pytest.mark.slow
def test_gunicorn_serves_the_factory(tmp_path):
    env = {
        **os.environ,
        "FLASK_SECRET_KEY": TEST_KEY,
        "FLASK_FORMDESK_PUBLIC_URL": "http://127.0.0.1",  # the host is checked, not the port
        "FORMDESK_INSTANCE_PATH": str(tmp_path),
        "FLASK_FORMDESK_UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    env.pop("DATABASE_URL", None)
    env.pop("FLASK_RATELIMIT_STORAGE_URI", None)  # the default: a file in the instance folder
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 (our own command line)
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0", "app:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        body = served_once_up(server, log)
        assert "International Neighbourhood Activity Zone" in body or "Strefy" in body
    finally:
        stop(server)


def stop(server: subprocess.Popen) -> None:
    """SIGTERM, then gunicorn's own graceful timeout (30 s: its workers finish what they
    hold, the embedded worker's threads too) before SIGKILL. Stopping is not what is tested."""
    server.terminate()
    try:
        server.wait(GUNICORN_GRACEFUL_SECONDS + 10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def test_migrations_match_the_models(app, app_context):
    """A model changed without a migration would break every deployment's `db upgrade`."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from extensions import db
    from services.search import schema_name_in_models

    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": schema_name_in_models}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


# --- The command line: a mistake is one line on stderr, never a traceback -----------------

PASSWORD = "a long enough password 4 staff"  # noqa: S105
TWICE = f"{PASSWORD}\n{PASSWORD}\n"


def not_utf8_definitions(tmp_path) -> str:
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "call.yaml").write_bytes("slug: call\ntitle: Łódź\n".encode("iso-8859-2"))
    return str(folder)


CLI_MISTAKES = {
    "an email without @": (["users", "create", "nobody", "--role", "admin"], "email address"),
    "a form that does not exist": (
        ["users", "create", "r@example.org", "--role", "reviewer", "--form", "nosuch"],
        "no form with the slug nosuch",
    ),
    "an unknown reference": (["submissions", "anonymise", "NOPE-2026-0001"], "NOPE-2026-0001"),
    "a definition file that is not UTF-8": (
        ["forms", "load", "--directory", "{definitions}"],
        "call.yaml: not UTF-8 text",
    ),
    "a folder of definitions that does not exist": (
        ["forms", "load", "--directory", "{tmp}/nowhere"],
        "no such folder",
    ),
    "an export into a folder that does not exist": (
        ["documents", "export", "zone", "--zip", "{tmp}/nowhere/out.zip"],
        "No such file or directory: {tmp}/nowhere/out.zip",
    ),
}


@pytest.mark.parametrize("mistake", CLI_MISTAKES, ids=list(CLI_MISTAKES))
def test_a_command_line_mistake_is_one_line_on_stderr(app, create_form, tmp_path, mistake):
    from tests.test_documents import three_submissions

    three_submissions(app, create_form)  # the form "zone", so that the export gets to write
    places = {"tmp": str(tmp_path), "definitions": not_utf8_definitions(tmp_path)}
    args, expected = CLI_MISTAKES[mistake]
    args = [arg.format(**places) for arg in args]
    result = app.test_cli_runner().invoke(args=args, input=TWICE)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert expected.format(**places) in lines[0]


@pytest.mark.slow  # a server process that must refuse to start
@pytest.mark.parametrize("server", ["flask", "gunicorn"])
def test_production_without_a_key_is_refused_in_one_line(tmp_path, server):
    """Outside development, a command or a server started without FLASK_SECRET_KEY stops
    with one line on stderr, not a traceback (the CLI used to print one)."""
    command = {
        "flask": ["flask", "--app", "app", "users", "create", "a@example.org", "--role", "admin"],
        "gunicorn": ["gunicorn", "-c", "deploy/gunicorn.conf.py", "app:create_app()"],
    }[server]
    env = clean_environment(
        FORMDESK_INSTANCE_PATH=str(tmp_path), FORMDESK_BIND=f"127.0.0.1:{free_port()}"
    )
    refused = subprocess.run(  # noqa: S603  (our own command line)
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=env,
        input=TWICE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.startswith("Formdesk cannot start: FLASK_SECRET_KEY is not set")
    assert refused.stderr.count("\n") == 1, refused.stderr


def test_a_second_account_with_the_same_email_is_one_line(app):
    runner = app.test_cli_runner()
    args = ["users", "create", "Ada@example.org", "--role", "admin"]
    assert runner.invoke(args=args, input=TWICE).exit_code == 0
    again = runner.invoke(args=args, input=TWICE)
    assert again.exit_code == 1
    assert again.stderr == "Error: a user with the email Ada@example.org exists already\n"
    differing = runner.invoke(args=args, input=f"{PASSWORD}\n{PASSWORD}!\n")
    assert differing.stderr == "Error: give the password twice, on two lines, identical\n"


# --- The first start tells a newcomer how to get in ---------------------------------------


def development_server(instance: Path, log: Path) -> ServerProcess:
    """What `make run` starts (reloader and debugger included), on a free port."""
    port = free_port()
    env = clean_environment(
        FORMDESK_INSTANCE_PATH=str(instance),
        FLASK_FORMDESK_UPLOAD_DIR=str(instance / "uploads"),
        FLASK_DEBUG="1",
        FLASK_FORMDESK_DEVELOPMENT="true",
    )
    command = [sys.executable, "-m", "flask", "--app", "app", "run"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    return ServerProcess(command, ROOT, env, port, log)


@pytest.mark.slow  # a development server
def test_the_first_start_says_where_staff_sign_in_and_how_to_make_an_admin(tmp_path):
    instance = tmp_path / "instance"
    server = development_server(instance, tmp_path / "first.log")
    try:
        server.start(timeout=120)
    finally:
        server.stop()
    log = server.log.read_text()
    assert log.count("No staff account yet") == 1, log  # once, not again in the reloader's child
    assert f"sign in at http://127.0.0.1:{server.port}/login" in log
    printed = next(line.strip() for line in log.splitlines() if "users create" in line)
    assert printed.endswith("--role admin")

    made = subprocess.run(  # noqa: S602  (the command exactly as the server printed it)
        printed,
        shell=True,
        cwd=ROOT,
        env=clean_environment(),
        input=TWICE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout == "created admin admin@example.org\n"
    assert made.stderr == ""  # nothing but the result: no migration chatter, no warning

    again = development_server(instance, tmp_path / "second.log")
    try:
        again.start(timeout=120)
    finally:
        again.stop()
    assert "No staff account yet" not in again.log.read_text()
