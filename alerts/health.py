"""The deadline scan's freshness and the alert outbox, as sections of the health report."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery.schedules import crontab
from celery.schedules import schedule as every
from django.conf import settings
from django.db.models import Max
from django_celery_beat.models import PeriodicTask

from core.health import HealthSection, health_register, queue_health, queue_line

from .models import Alert, AlertState, ScanRun

#: The beat entry (settings.CELERY_BEAT_SCHEDULE) and task of the periodic deadline scan.
SCAN_ENTRY = "scan-deadlines"
SCAN_TASK = "alerts.scan_deadlines"
#: A scan older than this many intervals means beat or every worker has stopped.
STALE_AFTER_INTERVALS = 2


def scan_interval() -> dt.timedelta:
    """Return the longest gap between two scheduled deadline scans."""
    entry = settings.CELERY_BEAT_SCHEDULE[SCAN_ENTRY]["schedule"]
    if isinstance(entry, crontab):
        # Fire times in a day (hour x minute); the day-of-week and month fields stay unset.
        minutes = sorted(h * 60 + m for h in entry.hour for m in entry.minute)
        gaps = [b - a for a, b in zip(minutes, [*minutes[1:], minutes[0] + 24 * 60], strict=True)]
        return dt.timedelta(minutes=max(gaps))
    if isinstance(entry, every):
        return entry.run_every
    return dt.timedelta(seconds=float(entry))


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def beat_health(*, now: dt.datetime) -> dict[str, Any]:
    """Report when beat last sent the deadline scan and when a worker last finished one.

    ``state`` is ``"ok"``, ``"stale"`` when the last finished full scan is older than
    ``STALE_AFTER_INTERVALS`` scan intervals, or ``"never"`` when no scan has finished yet.
    A recent ``last_scan_sent_at`` with a stale finish points at the workers; both old, at beat.
    """
    interval = scan_interval()
    sent = PeriodicTask.objects.filter(task=SCAN_TASK).aggregate(last=Max("last_run_at"))["last"]
    finished = ScanRun.objects.aggregate(last=Max("ran_at"))["last"]
    if finished is None:
        state = "never"
    elif now - finished > STALE_AFTER_INTERVALS * interval:
        state = "stale"
    else:
        state = "ok"
    return {
        "state": state,
        "last_scan_sent_at": _iso(sent),
        "last_scan_finished_at": _iso(finished),
        "scan_interval_seconds": int(interval.total_seconds()),
    }


def _beat_line(beat: dict[str, Any]) -> str:
    return (
        f"beat: {beat['state']} (scan every {beat['scan_interval_seconds']} s; last sent "
        f"{beat['last_scan_sent_at'] or 'never'}, last finished "
        f"{beat['last_scan_finished_at'] or 'never'})"
    )


def _beat_problems(beat: dict[str, Any]) -> list[str]:
    return {
        "stale": ["the deadline scan is stale"],
        "never": ["the deadline scan has never finished"],
    }.get(beat["state"], [])


def outbox_health(*, now: dt.datetime) -> dict[str, Any]:
    """Return how many alerts wait to be sent, how long the oldest has waited, how many failed."""
    return queue_health(
        Alert.objects.all(), now=now, pending=AlertState.PENDING, failed=AlertState.FAILED
    )


def register_health() -> None:
    """Contribute the scan's freshness (also on ``/healthz``) and the alert outbox."""
    health_register(
        HealthSection(
            name="beat",
            report=lambda now: beat_health(now=now),
            line=_beat_line,
            problems=_beat_problems,
            on_healthz=True,
        )
    )
    health_register(
        HealthSection(
            name="outbox", report=lambda now: outbox_health(now=now), line=queue_line("outbox")
        )
    )
