"""The review pages' charts, drawn on the server as SVG: no JavaScript, readable in print.

Each builder returns the geometry and the words of one chart; its partial template
(``dashboard/_chart_*.html``) writes the SVG with a ``<title>`` and a ``<desc>``, tells the
series apart by line pattern, marker and direct label as well as colour (so a black-and-white
print reads), and repeats the numbers in a ``<details>`` table for screen readers. Dates are
written by the project's date words, amounts by the ``amount_short`` filter, ratings and
scores by :mod:`commitments.assessment`, and progress by :mod:`commitments.assessment.pace`:
the charts draw those numbers, they do not compute their own.

Charts run a fixed number of queries whatever the number of commitments and ratings:

* progress against pace: none beyond the commitment page's own (its progress updates);
* compliance by party over time: the compliance table (three queries) for the parties, and
  every rating of the agreement in one query, swept in Python over the dates a rating
  changed;
* ratings per party: the compliance table.

Our own small module rather than a charting library: pygal (the well-kept candidate) writes
a ``<script>`` element even with ``js=[]``, random element ids and a generation date into each
chart, and has neither ``<desc>`` nor fill patterns; each chart here is a few dozen lines.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from commitments.assessment import SCALE, Rating, RatingRule, Tally
from commitments.choices import PaceChoice, Precision
from commitments.deadlines.text import date_in_words
from commitments.models import Agreement, Assessment, Commitment, ProgressUpdate
from commitments.selectors import ComplianceTable, compliance_parties, compliance_table
from commitments.translations import localized_text
from dashboard.templatetags.tracker import amount_short

#: The drawing's size (user units) and the plot area's margins.
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 84, 124, 24, 44

#: Series styles told apart without colour: (colour, dash pattern, marker).
SERIES_STYLES: tuple[tuple[str, str, str], ...] = (
    ("#1f4e79", "", "circle"),
    ("#b03a2e", "8 4", "square"),
    ("#1e7b4f", "2 3", "triangle"),
    ("#7d3c98", "10 3 2 3", "diamond"),
    ("#8a6d1d", "4 4", "circle-open"),
    ("#444444", "1 2", "square-open"),
)

#: One fill per rating, in SCALE's order: a colour and a pattern (defined in the partial).
RATING_FILLS: dict[Rating, tuple[str, str]] = {
    Rating.KEPT: ("#1e7b4f", "solid"),
    Rating.COMPROMISE: ("#7fb77e", "hatch"),
    Rating.IN_THE_WORKS: ("#9fc5e8", "dots"),
    Rating.STALLED: ("#e6a23c", "cross"),
    Rating.BROKEN: ("#b03a2e", "dense"),
    Rating.NOT_VERIFIABLE: ("#bbbbbb", "back-hatch"),
    Rating.CANCELLED: ("#dddddd", "grid"),
    Rating.NOT_RATED: ("#ffffff", "blank"),
}


def _n(value: float) -> str:
    """Return a coordinate as SVG writes it, whatever the reader's locale."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Tick:
    pos: str
    label: str


@dataclass(frozen=True)
class _Axis:
    """A linear map from a domain onto a span of the drawing."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        if self.high == self.low:
            return self.start
        return self.start + (value - self.low) * (self.end - self.start) / (self.high - self.low)


def _day(value: dt.date) -> float:
    return float(value.toordinal())


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def date_ticks(start: dt.date, end: dt.date, *, most: int = 5) -> list[tuple[dt.date, str]]:
    """Return up to ``most`` first days of months (or years) between ``start`` and ``end``.

    Labelled as the reader's language writes a month ("March 2026", « mars 2026 ») or, for
    spans of years, a year.
    """
    months = max((end.year - start.year) * 12 + end.month - start.month, 1)
    step = next((s for s in (1, 2, 3, 6, 12, 24, 60) if months / s <= most), 120)
    precision = Precision.YEAR if step >= 12 else Precision.MONTH
    first = _add_months(start.replace(day=1), 0 if start.day == 1 else 1)
    align = 12 if step >= 12 else step
    while (first.month - 1) % align:
        first = _add_months(first, 1)
    ticks = []
    day = first
    while day <= end:
        ticks.append((day, date_in_words(day, precision)))
        day = _add_months(day, step)
    if not ticks:  # a span within one month: its two ends, to the day
        ticks = [(start, date_in_words(start)), (end, date_in_words(end))]
    return ticks


def value_ticks(top: float, *, count: int = 4) -> list[float]:
    """Return round values from 0 to at least ``top``, about ``count`` steps apart."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _x_axis(start: dt.date, end: dt.date) -> tuple[_Axis, list[Tick]]:
    axis = _Axis(_day(start), _day(end), LEFT, WIDTH - RIGHT)
    ticks = [Tick(_n(axis(_day(day))), label) for day, label in date_ticks(start, end)]
    return axis, ticks


