"""Configuration defaults. Every key can be overridden by a `FLASK_<KEY>` environment
variable (Flask's `from_prefixed_env`); `DATABASE_URL` is accepted as the usual alias."""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
# Made by a development start in the instance folder; its presence marks the folder as a
# development one, so the `flask` commands beside `make run` find the same key.
DEVELOPMENT_KEY_FILE = "development-secret-key"
MIN_SECRET_KEY_LENGTH = 32

# The installation's languages, each by its own name, in the language switcher's order: the
# one list (forms, pages, the switcher, the email-text editor). Each needs a catalogue in
# translations/ and texts in mail/defaults.yaml, workflows/definitions/ and
# documents/letters.yaml (tests/test_language_coverage.py checks all of them).
LANGUAGES = {
    "pl": "Polski",
    "sv": "Svenska",
    "en": "English",
    "de": "Deutsch",
    "lt": "Lietuvių",
}


class Defaults:
    # FLASK_SECRET_KEY; unset, `install_secret_key` uses the development key or refuses.
    SECRET_KEY: str | None = None
    # Development (`make run` sets FLASK_FORMDESK_DEVELOPMENT=true): no FLASK_SECRET_KEY is
    # needed, a random key is kept in the instance folder. See README "Development".
    FORMDESK_DEVELOPMENT = False
    SQLALCHEMY_DATABASE_URI: str | None = None  # None → SQLite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # Whole-request limit; per-field upload limits are in the form definitions.
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024
    MAX_FORM_PARTS = 2000

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session: long forms take time
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    FORMDESK_FORMS_DIR = str(BASE_DIR / "forms" / "definitions")
    FORMDESK_WORKFLOWS_DIR = str(BASE_DIR / "workflows" / "definitions")
    FORMDESK_UPLOAD_DIR = str(BASE_DIR / "uploads")
    # Uploaded files and generated documents: "local" (FORMDESK_UPLOAD_DIR) or "s3" (a bucket
    # in an S3-compatible store, for several machines; credentials from the AWS environment
    # variables or the machine's role, never here). See storage.py and README "Storage".
    FORMDESK_STORAGE = "local"
    FORMDESK_S3_BUCKET: str | None = None
    FORMDESK_S3_ENDPOINT_URL: str | None = None  # MinIO and others; unset for AWS
    FORMDESK_S3_REGION: str | None = None
    FORMDESK_S3_PREFIX = ""  # key prefix inside the bucket, e.g. "formdesk/"
    FORMDESK_S3_SERVER_SIDE_ENCRYPTION: str | None = None  # "AES256" or "aws:kms"
    FORMDESK_S3_SSE_KMS_KEY_ID: str | None = None  # with "aws:kms": a key other than the default
    # Minutes after `closes_at` in which a submission whose draft was started before the
    # deadline is still accepted (a person pressing "Submit" at 23:59:58 is not turned away).
    FORMDESK_GRACE_MINUTES = 15
    # Load the definitions in FORMDESK_FORMS_DIR when the database has no form yet.
    FORMDESK_LOAD_FORMS_ON_START = True
    # Create missing tables on start (embedded default). Deployments run `flask db upgrade`.
    FORMDESK_AUTO_MIGRATE = True
    # Sign-in throttling: per client address (Flask-Limiter syntax); and per account and
    # address, after this many failures each further one doubles the wait before the next
    # try (from the first delay up to the longest). Never a lock-out of the account itself.
    FORMDESK_LOGIN_LIMIT_PER_ADDRESS = "30 per minute"
    FORMDESK_LOGIN_FREE_ATTEMPTS = 5
    FORMDESK_LOGIN_FIRST_DELAY_SECONDS = 2
    FORMDESK_LOGIN_MAX_DELAY_SECONDS = 15 * 60
    # Where the counts of every limit are kept. Unset: a SQLite file in the instance folder,
    # shared by the processes of one machine (rate_limit_storage.py); several machines share
    # Redis (redis://127.0.0.1:6379/1); memory:// counts per process (tests).
    RATELIMIT_STORAGE_URI: str | None = None
    RATELIMIT_HEADERS_ENABLED = True
    # Email: Flask-Mail's own keys (FLASK_MAIL_SERVER=…). With no MAIL_SERVER, messages are
    # written as .eml files in instance/outbox/ and stay visible in the outbox view.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "formdesk@localhost"
    # Make documents and deliver the outbox from a background thread in each web process
    # (embedded default; production sets this false and runs Celery workers).
    FORMDESK_EMBEDDED_WORKER = True
    FORMDESK_WORKER_POLL_SECONDS = 5.0
    FORMDESK_MAIL_RETRY_SECONDS = 30.0  # first retry; doubles each time
    FORMDESK_MAIL_RETRY_MAX_SECONDS = 6 * 3600.0
    FORMDESK_MAIL_MAX_ATTEMPTS = 12
    # A sender that died while holding a message is replaced after this many seconds.
    FORMDESK_MAIL_CLAIM_SECONDS = 300
    # Celery broker (e.g. redis://127.0.0.1:6379/0). Unset: the embedded worker does the
    # work in each web process. Set: web processes only enqueue; `celery` workers do it.
    FORMDESK_BROKER_URL: str | None = None
    # Redis hands a task whose worker died to another worker after this many seconds.
    FORMDESK_BROKER_VISIBILITY_SECONDS = 3600
    # Key that derives applicants' links (defaults to SECRET_KEY). Set it separately so that
    # rotating SECRET_KEY (which signs sessions) keeps the links in sent emails working.
    FORMDESK_TOKEN_KEY: str | None = None
    # Absolute address of the service (https://forms.example.org): every link in emails is
    # built on it, and requests for any other host are refused (TRUSTED_HOSTS). Required
    # outside development; see `install_public_url`.
    FORMDESK_PUBLIC_URL: str | None = None
    # Operations: JSON log lines with the request id, an access log line per request,
    # and how many reverse proxies in front of the service set X-Forwarded-* (0: none).
    FORMDESK_JSON_LOGS = False
    FORMDESK_ACCESS_LOG = False
    FORMDESK_LOG_LEVEL = "INFO"
    FORMDESK_PROXY_COUNT = 0
    # Recently closed calls stay on the list of calls for this many days, marked closed.
    FORMDESK_RECENTLY_CLOSED_DAYS = 30
    # How often a builder page asks whether someone else saved the call meanwhile.
    FORMDESK_DRAFT_WATCH_SECONDS = 20
    # Who runs this installation: admins set these on the settings page (Admin → Settings,
    # models/installation.py); each of these, when set, wins over the admin's choice. The
    # name (header, emails, documents, accessibility statement, privacy notice), the contact
    # address, the accent colour (#rrggbb, 4.5:1 against white) and when the accessibility
    # statement was last reviewed (ISO date).
    FORMDESK_OPERATOR_NAME: str | None = None
    FORMDESK_OPERATOR_EMAIL: str | None = None
    FORMDESK_ACCENT_COLOUR: str | None = None
    FORMDESK_ACCESSIBILITY_REVIEWED: str | None = None

    # --- Single sign-on with OpenID Connect (README "Single sign-on") ---------------------
    # The identity provider's issuer (its discovery document is
    # <issuer>/.well-known/openid-configuration), this service's client id and secret there,
    # and the provider's name on the sign-in button ("Sign in with <name>"). Without an
    # issuer there is no button and the sign-in routes answer 404; see `oidc_settings`.
    FORMDESK_OIDC_ISSUER: str | None = None
    FORMDESK_OIDC_CLIENT_ID: str | None = None
    FORMDESK_OIDC_CLIENT_SECRET: str | None = None
    FORMDESK_OIDC_NAME: str | None = None

    # --- Security (README "Security") ------------------------------------------------------
    # Served over HTTPS (behind a TLS proxy): Secure cookies and Strict-Transport-Security.
    FORMDESK_HTTPS = False
    FORMDESK_HSTS_SECONDS = 365 * 24 * 3600
    # Throttling of the public side per client address (Flask-Limiter syntax; counted where
    # RATELIMIT_STORAGE_URI says: by default shared by the processes of one machine).
    FORMDESK_PAGE_LIMIT = "60 per minute;600 per hour"  # form pages sent (POST)
    FORMDESK_SUBMIT_LIMIT = "10 per minute;50 per hour"  # applications sent ("Send")
    # Requests to /resume/<token> and /s/<token>…, and those whose token opens nothing.
    FORMDESK_TOKEN_LIMIT = "60 per minute;1000 per hour"  # noqa: S105 (a limit, not a secret)
    FORMDESK_TOKEN_MISS_LIMIT = "10 per minute;100 per day"  # noqa: S105 (a limit)
    # Robots: a form page answered faster than this after it was first shown is refused
    # (0 turns it off); a hidden field people never see must stay empty.
    FORMDESK_MIN_FILL_SECONDS = 3
    # A second application with the same email to the same call within this many hours
    # needs an explicit confirmation (0 turns the check off).
    FORMDESK_DUPLICATE_WINDOW_HOURS = 24
    # Office packages (DOCX, XLSX, ODT, ODS) are refused when they unpack to more than this,
    # to more than this many times their size (above 10 MB), or hold more parts.
    FORMDESK_ZIP_MAX_UNCOMPRESSED_MB = 100
    FORMDESK_ZIP_MAX_RATIO = 100
    FORMDESK_ZIP_MAX_ENTRIES = 2000
    # ClamAV: uploads are scanned by clamd when a socket path or a host is set.
    FORMDESK_CLAMD_SOCKET: str | None = None
    FORMDESK_CLAMD_HOST: str | None = None
    FORMDESK_CLAMD_PORT = 3310
    FORMDESK_CLAMD_TIMEOUT = 30


