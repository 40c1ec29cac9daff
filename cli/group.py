"""What every `flask` command of Formdesk shares: a failure is one line on stderr ("Error: …")
and exit status 1, never a traceback. Commands raise `click.ClickException` for what they
expect (an unknown reference, a wrong email); this catches what they do not."""

from __future__ import annotations

import click
from flask.cli import AppGroup, get_debug_flag
from sqlalchemy.exc import DBAPIError, SQLAlchemyError


class CommandGroup(AppGroup):
    """A group of `flask` commands whose unexpected failures are also one line.
    FLASK_DEBUG=1 lets the traceback through, for whoever is fixing the cause."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if get_debug_flag():
                raise
            raise click.ClickException(one_line(exc)) from exc


def one_line(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return "database: " + _flat(str(exc.orig))
    if isinstance(exc, SQLAlchemyError):
        return "database: " + _flat(str(exc).split("\n(Background on this error")[0])
    return f"{type(exc).__name__}: {_flat(str(exc))}"


def _flat(text: str) -> str:
    return " ".join(text.split())