# Progress against pace -------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    x: str
    y: str
    label: str


@dataclass
class ProgressChart:
    """The progress chart's drawing and words (see ``_chart_progress.html``)."""

    title: str
    desc: str
    sentence: str
    unit_label: str
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    points: list[Point]
    polyline: str
    pace: tuple[str, str, str, str] | None
    #: Where the pace line's label goes: along the line, clear of the target's label.
    pace_label: tuple[str, str] | None
    target: tuple[str, str] | None
    today: str | None
    rows: list[tuple[str, str, str]]
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM


def _percent(share: Decimal) -> str:
    return _("%(n)s%%") % {"n": number_format(round(share * 100), decimal_pos=0)}


def progress_sentence(commitment: Commitment, today: dt.date) -> str:
    """Return "$260 bn of $750 bn, 35 %; pace 38 %: on pace" from the commitment's progress.

    The numbers are :meth:`Commitment.progress_on`'s (the pace engine's); "" when the
    commitment has no measurement or no target.
    """
    progress = commitment.progress_on(today)
    if progress is None:
        return ""
    unit = commitment.target_unit
    measured = _("%(measured)s of %(target)s, %(share)s") % {
        "measured": amount_short(progress.measured, unit),
        "target": amount_short(progress.target, unit),
        "share": _percent(progress.share),
    }
    if progress.pace_share is None or progress.pace is None:
        return _("%(measured)s; no due date to pace against") % {"measured": measured}
    return _("%(measured)s; pace %(pace)s: %(state)s") % {
        "measured": measured,
        "pace": _percent(progress.pace_share),
        "state": str(PaceChoice(progress.pace).label).lower(),
    }