def instance_path_from_environment() -> str | None:
    """FORMDESK_INSTANCE_PATH moves the instance folder (SQLite file, outbox .eml files)."""
    path = os.environ.get("FORMDESK_INSTANCE_PATH")
    return os.path.abspath(path) if path else None


def sqlite_writer_queue_enabled() -> bool:
    """FORMDESK_SQLITE_WRITER_QUEUE=false turns off sqlite_writers (for comparisons)."""
    return os.environ.get("FORMDESK_SQLITE_WRITER_QUEUE", "true").lower() != "false"


def sqlite_busy_ms() -> int:
    return int(os.environ.get("FORMDESK_SQLITE_BUSY_MS", 30000))


def in_reloader_child() -> bool:
    """The process Flask's reloader restarts (not its watcher): it sets WERKZEUG_RUN_MAIN."""
    return bool(os.environ.get("WERKZEUG_RUN_MAIN"))


def database_url_from_environment() -> str | None:
    """`DATABASE_URL` as Heroku-style hosts set it, normalised for SQLAlchemy + psycopg 3."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class StartupRefused(SystemExit):
    """A setting that cannot work: the process stops with this one line on stderr and exit
    status 1, without a traceback (gunicorn, `flask run` and every `flask` command alike)."""

    def __init__(self, message: str):
        super().__init__(f"Formdesk cannot start: {message}")


def install_secret_key(config: dict, instance_path: str) -> None:
    """Give the app a secret key that nobody else knows: FLASK_SECRET_KEY when set; else, in
    development, the random key kept in the instance folder (made on the first start, found
    by every later process on that folder: the `flask` commands); else refuse to start."""
    for name in ("SECRET_KEY", "FORMDESK_TOKEN_KEY"):
        if config.get(name) and len(config[name]) < MIN_SECRET_KEY_LENGTH:
            raise StartupRefused(
                f"FLASK_{name} is shorter than {MIN_SECRET_KEY_LENGTH} characters "
                f"(make one with {_KEY_RECIPE})"
            )
    if config.get("SECRET_KEY"):
        return
    key_file = Path(instance_path) / DEVELOPMENT_KEY_FILE
    if config.get("FORMDESK_DEVELOPMENT") or key_file.exists():
        config["FORMDESK_DEVELOPMENT"] = True
        config["SECRET_KEY"] = development_key(key_file)
    elif config.get("TESTING"):
        config["SECRET_KEY"] = secrets.token_hex(32)  # a test app signs only its own cookies
    else:
        raise StartupRefused(
            f"FLASK_SECRET_KEY is not set (make one with {_KEY_RECIPE}); "
            "for development, start with `make run`"
        )


_KEY_RECIPE = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def development_key(path: Path) -> str:
    if not path.exists():
        _create_key_file(path)
    key = path.read_text(encoding="ascii", errors="replace").strip()
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise StartupRefused(f"{path} holds no usable key; delete it and start again")
    return key


def _create_key_file(path: Path) -> None:
    """Written whole under a temporary name (mode 0600), then linked into place: processes
    starting at once (the reloader and its child, gunicorn workers) all end up with the key
    of whichever was first, never a half-written one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process was first: its key is the one
    finally:
        os.unlink(temporary)


