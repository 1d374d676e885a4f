"""Celery tasks of the deadline watch: thin, named, taking ids or nothing, safe to run twice.

Each task calls one service. All three are safe to repeat or to run concurrently (a second
scan at the same instant changes nothing; the senders claim rows under locks), so they
take :data:`core.outbox.SAFE_TO_REPEAT`: they acknowledge
late and are requeued when a worker dies mid-task, so a crash re-runs the task rather than
losing it, and transient database errors (a dropped connection, a failover, SQLite's
"database is locked") are retried with exponential backoff. ``send_alerts`` sends one batch
and enqueues itself again while batches come back full, so a backlog drains at the SMTP
server's pace rather than one batch per beat minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from alerts.services.delivery import alerts_send_digests, alerts_send_pending
from core.outbox import SAFE_TO_REPEAT, batch_result, enqueue_on_commit


# A first scan of a million commitments writes every flag and takes minutes; later ones, ms.
@shared_task(name="alerts.scan_deadlines", soft_time_limit=1800, time_limit=1900, **SAFE_TO_REPEAT)
def scan_deadlines(commitment_ids: Sequence[int] | None = None) -> str:
    """Flag deadline states and write alerts as of now; then have the new alerts sent."""
    from alerts.services.scan import scan

    result = scan(now=timezone.now(), commitment_ids=commitment_ids)
    send_alerts_on_commit()
    return result.summary()


@shared_task(name="alerts.send_alerts", soft_time_limit=240, time_limit=300, **SAFE_TO_REPEAT)
def send_alerts() -> dict[str, Any]:
    """Send the pending immediate alerts that are due, one batch; enqueue the next if full."""
    return batch_result(task=send_alerts, report=alerts_send_pending(now=timezone.now()))


@shared_task(name="alerts.send_digests", soft_time_limit=1800, time_limit=1900, **SAFE_TO_REPEAT)
def send_digests() -> dict[str, Any]:
    """Send each recipient one digest of their pending digest alerts."""
    return alerts_send_digests(now=timezone.now()).as_dict()


def send_alerts_on_commit() -> None:
    """Enqueue ``TRACKER_ALERT_SENDERS`` :func:`send_alerts` once the current transaction
    commits (at once if none): as many senders drain the new alerts at once, each enqueueing
    itself again while its batches come back full.

    A broker that is down is logged and forgotten: the caller (a scan, a web request) goes
    on, and the periodic ``send_alerts`` run catches up when the broker is back.
    """
    enqueue_on_commit(send_alerts, times=settings.TRACKER_ALERT_SENDERS)


def scan_deadlines_on_commit(*, commitment_ids: Sequence[int]) -> None:
    """Enqueue :func:`scan_deadlines` of ``commitment_ids`` once the current transaction commits.

    With the broker down the rescan runs there and then, after the commit (waiting for the
    full scan it was deferred behind): the periodic scan reads only thresholds crossed since
    its watermark, so it would not write every alert a changed due date raises.
    """
    ids = list(commitment_ids)
    enqueue_on_commit(
        scan_deadlines.s(commitment_ids=ids), otherwise=lambda: scan_deadlines(commitment_ids=ids)
    )
