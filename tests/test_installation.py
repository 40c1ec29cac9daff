"""The installation's own name, logo and accent colour, set by an admin on the settings page
and seen where people meet the service: the public header and footer, the accessibility
statement, an email received by a real SMTP server, a PDF read by Poppler. The refusals
(a colour too light, an SVG with a script or an outside reference, a file that is not a
PNG, a file too large), who may change them, the audit log, and the environment variables
that win."""

from __future__ import annotations

import io
import re
import struct
import zlib
from html import unescape

import docx
import pytest

from tests.conftest import FormClient, errors_in
from tests.conftest_mail import deliver
from tests.definitions import window
from tests.test_documents import poppler_text
from tests.test_outcome import DEMO_CALLS
from tests.test_review_detail import PASSWORD, staff

SETTINGS = "/dashboard/admin/settings"
NAME = "Gmina Przykładowo"


def png(width: int = 4, height: int = 2) -> bytes:
    """A real PNG, made by hand (no image library in the test's own path)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    # Diagonal stripes of yellow and near-black: a logo a person can see on a screenshot.
    stripes = (b"\xff\xdd\x00", b"\x0b\x0c\x0c")
    rows = b"".join(
        b"\x00" + b"".join(stripes[(x + y) // 5 % 2] for x in range(width)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PLAIN_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<title>Logo</title><rect width="10" height="10" fill="#1d4f91"/></svg>'
)


def signed_in(app, email: str) -> FormClient:
    client = FormClient(app.test_client())
    client.get("/login")
    assert client.post("/login", {"email": email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def admin(app):
    staff(app, "ada@example.org", "admin")
    return signed_in(app, "ada@example.org")


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def save(admin: FormClient, logo: tuple[bytes, str] | None = None, **fields):
    admin.get(SETTINGS)
    data = {"name_default": NAME, "email": "", "accent": "", "reviewed": "", **fields}
    if logo is not None:
        data["logo"] = (io.BytesIO(logo[0]), logo[1])
    return admin.post(SETTINGS, data, content_type="multipart/form-data")


def logo_address(html: str) -> str:
    match = re.search(r'<img class="brand-logo" src="([^"]+)" alt="([^"]*)"', html)
    assert match, "no logo in the header"
    assert match.group(2) == NAME
    return match.group(1)


def test_the_name_and_logo_appear_in_the_public_header_footer_and_statement(app, admin, client):
    response = save(admin, logo=(png(), "logo.png"), accent="#1d4f91", email="info@gmina.example")
    assert response.status_code == 302
    assert admin.get(SETTINGS).headers["Cache-Control"] == "no-store"

    page = client.get("/")
    html = page.get_data(as_text=True)
    assert NAME in text(html.split("</header>")[0])  # the header
    assert f"{NAME} runs this service." in text(html.split("<footer")[1])
    address = logo_address(html)
    logo = client.client.get(address)
    assert logo.status_code == 200
    assert logo.headers["Content-Type"] == "image/png"
    assert logo.data == png()
    assert "sandbox" in logo.headers["Content-Security-Policy"]
    # The site's policy is the strict one still: no inline style came with the colour.
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    accent = re.search(r'<link rel="stylesheet" href="(/installation/accent\.css[^"]*)"', html)
    assert accent, "no accent stylesheet"
    css = client.client.get(unescape(accent.group(1)))
    assert css.headers["Content-Type"].startswith("text/css")
    assert "--brand: #1d4f91" in css.get_data(as_text=True)

    statement = text(client.get("/accessibility").get_data(as_text=True))
    assert f"{NAME} runs this service" in statement
    assert "info@gmina.example" in statement
    assert "Example Organisation" not in statement


def test_a_name_per_language_is_shown_in_that_language(app, admin, client):
    save(admin, name_sv="Exempelkommunen")
    assert "Exempelkommunen" in text(client.get("/?lang=sv").get_data(as_text=True))
    assert NAME in text(client.get("/?lang=de").get_data(as_text=True))


def test_a_staff_email_received_carries_the_name_as_sender_and_in_its_footer(app, admin, smtp):
    save(admin)
    admin.get("/dashboard/admin/staff/invite")
    response = admin.post(
        "/dashboard/admin/staff/invite",
        {"email": "rita@example.org", "role": "reviewer", "language": "en"},
    )
    assert response.status_code == 302
    deliver(app)
    message = smtp.inbox.wait_for(1)[0]
    assert NAME in str(message["From"])
    body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body.endswith(f"ignore this email.\n\n-- \n{NAME}\n")
    assert NAME in message.get_body(("html",)).get_content()


def test_a_pdf_and_a_docx_carry_the_name(app, admin, client, create_form, tmp_path):
    save(admin)
    create_form(DEMO_CALLS["msas"], **window())
    response = client.client.get("/calls/msas/form.pdf?lang=en")
    assert response.status_code == 200
    assert NAME in " ".join(poppler_text(response.data, tmp_path).split())
    word = docx.Document(io.BytesIO(client.client.get("/calls/msas/form.docx?lang=en").data))
    assert NAME in word.sections[0].footer.paragraphs[0].text


def test_a_colour_with_too_little_contrast_is_refused_with_its_ratio(app, admin):
    response = save(admin, accent="#ffdd00")
    assert response.status_code == 400
    [message] = errors_in(admin.last_html)
    assert "1.34:1" in message and "4.5:1" in message
    assert 'id="accent-error"' in admin.last_html  # beside the field
    response = save(admin, accent="blue")
    assert response.status_code == 400
    assert "#1d4f91" in errors_in(admin.last_html)[0]


def test_the_refusals_are_in_the_pages_language(app, admin):
    admin.get(SETTINGS + "?lang=pl")
    response = save(admin, accent="#ffdd00")
    assert response.status_code == 400
    assert "kontrast" in errors_in(admin.last_html)[0].lower()


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "script.svg",
            "<script>",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect onload="alert(1)"/></svg>',
            "event.svg",
            "onload",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
            b'<use xlink:href="https://evil.example/x.svg#a"/></svg>',
            "outside.svg",
            "outside itself",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://evil.example/)"/>'
            b"</svg>",
            "outside-fill.svg",
            "outside itself",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "y">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
            "entity.svg",
            "DTD",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(//evil.example/a.css);'
            b"</style></svg>",
            "style.svg",
            "<style>",
        ),
        (b"GIF89a\x01\x00\x01\x00", "logo.png", "neither"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "broken.png", "damaged"),
        (png() + b"\x00" * (256 * 1024), "large.png", "at most 256 KB"),
    ],
)
def test_a_logo_that_is_not_a_plain_png_or_svg_is_refused(app, admin, content, filename, expected):
    response = save(admin, logo=(content, filename))
    assert response.status_code == 400
    [message] = errors_in(admin.last_html)
    assert expected in unescape(message)
    assert 'id="logo-error"' in admin.last_html
    from models import installation

    with app.app_context():
        assert installation.logo() is None
        assert not installation.is_named()  # nothing of a refused change is kept


def test_a_plain_svg_is_accepted_and_served_as_svg(app, admin, client):
    assert save(admin, logo=(PLAIN_SVG, "logo.svg")).status_code == 302
    address = logo_address(client.get("/").get_data(as_text=True))
    response = client.client.get(address)
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_name_with_a_control_character_is_refused_beside_the_field(app, admin):
    response = save(admin, name_default="Gmina\x00X")
    assert response.status_code == 400
    assert 'id="name_default-error"' in admin.last_html
    response = save(admin, name_default="x" * 121)
    assert response.status_code == 400


def test_only_admins_change_settings_and_every_change_is_in_the_audit_log(app, admin, client):
    staff(app, "carl@example.org", "call_manager")
    staff(app, "rae@example.org", "reviewer")
    for email in ("carl@example.org", "rae@example.org"):
        other = signed_in(app, email)
        assert other.get(SETTINGS).status_code == 403
    assert client.get(SETTINGS).status_code == 302  # to sign in
    save(admin, accent="#1d4f91")
    assert save(admin, accent="#1d4f91").status_code == 302  # nothing changed: no entry
    audit = text(admin.get("/dashboard/admin/staff/audit").get_data(as_text=True))
    assert audit.count("Changed the installation's settings") == 1
    assert "Accent colour: #1d4f91" in audit and f"Name: {NAME}" in audit


def test_a_request_without_the_csrf_token_is_refused(app, admin):
    admin.get(SETTINGS)
    response = admin.post(SETTINGS, {"name_default": NAME}, csrf=False)
    assert response.status_code == 400
    from models import installation

    with app.app_context():
        assert not installation.is_named()


def test_environment_variables_win_over_the_settings(app, admin, client, monkeypatch):
    save(admin, email="info@gmina.example")
    monkeypatch.setitem(app.config, "FORMDESK_OPERATOR_NAME", "Landkreis Beispiel")
    monkeypatch.setitem(app.config, "FORMDESK_OPERATOR_EMAIL", "a11y@landkreis.example")
    page = text(client.get("/accessibility").get_data(as_text=True))
    assert "Landkreis Beispiel runs this service" in page
    assert "a11y@landkreis.example" in page and NAME not in page
    settings_page = text(admin.get(SETTINGS).get_data(as_text=True))
    assert "FLASK_FORMDESK_OPERATOR_NAME" in settings_page
    monkeypatch.setitem(app.config, "FORMDESK_ACCENT_COLOUR", "#00703C")
    css = client.client.get("/installation/accent.css").get_data(as_text=True)
    assert "--brand: #00703c" in css


def test_an_email_text_names_the_installation_by_its_placeholder(app, admin, smtp):
    save(admin)
    url = "/dashboard/admin/emails/all/invitation/en"
    admin.get(url)
    body = "{greeting}\n\n{installation} invites you: {account_link}"
    response = admin.post(url, {"subject": "Join {installation}", "body": body, "action": "save"})
    assert response.status_code == 302, errors_in(admin.last_html)
    admin.get("/dashboard/admin/staff/invite")
    admin.post(
        "/dashboard/admin/staff/invite",
        {"email": "rita@example.org", "role": "reviewer", "language": "en"},
    )
    deliver(app)
    message = smtp.inbox.wait_for(1)[0]
    assert message["Subject"] == f"Join {NAME}"
    assert f"{NAME} invites you: http" in message.get_body(("plain",)).get_content()


def test_the_name_in_mail_default_sender_wins_as_the_sender_name(app, admin, smtp, monkeypatch):
    save(admin)
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", "Helpdesk <calls@formdesk.test>")
    admin.get("/dashboard/admin/staff/invite")
    admin.post(
        "/dashboard/admin/staff/invite",
        {"email": "rita@example.org", "role": "reviewer", "language": "en"},
    )
    deliver(app)
    message = smtp.inbox.wait_for(1)[0]
    assert message["From"].addresses[0].display_name == "Helpdesk"
    assert message.get_body(("plain",)).get_content().rstrip().endswith(NAME)  # the footer
