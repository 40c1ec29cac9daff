"""Virus scanning of uploads through ClamAV's daemon (clamd), when one is configured.

clamd's INSTREAM command is a small protocol, spoken here directly over a socket (the
Python clients on PyPI, `clamd` and `pyClamd`, have had no release since 2014 and 2017):
send `zINSTREAM\\0`, then the file in chunks, each prefixed by its length as a 4-byte
big-endian number, then a zero length; clamd answers one line ended by `\\0`:
`stream: OK`, `stream: <signature> FOUND`, or `… ERROR`.

Configured by FORMDESK_CLAMD_SOCKET (a Unix socket path) or FORMDESK_CLAMD_HOST and
FORMDESK_CLAMD_PORT. When clamd is configured but does not answer, uploads are refused (the
applicant is asked to try again later): a file is never kept unchecked."""

from __future__ import annotations

import socket
import struct

from flask import current_app

CHUNK = 64 * 1024


class ScanUnavailable(RuntimeError):
    """clamd is configured but could not give a verdict."""


def configured() -> bool:
    config = current_app.config
    return bool(config.get("FORMDESK_CLAMD_SOCKET") or config.get("FORMDESK_CLAMD_HOST"))


def scan(content: bytes) -> str | None:
    """None when clamd finds nothing; else the name of what it found."""
    config = current_app.config
    timeout = float(config.get("FORMDESK_CLAMD_TIMEOUT", 30))
    try:
        with _connect(config, timeout) as connection:
            connection.sendall(b"zINSTREAM\0")
            try:
                for start in range(0, len(content), CHUNK):
                    chunk = content[start : start + CHUNK]
                    connection.sendall(struct.pack("!L", len(chunk)) + chunk)
                connection.sendall(struct.pack("!L", 0))
            except (BrokenPipeError, ConnectionResetError):
                pass  # clamd stops reading when the stream is over its limit: read why
            reply = _read_reply(connection)
    except OSError as exc:
        raise ScanUnavailable(f"clamd: {exc}") from exc
    return verdict(reply)


def verdict(reply: str) -> str | None:
    """`stream: OK` → None; `stream: Name FOUND` → `Name`; anything else is an error."""
    if reply.endswith(" FOUND"):
        found = reply.removesuffix(" FOUND")
        return found.split(": ", 1)[1] if ": " in found else found
    if reply.endswith(": OK") or reply == "OK":
        return None
    raise ScanUnavailable(f"clamd answered {reply[:200]!r}")


def _connect(config, timeout: float) -> socket.socket:
    if path := config.get("FORMDESK_CLAMD_SOCKET"):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(timeout)
        try:
            connection.connect(path)
        except OSError:
            connection.close()
            raise
        return connection
    port = int(config.get("FORMDESK_CLAMD_PORT") or 3310)
    return socket.create_connection((config["FORMDESK_CLAMD_HOST"], port), timeout=timeout)


def _read_reply(connection: socket.socket) -> str:
    data = b""
    while b"\0" not in data and len(data) < 4096:
        chunk = connection.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
