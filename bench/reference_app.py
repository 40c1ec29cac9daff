"""The reference for submission throughput: the least a Flask service that stores a form
can do. One SQLAlchemy insert per POST, in the same database as Formdesk (its own table),
with the same SQLite settings (WAL, synchronous=NORMAL, busy timeout), served by the same
gunicorn configuration:

    gunicorn -c deploy/gunicorn.conf.py 'bench.reference_app:create_app()'

No templates, sessions, CSRF, validation or audit: what Formdesk adds on top of this is
what the ratio in BENCHMARKS.md measures."""

from __future__ import annotations

import fcntl
import os
import tempfile
from datetime import UTC, datetime

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, String, Text, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Entry(db.Model):
    __tablename__ = "bench_reference_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _url() -> str:
    url = os.environ["DATABASE_URL"]
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = _url()
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    db.init_app(app)
    # gunicorn's workers start at once: one creates the table, the other waits for it.
    with open(os.path.join(tempfile.gettempdir(), "formdesk-bench-reference.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with app.app_context():
            db.create_all()

    @app.get("/")
    def index():
        return "reference"

    @app.post("/entries")
    def add():
        entry = Entry(
            email=request.form.get("email", ""),
            name=request.form.get("name", ""),
            message=request.form.get("message", ""),
            created_at=datetime.now(UTC),
        )
        db.session.add(entry)
        db.session.commit()
        return {"id": entry.id}, 201

    return app
