"""Absolute dates as analysts' sources write them: "July 1, 2026", « 1er juillet 2026 », "August".

Each language has fragments for a date known to the day (with or without its year), a month
with or without its year, and a year; :func:`read_date` turns a matched fragment back into its
parts. Numeric dates are read only where they cannot be misread: ISO dates everywhere, and
day/month/year in French (in English "07/08/2025" is 7 August or July 8).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from commitments.deadlines import Precision, end_of_period
from core.dates import date_in_range

from .lexicon import MONTH, MONTH_VALUE, SPACE, fold

YEAR = r"(?<![\d.,])(?:19|20|21)\d\d(?![\d])(?!\s?%)"
_ISO = r"(?<![\d])(?:19|20|21)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?![\d])"
_FR_NUMERIC = r"(?<![\d/])(?:0?[1-9]|[12]\d|3[01])/(?:0?[1-9]|1[0-2])/(?:19|20|21)\d\d(?![\d/])"
_DAY = {
    "en": r"(?<![\d,.])(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?(?![\d])",
    "fr": r"(?<![\d,.])(?:1er|premier|[12]\d|3[01]|0?[1-9])(?![\d])",
}

#: A date known to the day, with its year.
DAY_WITH_YEAR = {
    "en": rf"(?:{_ISO}|{_DAY['en']}{SPACE}(?:of{SPACE})?{MONTH['en']},?{SPACE}{YEAR}"
    rf"|{MONTH['en']}{SPACE}{_DAY['en']},?{SPACE}{YEAR})",
    "fr": rf"(?:{_ISO}|{_FR_NUMERIC}|{_DAY['fr']}{SPACE}{MONTH['fr']}{SPACE}{YEAR})",
}
#: A day and month whose year the reader infers from the agreement's date.
DAY_WITHOUT_YEAR = {
    "en": rf"(?:{_DAY['en']}{SPACE}(?:of{SPACE})?{MONTH['en']}(?!,?{SPACE}\d)"
    rf"|{MONTH['en']}{SPACE}{_DAY['en']}(?!,?{SPACE}\d))",
    "fr": rf"(?:{_DAY['fr']}{SPACE}{MONTH['fr']}(?!{SPACE}\d))",
}
#: A month, with its year or not (a day after it would make it a day: see the lookaheads).
MONTH_WITH_YEAR = {lang: rf"{MONTH[lang]},?{SPACE}{YEAR}" for lang in ("en", "fr")}
MONTH_WITHOUT_YEAR = {
    "en": rf"{MONTH['en']}(?!,?{SPACE}(?:\d|of\b))",
    "fr": rf"{MONTH['fr']}(?!{SPACE}\d)",
}

_PARTS = re.compile(
    r"(?P<iso>(?P<iy>\d{4})-(?P<im>\d\d)-(?P<id>\d\d))"
    r"|(?P<num>(?P<nd>\d{1,2})/(?P<nm>\d{1,2})/(?P<ny>\d{4}))",
)
_YEAR_IN = re.compile(r"(?:19|20|21)\d\d(?!\d)")
_DAY_IN = re.compile(r"(?<!\d)(1er|premier|\d{1,2})(?:st|nd|rd|th)?(?!\d)", re.IGNORECASE)


@dataclass(frozen=True)
class DateParts:
    """The parts a date phrase names; the ones it does not name are ``None``."""

    year: int | None
    month: int
    day: int | None

    def date(self) -> dt.date | None:
        """Return the date if the parts name one that exists in the accepted range."""
        if self.year is None:
            return None
        return _valid(self.year, self.month, self.day or 1)


def read_date(text: str, lang: str) -> DateParts | None:
    """Return the parts of a date phrase matched by one of this module's fragments."""
    numeric = _PARTS.fullmatch(text.strip())
    if numeric:
        if numeric["iso"]:
            return DateParts(int(numeric["iy"]), int(numeric["im"]), int(numeric["id"]))
        return DateParts(int(numeric["ny"]), int(numeric["nm"]), int(numeric["nd"]))
    month = _month_in(text, lang)
    if month is None:
        return None
    year_match = _YEAR_IN.search(text)
    year = int(year_match.group()) if year_match else None
    remainder = _YEAR_IN.sub(" ", text)
    day_match = _DAY_IN.search(remainder)
    day = None
    if day_match:
        day = 1 if day_match.group(1).lower() in ("1er", "premier") else int(day_match.group(1))
    return DateParts(year, month, day)


def _month_in(text: str, lang: str) -> int | None:
    for word in re.findall(r"[^\W\d_]+\.?", text):
        value = MONTH_VALUE[lang].get(fold(word))
        if value is not None:
            return value
    return None


def _valid(year: int, month: int, day: int) -> dt.date | None:
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return None
    return value if date_in_range(value) else None


def on_or_after(parts: DateParts, anchor: dt.date) -> dt.date | None:
    """Return the first date with the parts' month (and day) on or after ``anchor``.

    A day that does not exist that year (29 February) makes the phrase unreadable: ``None``.
    """
    for year in (anchor.year, anchor.year + 1):
        value = _valid(year, parts.month, parts.day or 1)
        if value is None:
            return None
        if parts.day is None:
            if end_of_period(value, Precision.MONTH) >= anchor:
                return value
        elif value >= anchor:
            return value
    return None


def on_or_before(parts: DateParts, anchor: dt.date) -> dt.date | None:
    """Return the last date with the parts' month (and day) on or before ``anchor``.

    "Retroactive to August" said on 28 October means the August just past; said on
    5 August, this August.
    """
    for year in (anchor.year, anchor.year - 1):
        value = _valid(year, parts.month, parts.day or 1)
        if value is None:
            return None
        if value <= anchor:
            return value
    return None
