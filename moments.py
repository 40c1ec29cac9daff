"""Moments shown to people (pages, emails, documents): in the call's own time zone and in
the reader's language, e.g. `21 stycznia 2030, 23:59`."""

from __future__ import annotations

from datetime import datetime, tzinfo

from babel.dates import format_datetime

PATTERN = "d MMMM y, HH:mm"


def local_time_in(moment: datetime | None, zone: tzinfo | None, language: str) -> str:
    if moment is None:
        return ""
    return format_datetime(moment, PATTERN, tzinfo=zone or moment.tzinfo, locale=language)
