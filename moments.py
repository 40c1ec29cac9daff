"""Moments shown to people (pages, emails, documents): in the call's own time zone and in
the reader's language, e.g. `21 stycznia 2030, 23:59`."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from babel.dates import format_date, format_datetime

PATTERN = "d MMMM y, HH:mm"


def local_time_in(moment: datetime | None, zone: tzinfo | None, language: str) -> str:
    if moment is None:
        return ""
    return format_datetime(moment, PATTERN, tzinfo=zone or moment.tzinfo, locale=language)


def local_date(day: date | str, language: str) -> str:
    """`19 kwietnia 2030` — a calendar date in the reader's language."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return format_date(day, "d MMMM y", locale=language)
