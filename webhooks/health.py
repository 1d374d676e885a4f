"""The webhook deliveries waiting and given up, as a section of the health report."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.health import HealthSection, health_register, queue_health, queue_line

from .models import DeliveryState, WebhookDelivery


def webhook_outbox_health(*, now: dt.datetime) -> dict[str, Any]:
    """Return how many deliveries wait, how long the oldest has waited, how many failed."""
    return queue_health(
        WebhookDelivery.objects.all(),
        now=now,
        pending=DeliveryState.PENDING,
        failed=DeliveryState.FAILED,
    )


def register_health() -> None:
    """Contribute the webhook outbox to ``celery_health``."""
    health_register(
        HealthSection(
            name="webhooks",
            report=lambda now: webhook_outbox_health(now=now),
            line=queue_line("webhooks"),
        )
    )
