"""Helpers of the fault suite (tests/test_faults.py): a private PostgreSQL cluster that a
test may stop and start (never the shared server on 5432), a client that tells a clean
error page from a broken one, and the report of what a fault test measured."""

from __future__ import annotations

import glob
import http.cookiejar
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.browser import ROOT, free_port
from tests.conftest import CSRF


def postgres_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    return Path(found[-1]).parent if found else None


class PrivateCluster:
    """initdb + pg_ctl in a temporary folder, on a free port, trust authentication. As
    root (CI), run as the `postgres` user: initdb refuses root."""

    def __init__(self, binaries: Path):
        self.binaries = binaries
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="formdesk-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        subprocess.run(  # noqa: S603 (our own command line)
            [*self.as_user, *command], check=True, capture_output=True, timeout=120
        )

    def init(self) -> PrivateCluster:
        self._run(
            str(self.binaries / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
            " -c fsync=off -c max_connections=100"
        )
        self._run(
            str(self.binaries / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """`fast`: open connections are cut, transactions in flight are rolled back."""
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Answer:
    status: int
    url: str
    html: str
    retry_after: str | None = None


class Applicant:
    """One person with a cookie jar; an HTTP error is an answer to look at, not an
    exception."""

    def __init__(self, base_url: str):
        self.base = base_url
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        self.html = ""

    def _open(self, path: str, body: bytes | None = None) -> Answer:
        try:
            with self.opener.open(self.base + path, body, timeout=120) as response:
                answer = Answer(response.status, response.url, response.read().decode())
        except urllib.error.HTTPError as error:
            answer = Answer(
                error.code,
                error.url,
                error.read().decode(errors="replace"),
                error.headers.get("Retry-After"),
            )
        if answer.status == 200:
            self.html = answer.html
        return answer

    def get(self, path: str) -> Answer:
        return self._open(path)

    def post(self, path: str, data: dict) -> Answer:
        match = CSRF.search(self.html)
        token = (match.group(1) or match.group(2)) if match else ""
        return self._open(path, urllib.parse.urlencode({**data, "csrf_token": token}).encode())


@dataclass
class Tally:
    """What a fault test measured, written to test-results/faults/<name>.json."""

    name: str
    numbers: dict = field(default_factory=dict)

    def write(self) -> Path:
        folder = ROOT / "test-results" / "faults"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}.json"
        path.write_text(json.dumps(self.numbers, indent=2, sort_keys=True) + "\n")
        print(f"fault tally {self.name}: {json.dumps(self.numbers, sort_keys=True)}")
        return path


def wait_for(condition, timeout: float, describe) -> None:
    """Poll until `condition()`; on timeout fail with what `describe()` says."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout:.0f}s: {describe()}")
