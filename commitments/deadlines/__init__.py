"""The deadline arithmetic: pure functions over dates, with no ORM.

A rule is one of: a fixed date; N days, weeks, months or years after an anchor date; the end
of a named period (a month, a quarter or a year) that falls on or after the anchor; or none.
Days are calendar days; adding months or years clamps to the end of the month
(31 Aug + 6 months = 28/29 Feb). A due date ends at the end of its day in the agreement's
time zone, which :func:`due_instant` turns into an aware UTC datetime.

:data:`RULE_FIELDS` is the one definition of how a rule is stored (the commitment's fields,
their empty values and how each becomes a :class:`DeadlineRule` attribute); the model, the
services, the admin, the CSV import, the API and the seed loader take their rule fields
from it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext, gettext_noop

from core.dates import DATE_MAX, DATE_MIN, YEAR_MAX, YEAR_MIN, date_in_range


class RuleKind(enum.StrEnum):
    """How a commitment's due date is derived."""

    FIXED = "fixed"
    RELATIVE = "relative"
    PERIOD_END = "period_end"
    NONE = "none"


class OffsetUnit(enum.StrEnum):
    """The unit of a relative rule's offset."""

    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    YEARS = "years"


class Precision(enum.StrEnum):
    """How precisely a date is known; a month, quarter or year is stored as its last day."""

    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class PeriodUnit(enum.StrEnum):
    """The kind of named period a period-end rule refers to."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


#: A due date must lie in the product's range of dates (``core.dates``); the arithmetic
#: below counts in the years a date can hold, and :func:`compute_due_date` applies the range.
YEAR_OUT_OF_RANGE = gettext_noop("The year must be between %(min)s and %(max)s.")
DUE_OUT_OF_RANGE = gettext_noop("The deadline must fall between %(min)s and %(max)s.")
_YEARS = {"min": YEAR_MIN, "max": YEAR_MAX}
_DATES = {"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()}
#: What to ask for when a month or a quarter is not named, and how far each runs.
_NAME_THE = {
    "month": gettext_noop("Name the month."),
    "quarter": gettext_noop("Name the quarter."),
}
_RUNS_FROM = {
    "month": gettext_noop("A month number runs from 1 to 12."),
    "quarter": gettext_noop("A quarter number runs from 1 to 4."),
}
#: The part of each kind of rule that puts its due date where it falls.
DUE_DATE_CAUSE = {
    RuleKind.FIXED: "deadline_date",
    RuleKind.RELATIVE: "offset_amount",
    RuleKind.PERIOD_END: "period_year",
}


class RuleError(ValueError):
    """A rule that cannot be evaluated; ``field`` names the offending part.

    ``message`` is in English (logs, commands); :meth:`translated` gives it in the active
    language, for the pages and the API. Each text is marked with ``gettext_noop`` here, so
    the catalogue holds it while the engine itself translates nothing.
    """

    def __init__(self, field: str, template: str, params: Mapping[str, Any] | None = None) -> None:
        self.field = field
        self.template = template
        self.params = dict(params or {})
        self.message = template % self.params if self.params else template
        super().__init__(self.message)

    def translated(self) -> str:
        """Return the message in the active language."""
        text = gettext(self.template)
        return text % self.params if self.params else text


@dataclass(frozen=True, slots=True)
class DeadlineRule:
    """A deadline rule's parameters, independent of how they are stored."""

    kind: RuleKind
    fixed_date: dt.date | None = None
    offset_amount: int | None = None
    offset_unit: OffsetUnit | None = None
    period_unit: PeriodUnit | None = None
    period_number: int | None = None
    period_year: int | None = None
    #: How precisely a fixed date is known (``None``: to the day); read for fixed rules only.
    precision: Precision | None = None

    def validate(self) -> None:
        """Raise :class:`RuleError` if the parameters do not make a complete rule."""
        if self.kind == RuleKind.FIXED:
            if self.fixed_date is None:
                raise RuleError("deadline_date", gettext_noop("A fixed deadline needs a date."))
        elif self.kind == RuleKind.RELATIVE:
            if self.offset_amount is None:
                raise RuleError(
                    "offset_amount", gettext_noop("A relative deadline needs a number of units.")
                )
            if self.offset_amount < 1:
                raise RuleError(
                    "offset_amount", gettext_noop("The offset must be a positive whole number.")
                )
            if self.offset_unit is None:
                raise RuleError("offset_unit", gettext_noop("A relative deadline needs a unit."))
        elif self.kind == RuleKind.PERIOD_END:
            self._validate_period()

    def _validate_period(self) -> None:
        if self.period_unit is None:
            raise RuleError(
                "period_unit", gettext_noop("A period-end deadline needs a period unit.")
            )
        limits = {PeriodUnit.MONTH: 12, PeriodUnit.QUARTER: 4}
        if self.period_unit in limits:
            if self.period_number is None:
                raise RuleError("period_number", _NAME_THE[self.period_unit])
            if not 1 <= self.period_number <= limits[self.period_unit]:
                raise RuleError("period_number", _RUNS_FROM[self.period_unit])
        elif self.period_number is not None:
            raise RuleError(
                "period_number", gettext_noop("A year period takes no number; set the year.")
            )
        if self.period_year is not None and not YEAR_MIN <= self.period_year <= YEAR_MAX:
            raise RuleError("period_year", YEAR_OUT_OF_RANGE, _YEARS)


