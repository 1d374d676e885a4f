"""Admin pieces every app may use."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """A model the admin shows but never adds, edits or deletes: its services write it."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LogAdminMixin(ReadOnlyAdminMixin):
    """A model shown in the admin as a log (alerts, webhook events and deliveries).

    Nothing is added, edited or deleted by hand: rows move only through their services (sent,
    retried, given up). An outbox's one admin write is a "retry now" action, allowed to
    whoever holds ``retry_permission``.
    """

    retry_permission = ""

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(self.retry_permission)
