"""The progress updates' admin (read only)."""

from __future__ import annotations

from django.contrib import admin

from commitments.models import ProgressUpdate
from core.admin import HistoryAdmin, ReadOnlyAdminMixin


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    """Progress updates, read only: they are written by the status-change view and services."""

    list_display = [
        "commitment",
        "occurred_on",
        "status_from",
        "status_to",
        "measured_value",
        "evidence",
        "author",
    ]
    list_filter = ["status_to", ("occurred_on", admin.DateFieldListFilter)]
    list_select_related = ["commitment", "author", "evidence__source"]
    search_fields = ["note", "commitment__title", "commitment__key"]
    date_hierarchy = "occurred_on"