@dataclass(frozen=True, slots=True)
class RuleField:
    """One stored part of a deadline rule, as every layer that reads or writes it names it.

    ``name`` is the commitment's field (and the form field, CSV column, seed key and service
    argument); ``key`` its name inside a rule shown on its own (the API's ``deadline_rule``);
    ``attribute`` the :class:`DeadlineRule` attribute it becomes (``None`` where the engine
    does not read it); ``empty`` the stored value meaning "not set", which a rule written as a
    whole gives every part left out; ``to_engine`` turns a set stored value into the engine's;
    ``group`` names the parts shown side by side, such as an amount and its unit;
    ``minimum`` and ``maximum`` bound a number as it can be stored and counted with;
    ``help_text`` explains the part where its name does not.
    """

    name: str
    key: str
    attribute: str | None
    empty: Any
    to_engine: Callable[[Any], Any] | None = None
    group: str = ""
    minimum: int | None = None
    maximum: int | None = None
    help_text: str = ""

    def engine_value(self, stored: Any) -> Any:
        """Return the engine's value for ``stored``; ``None`` where it is empty."""
        if stored is None or stored == "":
            return None
        return self.to_engine(stored) if self.to_engine else stored


#: The words the rule was written from; kept with the rule, never evaluated.
PHRASE_FIELD = RuleField(
    "deadline_phrase",
    "source_phrase",
    None,
    "",
    help_text='The words the rule comes from, e.g. "within 180 days".',
)
#: Which kind of rule it is; its empty value is the rule that gives no deadline.
KIND_FIELD = RuleField("deadline_kind", "kind", "kind", RuleKind.NONE.value, RuleKind)
#: What a relative rule counts from: the agreement's date, or the fulfilment of the commitment
#: named in ``ANCHOR_COMMITMENT_FIELD``; the model resolves it into the anchor date.
ANCHOR_KIND_FIELD = RuleField("anchor_kind", "anchor_kind", None, "", group="anchor")
ANCHOR_COMMITMENT_FIELD = RuleField(
    "anchor_commitment", "anchor_commitment", None, None, group="anchor"
)
#: The parameters each kind of rule reads, in the order forms and the API show them.
PARAMETER_FIELDS = (
    RuleField(
        "deadline_date", "date", "fixed_date", None, group="fixed", help_text="Fixed due date."
    ),
    RuleField(
        "deadline_precision",
        "precision",
        "precision",
        "",
        Precision,
        group="fixed",
        help_text="Empty or day: the date itself; month, quarter or year: the end of that "
        "period (2026-03-01 with month precision is due 2026-03-31, shown as March 2026).",
    ),
    RuleField(
        "offset_amount",
        "offset_amount",
        "offset_amount",
        None,
        group="offset",
        minimum=1,
        maximum=2_147_483_647,
        help_text="How many units after the anchor.",
    ),
    RuleField("offset_unit", "offset_unit", "offset_unit", "", OffsetUnit, group="offset"),
    ANCHOR_KIND_FIELD,
    ANCHOR_COMMITMENT_FIELD,
    RuleField("period_unit", "period_unit", "period_unit", "", PeriodUnit, group="period"),
    RuleField(
        "period_number",
        "period_number",
        "period_number",
        None,
        group="period",
        minimum=1,
        maximum=12,
        help_text="Month 1-12 or quarter 1-4; empty for a year.",
    ),
    RuleField(
        "period_year",
        "period_year",
        "period_year",
        None,
        group="period",
        minimum=YEAR_MIN,
        maximum=YEAR_MAX,
        help_text="Empty: the first such period on or after the anchor.",
    ),
)
#: The groups of parameters each kind of rule reads; forms show only the chosen kind's.
KIND_GROUPS: Mapping[RuleKind, tuple[str, ...]] = {
    RuleKind.FIXED: ("fixed",),
    RuleKind.RELATIVE: ("offset", "anchor"),
    RuleKind.PERIOD_END: ("period",),
    RuleKind.NONE: (),
}
#: The parameter fields each kind of rule reads, by name and in order: ``KIND_GROUPS`` spelled
#: out through each field's ``group``, for the forms that show only the chosen kind's fields.
KIND_PARAMETERS: Mapping[RuleKind, tuple[str, ...]] = {
    kind: tuple(field.name for field in PARAMETER_FIELDS if field.group in groups)
    for kind, groups in KIND_GROUPS.items()
}
#: Every stored part of a rule, in the order the admin and the CSV files show them.
RULE_FIELDS = (PHRASE_FIELD, KIND_FIELD, *PARAMETER_FIELDS)
RULE_FIELD_NAMES = tuple(field.name for field in RULE_FIELDS)
#: What a rule written as a whole stores for every part it leaves out.
RULE_EMPTY_VALUES: Mapping[str, Any] = {field.name: field.empty for field in RULE_FIELDS}


