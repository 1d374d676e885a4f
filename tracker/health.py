"""``/healthz``: is this web process able to reach the database and the broker? Is the
periodic deadline scan running?

The scan's freshness is reported, not enforced: a stale beat is a page for an operator, not a
reason for a load balancer to take the web process out of rotation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery.schedules import crontab
from celery.schedules import schedule as every
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min, QuerySet
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_celery_beat.models import PeriodicTask

from alerts.models import Alert, AlertState, ScanRun
from webhooks.models import DeliveryState, WebhookDelivery

#: The beat entry (settings.CELERY_BEAT_SCHEDULE) and task of the periodic deadline scan.
SCAN_ENTRY = "scan-deadlines"
SCAN_TASK = "alerts.scan_deadlines"
#: A scan older than this many intervals means beat or every worker has stopped.
STALE_AFTER_INTERVALS = 2


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means "not healthy"; the reason is reported
        return False, type(exc).__name__
    return True, "ok"


def _broker_ok() -> tuple[bool, str]:
    from tracker.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # any failure means "not healthy"; the reason is reported
        return False, type(exc).__name__
    return True, "ok"


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


def workers_ping(*, timeout: float) -> dict[str, Any]:
    """Return the names of the Celery workers that answer a ping within ``timeout`` seconds."""
    from tracker.celery import app

    try:
        replies = app.control.ping(timeout=timeout) or []
    except Exception as exc:  # a transport without broadcast, or a broker that is down
        return {"state": "unknown", "error": type(exc).__name__, "names": []}
    names = sorted(name for reply in replies for name in reply)
    return {"state": "ok" if names else "none", "names": names}


def outbox_health(*, now: dt.datetime) -> dict[str, Any]:
    """Return how many alerts wait to be sent, how long the oldest has waited, how many failed."""
    return _queue_health(
        Alert.objects.all(), now=now, pending=AlertState.PENDING, failed=AlertState.FAILED
    )


def webhook_outbox_health(*, now: dt.datetime) -> dict[str, Any]:
    """Return the same for webhook deliveries."""
    return _queue_health(
        WebhookDelivery.objects.all(),
        now=now,
        pending=DeliveryState.PENDING,
        failed=DeliveryState.FAILED,
    )


def _queue_health(
    rows: QuerySet[Any], *, now: dt.datetime, pending: str, failed: str
) -> dict[str, Any]:
    waiting = rows.filter(state=pending).aggregate(count=Count("id"), oldest=Min("created"))
    oldest = waiting["oldest"]
    return {
        "pending": waiting["count"],
        "oldest_pending_seconds": int((now - oldest).total_seconds()) if oldest else None,
        "failed": rows.filter(state=failed).count(),
    }


def celery_health(*, now: dt.datetime, ping_timeout: float = 2.0) -> dict[str, Any]:
    """Return the workers, the deadline scan's freshness and both outboxes, for operators."""
    return {
        "workers": workers_ping(timeout=ping_timeout),
        "beat": beat_health(now=now),
        "outbox": outbox_health(now=now),
        "webhooks": webhook_outbox_health(now=now),
    }


def _beat() -> dict[str, Any]:
    try:
        return beat_health(now=timezone.now())
    except Exception as exc:  # reported, never fatal: the database check names the cause
        return {"state": "unknown", "error": type(exc).__name__}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database and the broker answer, else 503 naming what failed.

    ``beat`` reports the deadline scan's freshness and never changes the status code.
    """
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(ok for ok, _detail in checks.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "unavailable"}
    body.update({name: detail for name, (_ok, detail) in checks.items()})
    body["beat"] = _beat()
    return JsonResponse(body, status=200 if healthy else 503)
