"""The arithmetic of recurring deadlines: pure functions over dates, with no ORM.

A recurring commitment's deadline rule gives its FIRST due date (occurrence 1); the
recurrence repeats after it:

* ``every`` N days, weeks, months or years: occurrence k is ``first + (k - 1) * N units``,
  counted from the first date each time, never from the previous occurrence, so month ends
  clamp without drifting (31 Jan + 1 month = 28 Feb, + 2 months = 31 Mar);
* ``month_end``, ``quarter_end``, ``year_end`` (interval N, default 1): occurrence k is the
  last day of the period (k - 1) * N periods after the one holding the first date.

A series stops at ``until`` (inclusive) or after ``count`` occurrences; with both set it stops
at whichever comes first; with neither it is open-ended. No series has more than
:data:`MAX_OCCURRENCES` occurrences: a bounded series that would have more is refused on the
field that bounds it (``recurrence_until`` names the number it would reach), and an
open-ended one is materialised over a horizon (``TRACKER_OCCURRENCE_HORIZON_DAYS``) and stops
growing at that number. Dates never leave the product's range (:mod:`core.dates`): an
open-ended series ends at the last accepted date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_noop

from core.dates import DATE_MAX

from . import OffsetUnit, RuleError, add_offset

#: The most occurrences one series has: 500 is forty years of monthly reports, and keeps a
#: commitment page, its calendar feed and its scan rows small.
MAX_OCCURRENCES = 500
#: The largest interval: more than a thousand units between occurrences is a typing mistake.
MAX_INTERVAL = 1000


class RecurrenceKind(enum.StrEnum):
    """How a series repeats after its first due date."""

    NONE = "none"
    EVERY = "every"
    MONTH_END = "month_end"
    QUARTER_END = "quarter_end"
    YEAR_END = "year_end"


#: The commitment fields a recurrence is stored in, in the order forms and the API show them.
FIELD_NAMES = (
    "recurrence",
    "recurrence_interval",
    "recurrence_unit",
    "recurrence_until",
    "recurrence_count",
)


def recurrence_from_stored(values: Mapping[str, Any]) -> Recurrence:
    """Build a :class:`Recurrence` from stored values (empty strings and ``None`` are unset)."""
    return Recurrence(
        RecurrenceKind(values.get("recurrence") or RecurrenceKind.NONE),
        values.get("recurrence_interval"),
        OffsetUnit(values["recurrence_unit"]) if values.get("recurrence_unit") else None,
        values.get("recurrence_until"),
        values.get("recurrence_count"),
    )


#: Months in one period of each period-end kind.
_PERIOD_MONTHS = {
    RecurrenceKind.MONTH_END: 1,
    RecurrenceKind.QUARTER_END: 3,
    RecurrenceKind.YEAR_END: 12,
}


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A recurrence's parameters, independent of how they are stored."""

    kind: RecurrenceKind
    interval: int | None = None
    unit: OffsetUnit | None = None
    until: dt.date | None = None
    count: int | None = None

    @property
    def recurs(self) -> bool:
        """Return whether there is more than the first date to repeat."""
        return self.kind != RecurrenceKind.NONE

    @property
    def step(self) -> int:
        """Return the interval, 1 when none is given."""
        return self.interval or 1

    def validate(self, first: dt.date | None, *, has_rule: bool = True) -> None:
        """Raise :class:`RuleError` on the offending field if the series is not acceptable.

        ``first`` is the first due date (the rule's; ``None`` while its anchor has not
        happened); ``has_rule`` is false when there is no deadline rule, and so nothing to
        repeat. Refused: a recurrence with no rule, an interval below 1 or above
        :data:`MAX_INTERVAL`, a missing unit for ``every``, a count below 1 or above
        :data:`MAX_OCCURRENCES`, an end before the first date, and an end that would make
        more than :data:`MAX_OCCURRENCES` occurrences (a horizon of millions of rows).
        """
        if not self.recurs:
            return
        if not has_rule:
            raise RuleError(
                "recurrence",
                gettext_noop("A recurrence needs a deadline rule: there is nothing to repeat."),
            )
        if self.interval is not None and not 1 <= self.interval <= MAX_INTERVAL:
            raise RuleError(
                "recurrence_interval",
                gettext_noop("The interval must be a whole number from 1 to %(max)s."),
                {"max": MAX_INTERVAL},
            )
        if self.kind == RecurrenceKind.EVERY and self.unit is None:
            raise RuleError(
                "recurrence_unit", gettext_noop("A recurrence every N units needs a unit.")
            )
        if self.count is not None and not 1 <= self.count <= MAX_OCCURRENCES:
            raise RuleError(
                "recurrence_count",
                gettext_noop("The number of occurrences must be from 1 to %(max)s."),
                {"max": MAX_OCCURRENCES},
            )
        if first is None:
            return
        if self.until is not None:
            if self.until < first:
                raise RuleError(
                    "recurrence_until",
                    gettext_noop(
                        "The recurrence ends (%(until)s) before its first due date "
                        "(%(first)s): an end before its start."
                    ),
                    {"until": self.until.isoformat(), "first": first.isoformat()},
                )
            if self.count is None and _within(first, self, MAX_OCCURRENCES, self.until):
                raise RuleError(
                    "recurrence_until",
                    gettext_noop(
                        "This end makes more than %(max)s occurrences (about %(number)s); "
                        "choose an earlier end or a longer interval."
                    ),
                    {"max": MAX_OCCURRENCES, "number": _count_through(first, self)},
                )


