"""The promise to a new developer: clone the repository, `make run`, and the service works,
with the demo calls loaded, what people send survives a restart, and every command the README
prints works as printed in that setup.

Not a unit test: it clones the committed HEAD, lets `make` build its own .venv (pip uses its
cache), starts the development server twice on the clone's instance folder, sends the MSAS
demo application in chromium each time, and in between runs the commands of README.md's code
blocks, parsed from the README so that this stays true when it changes. It runs in
`make test`, on CI too."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser import ROBOT_FRIENDLY, ServerProcess, clean_environment, free_port
from tests.conftest import need

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture reports it: a skip here, a failure on CI
    expect = None

pytestmark = pytest.mark.slow  # a clone, a venv, two servers

HERE = Path(__file__).resolve().parent
FIRST_START_SECONDS = 300  # python3 -m venv + pip install -r requirements.txt
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


PORT_ATTEMPTS = 5


def make_run(clone: Path, log: Path, timeout: float) -> ServerProcess:
    """`make run` on a port the OS gave as free, started and answering. The port is only
    free when asked: the first start builds a virtualenv for minutes before it binds, and
    another test or program may take the port meanwhile. Then, seen for certain (the server
    said the address is in use, or its banner names no such address while something else
    answers), another port is tried: a collision costs a retry, never a failure."""
    env = clean_environment(**ROBOT_FRIENDLY)
    for _attempt in range(PORT_ATTEMPTS):
        port = free_port()
        seen = log.stat().st_size if log.exists() else 0
        server = ServerProcess(["make", "run", f"PORT={port}"], clone, env, port, log)
        try:
            server.start(timeout=timeout)
        except RuntimeError:
            if "Address already in use" not in _log_since(log, seen):
                raise
            continue
        if f"Running on {server.url}" in _log_since(log, seen):
            return server
        server.stop()  # another server answered on the port
    raise AssertionError(f"{PORT_ATTEMPTS} ports taken before make run bound them")


def _log_since(log: Path, offset: int) -> str:
    with log.open(encoding="utf-8", errors="replace") as text:
        text.seek(offset)
        return text.read()


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
        page.get_by_label("Street and number").fill("ul. Piotrkowska 100")
        page.get_by_label("Postcode").fill("90-001")
        page.get_by_label("Town").fill("Łódź")
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
        expect(page.get_by_role("heading", level=1)).to_have_text("Application received")
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


# --- The README's commands ----------------------------------------------------------------

# What the test does not run, and why. Every rule must still match a command of the README.
SKIPPED_SECTIONS = {
    "Deployment": "production setups (gunicorn, PostgreSQL, Redis, Celery); "
    "tests/test_app.py serves the factory under gunicorn",
    "Benchmarks": "12–20 minutes; tests/test_bench_quick.py runs the scripts",
}
SKIPPED_COMMANDS = {
    "make run": "the setup itself: started before the commands run",
    "make test": "the test suite this test belongs to",
}
# Words in capitals that the README explains stand for the reader's own values.
PLACEHOLDERS = ("REFERENCE",)


@dataclass(frozen=True)
class Command:
    section: str
    text: str


def readme_commands(readme: str) -> list[Command]:
    """Each command line of the README's ```sh blocks, comment cut, in order, once each."""
    commands: list[Command] = []
    section, fence = "", None
    for line in readme.splitlines():
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
        elif fence is None and line.startswith("## "):
            section = line[3:].strip()
        elif fence == "sh" and line.strip() and not line.lstrip().startswith("#"):
            text = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
            if all(text != known.text for known in commands):
                commands.append(Command(section, text))
    return commands


def skip_reason(command: Command) -> str | None:
    return SKIPPED_SECTIONS.get(command.section) or SKIPPED_COMMANDS.get(command.text)


def test_the_readme_commands_are_found_and_every_skip_rule_still_applies():
    commands = readme_commands((repository_root() / "README.md").read_text(encoding="utf-8"))
    sections = {command.section for command in commands}
    texts = {command.text for command in commands}
    assert set(SKIPPED_SECTIONS) <= sections, "a skipped section no longer has commands"
    assert set(SKIPPED_COMMANDS) <= texts, "a skipped command is no longer in the README"
    run = [command.text for command in commands if not skip_reason(command)]
    assert ".venv/bin/flask --app app users create admin@example.org --role admin" in run
    assert any(text.startswith(".venv/bin/flask --app app documents export") for text in run)
    for text in run:
        unexplained = set(re.findall(r"\b[A-Z][A-Z_]{2,}\b", text)) - set(PLACEHOLDERS)
        assert not unexplained, f"{text}: a placeholder the README does not explain"


@dataclass
class Setup:
    """What the commands run in, and what they can be checked against."""

    clone: Path
    reference: str
    password: str

    def run(self, command: str) -> subprocess.CompletedProcess:
        """The command as printed, in a shell in the clone, with a clean environment; the
        password twice on stdin for whichever command asks."""
        for placeholder in PLACEHOLDERS:
            command = re.sub(rf"\b{placeholder}\b", self.reference, command)
        return subprocess.run(  # noqa: S603
            ["sh", "-c", command],  # noqa: S607
            cwd=self.clone,
            env=clean_environment(),
            input=f"{self.password}\n{self.password}\n",
            capture_output=True,
            text=True,
            timeout=600,
        )


