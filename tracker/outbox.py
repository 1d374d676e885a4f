"""What the two outboxes (alert e-mails, webhook deliveries) share: backoff and the admin log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest


def retry_delay(*, attempts: int, base_seconds: int, cap_seconds: int) -> dt.timedelta:
    """Return the wait before the next attempt after ``attempts`` failed ones.

    Exponential: base, 2 x base, 4 x base... capped at ``cap_seconds``.
    """
    exponent = min(max(attempts - 1, 0), 32)
    return dt.timedelta(seconds=min(base_seconds * 2**exponent, cap_seconds))


class LogAdminMixin:
    """A model shown in the admin as a log (alerts, webhook events and deliveries).

    Nothing is added, edited or deleted by hand: rows move only through their services (sent,
    retried, given up). An outbox's one admin write is a "retry now" action, allowed to
    whoever holds ``retry_permission``.
    """

    retry_permission = ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(self.retry_permission)
