"""What "open", "overdue" and "due within N days" mean: the one home of those rules.

A deadline is the due instant ``due_at``, the end of the due day in the agreement's time zone
(DESIGN.md), never the due date compared with a server-side "today": a commitment due on
26 April in Tokyo is overdue from 15:00 UTC that day, whatever the server's zone. Every
surface (the scan and its deadline states, the admin's due filter, the dashboard, the
calendar feeds, the webhook events) filters through these methods, with ``now`` passed in so
that the comparison runs in SQL and tests can travel in time.

* open: the status is not terminal (fulfilled, missed, cancelled);
* watched: open, with a due instant, and a deadline not suspended by a revision (a suspended
  deadline is neither overdue nor due soon: its state is "suspended");
* overdue at ``now``: watched, and ``due_at < now`` (at the due instant itself it is not yet);
* due within ``days`` of ``now``: watched, and ``now <= due_at <= now + days`` (exact 24-hour
  days); due soon is due within ``TRACKER_DUE_SOON_DAYS``;
* on track: watched, and due later than that.

The same rules serve the occurrences of recurring commitments (``Occurrence.objects``), whose
columns have the same names.

The conditions match the partial indexes of ``Commitment.Meta``: ``watched_q`` that of
``commitment_open_state_due`` (watched rows by state and instant), the "none" state that of
``commitment_closed_state``, ``suspended_q`` that of ``commitment_suspended_state``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet

from core.dates import local_date

from .assessment import Rating
from .assessment.pace import Pace
from .choices import TERMINAL, DeadlineState, PublicationState

#: The terminal statuses as stored, in a fixed order (stable SQL, one cached plan).
TERMINAL_VALUES = sorted(status.value for status in TERMINAL)


def due_soon_days() -> int:
    """Return the width of the due-soon window in days (default: the largest default lead)."""
    return int(settings.TRACKER_DUE_SOON_DAYS)


def open_q() -> Q:
    """Match commitments still open: not fulfilled, missed or cancelled."""
    return ~Q(status__in=TERMINAL_VALUES)


def watched_q() -> Q:
    """Match open commitments with a due instant whose deadline is not suspended."""
    return Q(due_at__isnull=False) & open_q() & Q(deadline_suspended=False)


def earliest_due_date(now: dt.datetime) -> dt.date:
    """Return a day on or before the due date of anything not yet due at ``now``.

    ``due_at`` ends its due day in the agreement's zone, and no zone is more than 14 hours
    from UTC: whatever ends at ``now`` or later is due on the UTC date of ``now`` minus a day,
    or later. A bound the planner can use on ``due_date`` indexes, never a rule of its own.
    """
    return (now.astimezone(dt.UTC) - dt.timedelta(days=1)).date()


def suspended_q() -> Q:
    """Match open commitments with a due instant whose deadline a revision suspended."""
    return Q(due_at__isnull=False) & open_q() & Q(deadline_suspended=True)


def overdue_q(*, now: dt.datetime) -> Q:
    """Match watched commitments whose due instant has passed at ``now``."""
    return watched_q() & Q(due_at__lt=now)


def due_within_q(*, now: dt.datetime, days: int) -> Q:
    """Match watched commitments due from ``now`` to ``now + days`` days, both ends included."""
    return watched_q() & Q(due_at__gte=now, due_at__lte=now + dt.timedelta(days=days))


def deadline_state_q(*, state: str, now: dt.datetime) -> Q:
    """Match the commitments whose deadline state at ``now`` is ``state``."""
    if state == DeadlineState.NONE:
        return Q(status__in=TERMINAL_VALUES) | Q(due_at__isnull=True)
    if state == DeadlineState.OVERDUE:
        return overdue_q(now=now)
    if state == DeadlineState.DUE_SOON:
        return due_within_q(now=now, days=due_soon_days())
    if state == DeadlineState.ON_TRACK:
        soon_edge = now + dt.timedelta(days=due_soon_days())
        return watched_q() & Q(due_at__gt=soon_edge)
    if state == DeadlineState.SUSPENDED:
        return suspended_q()
    raise ValueError(f"{state!r} is not a deadline state")


def pace_q(*, pace: str, today: dt.date) -> Q:
    """Match the commitments whose measured progress stands at ``pace`` on ``today``.

    Reads the band that :func:`commitments.assessment.pace.pace_band` stores
    (``pace_ahead_until``, ``pace_behind_after``), the same test as ``band_state``; a
    commitment with no band (no target, measurement or due date) matches no pace.
    """
    met = Q(progress_measured__gte=F("target_amount"))
    banded = Q(pace_ahead_until__isnull=False, target_amount__isnull=False)
    if pace == Pace.MET:
        return banded & met
    if pace == Pace.AHEAD:
        return banded & ~met & Q(pace_ahead_until__gt=today)
    if pace == Pace.BEHIND:
        return banded & ~met & Q(pace_behind_after__lt=today)
    if pace == Pace.ON_PACE:
        return banded & ~met & Q(pace_ahead_until__lte=today, pace_behind_after__gte=today)
    raise ValueError(f"unknown pace {pace!r}")


def pace_now_q(*, pace: str, now: dt.datetime, time_zones: Iterable[str]) -> Q:
    """Match :func:`pace_q` on each commitment's own today, in its agreement's time zone.

    ``time_zones`` are the agreements' zones to cover (one condition each), so a list
    filtered by pace agrees with the ``progress`` each row shows.
    """
    condition = Q(pk__in=[])
    for zone in time_zones:
        today = local_date(now, zone)
        condition |= Q(agreement__time_zone=zone) & pace_q(pace=pace, today=today)
    return condition


# Ratings (issue 13): what the commitment lists filter on, one home for the API, the
# dashboard and the admin.


def _current_assessments(**lookups: object) -> QuerySet:
    # Imported here: the models import this module.
    assessment = apps.get_model("commitments", "Assessment")
    return assessment.objects.filter(commitment=OuterRef("pk"), current=True, **lookups)


def rating_q(*, rating: str) -> Q:
    """Match the commitments with a current rating of ``rating`` for any of their obligors.

    ``"not_rated"`` matches those where some obligor (the obligor or a co-obligor) has no
    current rating.
    """
    if rating != Rating.NOT_RATED:
        return Q(Exists(_current_assessments(rating=rating)))
    through = apps.get_model("commitments", "Commitment").co_obligors.through
    assessment = apps.get_model("commitments", "Assessment")
    co_obligor_unrated = through.objects.filter(commitment=OuterRef("pk")).exclude(
        Exists(
            assessment.objects.filter(
                commitment=OuterRef("commitment"), party=OuterRef("party"), current=True
            )
        )
    )
    return ~Q(Exists(_current_assessments(party=OuterRef("obligor")))) | Q(
        Exists(co_obligor_unrated)
    )


def review_due_q() -> Q:
    """Match the commitments with a current rating the scan flagged "review due"."""
    return Q(Exists(_current_assessments(review_due=True)))


def obligor_q(*, party: object) -> Q:
    """Match the commitments that bind ``party``: as their obligor or as a co-obligor."""
    through = apps.get_model("commitments", "Commitment").co_obligors.through
    return Q(obligor=party) | Q(
        Exists(through.objects.filter(commitment=OuterRef("pk"), party=party))
    )


class CommitmentQuerySet(QuerySet):
    """Commitments filtered by the deadline rules of this module."""

    def published(self) -> CommitmentQuerySet:
        """Return the commitments of published agreements: what the public may see."""
        return self.filter(agreement__publication_state=PublicationState.PUBLISHED)

    def open(self) -> CommitmentQuerySet:
        """Return the commitments not fulfilled, missed or cancelled."""
        return self.filter(open_q())

    def watched(self) -> CommitmentQuerySet:
        """Return the open commitments with a due instant whose deadline is not suspended."""
        return self.filter(watched_q())

    def undated(self) -> CommitmentQuerySet:
        """Return the commitments without a due instant (no rule, or an anchor not yet met)."""
        return self.filter(due_at__isnull=True)

    def overdue(self, now: dt.datetime) -> CommitmentQuerySet:
        """Return the open commitments whose due instant has passed at ``now``."""
        return self.filter(overdue_q(now=now))

    def due_within(self, now: dt.datetime, days: int) -> CommitmentQuerySet:
        """Return the open commitments due from ``now`` to ``now + days`` days, inclusive."""
        return self.filter(due_within_q(now=now, days=days))

    def due_soon(self, now: dt.datetime) -> CommitmentQuerySet:
        """Return the open commitments due within ``TRACKER_DUE_SOON_DAYS`` of ``now``."""
        return self.filter(deadline_state_q(state=DeadlineState.DUE_SOON, now=now))

    def on_track(self, now: dt.datetime) -> CommitmentQuerySet:
        """Return the open commitments due later than the due-soon window at ``now``."""
        return self.filter(deadline_state_q(state=DeadlineState.ON_TRACK, now=now))

    def upcoming(self, now: dt.datetime) -> CommitmentQuerySet:
        """Return the open commitments not yet overdue at ``now``, however far off.

        ``due_date >= earliest_due_date(now)`` follows from ``due_at >= now``; stated, it lets
        the list in due-date order (the overview's) start its index scan at yesterday instead
        of walking every overdue row first.
        """
        return self.filter(watched_q() & Q(due_at__gte=now, due_date__gte=earliest_due_date(now)))

    def in_deadline_state(self, state: str, now: dt.datetime) -> CommitmentQuerySet:
        """Return the commitments whose deadline state at ``now`` is ``state``."""
        return self.filter(deadline_state_q(state=state, now=now))

    def flagged(self, state: str, now: dt.datetime) -> CommitmentQuerySet:
        """Return the commitments a flagging at ``now`` moved into ``state``.

        Those in ``state`` at ``now`` whose stored state is ``state`` and ``flagged_at`` is
        ``now``: a second flagging at the same instant moves nothing, so finds them again.
        """
        return self.in_deadline_state(state, now).filter(deadline_state=state, flagged_at=now)

    def in_pace(self, pace: str, today: dt.date) -> CommitmentQuerySet:
        """Return the commitments whose measured progress stands at ``pace`` on ``today``."""
        return self.filter(pace_q(pace=pace, today=today))

    def with_overdue(self, now: dt.datetime) -> CommitmentQuerySet:
        """Annotate each commitment with ``is_overdue``: whether it is overdue at ``now``."""
        return self.annotate(
            is_overdue=ExpressionWrapper(overdue_q(now=now), output_field=BooleanField())
        )


class AgreementQuerySet(QuerySet):
    """Agreements; ``published()`` is what the public may see (``commitments.visibility``)."""

    def published(self) -> AgreementQuerySet:
        return self.filter(publication_state=PublicationState.PUBLISHED)
