"""The installation's settings chosen by admins, kept in the database (models.staff
InstallationSetting). `put` does not commit: the caller's use case does, with its audit entry."""

from __future__ import annotations

from typing import Any

from extensions import db
from models import InstallationSetting, User


def get(key: str, default: Any = None) -> Any:
    row = db.session.get(InstallationSetting, key)
    return default if row is None or row.value is None else row.value


def put(key: str, value: Any, admin: User | None) -> None:
    row = db.session.get(InstallationSetting, key)
    if row is None:
        row = InstallationSetting(key=key)
        db.session.add(row)
    row.value = value
    row.updated_by_id = admin.id if admin else None
