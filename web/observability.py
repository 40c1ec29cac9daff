"""Request ids, structured (JSON) logs and an access log line per request, with secrets
masked: the tokens in applicants' links never reach a log."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# /s/<token>…, /resume/<token>: the token is the whole secret of an applicant's link.
SECRET_PATHS = re.compile(r"^(/s/|/resume/)[^/?#]+")


def mask(path: str) -> str:
    return SECRET_PATHS.sub(r"\1***", path)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = getattr(g, "request_id", None)
            entry["method"] = request.method
            entry["path"] = mask(request.path)
        for key in ("status", "duration_ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def install(app: Flask) -> None:
    if app.config["FORMDESK_JSON_LOGS"]:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        app.logger.handlers[:] = [handler]
        app.logger.setLevel(app.config["FORMDESK_LOG_LEVEL"])
        app.logger.propagate = False
    access = logging.getLogger("formdesk.access")

    @app.before_request
    def _start() -> None:
        wanted = request.headers.get("X-Request-ID", "")
        g.request_id = wanted if REQUEST_ID.fullmatch(wanted) else secrets.token_hex(8)
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if app.config["FORMDESK_ACCESS_LOG"]:
            took = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
            access.info(
                "%s %s %s",
                request.method,
                mask(request.path),
                response.status_code,
                extra={"status": response.status_code, "duration_ms": round(took, 1)},
            )
        return response

    if app.config["FORMDESK_JSON_LOGS"]:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        access.handlers[:] = [handler]
        access.setLevel(logging.INFO)
        access.propagate = False
