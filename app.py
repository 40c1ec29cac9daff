"""Formdesk: calls for applications and registrations, end to end."""

from __future__ import annotations

import fcntl
import shlex
from pathlib import Path

import click
from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

import cli
import models  # noqa: F401  (registers the tables)
import sqlite_writers
import wiring
from config import (
    Defaults,
    database_url_from_environment,
    in_reloader_child,
    install_public_url,
    install_secret_key,
    instance_path_from_environment,
    sqlite_busy_ms,
    sqlite_writer_queue_enabled,
)
from extensions import babel, csrf, db, limiter, login_manager, mail, migrate, schema_is_current
from rate_limit_storage import install as install_rate_limit_storage
from services.users import load_user
from storage import check_configuration as check_storage_configuration
from web import formatting, observability, outage, security
from web.language import remember_choice, select_locale
from web.request_limits import BoundedRequest


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__, instance_relative_config=True, instance_path=instance_path_from_environment()
    )
    app.request_class = BoundedRequest  # the body limits hold for urlencoded bodies too
    _configure(app, test_config)
    _init_extensions(app)
    _register_blueprints(app)
    app.before_request(remember_choice)
    formatting.install(app)
    security.install(app)  # headers, cookie flags, secret links masked in logs
    observability.install(app)
    if app.config["FORMDESK_PROXY_COUNT"]:
        # Behind nginx or a load balancer: trust exactly that many X-Forwarded-* hops.
        hops = app.config["FORMDESK_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _register_error_pages(app)
    outage.install(app)  # a database outage: a page saying to try again, never a trace
    cli.init_app(app)
    if app.config["FORMDESK_AUTO_MIGRATE"]:
        with app.app_context():
            _prepare_database(app)
    wiring.connect(app)  # workflow effects, attachments, duties or Celery tasks
    _greet_a_newcomer(app)
    return app


def _configure(app: Flask, test_config: dict | None) -> None:
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


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    if sqlite_writer_queue_enabled():
        with app.app_context():
            sqlite_writers.install(db.engine, timeout=sqlite_busy_ms() / 1000)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    install_rate_limit_storage(app.config, app.instance_path)
    limiter.init_app(app)
    mail.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from web import (
        about,
        account,
        admin,
        applicant,
        assignment,
        auth,
        dashboard,
        documents,
        exports,
        health,
        installation,
        oidc,
        preview,
        public,
        review_detail,
        staff,
    )
    from web.builder import calls, life, presence, questions
    from web.builder import settings as call_settings

    for module in (
        health,
        public,
        preview,
        about,
        applicant,
        auth,
        dashboard,
        review_detail,
        assignment,
        exports,
        documents,
        admin,
        staff,
        account,
        oidc,
        installation,
        calls,
        life,
        presence,
        questions,
        call_settings,
    ):
        app.register_blueprint(module.bp)
    oidc.init_app(app)  # single sign-on, when configured


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
    if instance := instance_path_from_environment():  # the command needs it too
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
    if context is None or context.info_name != "run" or in_reloader_child():
        return None
    scheme = "https" if context.params.get("cert") else "http"
    return f"{scheme}://{context.params['host']}:{context.params['port']}"


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
        # (A preview link that opens nothing: a plain 400, as for any other POST.)
        from web import preview, public

        pages = {"public.page": public.page, "preview.page": preview.page}
        page = pages.get(request.endpoint)
        if request.endpoint == "preview.page" and not preview.opens(request.view_args or {}):
            page = None
        if page is not None and request.view_args:
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
