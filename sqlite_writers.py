"""A queue for SQLite's writers.

SQLite lets one transaction write at a time. The others do not queue: a writer that finds
the database locked sleeps and tries again, 1, 2, 5, 10 … and then 100 ms at a time, until
the busy timeout. Under a burst of submissions (a call's last hour, a deadline rush) the
lock is then often free while every waiting writer sleeps, and one that has waited long
sleeps longest, so it can lose to newer writers again and again (bench/NOTES.md).

Formdesk's writers to one database file queue on a lock of their own instead: a thread lock
inside the process and an flock on a file beside the database across processes (gunicorn's
workers, the CLI). The first writing statement of a transaction takes it, just before
SQLite takes its own; the commit or rollback gives it back, and the next writer goes on at
once. Reads never wait for it (WAL). Waiting for it is bounded by the same busy timeout,
after which the writer fails as SQLite would ("database is locked")."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

# The statements that make pysqlite open a write transaction, and DDL.
_WRITING = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
# Across processes the wait is a poll (flock has no timeout); short, unlike SQLite's own.
_LONGEST_PAUSE = 0.001


def writes(statement: str) -> bool:
    head = statement.lstrip()[:8].upper()
    if head.startswith("WITH"):  # a CTE in front of an INSERT/UPDATE/DELETE
        upper = statement.upper()
        return any(f"{word} " in upper for word in ("INSERT", "UPDATE", "DELETE"))
    return head.startswith(_WRITING)


class WriterQueue:
    """The writers' lock for one database file, held by one DBAPI connection at a time."""

    def __init__(self, database_path: str, timeout: float):
        self.lock_path = database_path + ".writers"
        self.timeout = timeout
        self.start_in_this_process()

    def start_in_this_process(self) -> None:
        # A forked worker must not share its parent's open file: flock locks belong to an
        # open file, so two processes sharing one would never exclude each other.
        self._threads = threading.Lock()
        self._file = None
        self._holder: int | None = None  # id() of the DBAPI connection holding it

    def held_by(self, connection) -> bool:
        return self._holder == id(connection)

    def acquire(self, connection) -> None:
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            raise _locked()
        try:
            if self._file is None:
                self._file = open(self.lock_path, "a")  # noqa: SIM115  (kept open)
            pause = _LONGEST_PAUSE / 8
            while True:
                try:
                    fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise _locked() from None
                    time.sleep(pause)
                    pause = min(pause * 2, _LONGEST_PAUSE)
        except BaseException:
            self._threads.release()
            raise
        self._holder = id(connection)

    def release(self, connection) -> None:
        if self._holder != id(connection):
            return
        self._holder = None
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._threads.release()


def _locked() -> OperationalError:
    return OperationalError(
        "waiting for the writers' queue", None, sqlite3.OperationalError("database is locked")
    )


def _dbapi(connection):
    """The sqlite3 connection behind SQLAlchemy's pool wrapper (or itself)."""
    return getattr(connection, "dbapi_connection", None) or connection


# One queue per database file in a process, whichever engines write to it.
_queues: dict[str, WriterQueue] = {}
os.register_at_fork(after_in_child=lambda: [q.start_in_this_process() for q in _queues.values()])


def install(engine: Engine, timeout: float) -> WriterQueue | None:
    """Make the writers of `engine` (an SQLite file) queue; other databases are left as
    they are (PostgreSQL queues lock waiters itself)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    path = os.path.abspath(database)
    queue = _queues.setdefault(path, WriterQueue(path, timeout))

    @event.listens_for(engine, "before_cursor_execute")
    def _before_writing(_conn, cursor, statement, _params, _context, _executemany):
        connection = cursor.connection
        if writes(statement) and not queue.held_by(connection):
            queue.acquire(connection)

    # Every end of a transaction goes through the dialect: Connection.commit/rollback and
    # the pool's rollback when a connection is returned. Give the lock back after it.
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(connection) -> None:
        try:
            commit(connection)
        finally:
            queue.release(_dbapi(connection))

    def do_rollback(connection) -> None:
        try:
            rollback(connection)
        finally:
            queue.release(_dbapi(connection))

    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback

    @event.listens_for(engine, "close")
    @event.listens_for(engine, "invalidate")
    def _closed(dbapi_connection, *_args):  # SQLite drops its own lock with the connection
        queue.release(dbapi_connection)

    return queue
