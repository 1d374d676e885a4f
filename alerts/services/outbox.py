"""Actions on alert rows that people take (the sender's own writes live in ``delivery``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction

from alerts.models import Alert, AlertState


@transaction.atomic
def alerts_retry(*, alert_ids: Iterable[int], now: dt.datetime) -> int:
    """Put failed alerts back in the queue, due at ``now`` with a fresh attempt budget.

    Only alerts that gave up (``failed``) move; sent and skipped ones are left alone, so a
    retry can never send an alert twice. ``last_error`` is kept until the next attempt.
    Return the number of alerts queued again.
    """
    return Alert.objects.filter(pk__in=list(alert_ids), state=AlertState.FAILED).update(
        state=AlertState.PENDING, attempts=0, next_attempt_at=now
    )
