"""Email through a real SMTP server (aiosmtpd), read back with Python's email package."""

import email
import email.policy
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.browser import free_port
from tests.conftest import FormClient
from tests.conftest_mail import SmtpServer, deliver, point_mail_at, shown_sender_name
from tests.definitions import base

PAGE = [
    {
        "title": "You",
        "fields": [
            {
                "name": "contact_name",
                "type": "text",
                "label": {"en": "Name", "pl": "Imię i nazwisko", "sv": "Namn"},
                "required": True,
            },
            {"name": "email", "type": "email", "label": "Email", "required": True},
            {
                "name": "motivation",
                "type": "textarea",
                "label": {"en": "Why", "pl": "Dlaczego", "sv": "Varför"},
            },
        ],
    }
]


def call(**extra):
    return base(
        "mailcall",
        PAGE,
        title=extra.pop(
            "title", {"en": "Zone call", "pl": "Nabór do strefy", "sv": "Ansökan om zon"}
        ),
        organisation={"name": "Fundacja Przykładowa Łódź, Oddział Śródmieście"},
        contact={"name": "Anna Przykładowa", "email": "msas@example.org"},
        applicant_name_field="contact_name",
        **extra,
    )


def apply(app, language="en", name="Łucja Żółć", email="lucja@example.org", **more) -> str:
    client = FormClient(app.test_client())
    client.get(f"/calls/mailcall/page/1?lang={language}")
    client.post(
        "/calls/mailcall/page/1",
        {
            "contact_name": name,
            "email": email,
            "motivation": "Åsa & Łukasz ąćęłńóśźż",
            **more,
            "action": "continue",
        },
    )
    client.get("/calls/mailcall/check")
    response = client.post("/calls/mailcall/check", {})
    assert response.status_code == 302, client.last_html[:400]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return re.search(r"TEST-\d{4}-\d{4}", page).group(0)


def body_of(message, subtype="plain") -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()


@pytest.mark.parametrize(
    ("language", "subject_words", "greeting"),
    [
        ("en", "Application received", "Hello Łucja Żółć"),
        ("pl", "Otrzymaliśmy Twoje zgłoszenie", "Dzień dobry, Łucja Żółć"),
        ("sv", "Ansökan mottagen", "Hej Łucja Żółć"),
    ],
)
def test_the_receipt_arrives_in_the_applicants_language(
    app, create_form, smtp, language, subject_words, greeting
):
    create_form(call())
    reference = apply(app, language)
    report = deliver(app)
    assert len(report.sent) == 1
    [message] = smtp.inbox.wait_for(1)
    assert subject_words in message["Subject"] and reference in message["Subject"]
    text = body_of(message)
    assert greeting in text and reference in text
    assert "Åsa & Łukasz ąćęłńóśźż" in text  # the answers summary
    html = body_of(message, "html")
    assert "Åsa &amp; Łukasz ąćęłńóśźż" in html and "<p>" in html
    link = re.search(r"http://\S+/s/[A-Za-z0-9_-]{43}", text).group(0)
    assert f'<a href="{link}">' in html
    # The link in the email really opens the applicant's page.
    page = app.test_client().get(link.split("formdesk.test", 1)[-1])
    assert page.status_code == 200 and reference in page.get_data(as_text=True)


def test_an_answer_is_never_a_link_in_the_email(app, create_form, smtp):
    """Finding 9: a URL typed as an answer became a link in an email sent in the
    organisation's name; only the service's own links are links."""
    create_form(call())
    apply(app, "en", motivation="Pay the fee at https://evil.example/pay now.")
    deliver(app)
    [message] = smtp.inbox.wait_for(1)
    html = body_of(message, "html")
    assert "https://evil.example/pay" in html and 'evil.example/pay"' not in html
    assert "<a" not in html.split("evil.example", 1)[0].rsplit("<p>", 1)[-1]
    link = re.search(r"http://\S+/s/[A-Za-z0-9_-]{43}", body_of(message)).group(0)
    assert f'<a href="{link}">' in html