def rule_from_stored(values: Mapping[str, Any]) -> DeadlineRule:
    """Return the engine's rule for stored values keyed by field name.

    Raise ``ValueError`` for a kind or unit the engine does not know.
    """
    return DeadlineRule(
        **{
            field.attribute: field.engine_value(values[field.name])
            for field in RULE_FIELDS
            if field.attribute is not None
        }
    )


def add_offset(anchor: dt.date, amount: int, unit: OffsetUnit) -> dt.date:
    """Return ``anchor`` plus ``amount`` units, clamping months and years to month end.

    Raise :class:`RuleError` on ``offset_amount`` if the result falls after 31 Dec 9999.
    """
    try:
        if unit == OffsetUnit.DAYS:
            return anchor + dt.timedelta(days=amount)
        if unit == OffsetUnit.WEEKS:
            return anchor + dt.timedelta(weeks=amount)
        if unit == OffsetUnit.MONTHS:
            return anchor + relativedelta(months=amount)
        return anchor + relativedelta(years=amount)
    except (OverflowError, ValueError) as exc:
        raise RuleError("offset_amount", DUE_OUT_OF_RANGE, _DATES) from exc


def period_end(unit: PeriodUnit, number: int | None, year: int) -> dt.date:
    """Return the last day of the month, quarter or year named by ``unit``/``number``/``year``.

    Raise :class:`RuleError` on ``period_year`` for a year outside 1-9999, and on
    ``period_number`` for a month or quarter that does not exist.
    """
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise RuleError("period_year", YEAR_OUT_OF_RANGE, _YEARS)
    if unit == PeriodUnit.YEAR:
        return dt.date(year, 12, 31)
    if number is None:
        raise RuleError("period_number", _NAME_THE[unit])
    limit = 12 if unit == PeriodUnit.MONTH else 4
    if not 1 <= number <= limit:
        raise RuleError("period_number", _RUNS_FROM[unit])
    month = number if unit == PeriodUnit.MONTH else number * 3
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def next_period_end(
    unit: PeriodUnit, number: int | None, year: int | None, anchor: dt.date
) -> dt.date:
    """Return the period's end: in ``year`` if given, else the first on or after ``anchor``.

    "By March" said in October means the coming March; said on 10 March, this March.
    """
    if year is not None:
        return period_end(unit, number, year)
    end = period_end(unit, number, anchor.year)
    if end >= anchor:
        return end
    if anchor.year == dt.MAXYEAR:
        raise RuleError("period_year", DUE_OUT_OF_RANGE, _DATES)
    return period_end(unit, number, anchor.year + 1)


