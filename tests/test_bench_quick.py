"""The benchmark scripts work (bench/, `make bench`): the cheapest part in its quick mode —
the deadline rush, 50 people for 5 seats against a real gunicorn — asserting what it counts,
never how fast anything was. On the run's database (SQLite, or PostgreSQL in the PostgreSQL
run of `make test`)."""

from __future__ import annotations

import os

import pytest

from bench import common, rush
from tests.conftest import POSTGRES_BASE

pytestmark = pytest.mark.slow  # a gunicorn and 50 people


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


def test_cpu_per_request_script_times_and_counts_every_step(monkeypatch):
    """bench/cpu_per_request.py: every step of a submission and the reference's insert are
    measured, with the SQL statements each sends (what part 1 of BENCHMARKS.md explains its
    ratio with)."""
    from bench import cpu_per_request, submit

    kind = "postgresql" if os.environ.get("FORMDESK_TEST_DATABASE") == "postgresql" else "sqlite"
    monkeypatch.setattr(common, "POSTGRES_ADMIN", POSTGRES_BASE)

    result = cpu_per_request.measure_on(kind, rounds=1, count=3, warm_up=1)

    assert list(result["formdesk_ms"]) == list(submit.STEPS)
    assert all(ms > 0 for ms in result["formdesk_ms"].values()) and result["reference_ms"] > 0
    statements = result["formdesk_statements"]
    assert statements["GET page"] >= 1  # the call is read on every request
    assert statements["POST send"] > statements["POST page"]  # submission, answers, outbox…
    assert result["reference_statements"] >= 1  # its insert
    assert f"| {kind} | " in cpu_per_request.report({"rounds": 1, "count": 3, "results": [result]})