def test_headers_are_complete_and_encoded_right(app, create_form, smtp):
    create_form(call())
    apply(app, "pl")
    deliver(app)
    [message] = smtp.inbox.wait_for(1)
    raw = smtp.inbox.envelopes[0].content
    [sender] = email.message_from_bytes(raw, policy=email.policy.strict)["From"].addresses
    assert shown_sender_name(raw) == "Fundacja Przykładowa Łódź, Oddział Śródmieście"
    assert sender.addr_spec == "calls@formdesk.example.org"
    assert str(message["Reply-To"]) == "msas@example.org"
    assert str(message["To"]) == "lucja@example.org"
    assert re.fullmatch(r"<[^@>]+@formdesk\.example\.org>", str(message["Message-ID"]))
    assert message["Date"] is not None
    assert "Łódź".encode() not in raw.split(b"\r\n\r\n", 1)[0]  # headers are RFC 2047-encoded
    from models import OutboxMessage

    with app.app_context():
        row = OutboxMessage.query.one()
        assert str(message["Message-ID"]) == row.message_id and row.status == "sent"


def test_a_decision_email_carries_the_reviewers_comment(app, create_form, smtp):
    create_form(call(capacity=3))
    reference = apply(app, "sv")
    from models import Submission
    from services.transitions import Actor, transition

    with app.app_context():
        submission_id = Submission.query.filter_by(reference=reference).one().id
        transition(submission_id, "start_review", Actor("reviewer", None))
        transition(
            submission_id,
            "accept",
            Actor("reviewer", None),
            comment="Välkommen! Vi hörs i januari.",
        )
    deliver(app)
    messages = smtp.inbox.wait_for(2)
    decision = messages[-1]
    assert "Antagen" in decision["Subject"] and reference in decision["Subject"]
    assert "Välkommen! Vi hörs i januari." in body_of(decision)


def test_without_smtp_messages_are_written_as_eml_files(app, create_form):
    point_mail_at(app, None)
    create_form(call())
    reference = apply(app)
    report = deliver(app)
    assert len(report.sent) == 1
    files = (Path(app.instance_path) / "outbox").glob("*-receipt.eml")
    subjects = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Subject"]
        for f in files
    ]
    assert any(reference in subject for subject in subjects)


def test_temporary_failures_retry_with_backoff_then_deliver(app, create_form, smtp):
    create_form(call())
    apply(app)
    smtp.inbox.fail_with = "451 4.3.0 Try again later"
    from models import OutboxMessage

    first = deliver(app)
    assert first.retrying and not first.sent
    with app.app_context():
        row = OutboxMessage.query.one()
        assert row.status == "awaiting_retry" and row.attempts == 1
        assert "451" in row.last_error
        first_delay = (row.next_attempt_at - row.created_at).total_seconds()
    assert deliver(app).sent == []  # not due yet: backoff
    smtp.inbox.fail_with = None
    with app.app_context():
        from extensions import db

        row = db.session.get(OutboxMessage, row.id)
        row.next_attempt_at = row.created_at  # time passes
        db.session.commit()
    assert len(deliver(app).sent) == 1
    assert first_delay >= app.config["FORMDESK_MAIL_RETRY_SECONDS"] - 1
    assert len(smtp.inbox.wait_for(1)) == 1


def test_permanent_failures_wait_for_a_resend(app, create_form, smtp):
    create_form(call())
    apply(app)
    smtp.inbox.fail_with = "550 5.1.1 No such user"
    report = deliver(app)
    assert report.failed
    from mail.delivery import resend
    from models import OutboxMessage

    smtp.inbox.fail_with = None
    with app.app_context():
        row = OutboxMessage.query.one()
        assert row.status == "failed" and "550" in row.last_error
        assert resend(row.id)
    assert len(deliver(app).sent) == 1


def test_one_event_queues_one_message_and_two_senders_send_it_once(app, create_form, smtp):
    create_form(call())
    for index in range(6):
        apply(app, email=f"person{index}@example.org")
    from mail.outbox import enqueue
    from models import OutboxMessage

    with app.app_context():
        from extensions import db

        for _ in range(2):  # the same event twice
            enqueue(
                key="receipt:1", kind="receipt", recipient="x@example.org", language="en", values={}
            )
        db.session.commit()
        assert OutboxMessage.query.count() == 6
    with ThreadPoolExecutor(3) as pool:
        reports = list(pool.map(lambda _: deliver(app), range(3)))
    sent = [i for r in reports for i in r.sent]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 6
    messages = smtp.inbox.wait_for(6)
    time.sleep(0.3)
    assert len(smtp.inbox.messages) == 6
    assert len({m["Message-ID"] for m in messages}) == 6


