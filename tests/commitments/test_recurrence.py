"""The pure recurrence arithmetic: examples, refusals, then its properties (hypothesis)."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools

import pytest
from django.utils import translation
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from commitments.deadlines import OffsetUnit, RuleError
from commitments.deadlines.recurrence import (
    MAX_INTERVAL,
    MAX_OCCURRENCES,
    Recurrence,
    RecurrenceKind,
    _nth,
    iter_dates,
    occurrence_dates,
)
from commitments.deadlines.text import recurrence_in_words
from core.dates import DATE_MAX

JAN_31 = dt.date(2026, 1, 31)


def every(interval: int, unit: OffsetUnit, **kwargs) -> Recurrence:
    return Recurrence(RecurrenceKind.EVERY, interval, unit, **kwargs)


def test_every_month_counts_from_the_first_date_so_month_ends_do_not_drift():
    """31 Jan + 1 month is 28 Feb, + 2 months is 31 Mar (not 28 Mar)."""
    dates = occurrence_dates(JAN_31, every(1, OffsetUnit.MONTHS, count=4))
    assert dates == [JAN_31, dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30)]


def test_quarter_end_gives_the_end_of_every_quarter_after_the_first_dates():
    dates = occurrence_dates(
        dt.date(2026, 2, 10), Recurrence(RecurrenceKind.QUARTER_END, 1, count=3)
    )
    assert dates == [dt.date(2026, 2, 10), dt.date(2026, 6, 30), dt.date(2026, 9, 30)]


def test_year_end_every_second_year_until_a_date_inclusive():
    recurrence = Recurrence(RecurrenceKind.YEAR_END, 2, until=dt.date(2030, 12, 31))
    assert occurrence_dates(dt.date(2026, 3, 31), recurrence) == [
        dt.date(2026, 3, 31),
        dt.date(2028, 12, 31),
        dt.date(2030, 12, 31),
    ]


def test_until_and_count_stop_at_whichever_comes_first():
    recurrence = every(1, OffsetUnit.YEARS, until=dt.date(2028, 6, 1), count=10)
    assert occurrence_dates(dt.date(2026, 1, 1), recurrence) == [
        dt.date(2026, 1, 1),
        dt.date(2027, 1, 1),
        dt.date(2028, 1, 1),
    ]


def test_an_open_ended_series_is_cut_at_the_horizon_but_keeps_its_first_date():
    recurrence = every(1, OffsetUnit.MONTHS)
    assert occurrence_dates(JAN_31, recurrence, through=dt.date(2026, 3, 31)) == [
        JAN_31,
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 31),
    ]
    assert occurrence_dates(JAN_31, recurrence, through=dt.date(2025, 1, 1)) == [JAN_31]


def test_an_open_ended_series_stops_at_the_last_accepted_date():
    dates = list(iter_dates(dt.date(2199, 10, 31), Recurrence(RecurrenceKind.MONTH_END, 1)))
    assert dates == [dt.date(2199, 10, 31), dt.date(2199, 11, 30), dt.date(2199, 12, 31)]


@pytest.mark.parametrize(
    ("recurrence", "field"),
    [
        (every(0, OffsetUnit.DAYS), "recurrence_interval"),
        (every(-3, OffsetUnit.DAYS), "recurrence_interval"),
        (every(MAX_INTERVAL + 1, OffsetUnit.DAYS), "recurrence_interval"),
        (Recurrence(RecurrenceKind.EVERY, 1), "recurrence_unit"),
        (every(1, OffsetUnit.DAYS, count=0), "recurrence_count"),
        (every(1, OffsetUnit.DAYS, count=MAX_OCCURRENCES + 1), "recurrence_count"),
        (every(1, OffsetUnit.DAYS, until=dt.date(2025, 12, 31)), "recurrence_until"),
        (every(1, OffsetUnit.DAYS, until=dt.date(2199, 12, 31)), "recurrence_until"),
    ],
)
def test_validate_refuses_on_the_field(recurrence, field):
    with pytest.raises(RuleError) as caught:
        recurrence.validate(dt.date(2026, 1, 1))
    assert caught.value.field == field


def test_a_horizon_of_millions_of_rows_is_refused_naming_the_number():
    """Every day until 2199 from 2026 would be 63 552 rows: refused on the end."""
    with pytest.raises(RuleError) as caught:
        every(1, OffsetUnit.DAYS, until=dt.date(2199, 12, 31)).validate(dt.date(2026, 1, 1))
    assert caught.value.field == "recurrence_until"
    assert "63552" in caught.value.message
    assert str(MAX_OCCURRENCES) in caught.value.message


def test_a_recurrence_without_a_deadline_rule_has_nothing_to_repeat():
    with pytest.raises(RuleError) as caught:
        Recurrence(RecurrenceKind.MONTH_END, 1).validate(None, has_rule=False)
    assert caught.value.field == "recurrence"


def test_a_first_date_not_yet_known_checks_the_parameters_only():
    """A rule anchored on a fulfilment not yet recorded gives no first date: no end check."""
    Recurrence(RecurrenceKind.MONTH_END, 1, until=dt.date(1999, 1, 1)).validate(None)
    with pytest.raises(RuleError) as caught:
        every(0, OffsetUnit.DAYS).validate(None)
    assert caught.value.field == "recurrence_interval"


def test_the_maximum_itself_is_accepted():
    recurrence = every(1, OffsetUnit.DAYS, count=MAX_OCCURRENCES)
    recurrence.validate(dt.date(2026, 1, 1))
    assert len(occurrence_dates(dt.date(2026, 1, 1), recurrence)) == MAX_OCCURRENCES


firsts = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2150, 12, 31))
recurrences = st.one_of(
    st.builds(
        Recurrence,
        st.just(RecurrenceKind.EVERY),
        st.integers(1, 40),
        st.sampled_from(list(OffsetUnit)),
        st.one_of(st.none(), st.dates(min_value=dt.date(1990, 1, 1), max_value=DATE_MAX)),
        st.one_of(st.none(), st.integers(1, MAX_OCCURRENCES)),
    ),
    st.builds(
        Recurrence,
        st.sampled_from(
            [RecurrenceKind.MONTH_END, RecurrenceKind.QUARTER_END, RecurrenceKind.YEAR_END]
        ),
        st.integers(1, 12),
        st.none(),
        st.one_of(st.none(), st.dates(min_value=dt.date(1990, 1, 1), max_value=DATE_MAX)),
        st.one_of(st.none(), st.integers(1, MAX_OCCURRENCES)),
    ),
)


@settings(max_examples=300, deadline=None)
@given(first=firsts, recurrence=recurrences)
def test_series_properties(first, recurrence):
    """From the anchor on, strictly increasing, within until, count and the maximum."""
    assume(recurrence.until is None or recurrence.until >= first)
    dates = list(iter_dates(first, recurrence))
    assert dates[0] == first
    assert all(day >= first for day in dates)
    assert all(a < b for a, b in itertools.pairwise(dates))
    assert len(dates) <= MAX_OCCURRENCES
    assert all(day <= DATE_MAX for day in dates)
    if recurrence.count is not None:
        assert len(dates) <= recurrence.count
    if recurrence.until is not None:
        assert all(day <= recurrence.until for day in dates)
    if recurrence.kind != RecurrenceKind.EVERY:
        assert all(day == _month_end(day) for day in dates[1:])


@settings(max_examples=200, deadline=None)
@given(
    first=st.dates(min_value=dt.date(2000, 1, 28), max_value=dt.date(2100, 1, 1)),
    interval=st.integers(1, 24),
    index=st.integers(1, 60),
)
def test_every_n_months_clamps_to_the_month_end_without_drift(first, interval, index):
    """Occurrence k is the first date's day in its month, or that month's last day."""
    # A series stops at the last date accepted (DATE_MAX): the k-th date must come before it.
    assume((first.year * 12 + first.month - 1 + index * interval) // 12 < DATE_MAX.year)
    dates = list(iter_dates(first, every(interval, OffsetUnit.MONTHS, count=index + 1)))
    day = dates[index]
    months = first.year * 12 + first.month - 1 + index * interval
    year, month = divmod(months, 12)
    assert (day.year, day.month) == (year, month + 1)
    assert day.day == min(first.day, calendar.monthrange(day.year, day.month)[1])


@settings(max_examples=200, deadline=None)
@given(first=firsts, recurrence=recurrences)
def test_validated_series_are_never_cut_by_the_maximum(first, recurrence):
    """A series validate() accepts with an end reaches that end within the maximum."""
    try:
        recurrence.validate(first)
    except RuleError:
        return
    dates = list(iter_dates(first, recurrence))
    if recurrence.recurs and recurrence.until is not None and recurrence.count is None:
        try:
            following = _nth(first, recurrence, len(dates))
        except RuleError:
            return
        assert following > recurrence.until or following > DATE_MAX


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@pytest.mark.parametrize(
    ("recurrence", "english", "french"),
    [
        (
            every(1, OffsetUnit.YEARS, count=3),
            "every year, 3 occurrences",
            "chaque année, 3 occurrences",
        ),
        (
            Recurrence(RecurrenceKind.QUARTER_END, 2, until=dt.date(2027, 3, 31)),
            "at the end of every 2 quarters, until March 31, 2027",
            "à la fin de chaque période de 2 trimestres, jusqu’au 31 mars 2027",
        ),
        (
            every(6, OffsetUnit.MONTHS),
            "every 6 months, with no end date",
            "tous les 6 mois, sans date de fin",
        ),
        (Recurrence(RecurrenceKind.NONE), "", ""),
    ],
)
def test_a_recurrence_in_words_in_both_languages(recurrence, english, french):
    with translation.override("en"):
        assert recurrence_in_words(recurrence) == english
    with translation.override("fr"):
        assert recurrence_in_words(recurrence) == french