def iter_dates(first: dt.date, recurrence: Recurrence) -> Iterator[dt.date]:
    """Yield the series' dates from ``first``, strictly increasing, to its end.

    Stops at ``until``, after ``count`` dates, after :data:`MAX_OCCURRENCES` dates, or at the
    last accepted date, whichever comes first. A series that does not recur yields ``first``.
    """
    limit = min(recurrence.count or MAX_OCCURRENCES, MAX_OCCURRENCES)
    if not recurrence.recurs:
        limit = 1
    for index in range(limit):
        try:
            day = _nth(first, recurrence, index)
        except RuleError:
            return
        if day > DATE_MAX or (recurrence.until is not None and day > recurrence.until):
            return
        yield day


def occurrence_dates(
    first: dt.date,
    recurrence: Recurrence,
    *,
    through: dt.date | None = None,
    limit: int | None = None,
) -> list[dt.date]:
    """Return the series' dates up to ``through`` (inclusive) and at most ``limit`` of them.

    The first date is always included, however late it is: occurrence 1 exists as soon as
    the rule gives a date.
    """
    dates: list[dt.date] = []
    for day in iter_dates(first, recurrence):
        if limit is not None and len(dates) >= limit:
            break
        if through is not None and day > through and dates:
            break
        dates.append(day)
    return dates


def _nth(first: dt.date, recurrence: Recurrence, index: int) -> dt.date:
    """Return occurrence ``index + 1`` of the series (index 0 is the first date)."""
    if index == 0:
        return first
    steps = index * recurrence.step
    if recurrence.kind == RecurrenceKind.EVERY:
        return add_offset(first, steps, recurrence.unit or OffsetUnit.DAYS)
    months = _PERIOD_MONTHS[recurrence.kind]
    period = (first.year * 12 + first.month - 1) // months + steps
    last_month = period * months + months - 1
    year, month = divmod(last_month, 12)
    if year > DATE_MAX.year:
        raise RuleError("recurrence", "Out of range.")
    return dt.date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def _within(first: dt.date, recurrence: Recurrence, index: int, end: dt.date) -> bool:
    """Return whether occurrence ``index + 1`` exists and falls on or before ``end``."""
    try:
        return _nth(first, recurrence, index) <= end
    except RuleError:
        return False


def _count_through(first: dt.date, recurrence: Recurrence) -> int:
    """Return how many dates the series would have through ``until`` without the maximum."""
    until = recurrence.until or first
    if recurrence.kind == RecurrenceKind.EVERY and recurrence.unit in (
        OffsetUnit.DAYS,
        OffsetUnit.WEEKS,
    ):
        days = recurrence.step * (7 if recurrence.unit == OffsetUnit.WEEKS else 1)
        return (until - first).days // days + 1
    months_per_step = recurrence.step * (
        _PERIOD_MONTHS.get(recurrence.kind) or (12 if recurrence.unit == OffsetUnit.YEARS else 1)
    )
    months = (until.year - first.year) * 12 + until.month - first.month
    return months // months_per_step + 1
