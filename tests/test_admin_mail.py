"""Admin pages for email: texts per form, event and language (checked when saved, previewed
with sample values, never evaluated), and the outbox with its status filter and resend.
Everything through the real app and HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from tests.conftest import FormClient, errors_in
from tests.definitions import VALID_ALL_TYPES, all_types
from tests.test_auth import PASSWORD, sign_in

ADMIN, REVIEWER = "ada@example.org", "rita@example.org"


def _create_user(app, email: str, role: str) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", email, "--role", role, "--all-forms"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output


@pytest.fixture
def admin(app, client):
    _create_user(app, ADMIN, "admin")
    sign_in(client, ADMIN)
    return client


@pytest.fixture
def reviewer_client(app):
    _create_user(app, REVIEWER, "call_manager")
    other = FormClient(app.test_client())
    sign_in(other, REVIEWER)
    return other


@pytest.fixture
def form_id(app, create_form):
    create_form(all_types(applicant_name_field="name"))
    with app.app_context():
        from models import Form

        return Form.query.filter_by(slug="all-types").one().id


def _edit_url(form_id: int | None, event: str = "receipt", language: str = "en") -> str:
    scope = "all" if form_id is None else str(form_id)
    return f"/dashboard/admin/emails/{scope}/{event}/{language}"


def _save(client: FormClient, url: str, subject: str, body: str, action: str = "save"):
    client.get(url)
    return client.post(url, {"subject": subject, "body": body, "action": action})


def _submit(app, language: str = "en") -> str:
    """An applicant (their own browser) sends the test form in `language`; the reference."""
    applicant = FormClient(app.test_client())
    applicant.get(f"/calls/all-types/page/1?lang={language}")
    response = applicant.fill("all-types", 1, VALID_ALL_TYPES)
    assert response.status_code == 302, errors_in(applicant.last_html)
    response = applicant.post("/calls/all-types/check", {})
    assert response.status_code == 302
    page = applicant.get(response.headers["Location"]).get_data(as_text=True)
    return re.search(r"TEST-\d{4}-\d{4}", page).group(0)


def _receipt(app, reference: str):
    from extensions import db
    from models import OutboxMessage, Submission

    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.reference == reference))
        message = db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.submission_id == submission.id, OutboxMessage.kind == "receipt"
            )
        )
        db.session.expunge(message)
        return message


def _templates(app) -> list:
    from extensions import db
    from models import EmailTemplate

    with app.app_context():
        return [
            (t.form_id, t.event, t.language, t.subject, t.body)
            for t in db.session.scalars(select(EmailTemplate).order_by(EmailTemplate.id))
        ]


def _textarea(html: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea {name}"
    return unescape(match.group(1))


def _input_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    assert match, f"no input {name}"
    return unescape(match.group(1))


# --- access ------------------------------------------------------------------------------------


def _admin_urls(app, form_id: int, message_id: int) -> list[tuple[str, str]]:
    """Every admin route with real arguments, and its methods: none is left unguarded."""
    values = {
        "form_id": form_id,
        "event": "receipt",
        "language": "en",
        "message_id": message_id,
        "failure_id": 1,
    }
    found = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("admin."):
                continue
            url = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((method, url))
    return found


def _queue(app, count: int = 1, status: str = "queued", **extra) -> list[int]:
    """Messages written straight to the outbox (as services.notifications does), with a status."""
    from extensions import db
    from mail.outbox import enqueue
    from models import OutboxMessage

    ids = []
    with app.app_context():
        for _ in range(count):
            number = db.session.scalar(select(func.count()).select_from(OutboxMessage)) + 1
            enqueue(
                key=f"test:{number}",
                kind="digest",
                recipient=f"person{number}@example.org",
                language="en",
                values={"count": str(number), "submissions": "- one", "review_link": "x"},
                **extra,
            )
            db.session.commit()
            message = db.session.scalar(
                select(OutboxMessage).where(OutboxMessage.idempotency_key == f"test:{number}")
            )
            message.status = status
            if status == "failed":
                message.attempts, message.last_error = 12, "SMTPRecipientsRefused: 550 no such user"
            db.session.commit()
            ids.append(message.id)
    return ids


def test_only_admins_reach_the_admin_pages(app, client, form_id, reviewer_client):
    message_id = _queue(app, status="failed")[0]
    urls = _admin_urls(app, form_id, message_id)
    assert len(urls) >= 9  # index, texts (list, 2 editors × GET/POST), outbox, detail, resend

    anonymous = FormClient(app.test_client())
    anonymous.get("/login")
    token = anonymous.csrf_token()
    for method, url in urls:
        response = anonymous.client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, url)
        assert "/login" in response.headers["Location"], (method, url)

    reviewer_client.get("/dashboard/")
    assert "/dashboard/admin/" not in reviewer_client.last_html  # no Admin link
    token = reviewer_client.csrf_token()
    for method, url in urls:
        data = {"csrf_token": token, "action": "save", "subject": "x", "body": "x"}
        response = reviewer_client.client.open(url, method=method, data=data)
        assert response.status_code == 403, (method, url)

    _create_user(app, ADMIN, "admin")
    sign_in(client, ADMIN)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert 'href="/dashboard/admin/"' in page
    for method, url in urls:
        if method == "GET":
            assert client.get(url).status_code == 200, url

    from extensions import db
    from models import OutboxMessage

    with app.app_context():
        # The reviewer's POSTs changed nothing.
        assert _templates(app) == []
        assert db.session.get(OutboxMessage, message_id).status == "failed"


def test_unknown_forms_events_and_languages_are_not_found(admin, form_id):
    for url in [
        _edit_url(form_id, "nonsense"),
        _edit_url(form_id, "receipt", "de"),  # not one of the form's languages
        _edit_url(form_id + 100),
        _edit_url(form_id, "digest"),
        _edit_url(form_id, "offer_expired"),  # not an event of the form's workflow
        _edit_url(None, "receipt", "xx"),
        "/dashboard/admin/outbox/999",
    ]:
        assert admin.get(url).status_code == 404, url


# --- email texts ---------------------------------------------------------------------------------


def test_the_list_shows_every_form_event_and_language_and_which_text_is_used(app, admin, form_id):
    html = admin.get("/dashboard/admin/emails").get_data(as_text=True)
    assert "All forms" in html and "Test call" in html
    for event in ("receipt", "accepted", "offer_expired", "new_submission"):
        assert _edit_url(None, event, "pl") in html
    # A form lists the events of its own workflow (application-review): no offer expires.
    for event in ("receipt", "accepted", "completion_requested", "new_submission"):
        assert _edit_url(form_id, event, "sv") in html
    assert _edit_url(form_id, "offer_expired", "sv") not in html
    # The digest is about no single form: it has a text for all forms only.
    assert _edit_url(None, "digest", "en") in html
    assert _edit_url(form_id, "digest", "en") not in html
    assert "Own text" not in html.split("<main", 1)[1].split("<table", 1)[1]

    _save(admin, _edit_url(None, "receipt", "en"), "For all: {reference}", "Hello {name}")
    _save(admin, _edit_url(form_id, "accepted", "pl"), "Tak {reference}", "Witaj {name}")
    html = admin.get("/dashboard/admin/emails").get_data(as_text=True)
    cell = re.compile(r'<a href="([^"]+)" class="source-(\w+)">')
    sources = dict(cell.findall(html))
    assert sources[_edit_url(None, "receipt", "en")] == "form"
    assert sources[_edit_url(form_id, "receipt", "en")] == "all"  # inherited
    assert sources[_edit_url(form_id, "accepted", "pl")] == "form"
    assert sources[_edit_url(form_id, "accepted", "en")] == "default"


def test_the_editor_is_prefilled_with_the_text_in_use_and_lists_the_placeholders(admin, form_id):
    html = admin.get(_edit_url(form_id, "receipt", "pl")).get_data(as_text=True)
    assert _input_value(html, "subject") == "{form_title}: {outcome} ({reference})"
    assert "Numer zgłoszenia: {reference}" in _textarea(html, "body")
    assert "The default text." in html
    for name in ("reference", "name", "form_title", "status_link", "deadline", "comment"):
        assert f"<code>{{{name}}}</code>" in html
    assert "the applicant&#39;s private link to their submission" in html


def test_a_saved_text_is_used_by_the_next_receipt(app, admin, form_id):
    url = _edit_url(form_id, "receipt", "en")
    response = _save(
        admin,
        url,
        "Got it: {reference}",
        "Dear {name},\r\n\r\nthank you for applying to {form_title}.\r\n"
        "Your link: {status_link}\r\n",
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    html = admin.get(url).get_data(as_text=True)
    assert "The text was saved." in html and "This call's own text." in html
    assert _input_value(html, "subject") == "Got it: {reference}"

    reference = _submit(app, "en")
    message = _receipt(app, reference)
    assert message.subject == f"Got it: {reference}"
    assert message.text_body.startswith(
        "Dear Zażółć Gęślą,\n\nthank you for applying to Test call."
    )
    assert "\r" not in message.text_body
    assert re.search(r"Your link: http://\S+/s/\S+", message.text_body)
    assert "<p>Dear Zażółć Gęślą,</p>" in message.html_body

    from models import AuditEntry

    with app.app_context():
        entry = AuditEntry.query.filter_by(action="email_template.saved").one()
        assert entry.form_id == form_id and entry.actor_type == "admin"
        assert entry.data["event"] == "receipt" and entry.data["language"] == "en"


def test_a_text_for_one_language_is_used_only_in_that_language(app, admin, form_id):
    _save(admin, _edit_url(form_id, "receipt", "pl"), "Mamy to: {reference}", "Cześć {name}!")

    english = _receipt(app, _submit(app, "en"))
    assert english.language == "en"
    assert "Application received" in english.subject
    polish = _receipt(app, _submit(app, "pl"))
    assert polish.language == "pl"
    assert polish.subject.startswith("Mamy to: TEST-") and polish.text_body == "Cześć Zażółć Gęślą!"
    swedish = _receipt(app, _submit(app, "sv"))
    assert "Ansökan mottagen" in swedish.subject


def test_a_text_for_all_forms_applies_unless_the_form_has_its_own(app, admin, form_id):
    _save(admin, _edit_url(None, "receipt", "en"), "All: {reference}", "For every form.")
    assert _receipt(app, _submit(app)).subject.startswith("All: TEST-")
    _save(admin, _edit_url(form_id, "receipt", "en"), "Own: {reference}", "Only this form.")
    assert _receipt(app, _submit(app)).text_body == "Only this form."


@pytest.mark.parametrize(
    ("field", "typed", "shown"),
    [
        ("body", "Your key: {secret_key}", "{secret_key}"),
        ("body", "Class: {reference.__class__}", "{reference.__class__}"),
        ("body", "Globals: {__class__}", "{__class__}"),
        ("body", "Dear {name, thanks", "brace"),
        ("body", "Config: {{ config }}", "brace"),
        ("body", "A lone } here", "brace"),
        ("subject", "{secret_key} for {reference}", "{secret_key}"),
        ("subject", "Hi {Name}", "{Name}"),
    ],
)
def test_unknown_placeholders_and_stray_braces_are_refused_beside_the_field(
    app, admin, form_id, field, typed, shown
):
    url = _edit_url(form_id, "receipt", "en")
    fields = {"subject": "Received {reference}", "body": "Hello {name}\nLine two <b>"}
    fields[field] = typed
    response = _save(admin, url, fields["subject"], fields["body"])
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    messages = errors_in(html)
    assert messages and any(shown in unescape(m) for m in messages), messages
    assert re.search(rf'<p class="error-message" id="{field}-error">', html)
    assert "There is a problem" in html
    # What was typed is kept, in both fields.
    assert _input_value(html, "subject") == fields["subject"]
    assert _textarea(html, "body") == fields["body"]
    assert _templates(app) == []
    # Nothing of the app leaks into the page.
    assert app.config["SECRET_KEY"] not in html and "&lt;Config" not in html


def test_empty_and_multiline_subjects_are_refused(app, admin, form_id):
    url = _edit_url(form_id, "receipt", "en")
    response = _save(admin, url, "", "")
    assert response.status_code == 400
    assert errors_in(response.get_data(as_text=True)) == [
        "Write a subject.",
        "Write the text of the email.",
    ]
    admin.get(url)
    token = admin.csrf_token()
    response = admin.client.post(
        url, data={"csrf_token": token, "action": "save", "subject": "One\ntwo", "body": "x"}
    )
    assert response.status_code == 400
    assert "The subject must be one line." in errors_in(response.get_data(as_text=True))
    assert _templates(app) == []


def test_a_template_is_never_evaluated_even_when_stored_behind_the_check(app, form_id):
    """Save refuses these; were one stored anyway (an old row, a direct edit of the table),
    sending fills plain {names} only: no expression, attribute or config is reached."""
    from extensions import db
    from models import EmailTemplate

    body = "{{ config }} {{ 7*7 }} {reference.__class__} {__class__} {config} {reference}"
    with app.app_context():
        db.session.add(
            EmailTemplate(
                form_id=form_id,
                event="receipt",
                language="en",
                subject="{{ config.SECRET_KEY }} {reference}",
                body=body,
            )
        )
        db.session.commit()
    reference = _submit(app)
    message = _receipt(app, reference)
    assert message.subject == "{{ config.SECRET_KEY }} " + reference
    assert (
        message.text_body == f"{{{{ config }}}} {{{{ 7*7 }}}} {{reference.__class__}}   {reference}"
    )
    assert "49" not in message.text_body
    assert app.config["SECRET_KEY"] not in message.text_body + message.html_body


def test_the_html_part_escapes_markup_typed_by_the_admin(app, admin, form_id):
    url = _edit_url(form_id, "receipt", "en")
    body = 'Hello <script>alert("x")</script> <img src=x onerror=alert(1)> {reference}'
    response = _save(admin, url, "Subject <b>{reference}</b>", body, action="preview")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>TEST" not in html
    # The HTML part is shown in a sandboxed frame (no scripts, no same origin) and as source.
    frame = re.search(r"<iframe[^>]*>", html).group(0)
    assert 'sandbox=""' in frame and "srcdoc=" in frame
    srcdoc = unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in srcdoc
    assert "<script" not in srcdoc

    _save(admin, url, "Subject <b>{reference}</b>", body)
    message = _receipt(app, _submit(app))
    assert "<script" not in message.html_body and "<img" not in message.html_body
    assert "&lt;script&gt;" in message.html_body
    assert "<script>" in message.text_body  # plain text is plain text

    from models import OutboxMessage

    with app.app_context():
        message_id = OutboxMessage.query.filter_by(kind="receipt").one().id
    page = admin.get(f"/dashboard/admin/outbox/{message_id}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert 'sandbox=""' in page


def test_preview_shows_sample_values_and_saves_nothing(app, admin, form_id):
    url = _edit_url(form_id, "receipt", "pl")
    response = _save(
        admin,
        url,
        "{form_title}: {reference}",
        "Dzień dobry {name},\n{comment}\nTermin: {deadline}\nLink: {status_link}",
        action="preview",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    subject = unescape(re.search(r'id="preview-subject">([^<]*)<', html).group(1))
    assert re.fullmatch(r"Nabór testowy: TEST-\d{4}-0007", subject)
    text = unescape(re.search(r'id="preview-text">([^<]*)<', html).group(1))
    assert text.startswith("Dzień dobry Maria Nowak,\n")
    assert "Link: http" in text and "{" not in text
    assert re.search(r"Termin: \d{1,2} \w+ \d{4}, \d\d:\d\d", text)
    # The typed text stays in the editor, and nothing was stored.
    assert _input_value(html, "subject") == "{form_title}: {reference}"
    assert _templates(app) == []

    refused = _save(admin, url, "{oops}", "x", action="preview")
    assert refused.status_code == 400 and 'id="preview-text"' not in refused.get_data(as_text=True)


def test_the_receipt_preview_fills_what_happened_in_its_language(app, admin, form_id):
    """The default receipt names what happened ({outcome}, {next_steps}): the preview has
    sample words for them, never an empty gap."""
    html = admin.get(_edit_url(form_id, "receipt", "pl")).get_data(as_text=True)
    subject, body = _input_value(html, "subject"), unescape(_textarea(html, "body"))
    response = _save(admin, _edit_url(form_id, "receipt", "pl"), subject, body, action="preview")
    html = response.get_data(as_text=True)
    subject = unescape(re.search(r'id="preview-subject">([^<]*)<', html).group(1))
    assert re.fullmatch(
        r"Nabór testowy: Otrzymaliśmy Twoje zgłoszenie \(TEST-\d{4}-0007\)", subject
    )
    text = unescape(re.search(r'id="preview-text">([^<]*)<', html).group(1))
    assert "Organizator poinformuje Cię o kolejnych krokach." in text


def test_reset_to_default_deletes_the_forms_own_text(app, admin, form_id):
    url = _edit_url(form_id, "receipt", "en")
    _save(admin, url, "Own {reference}", "Own text")
    assert len(_templates(app)) == 1
    html = admin.get(url).get_data(as_text=True)
    assert "Reset to default" in html
    response = admin.post(url, {"action": "reset"})
    assert response.status_code == 302
    html = admin.get(url).get_data(as_text=True)
    assert "The text was reset" in html and "Reset to default</button>" not in html
    assert _input_value(html, "subject") == "{form_title}: {outcome} ({reference})"
    assert _templates(app) == []
    assert "Application received" in _receipt(app, _submit(app)).subject

    from models import AuditEntry

    with app.app_context():
        assert AuditEntry.query.filter_by(action="email_template.reset", form_id=form_id).count()


def test_saving_twice_replaces_the_text(app, admin, form_id):
    url = _edit_url(None, "accepted", "sv")
    _save(admin, url, "Första {reference}", "Ett")
    _save(admin, url, "Andra {reference}", "Två")
    assert _templates(app) == [(None, "accepted", "sv", "Andra {reference}", "Två")]


# --- outbox ------------------------------------------------------------------------------------


def test_the_outbox_lists_messages_newest_first_and_filters_by_status(app, admin):
    queued = _queue(app, 2)
    failed = _queue(app, 1, status="failed")
    sent = _queue(app, 1, status="sent")

    html = admin.get("/dashboard/admin/outbox").get_data(as_text=True)
    links = [int(i) for i in re.findall(r'href="/dashboard/admin/outbox/(\d+)"', html)]
    assert links == [*sent, *failed, *reversed(queued)]
    assert "4 messages" in html
    assert "No SMTP server is configured" in html  # the tests run without one

    html = admin.get("/dashboard/admin/outbox?status=failed").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'href="/dashboard/admin/outbox/(\d+)"', html)] == failed
    assert "550 no such user" in html and "person3@example.org" in html
    assert '<option value="failed" selected>' in html

    html = admin.get("/dashboard/admin/outbox?status=awaiting_retry").get_data(as_text=True)
    assert "No messages." in html
    # Nonsense in the query shows everything, never an error.
    for query in ("status=bogus", "page=x", "page=-4", "page=99999999999999"):
        response = admin.get(f"/dashboard/admin/outbox?{query}")
        assert response.status_code == 200, query
        assert "4 messages" in response.get_data(as_text=True)


def test_the_outbox_is_paginated(app, admin):
    ids = _queue(app, 53)
    first = admin.get("/dashboard/admin/outbox").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r'href="/dashboard/admin/outbox/(\d+)"', first)]
    assert shown == list(reversed(ids))[:50]
    assert 'rel="next"' in first
    second = admin.get("/dashboard/admin/outbox?page=2").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r'href="/dashboard/admin/outbox/(\d+)"', second)]
    assert shown == list(reversed(ids))[50:]
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_the_message_page_shows_both_parts_and_the_attachments(app, admin):
    message_id = _queue(
        app, attachments=[{"kind": "ics", "summary": "Study visit", "start": "2030-05-01"}]
    )[0]
    html = admin.get(f"/dashboard/admin/outbox/{message_id}").get_data(as_text=True)
    assert "person1@example.org" in html and "Formdesk: 1 new submissions" in html
    text = unescape(re.search(r'id="text-part">([^<]*)<', html).group(1))
    assert text.startswith("New submissions since yesterday:\n- one")
    source = unescape(re.search(r'id="html-part">([^<]*)<', html).group(1))
    assert source.startswith("<!doctype html>") and "<p>New submissions since yesterday:" in source
    assert "ics – summary: Study visit, start: 2030-05-01" in html
    assert "Resend</button>" not in html  # only failed messages


def test_resend_queues_a_failed_message_again(app, admin):
    from extensions import db
    from models import AuditEntry, OutboxMessage

    message_id = _queue(app, status="failed")[0]
    url = f"/dashboard/admin/outbox/{message_id}"
    html = admin.get(url).get_data(as_text=True)
    assert "Resend</button>" in html and "550 no such user" in html

    response = admin.post(f"{url}/resend", {})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert "queued again" in admin.get(url).get_data(as_text=True)
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert (message.status, message.attempts, message.last_error) == ("queued", 0, None)
        entry = AuditEntry.query.filter_by(action="outbox.resent").one()
        assert entry.data["message"] == message_id and entry.actor_type == "admin"

    # A second click (or a stale page) changes nothing more.
    response = admin.post(f"{url}/resend", {})
    assert response.status_code == 302
    assert "not failed any more" in admin.get(url).get_data(as_text=True)
    with app.app_context():
        assert AuditEntry.query.filter_by(action="outbox.resent").count() == 1

    # And the queued message is delivered (as an .eml file: no SMTP server here).
    from mail.delivery import deliver_due

    with app.app_context():
        report = deliver_due()
        assert report.sent == [message_id]


def test_changes_need_the_csrf_token(app, admin, form_id):
    from extensions import db
    from models import OutboxMessage

    message_id = _queue(app, status="failed")[0]
    url = _edit_url(form_id, "receipt", "en")
    _save(admin, url, "Own {reference}", "Own text")
    raw = admin.client
    attempts = [
        (url, {"action": "save", "subject": "Changed {reference}", "body": "Changed"}),
        (url, {"action": "reset"}),
        (f"/dashboard/admin/outbox/{message_id}/resend", {}),
    ]
    for target, data in attempts:
        response = raw.post(target, data=data)
        assert response.status_code == 400, target
        assert "This page had expired" in response.get_data(as_text=True)
        response = raw.post(target, data={**data, "csrf_token": "forged"})
        assert response.status_code == 400, target
    assert _templates(app) == [(form_id, "receipt", "en", "Own {reference}", "Own text")]
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status == "failed"


def test_admin_pages_are_translated(admin, form_id):
    html = admin.get("/dashboard/admin/emails?lang=pl").get_data(as_text=True)
    assert '<html lang="pl">' in html and "Email texts" not in html
    html = admin.get(_edit_url(form_id, "receipt", "en") + "?lang=sv").get_data(as_text=True)
    assert "Placeholders you can use" not in html


def test_without_smtp_the_outbox_says_written_to_a_file_and_shows_no_path(app, admin):
    from mail.delivery import deliver_due

    message_id = _queue(app)[0]
    with app.app_context():
        assert deliver_due().sent == [message_id]  # no SMTP server here: an .eml file
    for url in ("/dashboard/admin/outbox", f"/dashboard/admin/outbox/{message_id}"):
        html = admin.get(url).get_data(as_text=True)
        assert "Written to a file" in html and ">Sent<" not in html, url
        assert app.instance_path not in html and ".eml" not in html, url  # nothing of the server
