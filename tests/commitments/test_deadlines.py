"""The pure deadline engine: each rule kind by example, then its arithmetic by property."""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from commitments.deadlines import (
    DUE_DATE_CAUSE,
    DeadlineRule,
    OffsetUnit,
    PeriodUnit,
    RuleError,
    RuleKind,
    Timing,
    add_offset,
    compute_due_date,
    due_instant,
    fulfilment_timing,
    next_period_end,
    period_end,
)
from core.dates import DATE_MAX, DATE_MIN

SUMMIT = dt.date(2025, 10, 28)
ONE_MICROSECOND = dt.timedelta(microseconds=1)


def relative(amount: int, unit: OffsetUnit) -> DeadlineRule:
    return DeadlineRule(kind=RuleKind.RELATIVE, offset_amount=amount, offset_unit=unit)


def by_period(unit: PeriodUnit, number: int | None = None, year: int | None = None):
    return DeadlineRule(
        kind=RuleKind.PERIOD_END, period_unit=unit, period_number=number, period_year=year
    )


# Each rule kind, by example.


def test_fixed_rule_gives_its_date_whatever_the_anchor():
    rule = DeadlineRule(kind=RuleKind.FIXED, fixed_date=dt.date(2026, 3, 31))
    assert compute_due_date(rule, SUMMIT) == dt.date(2026, 3, 31)
    assert compute_due_date(rule, None) == dt.date(2026, 3, 31)


def test_within_180_days_of_the_summit():
    assert compute_due_date(relative(180, OffsetUnit.DAYS), SUMMIT) == dt.date(2026, 4, 26)


def test_within_six_months_of_the_summit():
    assert compute_due_date(relative(6, OffsetUnit.MONTHS), SUMMIT) == dt.date(2026, 4, 28)


@pytest.mark.parametrize(
    ("anchor", "due"),
    [
        (dt.date(2025, 8, 31), dt.date(2026, 2, 28)),
        (dt.date(2023, 8, 31), dt.date(2024, 2, 29)),
    ],
)
def test_six_months_after_31_august_ends_on_the_last_day_of_february(anchor, due):
    assert add_offset(anchor, 6, OffsetUnit.MONTHS) == due


def test_one_month_after_31_january_clamps_to_february():
    assert add_offset(dt.date(2026, 1, 31), 1, OffsetUnit.MONTHS) == dt.date(2026, 2, 28)
    assert add_offset(dt.date(2028, 1, 31), 1, OffsetUnit.MONTHS) == dt.date(2028, 2, 29)


def test_weeks_are_seven_calendar_days():
    assert compute_due_date(relative(2, OffsetUnit.WEEKS), SUMMIT) == dt.date(2025, 11, 11)
    assert add_offset(dt.date(2025, 12, 25), 1, OffsetUnit.WEEKS) == dt.date(2026, 1, 1)


def test_years_from_29_february():
    leap_day = dt.date(2024, 2, 29)
    assert add_offset(leap_day, 1, OffsetUnit.YEARS) == dt.date(2025, 2, 28)
    assert add_offset(leap_day, 4, OffsetUnit.YEARS) == dt.date(2028, 2, 29)


def test_by_march_said_in_october_means_next_march():
    rule = by_period(PeriodUnit.MONTH, 3)
    assert compute_due_date(rule, SUMMIT) == dt.date(2026, 3, 31)


@pytest.mark.parametrize("said_on", [dt.date(2026, 3, 10), dt.date(2026, 3, 31)])
def test_by_march_said_in_march_means_this_march(said_on):
    assert compute_due_date(by_period(PeriodUnit.MONTH, 3), said_on) == dt.date(2026, 3, 31)


def test_by_february_ends_on_its_last_day():
    assert compute_due_date(by_period(PeriodUnit.MONTH, 2), SUMMIT) == dt.date(2026, 2, 28)
    assert compute_due_date(by_period(PeriodUnit.MONTH, 2), dt.date(2027, 5, 1)) == dt.date(
        2028, 2, 29
    )


@pytest.mark.parametrize(
    ("quarter", "due"),
    [
        (1, dt.date(2026, 3, 31)),
        (2, dt.date(2026, 6, 30)),
        (3, dt.date(2026, 9, 30)),
        (4, dt.date(2025, 12, 31)),
    ],
)
def test_by_the_end_of_a_quarter(quarter, due):
    assert compute_due_date(by_period(PeriodUnit.QUARTER, quarter), SUMMIT) == due


