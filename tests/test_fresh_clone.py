"""The promise to a new developer: clone the repository, `make run`, and the service works,
with the demo calls loaded, and what people send survives a restart.

Not a unit test: it clones the committed HEAD, lets `make` build its own .venv (pip uses its
cache), starts the development server twice on one instance folder, and sends the MSAS demo
application in chromium each time. It runs in `make test`, on CI too."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from tests.browser import ROBOT_FRIENDLY, ServerProcess, clean_environment, free_port
from tests.conftest import need

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture reports it: a skip here, a failure on CI
    expect = None

HERE = Path(__file__).resolve().parent
FIRST_START_SECONDS = 300  # python3 -m venv + pip install -r requirements-dev.txt
REFERENCE = re.compile(r"MSAS-(\d{4})-(\d{4})")


def repository_root() -> Path:
    found = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],  # noqa: S607
        cwd=HERE,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(found.stdout.strip())


def make_run(clone: Path, instance: Path, port: int, log: Path) -> ServerProcess:
    env = clean_environment(FORMDESK_INSTANCE_PATH=str(instance), **ROBOT_FRIENDLY)
    return ServerProcess(["make", "run", f"PORT={port}"], clone, env, port, log)


def send_msas_application(browser, base_url: str, branch: str) -> str:
    """A librarian sends the MSAS application, every page, in English; returns the reference."""
    context = browser.new_context(locale="pl-PL")
    context.set_default_timeout(15_000)
    page = context.new_page()

    def press(name: str) -> None:
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name=name, exact=True).click()
        response = navigation.value
        assert response is None or response.status < 400, page.locator("body").inner_text()

    try:
        page.goto(base_url + "/")
        page.get_by_role("link", name=re.compile("Międzynarodowej Strefy Aktywności")).click()
        expect(page.locator("html")).to_have_attribute("lang", "pl")
        page.locator("a[hreflang=en]").click()  # the language switcher
        expect(page.get_by_role("heading", level=1)).to_contain_text("Activity Zone (MSAS)")
        page.get_by_role("button", name="Start now").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Your branch")
        page.get_by_label("Branch name").fill(branch)
        page.get_by_label("Branch address").fill("ul. Piotrkowska 100, 90-001 Łódź")
        page.get_by_label("Contact person").fill("Zofia Żółtowska")
        page.get_by_label("Email address").fill("zofia@example.pl")
        page.get_by_label("Phone number").fill("+48 42 123 45 67")
        press("Continue")

        expect(page.get_by_role("heading", level=1)).to_have_text("Experience and motivation")
        long_answer = (
            "Od lat prowadzimy klub sąsiedzki, warsztaty dla dzieci i spotkania z autorami; "
            "przychodzą do nas osoby z Ukrainy, Białorusi i Wietnamu."
        )
        page.get_by_label("Experience of working with local residents").fill(long_answer)
        page.get_by_label("Experience of working with foreigners").fill(long_answer)
        page.get_by_label("Why does your branch want to create the zone?").fill(long_answer)
        press("Continue")

        expect(page.get_by_role("heading", level=1)).to_have_text("Attachment and consent")
        page.get_by_label(re.compile("^I agree that Fundacja Przykładowa Łódź")).check()
        press("Continue")

        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Check your answers before sending"
        )
        expect(page.get_by_role("main")).to_contain_text(branch)
        press("Send")
        expect(page.get_by_role("heading", level=1)).to_have_text("Application sent")
        reference = page.locator(".reference").inner_text().strip()
        assert REFERENCE.fullmatch(reference), reference
        return reference
    finally:
        context.close()


def stored_references(database: Path) -> list[str]:
    connection = sqlite3.connect(database)
    try:
        return [row[0] for row in connection.execute("SELECT reference FROM submissions")]
    finally:
        connection.close()


def test_a_fresh_clone_runs_with_make_run_and_keeps_submissions_across_a_restart(browser, tmp_path):
    need(shutil.which("git") is not None, "git is not installed")
    need(shutil.which("make") is not None, "make is not installed")
    clone = tmp_path / "formdesk"
    subprocess.run(  # noqa: S603
        ["git", "clone", "--quiet", str(repository_root()), str(clone)],  # noqa: S607
        check=True,
        env=clean_environment(),
    )
    assert not (clone / ".venv").exists()
    instance = tmp_path / "instance"
    port = free_port()

    server = make_run(clone, instance, port, tmp_path / "make-run-1.log")
    try:
        server.start(timeout=FIRST_START_SECONDS)
        first = send_msas_application(browser, server.url, "Filia nr 12 Biblioteki Miejskiej")
    finally:
        server.stop()
        print(f"--- first make run ---\n{server.log_tail(80)}")  # shown on failure
    server.wait_until_port_is_free()
    assert (clone / ".venv" / "bin" / "python").exists(), "make run did not build .venv"
    database = instance / "formdesk.db"
    assert database.exists(), f"no SQLite database in the instance folder: {os.listdir(instance)}"

    server = make_run(clone, instance, port, tmp_path / "make-run-2.log")
    try:
        server.start(timeout=120)
        assert first in stored_references(database), "the first submission was lost"
        second = send_msas_application(browser, server.url, "Filia nr 3 Biblioteki Miejskiej")
    finally:
        server.stop()
        print(f"--- second make run ---\n{server.log_tail(80)}")

    year, number = REFERENCE.fullmatch(first).groups()
    assert second == f"MSAS-{year}-{int(number) + 1:04d}", (first, second)
    assert sorted(stored_references(database)) == [first, second]
