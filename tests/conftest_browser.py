"""Browser fixtures (a pytest plugin, registered in tests/conftest.py): Debian's chromium
driven by Playwright, and the app running as a real server process.

Without chromium or Playwright the browser tests skip locally and fail on CI (`need`)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, ServerProcess, flask_server
from tests.conftest import need


@pytest.fixture(scope="session")
def browser():
    need(os.access(CHROMIUM, os.X_OK), f"chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        need(False, "the Python package playwright is not installed (requirements-dev.txt)")
    expect.set_options(timeout=10_000)  # a busy machine (xdist, CI) is slower than a laptop
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # installed but broken: a failure everywhere, never a skip
        playwright.stop()
        pytest.fail(f"chromium at {CHROMIUM} does not start under Playwright: {exc}")
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def live_server(tmp_path) -> Iterator[ServerProcess]:
    """This working tree's app, served by `python -m flask run` on a free localhost port with
    its own instance folder (a fresh SQLite database; the demo forms load on first start)."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    server = flask_server(tmp_path / "instance", uploads, tmp_path / "server.log")
    server.start(timeout=60)
    yield server
    server.stop()
    print(f"--- server log ({server.log}) ---\n{server.log_tail(60)}")  # shown on failure


@pytest.fixture
def context(browser):
    """A fresh browser profile: no cookies, no storage. Swedish is the browser's language,
    so a form offered in Swedish starts in Swedish."""
    ctx = browser.new_context(locale="sv-SE", viewport={"width": 1100, "height": 900})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()
