"""Fixtures: the real app on a real database (SQLite, or PostgreSQL when
FORMDESK_TEST_DATABASE=postgresql), factories for forms, and a client that carries the CSRF
token like a browser does.

On CI (CI set) a missing service is a failure, never a silent skip."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
DEMO_FORMS = ROOT / "forms" / "definitions"
ON_CI = bool(os.environ.get("CI"))

# The browser and the live server (tests/conftest_browser.py); markers from fixtures
# (tests/conftest_markers.py).
pytest_plugins = [
    "tests.conftest_browser",
    "tests.conftest_mail",
    "tests.conftest_markers",
    "tests.conftest_oidc",
]


def need(condition: bool, reason: str) -> None:
    """Skip locally when a service is missing; fail on CI, where everything must run."""
    if condition:
        return
    if ON_CI:
        pytest.fail(f"required on CI: {reason}")
    pytest.skip(reason)


POSTGRES_BASE = os.environ.get(
    "FORMDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _admin_execute(*statements: str) -> None:
    import psycopg

    plain = POSTGRES_BASE.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True, connect_timeout=5) as connection:
        for statement in statements:
            connection.execute(statement)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """One database per test process (xdist workers, or two developers' runs at once),
    created next to the configured one and dropped at the end."""
    if os.environ.get("FORMDESK_TEST_DATABASE") != "postgresql":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'formdesk.db'}"
        return
    name = f"formdesk_test_{os.getpid()}"
    try:
        _admin_execute(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
        )
    except Exception as exc:  # any connection problem: report it plainly
        pytest.fail(f"PostgreSQL requested but not reachable: {exc}")
    yield POSTGRES_BASE.rsplit("/", 1)[0] + "/" + name
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def rate_limits_of_this_test_process(tmp_path_factory):
    """Rate-limit counts in a SQLite file of this test process (the real default storage,
    rate_limit_storage.py): apps made by tests would otherwise share the repository's
    instance folder, and one xdist worker's `limiter.reset()` would clear another's counts.
    Servers started by tests do not inherit it (tests.browser.clean_environment)."""
    path = tmp_path_factory.mktemp("rate-limits") / "rate-limits.sqlite3"
    previous = os.environ.get("FLASK_RATELIMIT_STORAGE_URI")
    os.environ["FLASK_RATELIMIT_STORAGE_URI"] = f"sqlite:///{path}"
    yield
    if previous is None:
        os.environ.pop("FLASK_RATELIMIT_STORAGE_URI", None)
    else:
        os.environ["FLASK_RATELIMIT_STORAGE_URI"] = previous


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    from app import create_app

    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "FORMDESK_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
            "FORMDESK_LOAD_FORMS_ON_START": False,
            "SERVER_NAME": "formdesk.test",
            # As in production: links in emails on it, requests for other hosts refused.
            "FORMDESK_PUBLIC_URL": "http://formdesk.test",
            # The checks against robots and floods are switched on by the tests of them
            # (tests/test_security.py): elsewhere pages come back at machine speed, many
            # applications share one email address, and all come from one address.
            "FORMDESK_MIN_FILL_SECONDS": 0,
            "FORMDESK_DUPLICATE_WINDOW_HOURS": 0,
            "FORMDESK_PAGE_LIMIT": "100000 per minute",
            "FORMDESK_SUBMIT_LIMIT": "100000 per minute",
        }
    )
    return application


@pytest.fixture(autouse=True)
def clean_database(request, app):
    """Every test starts from empty tables (the schema is migrated once per session)."""
    if "app" not in request.fixturenames:
        yield
        return
    from extensions import db

    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                connection.execute(text("UPDATE forms SET current_version_id = NULL"))
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (our tables)
    from extensions import limiter

    limiter.reset()  # throttling counts belong to one test
    yield


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield


def demo_definition(slug: str) -> dict:
    for path in DEMO_FORMS.glob("*.yaml"):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if raw["slug"] == slug:
            return raw
    raise KeyError(slug)


@pytest.fixture
def create_form(app):
    """Publish a definition (a dict as in a YAML file) and return its FormVersion id."""
    from forms.schema import validate
    from services.catalog import LoadReport, publish

    def factory(definition: dict, **overrides):
        raw = copy.deepcopy(definition)
        raw.update(overrides)
        with app.app_context():
            from extensions import db

            version = publish(validate(raw, "test"), LoadReport([], [], []))
            db.session.commit()
            return version.id if version else None

    return factory


@pytest.fixture
def client(app):
    return FormClient(app.test_client())


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class FormClient:
    """A test client that reads the CSRF token from the page it is on, like a browser."""

    def __init__(self, client):
        self.client = client
        self.last_html = ""

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        self.last_html = response.get_data(as_text=True)
        return response

    def csrf_token(self) -> str:
        match = CSRF.search(self.last_html)
        assert match, "the page has no CSRF token"
        return match.group(1) or match.group(2)

    def post(self, url: str, data: dict | None = None, csrf: bool = True, **kwargs):
        """GET the page first when no token is known yet, then POST like a browser."""
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            if "csrf_token" not in self.last_html:
                self.get(url)
            data["csrf_token"] = self.csrf_token()
        response = self.client.post(url, data=data, **kwargs)
        self.last_html = response.get_data(as_text=True)
        return response

    def fill(self, slug: str, page: int, data: dict, action: str = "continue", **kwargs):
        url = f"/calls/{slug}/page/{page}"
        self.get(url)
        return self.post(url, {**data, "action": action}, **kwargs)


def errors_in(html: str) -> list[str]:
    """The messages shown beside fields, in page order."""
    found = re.findall(
        r'class="error-message"[^>]*>\s*<span class="visually-hidden">[^<]*</span>'
        r"\s*([^<]*?)\s*</p>",
        html,
    )
    return [m.replace("&#39;", "'").replace("&amp;", "&") for m in found]


OWN_SQLITE_SERVERS = {"live_server", "site"}
POSTGRESQL_ONLY = {"private_postgres", "postgresql_pass"}


def pytest_collection_modifyitems(config, items):
    """The PostgreSQL pass leaves out what would run exactly as in the SQLite pass: servers
    started by `tests.browser.flask_server` (`live_server`; `site` of the accessibility tests)
    serve their own SQLite file, unless the journey tests give theirs the pass's database,
    and the fresh clone runs `make run`. They are reported as deselected."""
    if os.environ.get("FORMDESK_TEST_DATABASE") != "postgresql":
        # And the SQLite pass leaves out what only PostgreSQL has: a private cluster that
        # tests/test_faults.py stops and starts.
        drop = [i for i in items if POSTGRESQL_ONLY & set(getattr(i, "fixturenames", ()))]
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = [i for i in items if i not in drop]
        return
    keep, drop = [], []
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        own_sqlite = bool(OWN_SQLITE_SERVERS & set(fixtures)) and "journey_database" not in fixtures
        fresh_clone = item.nodeid.startswith("tests/test_fresh_clone.py::test_a_fresh_clone")
        (drop if own_sqlite or fresh_clone else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
