"""Keep a recurring commitment's occurrence rows equal to its series.

The arithmetic is :mod:`commitments.deadlines.recurrence`: the commitment's deadline rule
(after its revisions) gives occurrence 1, the recurrence the ones after it. This module
writes the rows:

* a bounded series (an end date or a count) has all its occurrences written, at most
  ``MAX_OCCURRENCES``; an open-ended one is written through the horizon
  (``TRACKER_OCCURRENCE_HORIZON_DAYS`` from now) plus the first occurrence after it, so that
  "its last row is on or before the horizon" says exactly that it needs topping up, which
  :func:`occurrences_top_up` (called by each full scan) finds in one query;
* rows are written with their history (django-simple-history's bulk writers);
* rows already there keep their status, evidence and history; missing ones are added;
* a rule change that moves dates deletes the rows whose date left the series, unless one has
  progress updates: then the change is refused on ``recurrence``, naming the occurrence;
* each row's ``due_at`` is the end of its day in the agreement's time zone
  (:func:`commitments.deadlines.due_instant`), its target the commitment's target: an annual
  target ("$8 billion a year") is the target of each yearly occurrence, and a suspension of
  the commitment's deadline suspends every occurrence.

The commitment row mirrors its next open occurrence
(:func:`commitments.services.deadlines.commitment_apply_rule`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from commitments import deadlines
from commitments.choices import RecurrenceKind
from commitments.deadlines import recurrence
from commitments.models import DUE_DATE_RELATIONS, Commitment, Occurrence, ProgressUpdate
from commitments.services.deadlines import commitment_deadline
from core.statements import statement_compiled

#: Added to a sequence number while rows are renumbered (the pair is unique).
_RENUMBER_OFFSET = 1_000_000


def occurrence_horizon(*, now: dt.datetime) -> dt.date:
    """Return the last date through which an open-ended series is written at ``now``."""
    return now.date() + dt.timedelta(days=int(settings.TRACKER_OCCURRENCE_HORIZON_DAYS))


def commitment_occurrence_dates(
    *, commitment: Commitment, now: dt.datetime, through: dt.date | None = None
) -> list[dt.date]:
    """Return the dates the commitment's occurrence rows should have at ``now``.

    Empty for a commitment that does not recur or has no first date yet. ``through`` keeps an
    open-ended series written at least that far (rows already written past the horizon).
    """
    series = commitment.recurrence_rule
    if not series.recurs:
        return []
    first = commitment_deadline(commitment=commitment)[1].due_date
    if first is None:
        return []
    if series.until is not None or series.count is not None:
        return list(recurrence.iter_dates(first, series))
    horizon = max(occurrence_horizon(now=now), through or first)
    dates = []
    for day in recurrence.iter_dates(first, series):
        dates.append(day)
        if day > horizon:
            break
    return dates


@transaction.atomic
def occurrences_sync(*, commitment: Commitment, now: dt.datetime | None = None) -> bool:
    """Make the commitment's occurrence rows match its series; return whether any changed.

    Raise ``ValidationError`` on ``recurrence`` (nothing written) if a row whose date left the
    series has progress updates.
    """
    now = now or timezone.now()
    existing = {row.due_date: row for row in commitment.occurrences.order_by("sequence")}
    dates = commitment_occurrence_dates(
        commitment=commitment, now=now, through=max(existing, default=None)
    )
    wanted = set(dates)
    stale = [row for day, row in existing.items() if day not in wanted]
    if stale:
        kept = (
            ProgressUpdate.objects.filter(occurrence__in=stale)
            .order_by("occurrence__sequence")
            .values_list("occurrence__sequence", "occurrence__due_date")
            .first()
        )
        if kept is not None:
            raise ValidationError(
                {
                    "recurrence": _(
                        "Occurrence %(number)s (%(date)s) has progress updates and is not in "
                        "the new series; record its outcome another way or keep its date."
                    )
                    % {"number": kept[0], "date": kept[1].isoformat()}
                }
            )
        Occurrence.objects.filter(pk__in=[row.pk for row in stale]).delete()
    time_zone = commitment.agreement.time_zone
    suspended = commitment.deadline_suspended
    renumbered = [
        row
        for sequence, day in enumerate(dates, start=1)
        if (row := existing.get(day)) is not None and row.sequence != sequence
    ]
    if renumbered:
        Occurrence.objects.filter(pk__in=[row.pk for row in renumbered]).update(
            sequence=F("sequence") + _RENUMBER_OFFSET
        )
    missing, changed = [], []
    for sequence, day in enumerate(dates, start=1):
        due_at = deadlines.due_instant(day, time_zone)
        row = existing.get(day)
        if row is None:
            missing.append(
                Occurrence(
                    commitment=commitment,
                    sequence=sequence,
                    due_date=day,
                    due_at=due_at,
                    target_amount=commitment.target_amount,
                    deadline_suspended=suspended,
                )
            )
            continue
        values = {
            "sequence": sequence,
            "due_at": due_at,
            "target_amount": commitment.target_amount,
            "deadline_suspended": suspended,
        }
        if row in renumbered or any(getattr(row, k) != v for k, v in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.updated = now
            changed.append(row)
    if changed:
        bulk_update_with_history(changed, Occurrence, [*values, "updated"], default_date=now)
    if missing:
        bulk_create_with_history(missing, Occurrence, default_date=now)
    return bool(stale or changed or missing)


def occurrences_due_for_top_up(*, now: dt.datetime) -> list[int]:
    """Return the open-ended recurring commitments whose written rows end at the horizon.

    One query (:func:`occurrences_due_for_top_up_sql`); empty when nothing is to do (each
    sync writes one occurrence past the horizon).
    """
    sql, params = occurrences_due_for_top_up_sql(now=now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def occurrences_due_for_top_up_sql(*, now: dt.datetime) -> tuple[str, list[Any]]:
    """Return the query of :func:`occurrences_due_for_top_up` (one ``pk`` per row), as SQL.

    The scan asks every few minutes, with its other reads in one round trip: the SQL is
    compiled once per process and horizon (:mod:`core.statements`).
    """
    horizon = occurrence_horizon(now=now)

    def build() -> tuple[str, Sequence[Any]]:
        return (
            Commitment.objects.filter(
                ~Q(recurrence=RecurrenceKind.NONE),
                recurrence_until__isnull=True,
                recurrence_count__isnull=True,
            )
            .annotate(last_due=Max("occurrences__due_date"), written=Count("occurrences"))
            .filter(last_due__lte=horizon, written__lt=recurrence.MAX_OCCURRENCES)
            .order_by("pk")
            .values_list("pk", flat=True)
            .query.sql_with_params()
        )

    return statement_compiled(("occurrences due for top-up", horizon), build)


def occurrences_top_up(*, now: dt.datetime, due: Sequence[int] | None = None) -> list[int]:
    """Write the occurrences open-ended series reach as the horizon moves; return their ids.

    ``due`` is what :func:`occurrences_due_for_top_up` returns at ``now``, if the caller has
    read it already (the scan, with its other reads). The writes are one transaction; a scan
    that finds nothing to write opens none (under the scan's transaction, a savepoint: two
    more round trips every 15 minutes, for nothing).
    """
    ids = occurrences_due_for_top_up(now=now) if due is None else list(due)
    if not ids:
        return []
    with transaction.atomic():
        commitments = Commitment.objects.select_related(*DUE_DATE_RELATIONS).filter(pk__in=ids)
        return [c.pk for c in commitments.order_by("pk") if occurrences_sync(commitment=c, now=now)]
