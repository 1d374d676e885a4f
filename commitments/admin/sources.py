"""The admin of sources and of the citations quoting them."""

from __future__ import annotations

from django.contrib import admin

from commitments.models import Citation, Source
from core.admin import HistoryAdmin


@admin.register(Source)
class SourceAdmin(HistoryAdmin):
    list_display = ["title", "publisher", "kind", "language", "published_on"]
    list_filter = ["kind", "language", "publisher"]
    search_fields = ["title", "publisher", "key", "url"]
    date_hierarchy = "published_on"


@admin.register(Citation)
class CitationAdmin(HistoryAdmin):
    list_display = ["__str__", "source", "agreement", "commitment", "locator"]
    list_filter = ["source__kind", "source__language", "source"]
    list_select_related = ["source", "agreement", "commitment"]
    search_fields = ["quote", "translation", "locator", "source__title", "source__publisher"]
    autocomplete_fields = ["source", "agreement", "commitment"]
