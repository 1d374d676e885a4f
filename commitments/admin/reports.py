"""Frozen reports in the admin: shown, never added, edited or deleted there.

Reports are frozen by ``report_freeze`` and corrected by ``report_correct`` (the dashboard
and the API call them); the models refuse any change, so the admin only reads.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from commitments.models import Report, ReportCorrection, ReportRow
from core.admin import ModelAdmin, ReadOnlyAdminMixin, TabularInline


class _ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReportRowInline(_ReadOnlyInline):
    model = ReportRow
    fields = ("position", "commitment_key", "party_name", "rating", "score", "justification")
    readonly_fields = fields
    verbose_name = _("row as frozen")
    verbose_name_plural = _("rows as frozen")


class ReportCorrectionInline(_ReadOnlyInline):
    model = ReportCorrection
    fields = ("corrected_on", "row", "field", "old_value", "new_value", "note", "author")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportCorrection]:
        # The row and the author are shown on every line: loaded with it, not one by one.
        return super().get_queryset(request).select_related("row", "author")


@admin.register(Report)
class ReportAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """Reports by agreement and cut-off, with their frozen rows and corrections."""

    list_display = ("title", "agreement", "cutoff", "created", "created_by")
    list_filter = ("agreement",)
    search_fields = ("title", "agreement__title")
    fields = ("agreement", "title", "cutoff", "created", "created_by")
    readonly_fields = fields
    inlines = [ReportRowInline, ReportCorrectionInline]
