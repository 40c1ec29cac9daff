"""A database that does not answer (restarting, failed over, out of connections) is a
passing fault, not a bug: the person gets a page in their language that says to try again
in a moment, with a 503 and Retry-After, never a stack trace or a bare 500. What they saved
before is in the database; a "Send" that did reach it gives its confirmation when sent
again (one submission per draft)."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from extensions import db

RETRY_AFTER_SECONDS = 30


# SQLite's OperationalError also means a bug ("no such column"); only these pass.
SQLITE_PASSING = ("database is locked", "unable to open database", "disk i/o error")


def database_unreachable(error: BaseException) -> bool:
    # PendingRollbackError: a statement of this request already lost its connection.
    if isinstance(error, PoolTimeout | PendingRollbackError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if type(error.orig).__module__.startswith("sqlite3"):
        return any(words in str(error.orig).lower() for words in SQLITE_PASSING)
    return isinstance(error, (OperationalError, InterfaceError)) or error.connection_invalidated


def install(app: Flask) -> None:
    # Runs before Flask-SQLAlchemy's own teardown (teardowns run in reverse order): ending a
    # session whose connection the server cut raises from the rollback, and raised there it
    # threw away the finished page and gave gunicorn's bare 500 instead.
    # Whatever ending the session raises, the response is already made: raising here would
    # only swap it for gunicorn's bare 500. An unexpected error is logged with its traceback.
    @app.teardown_appcontext
    def end_session_quietly(_error):
        try:
            db.session.remove()
        except Exception as error:
            db.session.registry.clear()  # the pool replaces the connection
            if database_unreachable(error):
                app.logger.warning("database connection lost while ending a request")
            else:
                app.logger.error("ending the database session failed", exc_info=error)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    @app.errorhandler(PendingRollbackError)
    def database_error(error):
        if not database_unreachable(error):
            raise error  # a real bug: Flask's 500 page, logged with its traceback
        app.logger.error("database unavailable: %s", error.__class__.__name__, exc_info=error)
        try:
            db.session.rollback()
        except Exception:  # noqa: S110  (the connection is gone; the pool replaces it)
            pass
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
        try:
            return render_template("errors/unavailable.html"), 503, headers
        except Exception:  # the page itself needed the database (a signed-in user)
            text = _("The service is briefly unavailable. Please try again in a minute.")
            return text + "\n", 503, {**headers, "Content-Type": "text/plain; charset=utf-8"}
