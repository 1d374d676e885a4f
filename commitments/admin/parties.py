"""The parties' admin."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from commitments.models import Party


@admin.register(Party)
class PartyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "key", "kind", "country_code"]
    list_filter = ["kind"]
    search_fields = ["name", "name_fr", "key", "country_code"]
    ordering = ["name"]
