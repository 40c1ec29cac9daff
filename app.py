"""Formdesk: calls for applications and registrations, end to end."""

from __future__ import annotations

import fcntl
import os
import shlex
from pathlib import Path

import click
from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, SecurityError

import models  # noqa: F401  (registers the tables)
import sqlite_writers
from config import (
    Defaults,
    database_url_from_environment,
    install_public_url,
    install_secret_key,
)
from extensions import babel, csrf, db, limiter, login_manager, mail, migrate, schema_is_current
from rate_limit_storage import install as install_rate_limit_storage
from storage import check_configuration as check_storage_configuration
from web import formatting, observability, security
from web.language import remember_choice, select_locale
from web.request_limits import BoundedRequest


def create_app(test_config: dict | None = None) -> Flask:
    # FORMDESK_INSTANCE_PATH moves the instance folder (SQLite file, outbox .eml files).
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=_absolute(os.environ.get("FORMDESK_INSTANCE_PATH")),
    )
    app.request_class = BoundedRequest  # the body limits hold for urlencoded bodies too
    app.config.from_object(Defaults)
    app.config.from_prefixed_env()
    if url := database_url_from_environment():
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        database = Path(app.instance_path) / "formdesk.db"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
    install_secret_key(app.config, app.instance_path)
    install_public_url(app.config)  # after the key: it tells development apart
    check_storage_configuration(app)

    db.init_app(app)
    if os.environ.get("FORMDESK_SQLITE_WRITER_QUEUE", "true").lower() != "false":
        with app.app_context():
            sqlite_writers.install(db.engine, timeout=sqlite_busy_ms() / 1000)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    install_rate_limit_storage(app.config, app.instance_path)
    limiter.init_app(app)
    mail.init_app(app)
    from jobs import register_duties
    from mail import events as _mail_events  # noqa: F401  (registers email effects)

    register_duties()
    from services.users import load_user
    from web.about import bp as about
    from web.admin import bp as admin
    from web.applicant import bp as applicant
    from web.auth import bp as auth
    from web.dashboard import bp as dashboard
    from web.documents import bp as documents
    from web.exports import bp as exports
    from web.health import bp as health
    from web.public import bp as public
    from web.review_detail import bp as review

    login_manager.user_loader(load_user)
    for blueprint in (
        health,
        public,
        about,
        applicant,
        auth,
        dashboard,
        review,
        exports,
        documents,
        admin,
    ):
        app.register_blueprint(blueprint)
    app.before_request(remember_choice)
    formatting.install(app)
    security.install(app)  # headers, cookie flags, secret links masked in logs
    observability.install(app)
    if app.config["FORMDESK_PROXY_COUNT"]:
        # Behind nginx or a load balancer: trust exactly that many X-Forwarded-* hops.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["FORMDESK_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _register_error_pages(app)
    _register_cli(app)

    if app.config["FORMDESK_AUTO_MIGRATE"]:
        with app.app_context():
            _prepare_database(app)
    if app.config["FORMDESK_BROKER_URL"]:
        from jobs.celery_app import init_celery

        init_celery(app)  # Celery workers do the background work; no embedded worker
    elif app.config["FORMDESK_EMBEDDED_WORKER"] and not app.testing:
        from jobs import embedded
        from services.transitions import expire_offers

        # Offers run out on the clock: Celery beat does it where there is a broker, here
        # the documents thread (its emails then wake the mail thread).
        embedded.add_duty("expire offers", expire_offers, lane="documents")
        # Started by the first request of each serving process: after gunicorn forks, and
        # never in CLI commands or in the debug reloader's watcher.
        app.before_request(lambda: embedded.ensure_started(app))
    _greet_a_newcomer(app)
    return app


# How the first administrator is made; printed by the first `make run` and in the README.
FIRST_ADMIN_COMMAND = ".venv/bin/flask --app app users create admin@example.org --role admin"


def _greet_a_newcomer(app: Flask) -> None:
    """`flask run` (so `make run`) on a database without staff accounts: say where staff sign
    in and the exact command that makes the first administrator."""
    served_at = _flask_run_address()
    if served_at is None or app.testing:
        return
    from sqlalchemy.exc import SQLAlchemyError

    from models import User

    with app.app_context():
        try:
            if db.session.query(User.id).first() is not None:
                return
        except SQLAlchemyError:  # no schema yet (FORMDESK_AUTO_MIGRATE=false): nothing to say
            return
    command = FIRST_ADMIN_COMMAND
    if instance := os.environ.get("FORMDESK_INSTANCE_PATH"):  # the command needs it too
        command = f"FORMDESK_INSTANCE_PATH={shlex.quote(instance)} {command}"
    click.echo(
        " * No staff account yet. Make the first administrator (use your own email address;\n"
        "   the password is asked twice):\n"
        f"       {command}\n"
        f"   then sign in at {served_at}/login"
    )


def _flask_run_address() -> str | None:
    """The address `flask run` serves, in the process that prints its banner (with the
    reloader, its watcher, not every restarted child); None in any other command or server."""
    context = click.get_current_context(silent=True)
    if context is None or context.info_name != "run" or os.environ.get("WERKZEUG_RUN_MAIN"):
        return None
    scheme = "https" if context.params.get("cert") else "http"
    return f"{scheme}://{context.params['host']}:{context.params['port']}"


def _absolute(path: str | None) -> str | None:
    return os.path.abspath(path) if path else None


