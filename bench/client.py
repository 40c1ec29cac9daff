"""A small HTTP/1.1 client for load generation: one kept-alive connection (http.client),
a cookie jar and the CSRF token of the last page, like a browser tab without the browser.
Cheap on purpose: the generator shares the machine with the server it measures."""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse

CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class HTTPError(Exception):
    pass


class Session:
    def __init__(self, base_url: str, timeout: float = 120):
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None
        self.body = b""
        self.status = 0
        self.location = ""
        self.csrf = ""

    def _connect(self) -> http.client.HTTPConnection:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.connection

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def request(self, method: str, path: str, form: dict | None = None) -> float:
        """Sends one request, reads the whole answer; returns the seconds it took. A
        connection the server closed (keep-alive timeout, worker restart) is opened again
        once."""
        headers = {"Host": f"{self.host}:{self.port}", "Accept-Encoding": "identity"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            began = time.perf_counter()
            try:
                connection = self._connect()
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - began
            break
        self.status = response.status
        self.location = response.getheader("Location", "")
        for header in response.msg.get_all("Set-Cookie") or ():
            pair = header.split(";", 1)[0]
            name, _, value = pair.partition("=")
            if "max-age=0" in header.lower() or value in ('""', ""):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        self.body = data
        match = CSRF.search(data) if b"csrf_token" in data else None
        if match:
            self.csrf = (match.group(1) or match.group(2)).decode()
        return elapsed

    def get(self, path: str, expect: int | tuple = 200) -> float:
        elapsed = self.request("GET", path)
        self._check("GET", path, expect)
        return elapsed

    def post(self, path: str, form: dict, expect: int | tuple = 302) -> float:
        elapsed = self.request("POST", path, {**form, "csrf_token": self.csrf})
        self._check("POST", path, expect)
        return elapsed

    def _check(self, method: str, path: str, expect: int | tuple) -> None:
        wanted = expect if isinstance(expect, tuple) else (expect,)
        if self.status not in wanted:
            raise HTTPError(
                f"{method} {path}: HTTP {self.status}, expected {wanted}: "
                + self.body[:300].decode(errors="replace")
            )

    def redirected_path(self) -> str:
        return urllib.parse.urlsplit(self.location).path if self.location else ""
