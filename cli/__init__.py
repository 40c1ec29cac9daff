"""The `flask` commands of Formdesk, part of the composition root beside app.py: one module
per group, each adding its own group (`init_app`), all added by create_app."""

from __future__ import annotations

from flask import Flask

from cli import documents, forms, mail, submissions, users


def init_app(app: Flask) -> None:
    for group in (documents, forms, mail, submissions, users):
        group.init_app(app)