def test_by_the_end_of_the_year():
    assert compute_due_date(by_period(PeriodUnit.YEAR), SUMMIT) == dt.date(2025, 12, 31)
    assert compute_due_date(by_period(PeriodUnit.YEAR, year=2027), SUMMIT) == dt.date(2027, 12, 31)


def test_explicit_period_year_wins_over_the_anchor_and_needs_none():
    rule = by_period(PeriodUnit.MONTH, 3, year=2027)
    assert compute_due_date(rule, SUMMIT) == dt.date(2027, 3, 31)
    assert compute_due_date(rule, None) == dt.date(2027, 3, 31)


def test_no_deadline_has_no_due_date():
    assert compute_due_date(DeadlineRule(kind=RuleKind.NONE), SUMMIT) is None


def test_relative_rule_without_anchor_date_has_no_due_date_yet():
    assert compute_due_date(relative(30, OffsetUnit.DAYS), None) is None
    assert compute_due_date(by_period(PeriodUnit.MONTH, 3), None) is None


def test_offset_past_the_year_9999_is_a_rule_error_on_the_offset():
    with pytest.raises(RuleError) as exc:
        compute_due_date(relative(2_000_000_000, OffsetUnit.DAYS), SUMMIT)
    assert exc.value.field == "offset_amount"
    with pytest.raises(RuleError) as exc:
        add_offset(dt.date(9999, 6, 1), 7, OffsetUnit.MONTHS)
    assert exc.value.field == "offset_amount"


def test_period_with_no_end_before_the_year_10000_is_a_rule_error_on_the_year():
    with pytest.raises(RuleError) as exc:
        next_period_end(PeriodUnit.MONTH, 3, None, dt.date(9999, 4, 1))
    assert exc.value.field == "period_year"


@pytest.mark.parametrize(
    ("rule", "anchor", "field"),
    [
        (
            DeadlineRule(kind=RuleKind.FIXED, fixed_date=dt.date(9999, 12, 31)),
            SUMMIT,
            "deadline_date",
        ),
        (DeadlineRule(kind=RuleKind.FIXED, fixed_date=dt.date(1, 1, 1)), SUMMIT, "deadline_date"),
        (
            DeadlineRule(kind=RuleKind.FIXED, fixed_date=dt.date(2200, 1, 1)),
            SUMMIT,
            "deadline_date",
        ),
        (relative(7, OffsetUnit.MONTHS), dt.date(2199, 6, 1), "offset_amount"),
        (relative(1, OffsetUnit.DAYS), DATE_MAX, "offset_amount"),
        (by_period(PeriodUnit.MONTH, 3), dt.date(2199, 4, 1), "period_year"),
        (by_period(PeriodUnit.YEAR, year=2200), SUMMIT, "period_year"),
        (by_period(PeriodUnit.YEAR, year=1899), SUMMIT, "period_year"),
    ],
)
def test_due_date_outside_the_product_range_is_a_rule_error_on_its_cause(rule, anchor, field):
    """The range of ``core.dates`` bounds every due date; the part that put it there is named."""
    with pytest.raises(RuleError) as exc:
        compute_due_date(rule, anchor)
    assert exc.value.field == field
    assert "2199" in exc.value.message


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "UTC", "Asia/Tokyo"])
def test_the_last_accepted_date_has_a_due_instant_in_every_zone(zone):
    """The day after ``DATE_MAX``, which the due instant counts back from, exists."""
    assert due_instant(DATE_MAX, zone).date() in (DATE_MAX, DATE_MAX + dt.timedelta(days=1))
    assert due_instant(DATE_MIN, zone).tzinfo is dt.UTC


@pytest.mark.parametrize("year", [0, 10000, 20288])
@pytest.mark.parametrize(("unit", "number"), [(PeriodUnit.YEAR, None), (PeriodUnit.MONTH, 3)])
def test_period_in_a_year_a_date_cannot_hold_is_a_rule_error_on_the_year(unit, number, year):
    with pytest.raises(RuleError) as exc:
        period_end(unit, number, year)
    assert exc.value.field == "period_year"


@pytest.mark.parametrize(("unit", "number"), [(PeriodUnit.MONTH, 13), (PeriodUnit.QUARTER, 5)])
def test_period_that_does_not_exist_is_a_rule_error_on_the_number(unit, number):
    with pytest.raises(RuleError) as exc:
        period_end(unit, number, 2026)
    assert exc.value.field == "period_number"