def progress_chart(
    *, commitment: Commitment, updates: Iterable[ProgressUpdate], today: dt.date
) -> ProgressChart | None:
    """Return the chart of the measurements against the pace line and the target, or None.

    Drawn when the commitment has a target, or at least two measurements. The x axis runs
    from the pace's start (the effective date, else the agreement's) to the due date (or the
    last measurement, or today, if later); the y axis in the target's unit from 0.
    """
    measurements = sorted(
        (u.occurred_on, u.measured_value) for u in updates if u.measured_value is not None
    )
    target = commitment.target_amount
    if target is None and len(measurements) < 2:
        return None
    unit = commitment.target_unit
    start = commitment.pace_start
    due = commitment.due_date
    days = [start, today, *(day for day, _v in measurements), *([due] if due else [])]
    first, last = min(days), max(days)
    if last == first:
        last = first + dt.timedelta(days=1)
    x, x_ticks = _x_axis(first, last)
    values = [float(v) for _d, v in measurements] + ([float(target)] if target else [])
    levels = value_ticks(max([*values, 0.0]))
    y = _Axis(0.0, levels[-1], HEIGHT - BOTTOM, TOP)
    y_ticks = [Tick(_n(y(v)), amount_short(Decimal(str(v)), unit)) for v in levels]
    points = [
        Point(
            _n(x(_day(day))),
            _n(y(float(value))),
            f"{date_in_words(day)}: {amount_short(value, unit)}",
        )
        for day, value in measurements
    ]
    pace = pace_label = None
    if target is not None and due is not None and due > start:
        x1, y1, x2, y2 = x(_day(start)), y(0), x(_day(due)), y(float(target))
        pace = (_n(x1), _n(y1), _n(x2), _n(y2))
        pace_label = (_n(x1 + (x2 - x1) * 0.8 + 6), _n(y1 + (y2 - y1) * 0.8 + 14))
    target_line = (_n(y(float(target))), amount_short(target, unit)) if target else None
    sentence = progress_sentence(commitment, today)
    title = _("Progress of “%(title)s” against its pace") % {
        "title": localized_text(commitment, "title")
    }
    desc_parts = [
        _("Measured values from %(start)s to %(end)s, in %(unit)s.")
        % {
            "start": date_in_words(first),
            "end": date_in_words(last),
            "unit": commitment.get_target_unit_display() or _("units"),
        }
    ]
    if pace:
        desc_parts.append(
            _("The pace line runs straight from 0 on %(start)s to the target on %(due)s.")
            % {"start": date_in_words(start), "due": date_in_words(due)}  # type: ignore[arg-type]
        )
    if sentence:
        desc_parts.append(sentence + ".")
    rows = [
        (
            date_in_words(day),
            amount_short(value, unit),
            _percent(Decimal(value) / target) if target else "",
        )
        for day, value in measurements
    ]
    return ProgressChart(
        title=title,
        desc=" ".join(desc_parts),
        sentence=sentence,
        unit_label=commitment.get_target_unit_display(),
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        points=points,
        polyline=" ".join(f"{p.x},{p.y}" for p in points),
        pace=pace,
        pace_label=pace_label,
        target=target_line,
        today=_n(x(_day(today))) if first <= today <= last else None,
        rows=rows,
    )


# Compliance by party over time -----------------------------------------------------------


@dataclass
class Series:
    """One party's line: its style, its path (gaps where nothing is scored) and its label."""

    name: str
    colour: str
    dash: str
    marker: str
    path: str
    markers: list[Point]
    label_y: str | None
    latest: str
    #: "Japan: 50 % (average +0.00, 2 scored)", for the legend and the markers.
    legend: str


@dataclass
class ComplianceHistoryChart:
    """The compliance-over-time chart's drawing and words (``_chart_compliance_history``)."""

    title: str
    desc: str
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    series: list[Series]
    today: str
    #: The data table: one row per date a rating changed, one cell per party.
    parties: list[str]
    rows: list[tuple[str, list[str]]]
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM


def _score_words(tally: Tally) -> str:
    if tally.percent is None or tally.average is None:
        return _("no scored rating yet")
    return _("%(percent)s (average %(average)s, %(count)s scored)") % {
        "percent": _percent(tally.percent / 100),
        "average": ("+" if tally.average >= 0 else "\u2212")
        + number_format(abs(tally.average), decimal_pos=2),
        "count": tally.scored,
    }


def compliance_history(
    *, party_ids: Sequence[int], ratings: Iterable[tuple[int, int, str, dt.date]]
) -> list[tuple[dt.date, dict[int, Tally]]]:
    """Return each party's tally after each date on which any rating changed.

    ``ratings`` are ``(commitment id, party id, rating, assessed on)`` in the order the
    history applies them (by date, then entry): at each date, a pair's latest rating holds, as
    :func:`commitments.selectors.assessments_as_of` reads it. One pass, no query.
    """
    wanted = set(party_ids)
    current: dict[int, dict[int, str]] = {pk: {} for pk in party_ids}
    history: list[tuple[dt.date, dict[int, Tally]]] = []
    pending: dt.date | None = None
    for commitment_id, party_id, rating, day in ratings:
        if pending is not None and day != pending:
            history.append((pending, {pk: Tally.of(current[pk].values()) for pk in party_ids}))
        pending = day
        if party_id in wanted:
            current[party_id][commitment_id] = rating
    if pending is not None:
        history.append((pending, {pk: Tally.of(current[pk].values()) for pk in party_ids}))
    return history


