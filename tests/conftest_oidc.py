"""A real OpenID Connect provider for the single sign-on tests (a pytest plugin, registered
in tests/conftest.py): oauth2-mock-server from npm (tests/js/package.json), started by
tests/js/oidc_provider.mjs on a free localhost port with a fresh RS256 key, and stopped
after the tests. `oidc_provider.issue(email=…)` chooses whom its next ID tokens name.

Without node or the package the tests skip locally and fail on CI (`need`)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import free_port
from tests.conftest import need

JS = Path(__file__).resolve().parent / "js"
SCRIPT = JS / "oidc_provider.mjs"
PACKAGE = JS / "node_modules" / "oauth2-mock-server" / "package.json"
CLIENT_ID = "formdesk-test"
CLIENT_SECRET = "formdesk-test-secret"  # noqa: S105 (the mock provider accepts any)


class OidcProvider:
    def __init__(self, process: subprocess.Popen, issuer: str):
        self.process = process
        self.issuer = issuer

    def issue(self, **claims) -> None:
        """The claims of the ID tokens issued from now on (over the defaults: a `sub`)."""
        body = json.dumps({"sub": claims.get("email", "someone"), **claims}).encode()
        request = urllib.request.Request(  # noqa: S310 (our own provider on localhost)
            self.issuer + "/test/claims",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 204

    def settings(self, name: str = "Test IdP") -> dict:
        """The app's configuration for this provider (config keys, without FLASK_)."""
        return {
            "FORMDESK_OIDC_ISSUER": self.issuer,
            "FORMDESK_OIDC_CLIENT_ID": CLIENT_ID,
            "FORMDESK_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "FORMDESK_OIDC_NAME": name,
        }


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    node = shutil.which("node")
    need(node is not None, "node is not installed (the OpenID Connect provider runs on it)")
    need(PACKAGE.exists(), "oauth2-mock-server is not installed: npm install --prefix tests/js")
    process = subprocess.Popen(  # noqa: S603 (our own script)
        [node, str(SCRIPT), str(free_port())],
        cwd=JS,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    first = process.stdout.readline().strip()  # blocks until it listens, or it exits
    if not first.startswith("issuer "):
        process.kill()
        rest = process.stdout.read()
        pytest.fail(f"the OpenID Connect provider did not start: {first}\n{rest}")
    provider = OidcProvider(process, first.split(" ", 1)[1])
    yield provider
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
