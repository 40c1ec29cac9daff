"""Real parallel HTTP requests against a gunicorn server on the test database: 200 people
register for 30 seats at once, and two reviewers take the last place at once."""

from __future__ import annotations

import http.cookiejar
import re
import sys
import threading
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.browser import ROOT, ServerProcess, free_port, server_environment
from tests.definitions import base

SEATS, PEOPLE = 30, 200
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@pytest.fixture
def gunicorn(database_url, tmp_path, app):
    """4 worker processes × 4 threads: requests really run at the same time."""
    port = free_port()
    env = server_environment(tmp_path / "instance", tmp_path / "uploads", port)
    env["DATABASE_URL"] = database_url
    env["FLASK_FORMDESK_LOAD_FORMS_ON_START"] = "false"
    env["FLASK_FORMDESK_MIN_FILL_SECONDS"] = "0"  # robots are not what this test is about
    # Nor documents and email: 400 PDFs made meanwhile would only compete for the CPU.
    env["FLASK_FORMDESK_EMBEDDED_WORKER"] = "false"
    env["FLASK_FORMDESK_SUBMIT_LIMIT"] = "100000 per minute"
    env["FLASK_FORMDESK_PAGE_LIMIT"] = "100000 per minute"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        "4",
        "--threads",
        "4",
        "-b",
        f"127.0.0.1:{port}",
        "app:create_app()",
    ]
    server = ServerProcess(command, ROOT, env, port, tmp_path / "gunicorn.log").start(60)
    yield server
    server.stop()
    print(server.log_tail(80))  # shown when the test fails


