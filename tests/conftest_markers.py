"""Markers from the fixtures a test uses (a pytest plugin, registered in tests/conftest.py),
so that a new test gets them for free; `make test-fast` leaves the three out. Tests slow
for another reason carry the mark themselves (`pytestmark` or `@pytest.mark.slow`).

- browser: drives chromium (Playwright);
- slow: over ~5 s, mostly because it starts server processes (flask, gunicorn, Celery);
- service: needs a service or process outside the test process (Redis, an S3 server)."""

from __future__ import annotations

import pytest

MARKS_BY_FIXTURE = {
    "browser": ("browser",),
    # Servers started by tests: tests/conftest_browser.py, tests/test_browser_accessibility.py,
    # tests/test_concurrency.py, tests/test_rate_limits.py.
    "live_server": ("slow",),
    "site": ("slow",),
    "gunicorn": ("slow",),
    "deployed": ("slow",),
    "gunicorn_with": ("slow",),
    # A Celery worker on Redis (tests/test_celery.py).
    "broker_url": ("slow", "service"),
    # moto's S3 server in its own process (tests/test_storage.py).
    "s3_endpoint": ("service",),
    # The OpenID Connect provider, a node process (tests/conftest_oidc.py).
    "oidc_provider": ("service",),
}


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by them
def pytest_collection_modifyitems(items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        names = {m for f in used & MARKS_BY_FIXTURE.keys() for m in MARKS_BY_FIXTURE[f]}
        for name in sorted(names - {m.name for m in item.iter_markers()}):
            item.add_marker(name)
