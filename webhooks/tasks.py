"""Celery task of the webhooks: thin, named, taking nothing, safe to run twice or at once.

Beat runs it every minute (``CELERY_BEAT_SCHEDULE``). It is also enqueued when a Celery task
(the periodic scan) writes deliveries, once that commits, and by itself when a run stopped at
its batch limit, so a backlog drains without waiting a minute per batch. A web request never
enqueues it: with the broker down, an enqueue stalls the request for seconds.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from webhooks.services.delivery import webhooks_send_pending

logger = logging.getLogger(__name__)


# Late acknowledgement and requeue on a lost worker: the sender claims rows under row locks,
# so running the task again after a crash resends nothing that was committed as sent.
@shared_task(
    name="webhooks.send_webhooks",
    soft_time_limit=240,
    time_limit=300,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def send_webhooks() -> dict[str, Any]:
    """Send the due webhook deliveries, one batch; enqueue the next batch if more are due."""
    report = webhooks_send_pending(now=timezone.now())
    if report.full:
        _enqueue_send_webhooks()
    return report.as_dict()


def send_webhooks_on_commit() -> None:
    """Enqueue :func:`send_webhooks` once the current transaction commits (at once if none)."""
    transaction.on_commit(_enqueue_send_webhooks, robust=True)


def _enqueue_send_webhooks() -> None:
    try:
        send_webhooks.apply_async(retry=False)
    except (BrokerError, OSError) as exc:
        logger.warning("Could not enqueue webhooks.send_webhooks (the periodic run will): %s", exc)
