"""Template helpers: times shown in the call's own time zone, in the page's language."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import Flask, request
from flask_babel import get_locale

from moments import local_time_in

LANGUAGE_NAMES = {
    "pl": "Polski",
    "sv": "Svenska",
    "en": "English",
    "de": "Deutsch",
    "lt": "Lietuvių",
}


def local_time(moment: datetime | None) -> str:
    """The moment in the zone it carries (the call's zone), in the page's language."""
    return local_time_in(moment, None, str(get_locale()))


def language_url(code: str) -> str:
    """This page in another language, keeping the rest of its query (e.g. ?return=check)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return request.path + "?" + urlencode(args, doseq=True)


def install(app: Flask) -> None:
    app.add_template_filter(local_time)

    @app.context_processor
    def page_defaults():
        return {
            "language_names": LANGUAGE_NAMES,
            "offered_languages": None,
            "language": None,
            "page_language": lambda: str(get_locale()),
            "language_url": language_url,
        }