# The due instant: the end of the due day in the agreement's time zone, stored in UTC.


@pytest.mark.parametrize(
    ("zone", "due", "instant"),
    [
        ("Asia/Tokyo", dt.date(2026, 4, 26), dt.datetime(2026, 4, 26, 14, 59, 59, 999999)),
        ("UTC", dt.date(2026, 4, 26), dt.datetime(2026, 4, 26, 23, 59, 59, 999999)),
        # Paris: winter UTC+1, summer UTC+2; clocks change on the last Sunday of March/October.
        ("Europe/Paris", dt.date(2026, 3, 28), dt.datetime(2026, 3, 28, 22, 59, 59, 999999)),
        ("Europe/Paris", dt.date(2026, 3, 29), dt.datetime(2026, 3, 29, 21, 59, 59, 999999)),
        ("Europe/Paris", dt.date(2026, 10, 24), dt.datetime(2026, 10, 24, 21, 59, 59, 999999)),
        ("Europe/Paris", dt.date(2026, 10, 25), dt.datetime(2026, 10, 25, 22, 59, 59, 999999)),
        ("America/New_York", dt.date(2026, 1, 15), dt.datetime(2026, 1, 16, 4, 59, 59, 999999)),
        ("America/New_York", dt.date(2026, 7, 15), dt.datetime(2026, 7, 16, 3, 59, 59, 999999)),
        # Santiago turns its clocks back from 24:00 to 23:00: the day ends on the second pass.
        ("America/Santiago", dt.date(2025, 4, 5), dt.datetime(2025, 4, 6, 3, 59, 59, 999999)),
        # Apia skipped 30 Dec 2011: a deadline on that day passes when 31 Dec begins.
        ("Pacific/Apia", dt.date(2011, 12, 30), dt.datetime(2011, 12, 30, 9, 59, 59, 999999)),
    ],
)
def test_due_instant_is_the_end_of_the_local_day_in_utc(zone, due, instant):
    assert due_instant(due, zone) == instant.replace(tzinfo=dt.UTC)


def test_due_instant_is_utc_aware():
    instant = due_instant(dt.date(2026, 4, 26), "Asia/Tokyo")
    assert instant.tzinfo is dt.UTC


# Incomplete rules name the field at fault.


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (DeadlineRule(kind=RuleKind.FIXED), "deadline_date"),
        (DeadlineRule(kind=RuleKind.RELATIVE, offset_unit=OffsetUnit.DAYS), "offset_amount"),
        (relative(0, OffsetUnit.DAYS), "offset_amount"),
        (DeadlineRule(kind=RuleKind.RELATIVE, offset_amount=3), "offset_unit"),
        (DeadlineRule(kind=RuleKind.PERIOD_END), "period_unit"),
        (by_period(PeriodUnit.MONTH), "period_number"),
        (by_period(PeriodUnit.MONTH, 13), "period_number"),
        (by_period(PeriodUnit.MONTH, 0), "period_number"),
        (by_period(PeriodUnit.QUARTER), "period_number"),
        (by_period(PeriodUnit.QUARTER, 5), "period_number"),
        (by_period(PeriodUnit.YEAR, 1), "period_number"),
        (by_period(PeriodUnit.YEAR, year=0), "period_year"),
        (by_period(PeriodUnit.MONTH, 3, year=10000), "period_year"),
    ],
)
def test_incomplete_rule_names_its_field(rule, field):
    with pytest.raises(RuleError) as exc:
        compute_due_date(rule, SUMMIT)
    assert exc.value.field == field
    assert exc.value.message


# Properties of the arithmetic.

anchors = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31))
amounts = st.integers(min_value=1, max_value=1200)
month_numbers = st.integers(min_value=1, max_value=12)


def rules() -> st.SearchStrategy[DeadlineRule]:
    relative_rules = st.builds(relative, amounts, st.sampled_from(OffsetUnit))
    month_rules = st.builds(by_period, st.just(PeriodUnit.MONTH), month_numbers)
    quarter_rules = st.builds(
        by_period, st.just(PeriodUnit.QUARTER), st.integers(min_value=1, max_value=4)
    )
    year_rules = st.builds(by_period, st.just(PeriodUnit.YEAR))
    return st.one_of(relative_rules, month_rules, quarter_rules, year_rules)