def sqlite_busy_ms() -> int:
    return int(os.environ.get("FORMDESK_SQLITE_BUSY_MS", 30000))


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record) -> None:
    """WAL lets readers run beside the writer; NORMAL sync is safe with WAL; the busy timeout
    makes concurrent writers wait their turn instead of failing with 'database is locked'."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A deadline rush queues hundreds of writers: waiting 30 s beats failing after 5 s.
    cursor.execute(f"PRAGMA busy_timeout={sqlite_busy_ms()}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _prepare_database(app: Flask) -> None:
    """Embedded default: bring the schema up to date and publish the demo forms once."""
    from flask_migrate import upgrade

    from models import Form
    from services.catalog import load_definitions

    # Several gunicorn workers start at once: one migrates and loads, the others wait.
    # (Across machines, run `flask db upgrade` once per deployment instead.)
    with open(Path(app.instance_path) / ".startup.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not schema_is_current():  # quiet when there is nothing to do (every flask command)
            upgrade()
        if app.config["FORMDESK_LOAD_FORMS_ON_START"] and not db.session.query(Form.id).first():
            load_definitions()


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        # On a form page, show the answers again instead of losing them with a bare 400.
        if request.endpoint == "public.page" and request.view_args:
            from web.public import page

            try:
                return page(**request.view_args, csrf_failed=True)
            except HTTPException as missing:  # an unknown call or page: not a 500
                return render_template("errors/error.html", error=missing), missing.code
        return render_template("errors/error.html", error=error, csrf=True), 400

    @app.errorhandler(SecurityError)
    def untrusted_host(error):
        # A Host outside TRUSTED_HOSTS: no URL can be built for it, so no page either.
        return (
            "Bad Request: this service does not answer for that host.\n",
            400,
            {"Content-Type": "text/plain; charset=utf-8"},
        )

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error):
        return render_template("errors/too_large.html", error=error), 413

    @app.errorhandler(HTTPException)
    def http_error(error):
        return render_template("errors/error.html", error=error), error.code


def _register_cli(app: Flask) -> None:
    from command_line import CommandGroup
    from documents.cli import documents_cli

    app.cli.add_command(documents_cli)

    @app.cli.group("forms", cls=CommandGroup)
    def forms_group():
        """Form definitions."""

    @forms_group.command("load")
    @click.option("--directory", default=None, help="Folder of *.yaml definitions.")
    def load_command(directory: str | None):
        """Validate the definition files and publish those that changed."""
        from forms.schema import DefinitionError
        from services.catalog import load_definitions

        try:
            report = load_definitions(directory)
        except DefinitionError as exc:
            raise click.ClickException(str(exc)) from exc
        for line in report.lines():
            click.echo(line)

    @app.cli.group("mail", cls=CommandGroup)
    def mail_group():
        """The outbox."""

    @mail_group.command("send")
    def send_command():
        """Deliver every message that is due now (the background sender does this too)."""
        from mail.delivery import deliver_due

        report = deliver_due(limit=10_000)
        click.echo(
            f"sent {len(report.sent)}, retrying {len(report.retrying)}, failed {len(report.failed)}"
        )

    @mail_group.command("digest")
    def digest_command():
        """Queue the daily digest for reviewers who chose one (run once a day)."""
        from mail.events import send_digests

        click.echo(f"queued {send_digests()} digest(s)")

    @app.cli.group("submissions", cls=CommandGroup)
    def submissions_group():
        """Submissions: retention."""

    @submissions_group.command("anonymise")
    @click.argument("reference")
    def anonymise_command(reference: str):
        """Blank the identifying answers of REFERENCE and remove its files and documents
        (what a person asks under the GDPR's right to erasure). Written in the audit log."""
        from services.retention import RetentionError, anonymise

        try:
            report = anonymise(reference)
        except RetentionError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"anonymised {report.reference}: {len(report.fields)} answer(s) blanked, "
            f"{report.files} file(s) and {report.documents} document(s) removed, "
            f"{report.messages} email(s) cleared"
        )

    @app.cli.group("users", cls=CommandGroup)
    def users_group():
        """Staff accounts."""

    @users_group.command("create")
    @click.argument("email")
    @click.option("--role", type=click.Choice(["reviewer", "admin"]), required=True)
    @click.option("--name", default="", help="Full name shown in the audit log.")
    @click.option("--all-forms", is_flag=True, help="Reviewer of every form.")
    @click.option("--form", "forms", multiple=True, help="Slug of a form to review (repeat).")
    def create_user_command(email, role, name, all_forms, forms):
        """Create a staff account. The password is asked twice (or read as two lines from
        standard input when it is not a terminal, so scripts can pipe it)."""
        from services.users import AccountError, create_user

        password = _read_new_password()
        try:
            user = create_user(email, password, role, name, all_forms, tuple(forms))
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"created {user.role} {user.email}")

    @users_group.command("deactivate")
    @click.argument("email")
    def deactivate_user_command(email):
        """Stop a staff account: it can no longer sign in, and its sessions end at once."""
        from services.users import AccountError, deactivate

        try:
            user = deactivate(email)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"deactivated {user.email}")


def _read_new_password() -> str:
    import sys

    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    lines = sys.stdin.read().splitlines()
    if len(lines) < 2 or lines[0] != lines[1]:
        raise click.ClickException("give the password twice, on two lines, identical")
    return lines[0]