@pytest.mark.slow  # 50 submissions, an SMTP outage
def test_smtp_down_during_50_submissions_then_exactly_50_receipts(app, create_form):
    """The fault test: submitting never waits for SMTP, and nothing is lost or doubled."""
    port = free_port()
    point_mail_at(app, port)  # nothing listens there: connection refused
    app.config["FORMDESK_MAIL_RETRY_SECONDS"] = 0.0
    try:
        create_form(call())
        for index in range(50):
            apply(app, email=f"applicant{index}@example.org")  # each answered with its reference
        from models import OutboxMessage

        with app.app_context():
            # The requests never tried SMTP: delivery happens outside them.
            assert [m.attempts for m in OutboxMessage.query] == [0] * 50
        report = deliver(app)
        assert len(report.retrying) == 50 and not report.sent
        server = SmtpServer(port).start()  # the mail server comes back
        try:
            for _ in range(5):
                deliver(app)
            messages = server.inbox.wait_for(50)
            time.sleep(0.3)
            assert len(server.inbox.messages) == 50
            recipients = sorted(str(m["To"]) for m in messages)
            assert recipients == sorted(f"applicant{i}@example.org" for i in range(50))
        finally:
            server.stop()
    finally:
        app.config["FORMDESK_MAIL_RETRY_SECONDS"] = 30.0
        point_mail_at(app, None)
    with app.app_context():
        assert {m.status for m in OutboxMessage.query} == {"sent"}


def test_saving_for_later_emails_the_resume_link_once(app, create_form, smtp):
    create_form(call())
    client = FormClient(app.test_client())
    for _ in range(2):
        client.fill(
            "mailcall", 1, {"contact_name": "Ola", "email": "ola@example.org"}, action="save"
        )
    deliver(app)
    [message] = smtp.inbox.wait_for(1)
    time.sleep(0.2)
    assert len(smtp.inbox.messages) == 1
    assert body_of(message).startswith("Hello Ola,")  # the name answered so far
    link = re.search(r"http://\S+/resume/\S+", body_of(message)).group(0)
    resumed = FormClient(app.test_client()).get(link.split("formdesk.test", 1)[-1])
    assert resumed.status_code == 302


def test_registrations_with_dates_get_a_calendar_file(app, create_form, smtp):
    create_form(
        call(
            workflow="event-registration",
            capacity=5,
            event={"start": "2030-04-19", "end": "2030-04-22", "location": "Stralsund, Rathaus"},
        )
    )
    reference = apply(app)
    deliver(app)
    [message] = smtp.inbox.wait_for(1)
    by_name = {part.get_filename(): part for part in message.iter_attachments()}
    assert sorted(by_name) == sorted(["event.ics", f"{reference}.pdf", f"{reference}.docx"])
    ics = by_name["event.ics"]
    assert ics.get_content_type() == "text/calendar" and ics.get_filename() == "event.ics"
    content = ics.get_content()
    content = content.decode() if isinstance(content, bytes) else content
    assert "DTSTART;VALUE=DATE:20300419" in content and "DTEND;VALUE=DATE:20300423" in content
    assert "LOCATION:Stralsund\\, Rathaus" in content


def test_reviewers_get_notices_or_a_daily_digest(app, create_form, smtp):
    create_form(call())
    runner = app.test_cli_runner()
    password = "a long enough password"  # noqa: S105
    for address, notify in (("now@example.org", "immediate"), ("daily@example.org", "daily")):
        result = runner.invoke(
            args=["users", "create", address, "--role", "call_manager", "--all-forms"],
            input=f"{password}\n{password}\n",
        )
        assert result.exit_code == 0
        from extensions import db
        from models import User

        with app.app_context():
            user = User.query.filter_by(email=address).one()
            user.notify = notify
            db.session.commit()
    reference = apply(app)
    assert runner.invoke(args=["mail", "digest"]).output.strip() == "queued 1 digest(s)"
    deliver(app)
    messages = smtp.inbox.wait_for(3)
    by_recipient = {str(m["To"]): m for m in messages}
    assert reference in by_recipient["now@example.org"]["Subject"]
    assert reference in body_of(by_recipient["daily@example.org"])
    assert "lucja@example.org" in by_recipient


