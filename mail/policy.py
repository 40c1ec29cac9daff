"""The policy every outgoing message is written with.

It is the standard library's SMTP policy, except for the Subject: Python 3.11's folder of
unstructured headers can drop the space between two words at a fold, split one character
across two encoded words, or put a space before the value (CPython gh-144156, gh-120930; fixed
in later versions, not in 3.11). About 1 subject in 13 of our languages came out changed. The
Subject is therefore encoded by `email.header.Header`, the standard library's RFC 2047 encoder,
which keeps each word whole and every line within 78 characters. Addresses and names keep the
modern folder, which writes them correctly."""

from __future__ import annotations

from email.header import Header
from email.policy import SMTP, EmailPolicy


class OutgoingPolicy(EmailPolicy):
    def fold(self, name: str, value: str) -> str:
        if name.lower() == "subject":
            return self._encoded_subject(name, value)
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "subject":
            return self._encoded_subject(name, value).encode("ascii")
        return super().fold_binary(name, value)

    def _encoded_subject(self, name: str, value: str) -> str:
        header = Header(str(value), "utf-8", maxlinelen=self.max_line_length, header_name=name)
        return f"{name}: {header.encode(linesep=self.linesep)}{self.linesep}"


OUTGOING = OutgoingPolicy(linesep=SMTP.linesep, max_line_length=SMTP.max_line_length)