def end_of_period(day: dt.date, precision: Precision) -> dt.date:
    """Return the last day of the month, quarter or year holding ``day`` (``day`` for a day)."""
    if precision == Precision.DAY:
        return day
    if precision == Precision.YEAR:
        return dt.date(day.year, 12, 31)
    month = day.month if precision == Precision.MONTH else ((day.month - 1) // 3 + 1) * 3
    return dt.date(day.year, month, calendar.monthrange(day.year, month)[1])


def start_of_period(day: dt.date, precision: Precision) -> dt.date:
    """Return the first day of the month, quarter or year holding ``day`` (``day`` for a day).

    A date known to the month is stored as the period's last day when it ends something (a
    due date: "by March" is due on 31 March) and as its first day when it starts something
    (an effective-from date: "from August" applies from 1 August).
    """
    if precision == Precision.DAY:
        return day
    if precision == Precision.YEAR:
        return dt.date(day.year, 1, 1)
    month = day.month if precision == Precision.MONTH else (day.month - 1) // 3 * 3 + 1
    return dt.date(day.year, month, 1)


def rule_precision(rule: DeadlineRule) -> Precision:
    """Return how precisely the rule's due date is known: a period's unit, else as stated."""
    if rule.kind == RuleKind.PERIOD_END and rule.period_unit is not None:
        return Precision(rule.period_unit.value)
    if rule.kind == RuleKind.FIXED and rule.precision is not None:
        return rule.precision
    return Precision.DAY


@dataclass(frozen=True, slots=True)
class Revision:
    """What a revision of a deadline did, as the engine folds it: a new date, or the clock."""

    kind: str
    new_due_date: dt.date | None
    new_precision: Precision | None


#: The revision kinds that stop and restart a deadline's clock.
SUSPEND, RESUME = "suspended", "resumed"


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline after its revisions: the date, its precision, and whether it is suspended."""

    due_date: dt.date | None
    precision: Precision | None
    suspended: bool = False


def revise(original: Deadline, revisions: Sequence[Revision]) -> Deadline:
    """Return the deadline ``original`` becomes after ``revisions``, taken in their order.

    A revision that gives a new date replaces the date and its precision (extended, brought
    forward, renegotiated, or resumed with a new date); a suspension stops the clock and keeps
    the date; a resumption restarts it.
    """
    due_date, precision, suspended = original.due_date, original.precision, original.suspended
    for revision in revisions:
        if revision.kind == SUSPEND:
            suspended = True
            continue
        if revision.kind == RESUME:
            suspended = False
        if revision.new_due_date is not None:
            due_date = revision.new_due_date
            precision = revision.new_precision or Precision.DAY
    return Deadline(due_date, precision if due_date is not None else None, suspended)


class Timing(enum.StrEnum):
    """Whether a fulfilment kept its deadline: the original, only a later one, or none."""

    ON_TIME = "on_time"
    AFTER_EXTENSION = "after_extension"
    LATE = "late"


def fulfilment_timing(
    fulfilled_on: dt.date | None, original_due_date: dt.date | None, due_date: dt.date | None
) -> Timing | None:
    """Return how a fulfilment on ``fulfilled_on`` stands against its deadlines.

    On time: on or before both the original and the current due date. After an extension:
    after the original but on or before a later current date. Late: after the current date
    (also after a date brought forward, even if the original was still ahead). ``None`` with
    no deadline or no fulfilment date.

    A deadline ends at the end of its day in the agreement's time zone, and the fulfilment
    date is a day in that zone too: comparing the dates is comparing the instants there.
    """
    if fulfilled_on is None or due_date is None:
        return None
    original = original_due_date or due_date
    if fulfilled_on > due_date:
        return Timing.LATE
    if fulfilled_on <= original:
        return Timing.ON_TIME
    return Timing.AFTER_EXTENSION


def compute_due_date(rule: DeadlineRule, anchor: dt.date | None) -> dt.date | None:
    """Return the due date the rule gives for ``anchor``, or ``None`` if there is none yet.

    A relative rule, or a period rule without a year, whose anchor has not happened
    (``anchor is None``) has no due date yet; a rule of kind ``none`` never has one. Raise
    :class:`RuleError` on the part that puts the due date outside the product's range.
    """
    due = _due_date(rule, anchor)
    if due is not None and not date_in_range(due):
        raise RuleError(DUE_DATE_CAUSE[rule.kind], DUE_OUT_OF_RANGE, _DATES)
    return due


def _due_date(rule: DeadlineRule, anchor: dt.date | None) -> dt.date | None:
    rule.validate()
    if rule.kind == RuleKind.FIXED:
        if rule.fixed_date is None:
            return None
        return end_of_period(rule.fixed_date, rule.precision or Precision.DAY)
    if rule.kind == RuleKind.PERIOD_END and rule.period_unit is not None:
        if rule.period_year is not None:
            return period_end(rule.period_unit, rule.period_number, rule.period_year)
        if anchor is None:
            return None
        return next_period_end(rule.period_unit, rule.period_number, None, anchor)
    if rule.kind == RuleKind.RELATIVE and rule.offset_amount and rule.offset_unit and anchor:
        return add_offset(anchor, rule.offset_amount, rule.offset_unit)
    return None


def due_instant(due_date: dt.date, time_zone: str) -> dt.datetime:
    """Return the last instant of ``due_date`` in ``time_zone``, as an aware UTC datetime.

    That is one microsecond before the next local day starts. Counting back from the next
    day's start stays right where a clock change falls at midnight: where 23:00-24:00 happens
    twice (Santiago, Beirut) the deadline ends with the second pass, and a day a zone skipped
    (Apia, 30 Dec 2011) ends when the next day begins.
    """
    return _day_start(due_date + dt.timedelta(days=1), ZoneInfo(time_zone)) - dt.timedelta(
        microseconds=1
    )


def _day_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """Return the first instant of ``day`` in ``zone``, in UTC.

    A midnight that a clock change skips resolves, with ``fold=0``, to the instant of the
    change, which is when that day begins.
    """
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)
