"""Health endpoints for load balancers and orchestration:
/healthz checks what a request needs (database, broker, storage) and counts the items
background duties gave up on (`failed`: emails, copies, letters, offers — each shown in the
admin); they do not make the instance unhealthy. /readyz says whether this instance should
get traffic (schema up to date)."""

from __future__ import annotations

import io

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from extensions import db, schema_is_current

bp = Blueprint("health", __name__)


def _database() -> str:
    db.session.execute(text("SELECT 1"))
    return "ok"


def _broker() -> str:
    celery = current_app.extensions.get("celery")
    if celery is None:
        return "embedded"
    with celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
    return "ok"


def _storage() -> str:
    from storage import get_storage

    storage = get_storage()
    name = storage.save(io.BytesIO(b"health"))
    try:
        with storage.open(name) as stream:
            if stream.read() != b"health":
                return "read back differs"
    finally:
        storage.delete(name)
    return "ok"


def _failed_items() -> dict[str, int]:
    """Items background duties marked failed, per duty (email from the outbox)."""
    from sqlalchemy import func, select

    from models import DutyFailure, OutboxMessage
    from models.duties import DUTIES, FAILED
    from models.outbox import OutboxStatus

    counts = {duty: 0 for duty in DUTIES}
    counts |= dict(
        db.session.execute(
            select(DutyFailure.duty, func.count())
            .where(DutyFailure.status == FAILED)
            .group_by(DutyFailure.duty)
        ).all()
    )
    counts["email"] = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
    )
    return counts


def _report(checks: dict, extra: dict | None = None) -> tuple:
    results, healthy = {}, True
    for name, check in checks.items():
        try:
            results[name] = check()
        except Exception as error:  # report, never raise: this page must always answer
            results[name] = f"fail: {type(error).__name__}"
            healthy = False
        finally:
            db.session.rollback()
    body = {"status": "ok" if healthy else "fail", "checks": results, **(extra or {})}
    return jsonify(body), 200 if healthy else 503


@bp.get("/healthz")
def healthz():
    try:
        failed = _failed_items()
    except Exception:  # the database check reports the cause
        failed = None
    finally:
        db.session.rollback()
    checks = {"database": _database, "broker": _broker, "storage": _storage}
    return _report(checks, {"failed": failed})


@bp.get("/readyz")
def readyz():
    def schema() -> str:
        if not schema_is_current():
            raise RuntimeError("schema is not at the latest migration")
        return "ok"

    return _report({"database": _database, "schema": schema})
