"""The parties' admin."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from commitments.models import Party
from core.admin import HistoryAdmin


@admin.register(Party)
class PartyAdmin(HistoryAdmin):
    list_display = ["name", "name_fr", "key", "kind", "country_code"]
    list_filter = ["kind"]
    search_fields = ["name", "name_fr", "key", "country_code"]
    ordering = ["name"]
    fieldsets = [
        (None, {"fields": ["key", "name", "name_fr", "kind", "country_code"]}),
        (_("Machine translations"), {"fields": ["machine_translations"]}),
    ]
