"""Progress against pace: measured progress beside the straight line to the target. No ORM.

A commitment with a numeric target ("$750 billion of energy purchases through 2028") and a
measurement ("$260 billion so far") has a share of its target (35 %). The pace is the share a
straight line from its start (the effective date, else the agreement's date) to its due date
requires by a given day (41 % on 6 December 2026). The commitment is *behind* when its share
is more than :data:`TOLERANCE` below the pace, *ahead* when more than that above, *on pace*
in between, and *met* once the share reaches the target (:func:`pace_state`).

Lists filter on pace without computing it row by row: :func:`pace_band` turns a measurement
into two dates, stored on the commitment. Before ``ahead_until`` the commitment is ahead; after
``behind_after`` it is behind; in between it is on pace. :func:`pace_state` and the band agree
on every day (a property test holds them to it).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from dataclasses import dataclass
from decimal import Decimal

from core.dates import DATE_MAX, DATE_MIN, local_date

#: How far the share may stray from the pace and still be "on pace": 5 percentage points.
TOLERANCE = Decimal("0.05")


class Pace(enum.StrEnum):
    BEHIND = "behind"
    ON_PACE = "on_pace"
    AHEAD = "ahead"
    MET = "met"


@dataclass(frozen=True)
class Progress:
    """A commitment's measured progress on ``on``: its share of the target and the pace's.

    ``pace_share`` and ``pace`` are ``None`` when there is no due date to pace against.
    """

    measured: Decimal
    target: Decimal
    share: Decimal
    pace_share: Decimal | None
    pace: Pace | None


def share_of_target(measured: Decimal, target: Decimal) -> Decimal:
    """Return ``measured`` as a share of ``target`` (0.35 for 35 %), never below 0."""
    if target <= 0:
        return Decimal(1) if measured >= target else Decimal(0)
    return max(Decimal(0), Decimal(measured) / Decimal(target))


def pace_share(*, start: dt.date, due: dt.date, on: dt.date) -> Decimal:
    """Return the share a straight line from ``start`` to ``due`` reaches on ``on`` (0 to 1)."""
    if on >= due:
        return Decimal(1)
    if on <= start:
        return Decimal(0)
    return Decimal((on - start).days) / Decimal((due - start).days)


def pace_state(*, share: Decimal, pace: Decimal) -> Pace:
    """Return how a share of the target stands against the pace's share."""
    if share >= 1:
        return Pace.MET
    if share < pace - TOLERANCE:
        return Pace.BEHIND
    if share > pace + TOLERANCE:
        return Pace.AHEAD
    return Pace.ON_PACE


def progress(
    *,
    measured: Decimal | None,
    target: Decimal | None,
    start: dt.date | None,
    due: dt.date | None,
    on: dt.date,
) -> Progress | None:
    """Return the progress of a measured commitment with a target on ``on``, else ``None``."""
    if measured is None or target is None:
        return None
    share = share_of_target(measured, target)
    if start is None or due is None or due <= start:
        return Progress(Decimal(measured), Decimal(target), share, None, None)
    band = pace_band(measured=measured, target=target, start=start, due=due)
    if band is None:  # pragma: no cover - the checks above rule it out
        raise AssertionError("a pace without a band")
    # The state comes from the band, as the list filters compute it, so both always agree.
    return Progress(
        Decimal(measured),
        Decimal(target),
        share,
        pace_share(start=start, due=due, on=on),
        band_state(band, on),
    )


def line_start(*, effective_from: dt.date | None, agreement_date: dt.date) -> dt.date:
    """Return where the straight line to the target starts: the effective date, else the
    agreement's date."""
    return effective_from or agreement_date


def progress_now(
    *,
    measured: Decimal | None,
    target: Decimal | None,
    effective_from: dt.date | None,
    agreement_date: dt.date,
    due: dt.date | None,
    time_zone: str,
    now: dt.datetime,
) -> Progress | None:
    """Return a commitment's :func:`progress` on today's date in its agreement's time zone."""
    return progress(
        measured=measured,
        target=target,
        start=line_start(effective_from=effective_from, agreement_date=agreement_date),
        due=due,
        on=local_date(now, time_zone),
    )


@dataclass(frozen=True)
class PaceBand:
    """The days on which a measurement reads ahead (before ``ahead_until``) or behind (after
    ``behind_after``); ``DATE_MIN`` and ``DATE_MAX`` where it never does (so that a stored
    empty band means "no pace"). ``met`` when the target is reached."""

    ahead_until: dt.date
    behind_after: dt.date
    met: bool = False


def pace_band(
    *,
    measured: Decimal | None,
    target: Decimal | None,
    start: dt.date | None,
    due: dt.date | None,
) -> PaceBand | None:
    """Return the stored form of :func:`pace_state` for every day, or ``None`` without a pace.

    Ahead on day *d* means ``share > pace(d) + TOLERANCE``, i.e. ``pace(d) < share -
    TOLERANCE``: true for the days before the first day whose pace reaches ``share -
    TOLERANCE``. Behind on *d* means ``pace(d) > share + TOLERANCE``: true from the first day
    whose pace passes it.
    """
    if measured is None or target is None or start is None or due is None or due <= start:
        return None
    share = share_of_target(measured, target)
    if share >= 1:
        return PaceBand(DATE_MIN, DATE_MAX, met=True)
    span = (due - start).days
    low = share - TOLERANCE
    high = share + TOLERANCE
    # First day whose pace is >= low: start + ceil(low * span) days; ahead strictly before it.
    ahead_until = start + dt.timedelta(days=math.ceil(low * span)) if low > 0 else DATE_MIN
    # Last day whose pace is <= high: start + floor(high * span); behind strictly after it.
    behind_after = start + dt.timedelta(days=math.floor(high * span)) if high < 1 else DATE_MAX
    return PaceBand(ahead_until, behind_after)


def band_state(band: PaceBand, on: dt.date) -> Pace:
    """Return the pace the stored band gives on ``on`` (what the list filters compute)."""
    if band.met:
        return Pace.MET
    if on < band.ahead_until:
        return Pace.AHEAD
    if on > band.behind_after:
        return Pace.BEHIND
    return Pace.ON_PACE
