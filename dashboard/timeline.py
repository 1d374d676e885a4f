"""Lay out an agreement's timeline as SVG coordinates: pure arithmetic, no ORM, no template."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext, gettext_noop

WIDTH = 760
LEFT = 200
RIGHT = 60
ROW = 26
TOP = 40
#: The implementation stages' kinds of mark, beside ``effective``, ``due`` and ``fulfilled``.
STAGE_KINDS = frozenset({"announced", "signed", "in_force", "ended"})

#: What a mark's tooltip calls each kind of date ("Due March 31, 2026"); the dashboard's and
#: the public site's timelines both say it so.
MARK_WORDS = {
    "due": gettext_noop("Due"),
    "effective": gettext_noop("Effective from"),
    "announced": gettext_noop("Announced"),
    "signed": gettext_noop("Signed"),
    "in_force": gettext_noop("In force"),
    "ended": gettext_noop("Ended"),
    "fulfilled": gettext_noop("Fulfilled"),
}


def mark_words() -> dict[str, str]:
    """Return :data:`MARK_WORDS` in the active language."""
    return {kind: gettext(word) for kind, word in MARK_WORDS.items()}


@dataclass
class Mark:
    """A dated point on a row: its x, its kind and its date.

    The kinds: ``effective``, ``due``, ``fulfilled`` and the implementation stages
    ``announced``, ``signed``, ``in_force`` and ``ended``.

    Not frozen, as :class:`Lane` and :class:`Row`: a timeline builds a lane, a row and its
    marks per commitment, and a frozen dataclass's ``__init__`` costs several times a plain
    one's (``object.__setattr__`` per field).
    """

    x: float
    kind: str
    date: dt.date

    @property
    def is_stage(self) -> bool:
        """Whether the mark is an implementation stage (drawn as a ring, not a dot)."""
        return self.kind in STAGE_KINDS


@dataclass
class Row:
    """One commitment's lane: its title, y, the span from the agreement to the due date."""

    state: str
    title: str
    url: str
    y: float
    start_x: float
    end_x: float | None
    marks: list[Mark]


@dataclass(frozen=True)
class Timeline:
    """Everything the SVG needs."""

    width: int
    height: int
    left: int
    agreement_x: float
    today_x: float | None
    ticks: list[tuple[float, dt.date]]
    rows: list[Row]
    #: The lanes with no date to draw: listed below the chart rather than given empty rows.
    undated: list[Lane]


@dataclass
class Lane:
    """Input of one row: a commitment's dates."""

    title: str
    url: str
    due_date: dt.date | None
    effective_from: dt.date | None
    fulfilled_on: dt.date | None
    state: str
    #: The implementation stages known, as ``(kind, date)``: announced, signed, in force, ended.
    stages: tuple[tuple[str, dt.date], ...] = ()


def layout(
    *,
    agreement_date: dt.date,
    lanes: list[Lane],
    today: dt.date,
) -> Timeline:
    """Place every date on one axis from the earliest to the latest date shown (today too)."""
    dates = [agreement_date, today]
    for lane in lanes:
        dates += [d for d in (lane.due_date, lane.effective_from, lane.fulfilled_on) if d]
        dates += [day for _kind, day in lane.stages]
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)
    usable = WIDTH - LEFT - RIGHT

    def x(day: dt.date) -> float:
        return round(LEFT + usable * (day - first).days / span, 1)

    dated = [lane for lane in lanes if _has_dates(lane)]
    start_x = x(agreement_date)
    rows = []
    for index, lane in enumerate(dated):
        points = [*lane.stages]
        if lane.effective_from:
            points.append(("effective", lane.effective_from))
        if lane.due_date:
            points.append(("due", lane.due_date))
        if lane.fulfilled_on:
            points.append(("fulfilled", lane.fulfilled_on))
        marks = [Mark(x(day), kind, day) for kind, day in points]
        rows.append(
            Row(
                state=lane.state,
                title=lane.title,
                url=lane.url,
                y=TOP + index * ROW,
                start_x=start_x,
                end_x=x(lane.due_date) if lane.due_date else None,
                marks=marks,
            )
        )
    ticks = _month_ticks(first, last, x)
    return Timeline(
        width=WIDTH,
        height=TOP + max(len(dated), 1) * ROW + 10,
        left=LEFT,
        agreement_x=start_x,
        today_x=x(today),
        ticks=ticks,
        rows=rows,
        undated=[lane for lane in lanes if not _has_dates(lane)],
    )


def _has_dates(lane: Lane) -> bool:
    """Whether the lane has a date of its own to draw (not only the agreement's)."""
    return bool(lane.due_date or lane.effective_from or lane.fulfilled_on or lane.stages)


def _month_ticks(
    first: dt.date, last: dt.date, x: Callable[[dt.date], float]
) -> list[tuple[float, dt.date]]:
    """Return a tick on the first of each month, thinned to at most 6."""
    months = []
    day = dt.date(first.year, first.month, 1)
    while day <= last:
        if day >= first:
            months.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    step = max(1, -(-len(months) // 6))
    return [(x(day), day) for day in months[::step]]