def is_month_end(day: dt.date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


@given(anchor=anchors, days=st.integers(min_value=1, max_value=100_000))
def test_days_offset_is_exact(anchor, days):
    assert (add_offset(anchor, days, OffsetUnit.DAYS) - anchor).days == days


@given(anchor=anchors, weeks=amounts)
def test_weeks_offset_is_seven_days_each(anchor, weeks):
    assert (add_offset(anchor, weeks, OffsetUnit.WEEKS) - anchor).days == 7 * weeks


@given(anchor=anchors, months=amounts)
def test_month_offset_keeps_the_day_or_clamps_to_month_end(anchor, months):
    due = add_offset(anchor, months, OffsetUnit.MONTHS)
    month_index = anchor.year * 12 + anchor.month - 1 + months
    assert due.year * 12 + due.month - 1 == month_index
    assert due.day == anchor.day or (due.day < anchor.day and is_month_end(due))


@given(anchor=anchors, years=st.integers(min_value=1, max_value=100))
def test_year_offset_keeps_the_date_or_clamps_29_february(anchor, years):
    due = add_offset(anchor, years, OffsetUnit.YEARS)
    assert due.year == anchor.year + years
    assert due == add_offset(anchor, 12 * years, OffsetUnit.MONTHS)


@given(first=anchors, second=anchors, months=amounts)
def test_adding_months_is_monotonic_in_the_anchor(first, second, months):
    earlier, later = sorted((first, second))
    assert add_offset(earlier, months, OffsetUnit.MONTHS) <= add_offset(
        later, months, OffsetUnit.MONTHS
    )


@given(rule=rules(), anchor=st.dates(min_value=DATE_MIN, max_value=DATE_MAX))
def test_due_date_is_never_before_the_anchor_nor_out_of_range(rule, anchor):
    """A due date follows its anchor inside the product's range, or the rule's part is named."""
    try:
        due = compute_due_date(rule, anchor)
    except RuleError as exc:
        assert exc.field == DUE_DATE_CAUSE[rule.kind]
        return
    assert due is not None
    assert anchor <= due <= DATE_MAX


@given(month=month_numbers, anchor=anchors)
def test_period_end_is_the_first_month_end_on_or_after_the_anchor(month, anchor):
    due = next_period_end(PeriodUnit.MONTH, month, None, anchor)
    assert due >= anchor
    assert due.month == month
    assert is_month_end(due)
    assert due.year in (anchor.year, anchor.year + 1)
    assert period_end(PeriodUnit.MONTH, month, due.year - 1) < anchor


@given(quarter=st.integers(min_value=1, max_value=4), anchor=anchors)
def test_quarter_ends_are_month_ends_on_or_after_the_anchor(quarter, anchor):
    due = next_period_end(PeriodUnit.QUARTER, quarter, None, anchor)
    assert due >= anchor
    assert is_month_end(due)
    assert due.month == 3 * quarter


@given(anchor=anchors)
def test_year_end_is_the_31_december_of_the_anchor_year(anchor):
    due = next_period_end(PeriodUnit.YEAR, None, None, anchor)
    assert due >= anchor
    assert due == dt.date(anchor.year, 12, 31)


def day_exists(day: dt.date, zone: ZoneInfo) -> bool:
    """Tell whether the zone's clocks showed ``day`` at all (Apia skipped 30 Dec 2011)."""
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=zone)
    return noon.astimezone(dt.UTC).astimezone(zone).date() == day


def clock_change_days(zone: ZoneInfo, year: int) -> list[dt.date]:
    """Return the days of ``year`` on either side of a change of the zone's UTC offset."""
    days = [dt.date(year, 1, 1) + dt.timedelta(days=n) for n in range(366)]
    offsets = [dt.datetime.combine(day, dt.time(12), tzinfo=zone).utcoffset() for day in days]
    changes = [n for n in range(len(days) - 1) if offsets[n] != offsets[n + 1]]
    return [days[n + side] for n in changes for side in (0, 1)]


#: Zones whose clocks change at midnight or by odd amounts, drawn as often as all the others.
AWKWARD_ZONES = [
    "America/Santiago",
    "America/Asuncion",
    "America/Havana",
    "Asia/Beirut",
    "Asia/Damascus",
    "Asia/Tehran",
    "Africa/Cairo",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Europe/Paris",
    "America/New_York",
]


