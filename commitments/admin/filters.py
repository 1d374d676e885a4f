"""The admin's list filters."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from commitments.querysets import CommitmentQuerySet

#: The admin's due ranges: "next N days" is ``Commitment.objects.due_within(now, N)``.
DUE_RANGE_DAYS = {"next_7": 7, "next_30": 30, "next_90": 90}


def due_range_filter(
    *, queryset: CommitmentQuerySet, choice: str, now: dt.datetime
) -> CommitmentQuerySet:
    """Return the commitments of ``queryset`` in a due range relative to ``now``."""
    if choice == "overdue":
        return queryset.overdue(now)
    if choice == "none":
        return queryset.undated()
    return queryset.due_within(now, DUE_RANGE_DAYS[choice])


class DueRangeFilter(admin.SimpleListFilter):
    """Due ranges counted from now: overdue, open and due in the next 7, 30 or 90 days, or none."""

    title = _("due")
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("overdue", _("Overdue (past due, not closed)")),
            ("next_7", _("In the next 7 days")),
            ("next_30", _("In the next 30 days")),
            ("next_90", _("In the next 90 days")),
            ("none", _("No deadline")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        if self.value() not in dict(self.lookups(request, None)):
            return None
        return due_range_filter(
            queryset=cast(CommitmentQuerySet, queryset),
            choice=str(self.value()),
            now=timezone.now(),
        )
