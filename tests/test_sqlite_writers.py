"""SQLite's writers queue on a lock of Formdesk's own (sqlite_writers.py): a writing
transaction holds it from its first write to its commit or rollback, reads never take it,
a writer that cannot have it in time fails as SQLite would, and a forked process starts
with its own. On real SQLite files; the app's own engine in the last test."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

import sqlite_writers


@pytest.fixture
def engine(tmp_path):
    path = tmp_path / "queue.db"
    engine = create_engine(f"sqlite:///{path}")
    queue = sqlite_writers.install(engine, timeout=0.5)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()
    sqlite_writers._queues.pop(queue.lock_path.removesuffix(".writers"))


def lock_is_free(engine) -> bool:
    """Whether another process could take the writers' lock now (a file of our own)."""
    with open(engine.url.database + ".writers", "a") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other, fcntl.LOCK_UN)
        return True


def test_which_statements_write():
    assert sqlite_writers.writes("INSERT INTO t VALUES (1)")
    assert sqlite_writers.writes("  update t set n = 2")
    assert sqlite_writers.writes("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x")
    assert sqlite_writers.writes("CREATE INDEX i ON t (n)")
    assert not sqlite_writers.writes("SELECT * FROM t")
    assert not sqlite_writers.writes("WITH x AS (SELECT 1) SELECT * FROM x")
    assert not sqlite_writers.writes("PRAGMA busy_timeout")


def test_a_writing_transaction_holds_the_lock_until_its_commit(engine):
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM t"))
        assert lock_is_free(engine)  # reading takes nothing
        connection.execute(text("INSERT INTO t VALUES (1)"))
        assert not lock_is_free(engine)
        connection.execute(text("INSERT INTO t VALUES (2)"))  # still its own: no wait
        connection.commit()
        assert lock_is_free(engine)


@pytest.mark.parametrize("end", ["rollback", "return to the pool", "invalidate"])
def test_every_other_end_of_a_transaction_gives_the_lock_back(engine, end):
    connection = engine.connect()
    connection.execute(text("INSERT INTO t VALUES (1)"))
    assert not lock_is_free(engine)
    if end == "rollback":
        connection.rollback()
    elif end == "invalidate":
        connection.invalidate()
    connection.close()
    assert lock_is_free(engine)
    with engine.connect() as again:  # and the next writer has it at once
        again.execute(text("INSERT INTO t VALUES (3)"))
        again.commit()


def test_a_writer_waits_for_the_one_before_and_none_is_lost(engine):
    order: list[str] = []
    first_wrote = threading.Event()

    def first() -> None:
        with engine.connect() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            first_wrote.set()
            threading.Event().wait(0.2)  # still in its transaction
            order.append("first commits")
            connection.commit()

    def second() -> None:
        first_wrote.wait(5)
        with engine.connect() as connection:
            connection.execute(text("INSERT INTO t VALUES (2)"))
            order.append("second wrote")
            connection.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert order == ["first commits", "second wrote"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_a_writer_that_cannot_have_the_lock_in_time_fails_as_sqlite_would(engine):
    with open(engine.url.database + ".writers", "a") as other_process:
        fcntl.flock(other_process, fcntl.LOCK_EX)  # held elsewhere for longer than 0.5 s
        with engine.connect() as connection:
            with pytest.raises(OperationalError, match="database is locked"):
                connection.execute(text("INSERT INTO t VALUES (1)"))
            connection.execute(text("SELECT count(*) FROM t"))  # reading still works
        fcntl.flock(other_process, fcntl.LOCK_UN)
    with engine.connect() as connection:  # nothing was left held by the failed writer
        connection.execute(text("INSERT INTO t VALUES (1)"))
        connection.commit()


def test_a_forked_process_opens_its_own_lock_file(engine):
    """flock locks belong to an open file: a worker forked from a process that had opened
    it would share it with its siblings and exclude none of them."""
    with engine.connect() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        connection.commit()
    queue = sqlite_writers._queues[os.path.abspath(engine.url.database)]
    assert queue._file is not None
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        fresh = queue._file is None and not queue._threads.locked() and queue._holder is None
        os.write(write, b"1" if fresh else b"0")
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 1) == b"1"


def test_the_apps_engine_queues_its_writers_on_sqlite_only(app):
    from extensions import db

    with app.app_context():
        if db.engine.dialect.name != "sqlite":  # PostgreSQL queues lock waiters itself
            assert sqlite_writers.install(db.engine, timeout=1) is None
            return
        queue = sqlite_writers._queues[os.path.abspath(db.engine.url.database)]
        db.session.execute(text("UPDATE forms SET lock_counter = lock_counter"))
        assert queue.held_by(db.session.connection().connection.dbapi_connection)
        db.session.rollback()
        assert not queue.held_by(db.session.connection().connection.dbapi_connection)
