"""Celery task of the webhooks: thin, named, taking nothing, safe to run twice or at once.

Beat runs it every minute (``CELERY_BEAT_SCHEDULE``). It is also enqueued when a Celery task
(the periodic scan) writes deliveries, once that commits, and by itself when a run stopped at
its batch limit, so a backlog drains without waiting a minute per batch. A web request never
enqueues it: with the broker down, an enqueue stalls the request for seconds.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from core.outbox import SAFE_TO_REPEAT, batch_result, enqueue_on_commit
from webhooks.services.delivery import webhooks_send_pending


@shared_task(name="webhooks.send_webhooks", soft_time_limit=240, time_limit=300, **SAFE_TO_REPEAT)
def send_webhooks() -> dict[str, Any]:
    """Send the due webhook deliveries, one batch; enqueue the next batch if more are due."""
    return batch_result(task=send_webhooks, report=webhooks_send_pending(now=timezone.now()))


def send_webhooks_on_commit() -> None:
    """Enqueue :func:`send_webhooks` once the current transaction commits (at once if none)."""
    enqueue_on_commit(send_webhooks)
