"""Which language a page is shown in: the switcher's choice, else the browser's, else English
where it is offered, else the call's own language."""

from __future__ import annotations

from flask import current_app, g, has_request_context, request, session

from config import LANGUAGES

# What a visitor gets whose browser asks for none of the languages offered: more people
# read English than any one language of a call they cannot read.
LINGUA_FRANCA = "en"


def remember_choice() -> None:
    """`?lang=xx` on any page is the visible language switcher."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted


def preferred_language(offered: list[str] | None = None, default: str | None = None) -> str:
    """The visitor's language among `offered` (the installation's when None). `default`,
    the call's own language, is for a browser that states no preference, or one whose
    languages the call lacks when it lacks English too."""
    offered = list(offered or LANGUAGES)
    if session.get("lang") in offered:
        return session["lang"]
    asked = request.accept_languages
    matched = asked.best_match(offered)
    if matched:
        return matched
    if asked and LINGUA_FRANCA in offered:  # the browser asks for languages we lack
        return LINGUA_FRANCA
    default = default or current_app.config["BABEL_DEFAULT_LOCALE"]
    return default if default in offered else offered[0]


def select_locale() -> str:
    """Flask-Babel's selector: a form page pins its language in `g.language`; jobs and the
    command line (no request) set `g.language` or get the default."""
    if getattr(g, "language", None):
        return g.language
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return preferred_language()