class Browserless:
    """One person: a cookie jar and the CSRF token of the last page seen."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.html = ""

    def get(self, path: str) -> int:
        with self.opener.open(self.base + path, timeout=300) as response:
            self.html = response.read().decode()
            return response.status

    def post(self, path: str, data: dict) -> tuple[int, str]:
        match = CSRF.search(self.html)
        body = urllib.parse.urlencode({**data, "csrf_token": match.group(1) or match.group(2)})
        with self.opener.open(self.base + path, body.encode(), timeout=300) as response:
            self.html = response.read().decode()
            return response.status, response.url


def register(server_url: str, index: int, barrier: threading.Barrier) -> str:
    person = Browserless(server_url)
    person.get("/calls/race/page/1")
    person.post("/calls/race/page/1", {"name": f"Person {index}", "action": "continue"})
    person.get("/calls/race/check")
    barrier.wait(timeout=600)  # everyone presses "Send" together
    status, url = person.post("/calls/race/check", {})
    assert status == 200, person.html[:300]
    return url


def states(app, slug: str) -> list[str]:
    from models import Form, Submission

    with app.app_context():
        form = Form.query.filter_by(slug=slug).one()
        return [s.state for s in Submission.query.filter_by(form_id=form.id)]


def test_200_racing_registrations_for_30_seats(app, create_form, gunicorn):
    create_form(
        base(
            "race",
            [
                {
                    "title": "You",
                    "fields": [{"name": "name", "type": "text", "label": "Name", "required": True}],
                }
            ],
            capacity=SEATS,
            workflow="event-registration",
        )
    )
    barrier = threading.Barrier(PEOPLE)
    with ThreadPoolExecutor(PEOPLE) as pool:
        urls = list(pool.map(lambda i: register(gunicorn.url, i, barrier), range(PEOPLE)))
    assert all(url.endswith("/calls/race/confirmation") for url in urls)
    result = states(app, "race")
    assert len(result) == PEOPLE  # none lost
    assert result.count("confirmed") == SEATS
    assert result.count("waitlisted") == PEOPLE - SEATS


@pytest.fixture
def deployed(database_url, tmp_path, app):
    """gunicorn as deploy/gunicorn.conf.py runs it: the app built once in the master
    (preload_app), 2 forked workers × 4 threads."""
    port = free_port()
    env = server_environment(tmp_path / "instance", tmp_path / "uploads", port)
    env.update(
        DATABASE_URL=database_url,
        FORMDESK_BIND=f"127.0.0.1:{port}",
        FORMDESK_WEB_WORKERS="2",
        FORMDESK_WEB_THREADS="4",
        FLASK_FORMDESK_LOAD_FORMS_ON_START="false",
        FLASK_FORMDESK_MIN_FILL_SECONDS="0",
        FLASK_FORMDESK_EMBEDDED_WORKER="false",
        FLASK_FORMDESK_SUBMIT_LIMIT="100000 per minute",
        FLASK_FORMDESK_PAGE_LIMIT="100000 per minute",
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "deploy/gunicorn.conf.py",
        "app:create_app()",
    ]
    server = ServerProcess(command, ROOT, env, port, tmp_path / "gunicorn.log").start(60)
    yield server
    server.stop()
    print(server.log_tail(80))  # shown when the test fails


def test_forked_workers_of_the_deployment_configuration_use_their_own_connections(
    app, create_form, deployed
):
    """The master opened database connections while building the app (migrations); workers
    forked from it that kept using them would share one socket (PostgreSQL) or one SQLite
    handle between processes, and requests running together would fail or mix answers."""
    people = 40
    create_form(
        base(
            "forked",
            [{"title": "You", "fields": [{"name": "name", "type": "text", "label": "Name"}]}],
            workflow="event-registration",
            capacity=people,
        )
    )

    def register_one(index: int) -> str:
        person = Browserless(deployed.url)
        person.get("/calls/forked/page/1")
        person.post("/calls/forked/page/1", {"name": f"Forked {index}", "action": "continue"})
        person.get("/calls/forked/check")
        status, url = person.post("/calls/forked/check", {})
        assert status == 200, person.html[:300]
        return url

    with ThreadPoolExecutor(8) as pool:
        urls = list(pool.map(register_one, range(people)))
    assert all(url.endswith("/calls/forked/confirmation") for url in urls)
    assert states(app, "forked").count("confirmed") == people
    assert "Traceback" not in deployed.log_tail(400)


def test_two_reviewers_accepting_the_last_place_at_once(app, create_form):
    """The last of 3 places: two decisions arrive together, exactly one wins."""
    from services.transitions import Actor, TransitionRefused, transition

    create_form(
        base(
            "last",
            [{"title": "You", "fields": [{"name": "name", "type": "text", "label": "Name"}]}],
            capacity=1,
        )
    )
    from tests.test_workflows import send, submissions

    send(app, "last", {"name": "A"})
    send(app, "last", {"name": "B"})
    ids = [s[0] for s in submissions(app, "last")]
    with app.app_context():
        for submission_id in ids:
            transition(submission_id, "start_review", Actor("reviewer", None))
    barrier = threading.Barrier(2)

    def accept(submission_id: int) -> str:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                return transition(submission_id, "accept", Actor("reviewer", None)).state
            except TransitionRefused as refusal:
                return str(refusal)

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(accept, ids))
    assert outcomes == ["All 1 places are taken.", "accepted"]
    assert sorted(states(app, "last")) == ["accepted", "in_review"]


def test_one_draft_sent_in_parallel_becomes_one_submission(app, create_form, gunicorn):
    """Issue 14 (4): a double-click on "Send" (here 6 requests at once, each with the same
    cookie, as a browser sends them) made several submissions of one draft. Exactly one is
    made, and every request gets its confirmation."""
    create_form(
        base(
            "twice",
            [{"title": "You", "fields": [{"name": "name", "type": "text", "label": "Name"}]}],
            workflow="event-registration",
            capacity=30,
        )
    )
    person = Browserless(gunicorn.url)
    person.get("/calls/twice/page/1")
    person.post("/calls/twice/page/1", {"name": "Double Click", "action": "continue"})
    person.get("/calls/twice/check")
    cookies = list(person.jar)
    token = CSRF.search(person.html)
    body = urllib.parse.urlencode({"csrf_token": token.group(1) or token.group(2)}).encode()
    clicks = 6
    barrier = threading.Barrier(clicks)

    def press_send(_index: int) -> tuple[str, str]:
        jar = http.cookiejar.CookieJar()
        for cookie in cookies:  # the same cookie in every request
            jar.set_cookie(cookie)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        barrier.wait(timeout=60)
        with opener.open(gunicorn.url + "/calls/twice/check", body, timeout=120) as response:
            page = response.read().decode()
        found = re.search(r"TEST-\d{4}-\d{4}", page)
        return response.url, found.group(0) if found else page[:300]

    with ThreadPoolExecutor(clicks) as pool:
        answers = list(pool.map(press_send, range(clicks)))
    assert len(states(app, "twice")) == 1
    assert all(url.endswith("/calls/twice/confirmation") for url, _ in answers), answers
    assert len({reference for _, reference in answers}) == 1, answers