# Health checks of a load balancer or a container ask the process itself, by these names.
# (Werkzeug cannot match a bracketed IPv6 host such as [::1] against this list.)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


def install_public_url(config: dict) -> None:
    """Links in emails come only from FLASK_FORMDESK_PUBLIC_URL, never from a request's
    `Host` (anyone could make the service mail its staff a link to their own host). Outside
    development it is required, and requests for any host but its own (and loopback, for
    health checks) are refused with 400 by Flask's TRUSTED_HOSTS."""
    url = config.get("FORMDESK_PUBLIC_URL")
    if not url:
        if config.get("FORMDESK_DEVELOPMENT") or config.get("TESTING"):
            return  # links use the request's host only when it is a loopback address
        raise StartupRefused(
            "FLASK_FORMDESK_PUBLIC_URL is not set (the service's address for links in "
            "emails, e.g. https://forms.example.org); for development, start with `make run`"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise StartupRefused(
            f"FLASK_FORMDESK_PUBLIC_URL={url!r} is not an address like https://forms.example.org"
        )
    config["FORMDESK_PUBLIC_URL"] = url.rstrip("/")
    if config.get("TRUSTED_HOSTS") is None:
        config["TRUSTED_HOSTS"] = [parts.hostname, *LOOPBACK_HOSTS]


OIDC_SCOPES = "openid email profile"
MAX_OIDC_NAME = 60  # the provider's name on a button


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str | None
    name: str | None  # None: the button names no provider

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"


def oidc_settings(config: dict) -> OidcSettings | None:
    """Single sign-on's settings, or None when it is not configured. Half a configuration
    stops the start: a button that cannot work is worse than none. The issuer is HTTPS
    (plain HTTP only on this machine, for tests and development)."""
    issuer = (config.get("FORMDESK_OIDC_ISSUER") or "").strip().rstrip("/")
    client_id = (config.get("FORMDESK_OIDC_CLIENT_ID") or "").strip()
    if not issuer and not client_id:
        return None
    if not issuer or not client_id:
        raise StartupRefused(
            "single sign-on needs both FLASK_FORMDESK_OIDC_ISSUER and FLASK_FORMDESK_OIDC_CLIENT_ID"
        )
    parts = urlsplit(issuer)
    local = parts.hostname in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise StartupRefused(
            f"FLASK_FORMDESK_OIDC_ISSUER={issuer!r} is not an https:// address (the provider's "
            "issuer, e.g. https://login.microsoftonline.com/<tenant>/v2.0)"
        )
    if parts.query or parts.fragment:
        raise StartupRefused(f"FLASK_FORMDESK_OIDC_ISSUER={issuer!r} has a query or fragment")
    name = " ".join((config.get("FORMDESK_OIDC_NAME") or "").split())[:MAX_OIDC_NAME] or None
    return OidcSettings(issuer, client_id, config.get("FORMDESK_OIDC_CLIENT_SECRET") or None, name)
