"""Dates and times: a day, a time of day, and a day with a time in the call's time zone."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.widgets import DateInput, DateTimeLocalInput, TimeInput

from forms import validators as v
from forms.field_types.base import FieldType
from forms.field_types.settings import Setting
from moments import _locale, local_date, local_time_in


class Date(FieldType):
    short = True
    name = "date"
    summary = "a day"
    stores = "`YYYY-MM-DD`"
    settings = (Setting("min", "date"), Setting("max", "date"))
    required_message = _l("Enter a date.")
    max_characters = 40

    def checks(self, field):
        return [v.Date(field.options.get("min"), field.options.get("max"))]

    def stored(self, data, field, language):
        text = super().stored(data, field, language)
        day = v.parse_date(text) if text else None
        return day.isoformat() if day else text  # always YYYY-MM-DD, however it was typed

    def display(self, value, field, language):
        """In the reader's language ("17. April 2030"), as every other date Formdesk shows;
        an answer that is no calendar date (kept from before dates were checked) as given."""
        if not value:
            return ""
        try:
            return local_date(str(value), language)
        except ValueError:
            return str(value)

    def spreadsheet_value(self, value, field, language):
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass  # kept as given (an answer from before dates were checked)
        return super().spreadsheet_value(value, field, language)

    def make_field(self, field, language):
        attributes = {k: field.options[k] for k in ("min", "max") if k in field.options}
        return StringField(
            field.label(language),
            validators=self.chain(field),
            widget=DateInput(),
            render_kw=attributes,
        )


TIME = re.compile(r"\s*([01]?\d|2[0-3])[:.]([0-5]\d)\s*")


def parse_time(text: str | None) -> time | None:
    """A time of day as people type it: `9:30`, `09:30`, `09.30` (24-hour clock)."""
    found = TIME.fullmatch(text or "")
    return time(int(found[1]), int(found[2])) if found else None


class Time(FieldType):
    short = True
    name = "time"
    summary = "a time of day (24-hour clock)"
    stores = "`HH:MM`"
    settings = (Setting("min", "time"), Setting("max", "time"))
    ordered = (("min", "max"),)
    required_message = _l("Enter a time.")
    max_characters = 20

    def problem(self, data, field):
        moment = parse_time(data)
        if moment is None:
            return _("Enter a time like 14:30.")
        lowest, highest = field.options.get("min"), field.options.get("max")
        if lowest and moment < time.fromisoformat(lowest):
            return _("Enter a time at or after %(time)s.", time=lowest)
        if highest and moment > time.fromisoformat(highest):
            return _("Enter a time at or before %(time)s.", time=highest)
        return None

    def example_post(self, field):
        return {"": field.options.get("min") or "09:30"}

    def stored(self, data, field, language):
        text = super().stored(data, field, language)
        moment = parse_time(text)
        return moment.strftime("%H:%M") if moment else text

    def display(self, value, field, language):
        moment = parse_time(value) if isinstance(value, str) else None
        if moment is None:
            return "" if value is None else str(value)
        return format_time(moment, "short", locale=_locale(language))

    def make_field(self, field, language):
        attributes = {k: field.options[k] for k in ("min", "max") if k in field.options}
        return StringField(
            field.label(language),
            validators=self.chain(field),
            widget=TimeInput(),
            render_kw=attributes,
        )


def parse_local_moment(text: str | None) -> datetime | None:
    """A day with a time as a browser sends it (`2027-05-12T14:30`) or as people type it
    (`2027-05-12 14:30`), without a zone."""
    found = re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2})[T ]+(\d{1,2}[:.]\d{2})(:\d{2})?\s*", text or "")
    if not found:
        return None
    day, moment = v.parse_date(found[1]), parse_time(found[2])
    return datetime.combine(day, moment) if day and moment else None


def in_zone(local: datetime, zone: ZoneInfo) -> datetime | None:
    """The moment a wall-clock time names in `zone`; None for a time the clocks skip
    (02:30 on the night summer time begins). Of a time that happens twice, the first."""
    moment = local.replace(tzinfo=zone, fold=0)
    back = moment.astimezone(ZoneInfo("UTC")).astimezone(zone)
    return moment if back.replace(tzinfo=None) == local else None


class DateTime(FieldType):
    """A day with a time, read in the call's time zone (`timezone`) and stored with its UTC
    offset, so the moment is unambiguous even if the call's zone is changed later."""

    short = True
    name = "datetime"
    summary = "a day with a time, in the call's time zone"
    stores = "ISO 8601 with offset: `2027-05-12T14:30:00+02:00`"
    settings = (Setting("min", "date"), Setting("max", "date"))
    ordered = (("min", "max"),)
    required_message = _l("Enter a date and a time.")
    max_characters = 40

    def problem(self, data, field):
        local = parse_local_moment(data)
        if local is None:
            return _("Enter a date and a time, for example 2027-03-14 14:30.")
        if in_zone(local, field.zone) is None:
            return _("This time does not exist on that day (the clocks change). Enter another.")
        lowest, highest = field.options.get("min"), field.options.get("max")
        if lowest and local.date() < date.fromisoformat(lowest):
            return _("Enter a date on or after %(date)s.", date=lowest)
        if highest and local.date() > date.fromisoformat(highest):
            return _("Enter a date on or before %(date)s.", date=highest)
        return None

    def example_post(self, field):
        return {"": (field.options.get("min") or "2030-04-19") + "T14:30"}

    def stored(self, data, field, language):
        text = super().stored(data, field, language)
        local = parse_local_moment(text)
        moment = in_zone(local, field.zone) if local else None
        return moment.isoformat() if moment else text

    def form_data(self, value):
        """Back into the page's input as the wall-clock time it was typed in."""
        moment = _moment(value)
        return moment.strftime("%Y-%m-%dT%H:%M") if moment else value

    def display(self, value, field, language):
        moment = _moment(value)
        if moment is None:
            return "" if value is None else str(value)
        return local_time_in(moment, field.zone, language)

    def spreadsheet_value(self, value, field, language):
        moment = _moment(value)
        if moment is None:
            return super().spreadsheet_value(value, field, language)
        return moment.astimezone(field.zone).replace(tzinfo=None)  # the call's wall clock

    def make_field(self, field, language):
        attributes = {}
        if "min" in field.options:
            attributes["min"] = field.options["min"] + "T00:00"
        if "max" in field.options:
            attributes["max"] = field.options["max"] + "T23:59"
        return StringField(
            field.label(language),
            validators=self.chain(field),
            widget=DateTimeLocalInput(),
            render_kw=attributes,
        )


def _moment(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None
