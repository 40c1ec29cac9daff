"""Issue 14 (9): pages that show a private link or personal data carry
`Cache-Control: no-store`, so no shared cache or proxy keeps them and a browser's back
button on a shared computer does not show them again after the person left."""

from __future__ import annotations

import re

from tests.conftest import FormClient
from tests.definitions import base

PASSWORD = "correct horse battery staple"  # noqa: S105
PAGE = [
    {
        "title": "You",
        "fields": [
            {"name": "contact_name", "type": "text", "label": "Name", "required": True},
            {"name": "email", "type": "email", "label": "Email", "required": True},
        ],
    }
]
ANSWERS = {"contact_name": "Prywatna Osoba", "email": "private@example.org"}


def private_pages(app, create_form) -> dict[str, tuple[FormClient, str]]:
    """Every kind of page with a private link or personal data, and who opens it."""
    create_form(base("private", PAGE))
    saver, sender, staff = (FormClient(app.test_client()) for _ in range(3))
    saver.fill("private", 1, ANSWERS, action="save")
    saved = saver.get("/calls/private/saved").get_data(as_text=True)
    resume = re.search(r"http://formdesk\.test(/resume/[\w-]+)", saved).group(1)
    sender.fill("private", 1, ANSWERS)
    sender.get("/calls/private/check")
    sender.post("/calls/private/check", {})
    confirmation = sender.get("/calls/private/confirmation").get_data(as_text=True)
    status = re.search(r"http://formdesk\.test(/s/[\w-]+)", confirmation).group(1)
    created = app.test_cli_runner().invoke(
        args=["users", "create", "admin@example.org", "--role", "admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert created.exit_code == 0, created.output
    staff.get("/login")
    assert (
        staff.post("/login", {"email": "admin@example.org", "password": PASSWORD}).status_code
        == 302
    )
    from models import Submission

    with app.app_context():
        submission_id = Submission.query.one().id
    return {
        "form page": (saver, "/calls/private/page/1"),
        "saved page": (saver, "/calls/private/saved"),
        "check page": (saver, "/calls/private/check"),
        "resume link": (FormClient(app.test_client()), resume),
        "confirmation": (sender, "/calls/private/confirmation"),
        "applicant's page": (sender, status),
        "dashboard": (staff, "/dashboard/"),
        "submission in review": (staff, f"/dashboard/submissions/{submission_id}"),
        "account": (staff, "/account/password"),
    }


def test_pages_with_a_private_link_or_personal_data_are_never_stored(app, create_form):
    stored = {}
    for name, (client, path) in private_pages(app, create_form).items():
        response = client.get(path)
        assert response.status_code in (200, 302), (name, response.status_code)
        stored[name] = response.headers.get("Cache-Control", "")
    assert {name: value for name, value in stored.items() if "no-store" not in value} == {}
