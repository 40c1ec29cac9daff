"""Running in production: health checks, request ids, JSON logs without secrets, proxies,
and the gunicorn configuration file."""

import io
import json
import logging
import subprocess
import sys

import pytest
from flask import request

from app import create_app
from tests.browser import ROOT, free_port
from tests.test_app import TEST_KEY


def make(tmp_path, **config):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_KEY,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'ops.db'}",
            "FORMDESK_LOAD_FORMS_ON_START": False,
            "FORMDESK_UPLOAD_DIR": str(tmp_path / "uploads"),
            **config,
        }
    )


def test_healthz_checks_database_broker_and_storage(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "embedded", "storage": "ok"},
        # Items background duties gave up on (tests/test_duties.py fills them).
        "failed": {
            "copies": 0,
            "letters": 0,
            "expire_offer": 0,
            "digest": 0,
            "review_reminder": 0,
            "email": 0,
        },
    }


def test_healthz_fails_when_the_broker_is_down(tmp_path):
    app = make(tmp_path, FORMDESK_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "fail" and body["checks"]["broker"].startswith("fail")
    assert body["checks"]["database"] == "ok"


def test_healthz_fails_when_storage_cannot_be_written(tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    app = make(tmp_path, FORMDESK_UPLOAD_DIR=str(blocked))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["checks"]["storage"].startswith(
        "fail"
    )


def test_readyz_needs_the_schema_at_the_latest_migration(tmp_path):
    assert make(tmp_path).test_client().get("/readyz").status_code == 200
    empty = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_KEY,
            "FORMDESK_AUTO_MIGRATE": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}",
        }
    )
    response = empty.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["schema"].startswith(
        "fail"
    )


def test_every_response_carries_a_request_id(client):
    generated = client.get("/").headers["X-Request-ID"]
    assert len(generated) == 16
    given = client.get("/", headers={"X-Request-ID": "lb-1234abcd"}).headers["X-Request-ID"]
    assert given == "lb-1234abcd"
    hostile = client.get("/", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert len(hostile.headers["X-Request-ID"]) == 16  # replaced, not echoed


def test_json_access_logs_mask_applicant_tokens(tmp_path):
    app = make(tmp_path, FORMDESK_JSON_LOGS=True, FORMDESK_ACCESS_LOG=True)
    stream = io.StringIO()
    handler = logging.getLogger("formdesk.access").handlers[0]
    handler.setStream(stream)
    client = app.test_client()
    client.get("/s/SECRET-TOKEN-abcdef123456", headers={"X-Request-ID": "req-00000042"})
    client.get("/resume/ANOTHER-SECRET-token")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["path"] for line in lines] == ["/s/***", "/resume/***"]
    assert lines[0]["request_id"] == "req-00000042" and lines[0]["status"] == 404
    assert "SECRET" not in stream.getvalue()


def test_behind_a_proxy_links_use_the_forwarded_scheme_and_host(tmp_path):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "forms.example.org"}
    for hops, expected in ((1, "https://forms.example.org/"), (0, "http://localhost/")):
        app = make(tmp_path, FORMDESK_PROXY_COUNT=hops)
        app.add_url_rule("/_root", "root", lambda: request.url_root)  # what links are built on
        assert app.test_client().get("/_root", headers=forwarded).get_data(as_text=True) == expected


@pytest.mark.slow  # gunicorn
def test_the_gunicorn_configuration_file_is_valid(tmp_path):
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--check-config",
            "-c",
            "deploy/gunicorn.conf.py",
            "app:create_app()",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "FLASK_SECRET_KEY": TEST_KEY,
            "FLASK_FORMDESK_PUBLIC_URL": "https://forms.example.org",
            "PATH": "/usr/bin:/bin",
            "FORMDESK_INSTANCE_PATH": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
