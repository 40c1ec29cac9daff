"""What staff send, read at the edge, in one place: the query string of the dashboard's list,
its exports and downloads (`read_list_query`), and the text of staff forms (`clean_text`).

Text is normalised (NFC, tabs as blanks, `\\n` line ends) and refused with a message for the
person when it holds a control character (NUL, escape, …; a line break only where the field
is multi-line) or is longer than its bound. Refused values go nowhere: not to the database
(PostgreSQL cannot store NUL in text), not to the audit log, not to a log line, so no
background duty ever reads them back."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _

from services.search import MAX_QUERY_LENGTH

MAX_TAG_LENGTH = 60  # the tags table's column

MAX_QUERY_VALUES = 60  # values in one query string, every name together
MAX_REPEATS = 20  # values of one name (`state` may repeat)
MAX_PAGE_DIGITS = 7
MAX_WORD_LENGTH = 20
WORD = re.compile(r"[A-Za-z0-9_-]*")
LINE_BREAKS = "\n"


class InputRefused(ValueError):
    """The message is for the person, in their language."""


def normalise(value: str | None, multiline: bool = False) -> str:
    text = unicodedata.normalize("NFC", value or "").replace("\t", " ")
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def has_control_character(text: str, allowed: str = "") -> bool:
    """Cc (NUL, escape, line breaks, …) and lone surrogates, which no encoding can store."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in text)


def clean_text(
    value: str | None,
    label: str,
    limit: int,
    *,
    multiline: bool = False,
    too_long: str | None = None,
) -> str:
    """`value` normalised, or InputRefused. `too_long` replaces the generic message."""
    text = normalise(value, multiline)
    refuse_control_characters(text, label, multiline)
    if len(text) > limit:
        raise InputRefused(
            too_long
            or _("“%(label)s” can be at most %(max)d characters long.", label=label, max=limit)
        )
    return text


def refuse_control_characters(text: str, label: str, multiline: bool = False) -> None:
    if not has_control_character(text, LINE_BREAKS if multiline else ""):
        return
    if multiline:
        message = _(
            "“%(label)s” holds a control character (an invisible character such as NUL), "
            "which cannot be used.",
            label=label,
        )
    else:
        message = _(
            "“%(label)s” holds a control character (a line break, or an invisible "
            "character such as NUL), which cannot be used here.",
            label=label,
        )
    raise InputRefused(message)


# --- the list's query string -------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """The dashboard list's query string as the list, its exports and its downloads read
    it: each value normalised and checked, blank where it was refused (`problems` says why)."""

    form: str = ""  # a call's slug
    states: tuple[str, ...] = ()
    date_from: str = ""
    date_to: str = ""
    tag: str = ""  # as services.annotations compares tags
    q: str = ""
    sort: str = ""
    order: str = ""
    page: str = ""
    mine: str = ""  # "1": only the submissions assigned to the person (review assignment)
    tests: str = ""  # "1": only test submissions (made through a call's preview link)
    problems: tuple[str, ...] = field(default=())

    @property
    def state(self) -> str:
        return self.states[0] if self.states else ""

    def as_args(self) -> dict[str, str]:
        """The filters that were given, by their names in the query string (audit entries)."""
        raw = {
            "form": self.form,
            "state": self.state,
            "from": self.date_from,
            "to": self.date_to,
            "tag": self.tag,
            "q": self.q,
        }
        return {key: value for key, value in raw.items() if value}


def _labels() -> dict[str, tuple[str, int]]:
    """Per name in the query string: what the person calls it, and its bound."""
    return {
        "form": (_("Call"), 80),
        "state": (_("State"), 40),
        "from": (_("Submitted from"), 32),
        "to": (_("Submitted until"), 32),
        "tag": (_("Tag"), MAX_TAG_LENGTH),
        "q": (_("Search"), MAX_QUERY_LENGTH),
    }


def _values(args: Mapping[str, str], name: str) -> list[str]:
    getlist = getattr(args, "getlist", None)
    if getlist is not None:
        return list(getlist(name))
    value = args.get(name)
    return [] if value is None else [value]


def _total(args: Mapping[str, str]) -> int:
    lists = getattr(args, "lists", None)
    if lists is not None:
        return sum(len(values) for _name, values in lists())
    return len(args)


def _word(args: Mapping[str, str], name: str) -> str:
    """A value that is only ever compared with a few known ones (a sort key, a page
    number): kept when it is a short plain word, else ignored like any unknown one."""
    value = (_values(args, name) or [""])[0].strip()
    return value if len(value) <= MAX_WORD_LENGTH and WORD.fullmatch(value) else ""


def read_list_query(args: Mapping[str, str]) -> ListQuery:
    """The one reading of the list's query string (a werkzeug MultiDict, or a plain dict)."""
    if _total(args) > MAX_QUERY_VALUES:
        message = _("This address holds too many values: at most %(max)d.", max=MAX_QUERY_VALUES)
        return ListQuery(problems=(message,))
    values: dict[str, list[str]] = {}
    problems: list[str] = []
    for name, (label, limit) in _labels().items():
        given = _values(args, name)
        if len(given) > MAX_REPEATS:
            problems.append(
                _("“%(label)s” can be given at most %(max)d times.", label=label, max=MAX_REPEATS)
            )
            continue
        try:
            cleaned = [clean_text(value, label, limit).strip() for value in given]
        except InputRefused as refusal:
            if str(refusal) not in problems:
                problems.append(str(refusal))
            continue
        values[name] = [value for value in cleaned if value]

    def one(name: str) -> str:
        return (values.get(name) or [""])[0]

    return ListQuery(
        form=one("form"),
        states=tuple(values.get("state", ())),
        date_from=one("from"),
        date_to=one("to"),
        tag=normalise_tag(one("tag")),
        q=one("q"),
        sort=_word(args, "sort"),
        order=_word(args, "order"),
        page=_word(args, "page"),
        mine=_word(args, "mine"),
        tests=_word(args, "tests"),
        problems=tuple(problems),
    )


def normalise_tag(name: str) -> str:
    """Free text, compared without case and extra spaces, in NFC: " Needs  Visit " →
    "needs visit"."""
    return unicodedata.normalize("NFC", " ".join(normalise(name).split()).casefold())


def page_number(value: str | None, last: int = 10**6) -> int:
    """A page number from a query string: 1 for anything that is not one."""
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > MAX_PAGE_DIGITS:
        return 1
    return max(1, min(int(text), last))
