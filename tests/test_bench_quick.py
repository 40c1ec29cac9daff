"""The benchmark scripts work (bench/, `make bench`): the cheapest part in its quick mode —
the deadline rush, 50 people for 5 seats against a real gunicorn — asserting what it counts,
never how fast anything was. On the run's database (SQLite, or PostgreSQL in the PostgreSQL
run of `make test`)."""

from __future__ import annotations

import os

from bench import common, rush
from tests.conftest import POSTGRES_BASE


def test_deadline_rush_script_counts_seats_and_waiting_list(monkeypatch):
    kind = "postgresql" if os.environ.get("FORMDESK_TEST_DATABASE") == "postgresql" else "sqlite"
    # The test run's server, where the benchmark makes (and drops) its own database.
    monkeypatch.setattr(common, "POSTGRES_ADMIN", POSTGRES_BASE)

    result = rush.rush(kind, people=50, seats=5)

    assert result["errors"] == 0, result["first_error"]
    assert result["states"] == {"confirmed": 5, "waitlisted": 45}
    assert result["stored"] == 50  # none lost
    assert result["confirmation_pages"] == 50  # every person saw the confirmation
    assert result["correct"]
    assert f"| {kind} | 50 | 5 | 5 | 45 | 50 | 50 | 0 |" in rush.report({"results": [result]})
