"""Template helpers: times shown in the call's own time zone, in the page's language."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from babel.units import format_unit
from flask import Flask, request
from flask_babel import get_locale

from config import LANGUAGES
from moments import local_time_in, zone_name


def local_time(moment: datetime | None) -> str:
    """The moment in the zone it carries (the call's zone), in the page's language."""
    return local_time_in(moment, None, str(get_locale()))


def time_zone(zone) -> str:
    """A call's time zone (a zone or its IANA id) by its name in the page's language."""
    return zone_name(zone, str(get_locale()))


def datetime_attribute(moment: datetime | None) -> str:
    """A moment for `<time datetime>`: HTML wants at most milliseconds and a zone, so UTC to
    the second ("2026-12-01T21:30:00Z"). A moment without a zone is one stored in UTC."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def text_language(form) -> str:
    """The language a form's own texts (title, questions) are shown in on this page, for the
    `lang` attribute of a passage: the page's language when the form has it, else the form's
    main language. `form`: a FormSpec, FormVersion or Form; None gives the page's language."""
    from forms.published import spec_for
    from forms.spec import FormSpec

    page = str(get_locale())
    if not form:
        return page
    if not isinstance(form, FormSpec):
        form = spec_for(getattr(form, "current_version", form))
    return form.language_for(page)


def file_size(value: int | float, binary: bool = False) -> str:
    """Jinja's `filesizeformat` in the page's language: "1.2 MB" in English, "1,2 MB" in Polish."""
    base = 1024 if binary else 1000
    size = float(value)
    locale = str(get_locale())
    for unit in ("digital-byte", "digital-kilobyte", "digital-megabyte", "digital-gigabyte"):
        if size < base or unit == "digital-gigabyte":
            digits = "0" if unit == "digital-byte" else "0.#"
            return format_unit(size, unit, length="short", format=digits, locale=locale)
        size /= base
    raise AssertionError("unreachable")


def language_url(code: str) -> str:
    """This page in another language, keeping the rest of its query (e.g. ?return=check)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return request.path + "?" + urlencode(args, doseq=True)


def install(app: Flask) -> None:
    app.add_template_filter(local_time)
    app.add_template_filter(time_zone)
    app.add_template_filter(datetime_attribute)
    app.add_template_filter(file_size, "filesizeformat")  # replaces Jinja's English one
    app.add_template_global(text_language)

    @app.context_processor
    def page_defaults():
        return {
            "language_names": LANGUAGES,
            "offered_languages": None,
            "language": None,
            "page_language": lambda: str(get_locale()),
            "language_url": language_url,
        }
