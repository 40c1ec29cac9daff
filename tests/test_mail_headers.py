"""Subjects arrive exactly as written, in every language (mail/policy.py): Python 3.11's own
folder changed about 1 subject in 13 (a lost space, a character split across two encoded
words, a space before the value)."""

from __future__ import annotations

import email
import email.header
import email.policy
import re
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from mail.policy import OUTGOING
from tests.conftest_mail import deliver
from tests.test_mail import apply, call

# Words of the four languages and the punctuation the calls' titles use.
WORDS = (
    "Ihre Anmeldung für den Studienbesuch ist bestätigt Zagraniczna wizyta studyjna została "
    "potwierdzona – Referenz Ärende Malmö „Zone“ Łódź Vilniaus apskrities biblioteka "
    "priimta ąčęėįšųūž (TEST-2026-0001) : x a"
).split()


def shown_subject(raw: bytes) -> str:
    """The Subject as RFC 2047 has a mail program show it (email.header, not the 3.11
    parser: see tests.conftest_mail.shown_sender_name)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    [folded] = re.findall(r"^Subject: ?([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, flags=re.M)
    unfolded = re.sub(r"\r\n(?=[ \t])", "", folded)
    return str(email.header.make_header(email.header.decode_header(unfolded)))


def written(subject: str) -> bytes:
    message = EmailMessage(policy=OUTGOING)
    message["Subject"] = subject
    message.set_content("x")
    return message.as_bytes()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=40).map(" ".join))
def test_every_subject_is_written_whole_in_short_ascii_lines(subject):
    raw = written(subject)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    assert shown_subject(raw) == subject


# Titles with which the standard policy's folder lost a space or split a character.
TITLES = {
    "pl": "Zagraniczna Anmeldung für „Zone“ potwierdzona ist „Zone“ bestätigt studyjna "
    "studyjna studyjna Łódź potwierdzona ist Ärende",
    "sv": "Referenz ist den Ärende ist Zagraniczna ist den Referenz – Łódź studyjna Łódź "
    "wizyta Malmö została den bestätigt",
    "en": "potwierdzona potwierdzona Ärende wizyta Łódź Ihre – „Zone“ Studienbesuch „Zone“ "
    "Łódź bestätigt Referenz Anmeldung Malmö",
}


def test_a_long_subject_in_every_language_arrives_as_queued(app, create_form, smtp):
    from models import OutboxMessage

    create_form(call(title=TITLES))
    for language in TITLES:
        apply(app, language, email=f"{language}@example.org")
    deliver(app)
    smtp.inbox.wait_for(len(TITLES))
    with app.app_context():
        queued = {row.recipient: row.subject for row in OutboxMessage.query}
    for envelope in smtp.inbox.envelopes:
        [recipient] = envelope.rcpt_tos
        assert shown_subject(envelope.content) == queued[recipient]
