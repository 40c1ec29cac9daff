"""Issue 14 (2): links in emails follow the request's `Host`. They come only from
FLASK_FORMDESK_PUBLIC_URL; outside development it is required and requests for other hosts
are refused. Through the real app, a real database and the in-process SMTP server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from app import create_app
from tests.conftest import ROOT, FormClient, need
from tests.conftest_mail import SmtpServer, deliver, point_mail_at
from tests.definitions import base
from tests.test_app import refusal

ROOT_PASSWORD = "a long enough password 4 staff"  # noqa: S105
EVIL = "evil.example"
PAGE = [
    {
        "title": "You",
        "fields": [
            {"name": "contact_name", "type": "text", "label": "Name", "required": True},
            {"name": "email", "type": "email", "label": "Email", "required": True},
        ],
    }
]


def make(tmp_path, **config):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "h" * 40,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'hosts.db'}",
            "FORMDESK_LOAD_FORMS_ON_START": False,
            "FORMDESK_MIN_FILL_SECONDS": 0,
            **config,
        }
    )


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


def publish_call_with_a_reviewer(app) -> None:
    from extensions import db
    from forms.schema import validate
    from services.catalog import LoadReport, publish

    with app.app_context():
        publish(validate(base("hostcall", PAGE), "test"), LoadReport([], [], []))
        db.session.commit()
    created = app.test_cli_runner().invoke(
        args=["users", "create", "staff@example.org", "--role", "call_manager", "--all-forms"],
        input=f"{ROOT_PASSWORD}\n{ROOT_PASSWORD}\n",
    )
    assert created.exit_code == 0, created.output


def apply_and_save_as(app, host: str) -> list[int]:
    """Save the draft for later (the resume-link email), then send it (receipt and the
    reviewer's notice), every request asking for `host`; the statuses answered."""
    client = FormClient(app.test_client())
    headers = {"Host": host}
    url = "/calls/hostcall/page/1"
    answers = {"contact_name": "Mallory", "email": "staff@example.org"}
    statuses = [client.get(url, headers=headers).status_code]
    if statuses[0] != 200:
        return statuses
    statuses.append(client.post(url, {**answers, "action": "save"}, headers=headers).status_code)
    client.get(url, headers=headers)
    statuses.append(
        client.post(url, {**answers, "action": "continue"}, headers=headers).status_code
    )
    client.get("/calls/hostcall/check", headers=headers)
    statuses.append(client.post("/calls/hostcall/check", {}, headers=headers).status_code)
    return statuses


def links_in_delivered_mail(app, smtp_server) -> list[str]:
    deliver(app)
    messages = smtp_server.inbox.wait_for(3)
    assert len(messages) == 3, [m["Subject"] for m in messages]  # resume, receipt, notice
    bodies = []
    for message in messages:
        for part in message.walk():
            if part.get_content_maintype() == "text":
                bodies.append(part.get_content())
    return re.findall(r"https?://[^\s\"'<>)]+", "\n".join(bodies))


@pytest.mark.parametrize(
    ("host", "expected_base"),
    [
        (EVIL, "http://127.0.0.1:5000"),  # not this machine: never the request's host
        ("localhost:5000", "http://localhost:5000"),  # `make run` opened in a browser
    ],
)
def test_in_development_only_a_loopback_host_becomes_the_links_base(
    tmp_path, smtp_server, host, expected_base
):
    app = make(tmp_path, FORMDESK_DEVELOPMENT=True)
    point_mail_at(app, smtp_server.port)
    publish_call_with_a_reviewer(app)
    assert apply_and_save_as(app, host) == [200, 302, 302, 302]
    links = links_in_delivered_mail(app, smtp_server)
    assert links and all(link.startswith(expected_base + "/") for link in links), links
    assert not any(EVIL in link for link in links)


def test_with_a_public_url_links_use_it_and_other_hosts_are_refused(tmp_path, smtp_server):
    app = make(tmp_path, FORMDESK_PUBLIC_URL="https://forms.example.org/")
    point_mail_at(app, smtp_server.port)
    publish_call_with_a_reviewer(app)
    assert apply_and_save_as(app, EVIL) == [400]
    assert app.test_client().get("/healthz", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    assert apply_and_save_as(app, "forms.example.org") == [200, 302, 302, 302]
    links = links_in_delivered_mail(app, smtp_server)
    assert links and all(link.startswith("https://forms.example.org/") for link in links), links


def test_outside_development_the_service_refuses_to_start_without_a_public_url(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("FORMDESK_INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("FLASK_FORMDESK_DEVELOPMENT", "FLASK_FORMDESK_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    message = refusal({"SECRET_KEY": "s" * 40})
    assert "FLASK_FORMDESK_PUBLIC_URL is not set" in message
    message = refusal({"SECRET_KEY": "s" * 40, "FORMDESK_PUBLIC_URL": "forms.example.org"})
    assert "is not an address like https://" in message


def test_the_nginx_example_rejects_unknown_hosts(tmp_path):
    """deploy/nginx.conf: a default server answers any other Host with 444 (the connection
    closed); `nginx -t` accepts the file as it is shipped."""
    nginx = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    need(nginx is not None, "nginx is not installed (Debian: nginx-light)")
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"listen 443 ssl default_server;[^}]*return 444;", conf), conf
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603  (our own command line)
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]  # noqa: S607
        + ["-subj", "/CN=forms.example.org", "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )
    live = "/etc/letsencrypt/live/forms.example.org/"
    conf = conf.replace(f"{live}fullchain.pem", str(certificate))
    conf = conf.replace(f"{live}privkey.pem", str(key))
    conf = conf.replace("/var/log/nginx/", f"{tmp_path}/")
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n{conf}\n}}\n"
    )
    tested = subprocess.run(  # noqa: S603
        [nginx, "-t", "-p", str(tmp_path), "-c", str(main)],
        capture_output=True,
        text=True,
    )
    assert tested.returncode == 0, tested.stderr