def _marker_points(points: list[tuple[float, float]], label: str) -> list[Point]:
    return [Point(_n(px), _n(py), label) for px, py in points]


def _spread_labels(series: list[Series], *, gap: float = 13.0) -> list[Series]:
    """Move the direct labels at the lines' ends apart so that equal scores stay readable."""
    placed = sorted(
        (float(s.label_y), index) for index, s in enumerate(series) if s.label_y is not None
    )
    moved = {}
    last = -math.inf
    for label_y, index in placed:
        label_y = max(label_y, last + gap)
        moved[index] = _n(label_y)
        last = label_y
    return [replace(s, label_y=moved.get(i, s.label_y)) for i, s in enumerate(series)]


def compliance_history_chart(
    *, agreement: Agreement, today: dt.date, table: ComplianceTable | None = None
) -> ComplianceHistoryChart | None:
    """Return each obligor's compliance (0-100 %, G7 style) from the agreement to today.

    A step line per party: a score holds until the next rating changes it; where a party has
    no scored rating the line has a gap. None when nobody has been rated yet. ``table`` is the
    agreement's compliance table if the caller has it (as of any date: the parties are the
    same), saving its queries.
    """
    parties = (
        [entry.party for entry in table.parties]
        if table is not None
        else compliance_parties(agreement=agreement)
    )
    rows = (
        Assessment.objects.filter(commitment__agreement=agreement)
        .order_by("assessed_on", "pk")
        .values_list("commitment_id", "party_id", "rating", "assessed_on")
    )
    history = compliance_history(party_ids=[p.pk for p in parties], ratings=rows)
    if not history:
        return None
    start = min(agreement.date, history[0][0])
    end = max(today, history[-1][0])
    if end == start:
        end = start + dt.timedelta(days=1)
    x, x_ticks = _x_axis(start, end)
    y = _Axis(0.0, 100.0, HEIGHT - BOTTOM, TOP)
    y_ticks = [Tick(_n(y(v)), _percent(Decimal(v) / 100)) for v in (0, 25, 50, 75, 100)]
    series = []
    for index, party in enumerate(parties):
        colour, dash, marker = SERIES_STYLES[index % len(SERIES_STYLES)]
        segments: list[list[tuple[float, float]]] = []
        corners: list[tuple[float, float]] = []
        level: float | None = None
        for number, (day, tallies) in enumerate(history):
            percent = tallies[party.pk].percent
            x_from = x(_day(day))
            x_to = x(_day(history[number + 1][0])) if number + 1 < len(history) else x(_day(end))
            if percent is None:
                level = None
                continue
            py = y(float(percent))
            if level is None:
                segments.append([(x_from, py)])
            else:
                segments[-1].append((x_from, py))
            segments[-1].append((x_to, py))
            corners.append((x_from, py))
            level = py
        path = " ".join(
            "M" + " L".join(f"{_n(px)},{_n(py)}" for px, py in segment) for segment in segments
        )
        latest = _score_words(history[-1][1][party.pk])
        legend = _("%(party)s: %(score)s") % {
            "party": localized_text(party, "name"),
            "score": latest,
        }
        series.append(
            Series(
                name=localized_text(party, "name"),
                colour=colour,
                dash=dash,
                marker=marker,
                path=path,
                markers=_marker_points(corners, legend),
                label_y=_n(segments[-1][-1][1]) if segments and level is not None else None,
                latest=latest,
                legend=legend,
            )
        )
    series = _spread_labels(series)
    title = _("Compliance by party over time, %(title)s") % {
        "title": localized_text(agreement, "title")
    }
    desc = _(
        "Each party's compliance score from %(start)s to %(end)s, on the G7 scale from 0 %% "
        "(every scored rating broken or stalled) to 100 %% (every one kept); a gap where a "
        "party has no scored rating yet. Today: %(today)s."
    ) % {
        "start": date_in_words(start),
        "end": date_in_words(end),
        "today": " · ".join(s.legend for s in series),
    }
    return ComplianceHistoryChart(
        title=title,
        desc=desc,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        series=series,
        today=_n(x(_day(today))),
        parties=[localized_text(p, "name") for p in parties],
        rows=[
            (date_in_words(day), [_score_words(tallies[p.pk]) for p in parties])
            for day, tallies in history
        ],
    )