def check_effect(setup: Setup, command: str, done: subprocess.CompletedProcess) -> None:
    """What a command is for, where the README says it; the others only have to succeed."""
    out = done.stdout
    if found := re.search(r"users create (\S+) --role (\w+)", command):
        assert out == f"created {found[2]} {found[1]}\n"
    elif "forms load" in command:
        slugs = [path.stem for path in (setup.clone / "forms" / "definitions").glob("*.yaml")]
        assert sorted(out.splitlines()) == sorted(f"unchanged {slug}" for slug in slugs)
    elif "mail send" in command:
        assert re.fullmatch(r"sent \d+, retrying 0, failed 0\n", out), out
    elif "mail digest" in command:
        assert re.fullmatch(r"queued \d+ digest\(s\)\n", out), out
    elif found := re.search(r"documents export \S+ --zip (\S+) --merged (\S+)", command):
        with zipfile.ZipFile(setup.clone / found[1]) as archive:
            assert archive.namelist() == [f"{setup.reference}.pdf"]
        assert (setup.clone / found[2]).read_bytes().startswith(b"%PDF-")
    elif "submissions anonymise" in command:
        assert out.startswith(f"anonymised {setup.reference}: "), out
    elif "db migrate" in command:
        assert "No changes in schema detected" in done.stdout + done.stderr
        changed = subprocess.run(
            ["git", "status", "--porcelain", "migrations"],  # noqa: S607
            cwd=setup.clone,
            capture_output=True,
            text=True,
            check=True,
        )
        assert changed.stdout == "", "db migrate wrote a migration in a fresh clone"
    elif command == "make translations":
        assert list((setup.clone / "translations").glob("*/LC_MESSAGES/messages.mo"))


def run_the_readme_commands(setup: Setup) -> list[str]:
    readme = (setup.clone / "README.md").read_text(encoding="utf-8")
    ran = []
    for command in readme_commands(readme):
        if skip_reason(command):
            continue
        done = setup.run(command.text)
        said = f"{command.text}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        assert done.returncode == 0, said
        assert "Traceback" not in done.stdout + done.stderr, said
        check_effect(setup, command.text, done)
        ran.append(command.text)
    return ran


def sign_in(browser, base_url: str, email: str, password: str) -> None:
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(base_url + "/login")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/dashboard/"))
        expect(page.locator("main")).to_be_visible()
    finally:
        context.close()


def test_a_fresh_clone_runs_with_make_run_and_the_readme_commands_work_as_printed(
    browser, tmp_path
):
    need(shutil.which("git") is not None, "git is not installed")
    need(shutil.which("make") is not None, "make is not installed")
    clone = tmp_path / "formdesk"
    subprocess.run(  # noqa: S603
        ["git", "clone", "--quiet", str(repository_root()), str(clone)],  # noqa: S607
        check=True,
        env=clean_environment(),
    )
    assert not (clone / ".venv").exists()

    server = make_run(clone, tmp_path / "make-run-1.log", FIRST_START_SECONDS)
    try:
        first = send_msas_application(browser, server.url, "Filia nr 12 Biblioteki Miejskiej")
        log = server.log.read_text(encoding="utf-8")
        # The first start says how to get in: the README's command, and the address.
        assert "No staff account yet" in log
        assert f"then sign in at {server.url}/login" in log
        assert ".venv/bin/flask --app app users create admin@example.org --role admin" in log

        setup = Setup(clone, first, secrets.token_urlsafe(18))
        ran = run_the_readme_commands(setup)
        assert len(ran) >= 10, ran
        sign_in(browser, server.url, "admin@example.org", setup.password)
    finally:
        server.stop()
        print(f"--- first make run ---\n{server.log_tail(80)}")  # shown on failure
    # make run installed what the service needs, and not the test tools.
    assert (clone / ".venv" / "bin" / "flask").exists(), "make run did not build .venv"
    assert not (clone / ".venv" / "bin" / "pytest").exists(), "make run installed test tools"
    database = clone / "instance" / "formdesk.db"
    assert database.exists(), f"no SQLite database: {os.listdir(clone / 'instance')}"
    key_file = clone / "instance" / "development-secret-key"
    assert key_file.stat().st_mode & 0o077 == 0, "the development key is readable by others"

    server = make_run(clone, tmp_path / "make-run-2.log", 120)
    try:
        assert first in stored_references(database), "the first submission was lost"
        second = send_msas_application(browser, server.url, "Filia nr 3 Biblioteki Miejskiej")
    finally:
        server.stop()
        print(f"--- second make run ---\n{server.log_tail(80)}")
    assert "No staff account yet" not in server.log.read_text(encoding="utf-8")

    year, number = REFERENCE.fullmatch(first).groups()
    assert second == f"MSAS-{year}-{int(number) + 1:04d}", (first, second)
    assert sorted(stored_references(database)) == [first, second]