@st.composite
def zoned_due_dates(draw: st.DrawFn) -> tuple[dt.date, str]:
    """Draw a zone and a due date, half the time a day next to one of its clock changes."""
    zone_name = draw(st.one_of(st.sampled_from(AWKWARD_ZONES), st.timezone_keys()))
    year = draw(st.integers(min_value=1900, max_value=2200))
    near_changes = clock_change_days(ZoneInfo(zone_name), year)
    pick_a_change = draw(st.booleans())
    if near_changes and pick_a_change:
        return draw(st.sampled_from(near_changes)), zone_name
    day = draw(st.dates(min_value=dt.date(year, 1, 1), max_value=dt.date(year, 12, 31)))
    return day, zone_name


# Loading a zone's rules from disk the first time can outlast Hypothesis's 200 ms deadline.
@settings(deadline=None)
@given(zoned_due_dates())
def test_due_instant_is_the_last_microsecond_of_the_local_day(zoned):
    due, zone_name = zoned
    zone = ZoneInfo(zone_name)
    assume(day_exists(due, zone))
    instant = due_instant(due, zone_name)
    assert instant.utcoffset() == dt.timedelta(0)
    assert instant.astimezone(zone).date() == due
    assert (instant + ONE_MICROSECOND).astimezone(zone).date() > due


def test_a_rule_error_keeps_english_for_logs_and_speaks_the_readers_language():
    """The engine translates nothing; its refusal is translated where a reader sees it."""
    with pytest.raises(RuleError) as caught:
        period_end(PeriodUnit.MONTH, 13, 2026)
    assert caught.value.message == "A month number runs from 1 to 12."
    with translation.override("fr"):
        assert caught.value.translated() == "Un numéro de mois va de 1 à 12."
    with pytest.raises(RuleError) as caught:
        DeadlineRule(
            kind=RuleKind.PERIOD_END, period_unit=PeriodUnit.YEAR, period_year=2200
        ).validate()
    with translation.override("fr"):
        assert caught.value.translated() == "L’année doit être comprise entre 1900 et 2199."


# Timeliness of a fulfilment (issue 12).

ORIGINAL, EXTENDED, FORWARD = dt.date(2026, 4, 26), dt.date(2026, 6, 30), dt.date(2026, 4, 1)


@pytest.mark.parametrize(
    ("fulfilled_on", "original", "current", "timing"),
    [
        (dt.date(2026, 4, 26), ORIGINAL, ORIGINAL, Timing.ON_TIME),
        (dt.date(2026, 4, 27), ORIGINAL, ORIGINAL, Timing.LATE),
        (dt.date(2026, 4, 26), ORIGINAL, EXTENDED, Timing.ON_TIME),
        (dt.date(2026, 4, 27), ORIGINAL, EXTENDED, Timing.AFTER_EXTENSION),
        (dt.date(2026, 6, 30), ORIGINAL, EXTENDED, Timing.AFTER_EXTENSION),
        (dt.date(2026, 7, 1), ORIGINAL, EXTENDED, Timing.LATE),
        (dt.date(2026, 4, 2), ORIGINAL, FORWARD, Timing.LATE),
        (dt.date(2026, 4, 1), ORIGINAL, FORWARD, Timing.ON_TIME),
        (dt.date(2026, 4, 1), None, None, None),
        (None, ORIGINAL, ORIGINAL, None),
    ],
)
def test_fulfilment_timing_against_the_original_and_current_dates(
    fulfilled_on, original, current, timing
):
    assert fulfilment_timing(fulfilled_on, original, current) == timing


@given(
    fulfilled_on=st.dates(dt.date(2025, 1, 1), dt.date(2028, 12, 31)),
    original=st.dates(dt.date(2025, 1, 1), dt.date(2028, 12, 31)),
    current=st.dates(dt.date(2025, 1, 1), dt.date(2028, 12, 31)),
)
def test_fulfilment_timing_is_on_time_only_within_both_and_late_only_after_the_current(
    fulfilled_on, original, current
):
    timing = fulfilment_timing(fulfilled_on, original, current)
    assert (timing == Timing.ON_TIME) == (fulfilled_on <= min(original, current))
    assert (timing == Timing.LATE) == (fulfilled_on > current)
    assert (timing == Timing.AFTER_EXTENSION) == (original < fulfilled_on <= current)
