"""Moments shown to people (pages, emails, documents): in the call's own time zone and in
the reader's language, each language written its own way (Babel's CLDR formats, not a
pattern of ours): `31. März 2030, 23:59`, `21 stycznia 2030, 23:59`, `2030 m. kovo 31 d.`."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from babel import Locale
from babel.dates import format_date, format_time, get_timezone_name

# English as written in Europe, where the calls are: "31 March 2030, 23:59", not "March 31,
# 2030, 11:59 PM".
FORMAT_LOCALES = {"en": "en_GB"}


def _locale(language: str) -> Locale:
    return Locale.parse(FORMAT_LOCALES.get(language, language))


def local_time_in(moment: datetime | None, zone: tzinfo | None, language: str) -> str:
    if moment is None:
        return ""
    locale = _locale(language)
    here = moment.astimezone(zone or moment.tzinfo)
    day = format_date(here.date(), "long", locale=locale)
    time = format_time(here, "short", tzinfo=here.tzinfo, locale=locale)
    return str(locale.datetime_formats["medium"]).replace("{1}", day).replace("{0}", time)


def local_date(day: date | str, language: str) -> str:
    """`19. April 2030` — a calendar date in the reader's language."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return format_date(day, "long", locale=_locale(language))


def zone_name(zone: tzinfo | str | None, language: str) -> str:
    """A time zone as people name it, e.g. `Mitteleuropäische Zeit`, not `Europe/Berlin`."""
    if zone is None:
        return ""
    if isinstance(zone, str):
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(zone)
    return get_timezone_name(zone, locale=_locale(language))
