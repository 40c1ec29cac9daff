"""Helpers for browser tests: Debian's chromium driven by Playwright, and the app run as a
real server process on a free localhost port (the way a person or `make run` starts it).

Never `playwright install`: the browser is the system's chromium at CHROMIUM."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags chromium keeps calling home, which floods a
# closed network; --headless is what a test run needs.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def random_secret() -> str:
    return secrets.token_hex(32)  # 64 hex characters


def clean_environment(**extra: str) -> dict:
    """This process's environment without what would leak into a server it starts: app
    settings (FLASK_*, FORMDESK_*, DATABASE_URL), an activated virtualenv, and the make
    variables of an outer `make test`."""
    leaks = ("FLASK_", "FORMDESK_", "MAKE", "MFLAGS", "PYTEST_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(leaks)}
    env.pop("DATABASE_URL", None)
    if venv := env.pop("VIRTUAL_ENV", None):
        paths = env.get("PATH", "").split(os.pathsep)
        env["PATH"] = os.pathsep.join(p for p in paths if not p.startswith(venv))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


# Servers for tests are driven by robots (chromium, urllib threads) from one address, with
# one email address for many applications: the checks against robots, duplicates and floods
# are switched off there, and tested in tests/test_security.py.
ROBOT_FRIENDLY = {
    "FLASK_FORMDESK_MIN_FILL_SECONDS": "0",
    "FLASK_FORMDESK_DUPLICATE_WINDOW_HOURS": "0",
    "FLASK_FORMDESK_PAGE_LIMIT": "100000 per minute",
    "FLASK_FORMDESK_SUBMIT_LIMIT": "100000 per minute",
    "FLASK_FORMDESK_TOKEN_LIMIT": "100000 per minute",
}


def server_environment(instance: Path, uploads: Path, port: int | None = None) -> dict:
    """The environment of a server process: its own instance folder (SQLite database),
    a random secret key, its address (on 127.0.0.1) and an upload folder outside the
    repository."""
    return clean_environment(
        FORMDESK_INSTANCE_PATH=str(instance),
        FLASK_SECRET_KEY=random_secret(),
        FLASK_FORMDESK_PUBLIC_URL=f"http://127.0.0.1:{port}" if port else "http://127.0.0.1",
        FLASK_FORMDESK_UPLOAD_DIR=str(uploads),
        **ROBOT_FRIENDLY,
    )


class ServerProcess:
    """A command that serves HTTP on `port`, run in its own process group so that stopping
    it also stops whatever it started (make → flask → the reloader's child)."""

    def __init__(self, command: list[str], cwd: Path, env: dict, port: int, log: Path):
        self.command = command
        self.cwd = cwd
        self.env = env
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> ServerProcess:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603  (our own command line)
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.wait_until_up(timeout)
        return self

    def wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode} before answering:\n"
                    + self.log_tail()
                )
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout:.0f}s:\n" + self.log_tail())

    def stop(self) -> None:
        """SIGTERM the whole process group, SIGKILL what is still there after 10 s."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # stragglers (a reloader's child)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self.process = None

    def wait_until_port_is_free(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"something still listens on port {self.port}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def flask_server(instance: Path, uploads: Path, log: Path) -> ServerProcess:
    """The app of this working tree, served by `python -m flask run` (no debugger, no
    reloader: production-like configuration with a real secret key)."""
    port = free_port()
    command = [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)]
    command += ["--host", "127.0.0.1", "--no-reload", "--no-debugger"]
    return ServerProcess(command, ROOT, server_environment(instance, uploads, port), port, log)
