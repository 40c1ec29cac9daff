"""Staff management over HTTP, on the real app, database and a real SMTP server: invitations,
roles and calls, deactivation, password resets, two-factor sign-in, the audit log, and
that reviewers cannot decide while call managers can."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from html import unescape

import pyotp
import pytest
from sqlalchemy import select, update

from tests.conftest import FormClient
from tests.conftest_mail import deliver
from tests.test_review_detail import PASSWORD, act, apply, grant_answers, grant_form, staff

NEW_PASSWORD = "plum violin harbour sandal"  # noqa: S105
LINK = re.compile(r"http://formdesk\.test(/(?:invitation|password-reset)/[A-Za-z0-9_-]+)")


def signed_in(app, email: str, password: str = PASSWORD) -> FormClient:
    client = FormClient(app.test_client())
    client.get("/login")
    response = client.post("/login", {"email": email, "password": password})
    assert response.status_code == 302, "sign-in failed"
    return client


def text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def received_link(app, smtp, count: int) -> str:
    deliver(app)
    messages = smtp.inbox.wait_for(count)
    assert len(messages) >= count
    body = messages[count - 1].get_body(("plain",)).get_content()
    return LINK.search(body).group(1)


def user(app, email: str):
    from extensions import db
    from models import User

    with app.app_context():
        found = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge_all()
        return found


def audit_actions(app) -> list[str]:
    from extensions import db
    from models import AuditEntry

    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def admin(app):
    staff(app, "ada@example.org", "admin")
    return signed_in(app, "ada@example.org")


def invite(admin: FormClient, email: str, role: str = "reviewer", **extra):
    admin.get("/dashboard/admin/staff/invite")
    return admin.post(
        "/dashboard/admin/staff/invite",
        {"email": email, "role": role, "language": "sv", **extra},
    )


def test_an_invited_reviewer_accepts_by_the_emailed_link_and_is_signed_in(app, admin, smtp):
    response = invite(admin, "Rita@Example.org", "reviewer")
    assert response.status_code == 302
    link = received_link(app, smtp, 1)
    message = smtp.inbox.messages[0]
    assert message["To"] == "rita@example.org"
    assert message["Subject"] == "Du är inbjuden till Formdesk"  # the language the admin chose
    # Before accepting, the account cannot sign in (it has no password).
    assert (
        FormClient(app.test_client())
        .post("/login", {"email": "rita@example.org", "password": "any guess at all here"})
        .status_code
        == 401
    )

    rita = FormClient(app.test_client())
    assert rita.get(link).status_code == 200
    response = rita.post(link, {"name": "Rita Reviewer", "new": "short", "repeat": "short"})
    assert response.status_code == 400 and "at least 12" in text(response)
    response = rita.post(
        link, {"name": "Rita Reviewer", "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert rita.get("/dashboard/").status_code == 200  # signed in
    accepted = user(app, "rita@example.org")
    assert accepted.name == "Rita Reviewer"
    assert accepted.notify == "immediate"  # none while only invited

    # The link works once.
    again = FormClient(app.test_client()).get(link)
    assert again.status_code == 410 and "This invitation was used already" in text(again)
    assert "staff.invited" in audit_actions(app)
    assert "staff.invitation_accepted" in audit_actions(app)
    # The token is not stored, only its hash.
    from extensions import db
    from models import AccountLink

    with app.app_context():
        stored = db.session.scalars(select(AccountLink.token_hash)).all()
    assert link.rsplit("/", 1)[1] not in stored


def test_the_outbox_page_shows_no_working_account_link(app, admin, smtp):
    """An admin reading the outbox cannot take another person's reset or invitation link."""
    from extensions import db
    from models import OutboxMessage

    invite(admin, "rita@example.org")
    token = received_link(app, smtp, 1).rsplit("/", 1)[1]
    with app.app_context():
        message_id = db.session.scalar(select(OutboxMessage.id))
    page = text(admin.get(f"/dashboard/admin/outbox/{message_id}"))
    assert token not in page and "/invitation/[secret]" in page


