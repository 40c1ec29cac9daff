"""Rate-limit counts in one SQLite file, shared by every process of one machine.

Why: `memory://` counts per process, so gunicorn with 4 workers lets 4 times the limit
through, and `limits` has no storage a machine's processes can share without a server. This
is the default (instance/rate-limits.sqlite3, see `install`); several machines share
Redis instead (FLASK_RATELIMIT_STORAGE_URI=redis://…), and `memory://` stays for tests.

Registered with `limits` under the scheme `sqlite` (a `Storage` subclass registers its
STORAGE_SCHEME when the class is defined), with SQLAlchemy's spelling of paths:
`sqlite:////absolute/path` and `sqlite:///relative/path`. It supports the fixed-window
strategy (Flask-Limiter's default, the only one Formdesk uses) and the plain counters of
`web.auth.SignInDelay`.

Each count is a single UPSERT … RETURNING statement: SQLite takes the write lock before it
reads, so concurrent processes never lose an increment and never meet a stale snapshot.
WAL lets readers go on while one writes; `synchronous=NORMAL` may lose the last counts on
a power cut, which costs nothing but a few free attempts."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

from limits.storage import Storage

FILE_NAME = "rate-limits.sqlite3"
# Expired rows are deleted every this many increments of a process (they are ignored anyway).
PURGE_EVERY = 1000
BUSY_TIMEOUT_SECONDS = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID
"""

# A new or expired key starts again from `amount` with a fresh window; a live one adds to it.
INCREMENT = """
INSERT INTO counters (key, value, expires_at) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN expires_at <= :now THEN excluded.value ELSE value + excluded.value END,
    expires_at = CASE WHEN expires_at <= :now THEN excluded.expires_at ELSE expires_at END
RETURNING value
"""


def install(config: dict, instance_path: str) -> None:
    """Unless FLASK_RATELIMIT_STORAGE_URI names one, the counts go to the instance folder."""
    if not config.get("RATELIMIT_STORAGE_URI"):
        config["RATELIMIT_STORAGE_URI"] = f"sqlite:///{Path(instance_path).resolve() / FILE_NAME}"


class SQLiteStorage(Storage):
    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        path = urlsplit(uri or "").path[1:]  # "sqlite:////abs" → "/abs"; "sqlite:///rel" → "rel"
        if not path:
            raise ValueError(f"{uri!r} names no file (sqlite:////absolute/path)")
        self.path = path
        self._local = threading.local()  # one connection per thread (and per forked process)
        # Made with a connection closed at once: gunicorn's master (preload_app) builds the
        # app, then forks workers, which must not share an open SQLite connection.
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")  # kept in the file
            connection.execute(SCHEMA)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # a fork inherits no usable connection
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None
            )
            connection.execute("PRAGMA synchronous=NORMAL")
            local.connection, local.pid, local.increments = connection, os.getpid(), 0
        return local.connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        connection = self._connection()
        now = time.time()
        (value,) = connection.execute(
            INCREMENT, {"key": key, "amount": amount, "now": now, "expiry": expiry}
        ).fetchone()
        self._local.increments += 1
        if self._local.increments % PURGE_EVERY == 0:
            connection.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
        return value

    def get(self, key: str) -> int:
        row = (
            self._connection()
            .execute(
                "SELECT value FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())
            )
            .fetchone()
        )
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = (
            self._connection()
            .execute("SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?", (key, now))
            .fetchone()
        )
        return row[0] if row else now  # as memory://: an unknown key resets now

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))

    def reset(self) -> int:
        return self._connection().execute("DELETE FROM counters").rowcount

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1 FROM counters LIMIT 1")
        except sqlite3.Error:
            return False
        return True