# Ratings per party -------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    x: str
    width: str
    count: int
    fill: str
    pattern: str
    label: str
    #: Whether the count fits inside the segment (else the table and the title carry it).
    labelled: bool
    text_x: str
    #: The white box behind the count, so that it reads over any colour and pattern.
    box_x: str
    box_width: str


@dataclass
class Bar:
    name: str
    y: str
    text_y: str
    #: The top of the white boxes behind the counts.
    box_y: str
    total: int
    segments: list[Segment]


@dataclass
class RatingsChart:
    """The ratings distribution's drawing and words (``_chart_ratings.html``)."""

    title: str
    desc: str
    bars: list[Bar]
    legend: list[tuple[str, str, str]]
    scale: list[str]
    rows: list[tuple[str, list[int], int]]
    height: int
    width: int = WIDTH
    bar_height: int = 22
    plot_left: int = LEFT + 36
    plot_right: int = WIDTH - 24


def _rule_label(rule: RatingRule) -> str:
    return str(_(rule.label))


def ratings_chart(
    *, agreement: Agreement, table: ComplianceTable | None = None
) -> RatingsChart | None:
    """Return one stacked bar per obligor over the whole scale, in SCALE's order and words.

    ``table`` is today's compliance table of the agreement if the caller has it.
    """
    if table is not None and table.as_of is not None:
        raise ValueError("the ratings chart shows today's ratings, not a table as of a date")
    parties = (table if table is not None else compliance_table(agreement=agreement)).parties
    if not parties:
        return None
    bar_height, gap, top = 22, 14, 10
    left, right = LEFT + 36, WIDTH - 24
    bars = []
    for index, entry in enumerate(parties):
        tally = entry.tally
        total = tally.total or 1
        cursor = float(left)
        segments = []
        for rule in SCALE:
            count = tally.counts[rule.rating]
            if not count:
                continue
            width = (right - left) * count / total
            box = 7 * len(str(count)) + 8
            colour, pattern = RATING_FILLS[rule.rating]
            segments.append(
                Segment(
                    x=_n(cursor),
                    width=_n(width),
                    count=count,
                    fill=colour,
                    pattern=pattern,
                    label=f"{localized_text(entry.party, 'name')}, {_rule_label(rule)}: {count}",
                    labelled=width >= box + 4,
                    text_x=_n(cursor + width / 2),
                    box_x=_n(cursor + (width - box) / 2),
                    box_width=_n(box),
                )
            )
            cursor += width
        y = top + index * (bar_height + gap)
        bars.append(
            Bar(
                name=localized_text(entry.party, "name"),
                y=_n(y),
                text_y=_n(y + bar_height / 2 + 4),
                box_y=_n(y + 3),
                total=tally.total,
                segments=segments,
            )
        )
    legend = [(_rule_label(rule), *RATING_FILLS[rule.rating]) for rule in SCALE]
    title = _("Ratings per party, %(title)s") % {"title": localized_text(agreement, "title")}
    desc = _("One bar per party, divided by rating on the scale: %(parts)s.") % {
        "parts": "; ".join(
            f"{localized_text(entry.party, 'name')}: "
            + ", ".join(
                f"{entry.tally.counts[rule.rating]} {_rule_label(rule).lower()}"
                for rule in SCALE
                if entry.tally.counts[rule.rating]
            )
            for entry in parties
        )
    }
    return RatingsChart(
        title=title,
        desc=desc,
        bars=bars,
        legend=legend,
        scale=[_rule_label(rule) for rule in SCALE],
        rows=[
            (
                localized_text(entry.party, "name"),
                [entry.tally.counts[r.rating] for r in SCALE],
                entry.tally.total,
            )
            for entry in parties
        ],
        height=top * 2 + len(parties) * (bar_height + gap) + 8,
    )