def test_an_expired_invitation_is_refused_with_a_clear_message(app, admin, smtp):
    invite(admin, "late@example.org")
    link = received_link(app, smtp, 1)
    from extensions import db
    from models import AccountLink
    from models.types import utcnow

    with app.app_context():
        db.session.execute(update(AccountLink).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    response = FormClient(app.test_client()).get(link)
    assert response.status_code == 410
    assert "This invitation has expired. Ask an admin to invite you again." in text(response)


def test_deactivation_ends_the_persons_open_session_at_once(app, admin):
    staff(app, "rita@example.org", "reviewer")
    rita = signed_in(app, "rita@example.org")
    assert rita.get("/dashboard/").status_code == 200
    rita_id = user(app, "rita@example.org").id
    admin.get(f"/dashboard/admin/staff/{rita_id}")
    assert (
        admin.post(f"/dashboard/admin/staff/{rita_id}/active", {"active": "0"}).status_code == 302
    )
    response = rita.get("/dashboard/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert signed_in_fails(app, "rita@example.org")
    assert "staff.deactivated" in audit_actions(app)


def signed_in_fails(app, email: str) -> bool:
    client = FormClient(app.test_client())
    client.get("/login")
    return client.post("/login", {"email": email, "password": PASSWORD}).status_code == 401


def test_the_last_active_admin_cannot_deactivate_or_demote_themselves(app, admin):
    ada_id = user(app, "ada@example.org").id
    admin.get(f"/dashboard/admin/staff/{ada_id}")
    admin.post(f"/dashboard/admin/staff/{ada_id}/active", {"active": "0"})
    assert user(app, "ada@example.org").active
    admin.get(f"/dashboard/admin/staff/{ada_id}")
    response = admin.post(f"/dashboard/admin/staff/{ada_id}", {"role": "reviewer"})
    assert response.status_code == 400
    assert "This is the last active admin" in text(response)
    assert user(app, "ada@example.org").role == "admin"


def test_role_and_calls_are_changed_and_audited(app, admin, create_form):
    grant_form(create_form)
    staff(app, "rita@example.org", "reviewer")
    rita_id = user(app, "rita@example.org").id
    from extensions import db
    from models import Form

    with app.app_context():
        form_id = db.session.scalar(select(Form.id))
    admin.get(f"/dashboard/admin/staff/{rita_id}")
    response = admin.post(
        f"/dashboard/admin/staff/{rita_id}", {"role": "call_manager", "calls": str(form_id)}
    )
    assert response.status_code == 302
    changed = user(app, "rita@example.org")
    assert changed.role == "call_manager"
    listing = admin.get("/dashboard/admin/staff/")
    assert "grants" in text(listing) and "Call manager" in text(listing)
    assert "Role or calls changed" in text(admin.get("/dashboard/admin/staff/audit"))
    # A forged call id is refused beside the field.
    response = admin.post(f"/dashboard/admin/staff/{rita_id}", {"role": "reviewer", "calls": "999"})
    assert response.status_code == 400 and "Choose calls from the list." in text(response)


def test_a_reviewer_scores_but_cannot_decide_and_a_call_manager_decides(app, create_form):
    grant_form(create_form)
    first, _client = apply(app, "grants", grant_answers())
    staff(app, "rita@example.org", "reviewer", "grants")
    staff(app, "carl@example.org", "call_manager", "grants")
    rita = signed_in(app, "rita@example.org")
    page = rita.get(f"/dashboard/submissions/{first}")
    assert page.status_code == 200 and 'name="transition"' not in rita.last_html
    response = act(rita, first, "start_review", "submitted")
    assert response.status_code == 409
    assert "Reviewers read, score and comment; the call's managers and admins decide." in text(
        response
    )
    carl = signed_in(app, "carl@example.org")
    assert act(carl, first, "start_review", "submitted").status_code == 302


def test_password_reset_answers_the_same_and_the_link_works_once(app, smtp):
    staff(app, "rita@example.org", "reviewer")
    old_session = signed_in(app, "rita@example.org")
    answers = []
    for email in ("nobody@example.org", "rita@example.org"):
        client = FormClient(app.test_client())
        client.get("/password-reset")
        response = client.post("/password-reset", {"email": email})
        assert response.status_code == 200
        answers.append(re.sub(r'value="[^"]+"', "", response.get_data(as_text=True)))
    assert answers[0] == answers[1]
    link = received_link(app, smtp, 1)
    assert len(smtp.inbox.messages) == 1  # nothing to the unknown address

    client = FormClient(app.test_client())
    client.get(link)
    response = client.post(link, {"new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.status_code == 200 and "Your password is changed" in text(response)
    assert old_session.get("/dashboard/").status_code == 302  # the other session ended
    assert signed_in(app, "rita@example.org", NEW_PASSWORD)
    reused = FormClient(app.test_client()).get(link)
    assert reused.status_code == 410 and "This link was used already" in text(reused)
    assert {"staff.password_reset_requested", "staff.password_reset"} <= set(audit_actions(app))


def test_an_expired_reset_link_is_refused(app, smtp):
    staff(app, "rita@example.org", "reviewer")
    client = FormClient(app.test_client())
    client.post("/password-reset", {"email": "rita@example.org"})
    link = received_link(app, smtp, 1)
    from extensions import db
    from models import AccountLink
    from models.types import utcnow

    with app.app_context():
        db.session.execute(update(AccountLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = FormClient(app.test_client()).get(link)
    assert response.status_code == 410 and "This link has expired. Ask for a new one." in text(
        response
    )


def enrol(client: FormClient) -> tuple[str, list[str]]:
    """Set up two-factor sign-in; returns the secret and the recovery codes."""
    client.get("/account/two-factor")
    client.post("/account/two-factor/start", {})
    page = client.get("/account/two-factor")
    assert "<svg" in client.last_html and page.status_code == 200
    secret = re.search(r'class="totp-secret"[^>]*>([A-Z2-7 ]+)<', client.last_html).group(1)
    secret = secret.replace(" ", "")
    wrong = client.post("/account/two-factor/confirm", {"code": "000000"})
    assert wrong.status_code == 400 and "This code is not right" in text(wrong)
    done = client.post("/account/two-factor/confirm", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", client.last_html)
    assert len(codes) == 10
    return secret, codes


def password_step(app, email: str, password: str = PASSWORD) -> FormClient:
    client = FormClient(app.test_client())
    client.get("/login")
    response = client.post("/login", {"email": email, "password": password})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
    assert client.get("/dashboard/").status_code == 302  # not signed in yet
    return client


def test_two_factor_sign_in_with_a_totp_code_once(app):
    staff(app, "rita@example.org", "reviewer")
    secret, _codes = enrol(signed_in(app, "rita@example.org"))
    client = password_step(app, "rita@example.org")
    client.get("/login/code")
    wrong = client.post("/login/code", {"code": "123456"})
    assert wrong.status_code == 401 and "This code is not right" in text(wrong)
    # The code of the step after the one used at enrolment (a code counts once).
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert client.post("/login/code", {"code": code}).status_code == 302
    assert client.get("/dashboard/").status_code == 200
    again = password_step(app, "rita@example.org")
    again.get("/login/code")
    reused = again.post("/login/code", {"code": code})
    assert reused.status_code == 401 and "This code was used already" in text(reused)


def test_a_recovery_code_signs_in_once(app):
    staff(app, "rita@example.org", "reviewer")
    _secret, codes = enrol(signed_in(app, "rita@example.org"))
    client = password_step(app, "rita@example.org")
    client.get("/login/code")
    assert client.post("/login/code", {"code": codes[0].upper()}).status_code == 302
    again = password_step(app, "rita@example.org")
    again.get("/login/code")
    refused = again.post("/login/code", {"code": codes[0]})
    assert refused.status_code == 401 and "recovery code is not right or was used" in text(refused)
    assert "staff.recovery_code_used" in audit_actions(app)


def test_turning_two_factor_off_needs_the_password(app):
    staff(app, "rita@example.org", "reviewer")
    rita = signed_in(app, "rita@example.org")
    enrol(rita)
    rita.get("/account/two-factor")
    refused = rita.post("/account/two-factor/disable", {"password": "not it at all"})
    assert refused.status_code == 400 and user(app, "rita@example.org").has_two_factor
    rita.post("/account/two-factor/disable", {"password": PASSWORD})
    assert not user(app, "rita@example.org").has_two_factor


def test_a_required_role_is_sent_to_enrolment_after_the_password(app, admin):
    admin.get("/dashboard/admin/staff/")
    admin.post("/dashboard/admin/staff/two-factor-requirement", {"roles": ["reviewer"]})
    staff(app, "rita@example.org", "reviewer")
    rita = signed_in(app, "rita@example.org")
    response = rita.get("/dashboard/")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/account/two-factor"
    )
    enrol(rita)
    assert rita.get("/dashboard/").status_code == 200
    assert "staff.two_factor_requirement_changed" in audit_actions(app)


def test_reviewers_get_no_staff_pages(app):
    staff(app, "rita@example.org", "reviewer")
    rita = signed_in(app, "rita@example.org")
    for url in (
        "/dashboard/admin/staff/",
        "/dashboard/admin/staff/invite",
        "/dashboard/admin/staff/audit",
    ):
        assert rita.get(url).status_code == 403


def test_staff_pages_are_not_stored_by_caches(app, admin):
    for url in ("/dashboard/admin/staff/", "/dashboard/admin/staff/audit", "/password-reset"):
        assert "no-store" in admin.get(url).headers["Cache-Control"]


def test_cli_lists_and_deactivates_with_one_line_errors(app):
    staff(app, "ada@example.org", "admin")
    staff(app, "rita@example.org", "call_manager")
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["users", "list"])
    assert listed.exit_code == 0
    assert "rita@example.org\tcall_manager\tactive\tno-2fa\tcalls:-" in listed.output
    last_admin = runner.invoke(args=["users", "deactivate", "ada@example.org"])
    assert last_admin.exit_code == 1 and last_admin.output.count("\n") == 1
    assert "last active admin" in last_admin.output
    assert runner.invoke(args=["users", "deactivate", "rita@example.org"]).exit_code == 0


def test_every_staff_post_needs_the_csrf_token(app, admin):
    rita = staff(app, "rita@example.org", "reviewer")
    rita_id = user(app, rita).id
    for url in (
        "/dashboard/admin/staff/invite",
        f"/dashboard/admin/staff/{rita_id}",
        f"/dashboard/admin/staff/{rita_id}/active",
        "/dashboard/admin/staff/two-factor-requirement",
        "/password-reset",
        "/account/two-factor/start",
    ):
        assert (
            admin.post(url, {"email": "x@example.org", "active": "0"}, csrf=False).status_code
            == 400
        )
    assert user(app, rita).active


def test_account_links_are_masked_in_logs():
    from web.security import mask_secret_links

    line = 'GET /invitation/abcDEF123_-x HTTP/1.1" and http://h.example/password-reset/Zz9'
    assert mask_secret_links(line) == (
        'GET /invitation/[secret] HTTP/1.1" and http://h.example/password-reset/[secret]'
    )


def test_a_reviewers_list_offers_no_bulk_moves(app, create_form):
    grant_form(create_form)
    apply(app, "grants", grant_answers())
    staff(app, "rita@example.org", "reviewer", "grants")
    staff(app, "carl@example.org", "call_manager", "grants")
    rita = signed_in(app, "rita@example.org")
    carl = signed_in(app, "carl@example.org")
    rita.get("/dashboard/submissions")
    carl.get("/dashboard/submissions")
    assert 'id="bulk-action"' in carl.last_html
    assert 'id="bulk-action"' not in rita.last_html
