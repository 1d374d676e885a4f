"""The parties' admin."""

from __future__ import annotations

from django.contrib import admin

from commitments.models import Party
from core.admin import HistoryAdmin


@admin.register(Party)
class PartyAdmin(HistoryAdmin):
    list_display = ["name", "key", "kind", "country_code"]
    list_filter = ["kind"]
    search_fields = ["name", "name_fr", "key", "country_code"]
    ordering = ["name"]