def test_a_scheduled_request_says_the_date(app, create_form, smtp):
    from datetime import date

    create_form(call(workflow="request-handling"))
    reference = apply(app, "sv")
    from models import Submission
    from services.transitions import Actor, transition

    with app.app_context():
        submission_id = Submission.query.filter_by(reference=reference).one().id
        transition(
            submission_id,
            "schedule",
            Actor("reviewer", None),
            scheduled_for=date(2030, 3, 4),
            comment="Vi kommer kl. 9.",
        )
    deliver(app)
    scheduled = smtp.inbox.wait_for(2)[-1]
    assert "inplanerad 4 mars 2030" in scheduled["Subject"]
    assert "Vi kommer kl. 9." in body_of(scheduled)


def _embedded_server(tmp_path, smtp_port: int):
    """`make run` with an SMTP server configured: a server process with the embedded worker."""
    from tests.browser import flask_server

    server = flask_server(tmp_path / "instance", tmp_path / "uploads", tmp_path / "server.log")
    server.env.update(
        FLASK_MAIL_SERVER="127.0.0.1",
        FLASK_MAIL_PORT=str(smtp_port),
        FLASK_FORMDESK_WORKER_POLL_SECONDS="0.5",
    )
    return server.start()


def _send_tolerance_request(server_url: str, contact_email: str) -> None:
    from tests.test_concurrency import Browserless

    person = Browserless(server_url)
    person.get("/calls/tolerance-requests/page/1")
    person.post(
        "/calls/tolerance-requests/page/1",
        {
            "service": "supervision",
            "target_groups": "staff",
            "preferred_date": "2030-02-03",
            "participants": "5",
            "action": "continue",
        },
    )
    person.post(
        "/calls/tolerance-requests/page/2",
        {
            "municipality": "Exempelby",
            "contact_name": "Åke Ström",
            "contact_email": contact_email,
            "action": "continue",
        },
    )
    person.get("/calls/tolerance-requests/check")
    _status, url = person.post("/calls/tolerance-requests/check", {})
    assert url.endswith("/confirmation"), person.html[:500]


@pytest.mark.slow  # the embedded worker polls
def test_the_embedded_background_sender_delivers_without_any_command(tmp_path):
    """`make run` with an SMTP server configured: the receipt arrives on its own."""
    smtp_server = SmtpServer().start()
    server = _embedded_server(tmp_path, smtp_server.port)
    try:
        _send_tolerance_request(server.url, "ake@example.org")
        [receipt] = smtp_server.inbox.wait_for(1, timeout=30)
        assert str(receipt["To"]) == "ake@example.org"
    finally:
        server.stop()
        smtp_server.stop()


@pytest.mark.slow  # a stalled server
def test_a_stalled_smtp_server_does_not_hold_up_the_embedded_workers_documents(tmp_path):
    """Documents and email have threads of their own: while the mail thread is stuck with a
    server that does not answer, the next application's PDF and DOCX are still made."""
    import sqlite3

    smtp_server = SmtpServer().start()
    smtp_server.inbox.greeting_delay = 25  # after EHLO the server says nothing for 25 s
    server = _embedded_server(tmp_path, smtp_server.port)
    database = sqlite3.connect(tmp_path / "instance" / "formdesk.db")

    def documents() -> int:
        return database.execute("SELECT count(*) FROM documents").fetchone()[0]

    def wait_until(condition, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not condition():
            time.sleep(0.1)
        return condition()

    try:
        _send_tolerance_request(server.url, "first@example.org")
        assert wait_until(lambda: documents() == 2, 15)  # its copies; then its receipt stalls
        time.sleep(1)  # the mail thread is now waiting on the server
        _send_tolerance_request(server.url, "second@example.org")
        assert wait_until(lambda: documents() == 4, 15), "documents waited for the SMTP server"
        assert smtp_server.inbox.messages == []  # the server was still stalled meanwhile
    finally:
        database.close()
        server.stop()
        smtp_server.stop()


def test_the_receipt_carries_pdf_and_docx_copies_that_open(app, create_form, smtp):
    import io

    import docx
    import pypdf

    create_form(call())
    reference = apply(app, "pl")
    deliver(app)
    [message] = smtp.inbox.wait_for(1)
    files = {part.get_filename(): part for part in message.iter_attachments()}
    pdf, word = files[f"{reference}.pdf"], files[f"{reference}.docx"]
    assert pdf.get_content_type() == "application/pdf"
    assert word.get_content_type() == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    text = "".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.get_content())).pages
    )
    assert reference in text and "Åsa & Łukasz ąćęłńóśźż" in text
    paragraphs = [p.text for p in docx.Document(io.BytesIO(word.get_content())).paragraphs]
    assert "Åsa & Łukasz ąćęłńóśźż" in paragraphs
