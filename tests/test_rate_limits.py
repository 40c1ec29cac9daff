"""Rate limits are counted once per machine (the SQLite file in the instance folder) or once
per installation (Redis), never once per worker process: the storage itself with several
processes, and sign-ins against gunicorn with 4 workers."""

from __future__ import annotations

import http.cookiejar
import multiprocessing
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from rate_limit_storage import FILE_NAME, SQLiteStorage
from tests.browser import ROOT, ServerProcess, free_port, server_environment
from tests.conftest import need

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_reachable() -> bool:
    try:
        return storage_from_string(REDIS_URL).check()
    except Exception:  # noqa: BLE001  (any failure: not reachable)
        return False


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.service)])
def storage_uri(request, tmp_path):
    if request.param == "redis":
        need(redis_reachable(), f"Redis is not reachable at {REDIS_URL}")
        return REDIS_URL
    return f"sqlite:///{tmp_path / FILE_NAME}"


def _count(uri: str, key: str, times: int) -> None:
    storage = storage_from_string(uri)
    for _ in range(times):
        storage.incr(key, 60)


def test_processes_counting_at_once_lose_no_count(storage_uri):
    key = f"test-{uuid.uuid4()}"
    context = multiprocessing.get_context("spawn")  # nothing shared but the storage
    processes = [context.Process(target=_count, args=(storage_uri, key, 200)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    assert [p.exitcode for p in processes] == [0] * 4
    storage = storage_from_string(storage_uri)
    assert storage.get(key) == 800
    storage.clear(key)
    assert storage.get(key) == 0


def test_a_window_that_expired_starts_again(storage_uri):
    storage = storage_from_string(storage_uri)
    limiter = FixedWindowRateLimiter(storage)
    two_a_second = RateLimitItemPerSecond(2, 1)
    who = f"test-{uuid.uuid4()}"
    assert [limiter.hit(two_a_second, who) for _ in range(3)] == [True, True, False]
    reset_at = limiter.get_window_stats(two_a_second, who).reset_time
    time.sleep(max(0.0, reset_at - time.time()) + 0.1)
    assert limiter.get_window_stats(two_a_second, who).remaining == 2
    assert [limiter.hit(two_a_second, who) for _ in range(3)] == [True, True, False]


def test_the_sign_in_delay_counters_keep_their_own_expiry(tmp_path):
    """web.auth.SignInDelay uses `incr` with its own expiry as "wait this long"."""
    storage = storage_from_string(f"sqlite:///{tmp_path / FILE_NAME}")
    before = time.time()
    assert storage.incr("signin-wait/x", 30) == 1
    assert storage.incr("signin-wait/x", 900) == 2  # a live window keeps its end
    assert before + 29 <= storage.get_expiry("signin-wait/x") <= time.time() + 30
    assert storage.reset() == 1 and storage.get("signin-wait/x") == 0


def test_the_default_storage_is_a_file_in_the_instance_folder(tmp_path, monkeypatch):
    from app import create_app
    from extensions import limiter

    monkeypatch.delenv("FLASK_RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.setenv("FORMDESK_INSTANCE_PATH", str(tmp_path))
    saved = (limiter._storage, limiter._limiter)  # noqa: SLF001  (the test app's, given back)
    try:
        app = create_app(
            {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'formdesk.db'}"}
        )
        assert app.config["RATELIMIT_STORAGE_URI"] == f"sqlite:///{tmp_path / FILE_NAME}"
        assert isinstance(limiter.storage, SQLiteStorage)
        assert (tmp_path / FILE_NAME).exists()
    finally:
        limiter._storage, limiter._limiter = saved  # noqa: SLF001


# --- through gunicorn ------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
PER_ADDRESS, FREE_ATTEMPTS = 5, 2


def start_gunicorn(tmp_path, storage_uri: str | None) -> ServerProcess:
    """4 single-threaded worker processes: requests sent at once are answered by several.
    Forked from a master that built the app, as deploy/gunicorn.conf.py does (preload)."""
    port = free_port()
    env = server_environment(tmp_path / "instance", tmp_path / "uploads", port)
    env.update(
        FLASK_FORMDESK_LOAD_FORMS_ON_START="false",
        FLASK_FORMDESK_EMBEDDED_WORKER="false",
        FLASK_FORMDESK_LOGIN_LIMIT_PER_ADDRESS=f"{PER_ADDRESS} per minute",
        FLASK_FORMDESK_LOGIN_FREE_ATTEMPTS=str(FREE_ATTEMPTS),
        FLASK_FORMDESK_LOGIN_FIRST_DELAY_SECONDS="600",
        # A prefix of its own: the Redis may be shared with other runs.
        FLASK_RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4()}",
    )
    if storage_uri:
        env["FLASK_RATELIMIT_STORAGE_URI"] = storage_uri
    command = [sys.executable, "-m", "gunicorn", "-w", "4", "--preload", "-b", f"127.0.0.1:{port}"]
    command.append("app:create_app()")
    return ServerProcess(command, ROOT, env, port, tmp_path / "gunicorn.log").start(120)


@pytest.fixture
def gunicorn_with(tmp_path):
    servers = []

    def start(storage_uri: str | None) -> ServerProcess:
        servers.append(start_gunicorn(tmp_path, storage_uri))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()
        print(server.log_tail(40))  # shown when the test fails


def sign_in(url: str, email: str) -> int:
    """A person with their own cookies: the sign-in page, then a wrong password."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(url + "/login", timeout=120) as response:
        match = CSRF.search(response.read().decode())
    body = urllib.parse.urlencode(
        {"csrf_token": match.group(1) or match.group(2), "email": email, "password": "wrong"}
    ).encode()
    try:
        with opener.open(url + "/login", body, timeout=120) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def sign_ins_at_once(url: str, count: int) -> list[int]:
    emails = [f"person-{i}@example.org" for i in range(count)]
    with ThreadPoolExecutor(max_workers=count) as pool:
        return sorted(pool.map(lambda email: sign_in(url, email), emails))


@pytest.mark.parametrize("storage", ["default", pytest.param("redis", marks=pytest.mark.service)])
def test_four_workers_let_five_sign_ins_a_minute_through_from_one_address(storage, gunicorn_with):
    """Before: memory:// in each of 4 workers let up to 20 through. Then, per account and
    address, the growing delay holds whatever worker answers (web.auth.SignInDelay)."""
    if storage == "redis":
        need(redis_reachable(), f"Redis is not reachable at {REDIS_URL}")
    server = gunicorn_with(REDIS_URL if storage == "redis" else None)
    # The same account twice, then a third time: the delay of the second failure holds it.
    assert [sign_in(server.url, "same@example.org") for _ in range(3)] == [401, 401, 429]
    left = PER_ADDRESS - 3
    assert sign_ins_at_once(server.url, 12) == [401] * left + [429] * (12 - left)


def test_memory_storage_counts_per_worker(gunicorn_with):
    """Why the default is not memory://: the same requests get through more than 5 times.
    (The control that shows the requests above are spread over several workers.)"""
    server = gunicorn_with("memory://")
    assert sign_ins_at_once(server.url, 12).count(401) > PER_ADDRESS
