"""A real OpenID Connect provider for the single sign-on tests (a pytest plugin, registered
in tests/conftest.py): oauth2-mock-server from npm (tests/js/package.json), started by
tests/js/oidc_provider.mjs on a free localhost port with a fresh RS256 key, and stopped
after the tests. `oidc_provider.issue(email=…)` chooses whom its next ID tokens name (a
JSON file the provider reads whenever it signs a token).

Without node or the package the tests skip locally and fail on CI (`need`)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need

JS = Path(__file__).resolve().parent / "js"
SCRIPT = JS / "oidc_provider.mjs"
PACKAGE = JS / "node_modules" / "oauth2-mock-server" / "package.json"
CLIENT_ID = "formdesk-test"
CLIENT_SECRET = "formdesk-test-secret"  # noqa: S105 (the mock provider accepts any)


class OidcProvider:
    def __init__(self, process: subprocess.Popen, issuer: str, claims_file: Path):
        self.process = process
        self.issuer = issuer
        self.claims_file = claims_file

    def issue(self, **claims) -> None:
        """The claims of the ID tokens issued from now on (over the provider's own: iss,
        aud, exp, nonce …; `sub` is the email unless given)."""
        claims = {"sub": claims.get("email", "someone"), **claims}
        self.claims_file.write_text(json.dumps(claims), encoding="utf-8")

    def settings(self, name: str = "Test IdP") -> dict:
        """The app's configuration for this provider (config keys, without FLASK_)."""
        return {
            "FORMDESK_OIDC_ISSUER": self.issuer,
            "FORMDESK_OIDC_CLIENT_ID": CLIENT_ID,
            "FORMDESK_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "FORMDESK_OIDC_NAME": name,
        }


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory) -> Iterator[OidcProvider]:
    node = shutil.which("node")
    need(node is not None, "node is not installed (the OpenID Connect provider runs on it)")
    need(PACKAGE.exists(), "oauth2-mock-server is not installed: npm install --prefix tests/js")
    claims_file = tmp_path_factory.mktemp("oidc") / "claims.json"
    claims_file.write_text("{}", encoding="utf-8")
    process = subprocess.Popen(  # noqa: S603 (our own script)
        [node, str(SCRIPT), "0", str(claims_file)],  # port 0: the system picks a free one
        cwd=JS,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen = []
    for line in process.stdout:  # until it listens (a warning may come first), or it exits
        if line.startswith("issuer "):
            break
        seen.append(line)
    else:
        process.wait(timeout=10)
        pytest.fail("the OpenID Connect provider did not start:\n" + "".join(seen))
    issuer = line.split(" ", 1)[1].strip()
    provider = OidcProvider(process, issuer, claims_file)
    yield provider
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
