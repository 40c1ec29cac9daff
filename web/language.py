"""Which language a page is shown in: the switcher's choice, else the browser's."""

from __future__ import annotations

from flask import current_app, g, has_request_context, request, session


def remember_choice() -> None:
    """`?lang=xx` on any page is the visible language switcher."""
    wanted = request.args.get("lang")
    if wanted in current_app.config["FORMDESK_LANGUAGES"]:
        session["lang"] = wanted


def preferred_language(offered: list[str] | None = None) -> str:
    offered = offered or current_app.config["FORMDESK_LANGUAGES"]
    if session.get("lang") in offered:
        return session["lang"]
    return request.accept_languages.best_match(offered) or offered[0]


def select_locale() -> str:
    """Flask-Babel's selector: a form page pins its language in `g.language`; jobs and the
    command line (no request) set `g.language` or get the default."""
    if getattr(g, "language", None):
        return g.language
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return preferred_language()
