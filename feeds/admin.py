"""Calendar feeds in the admin: make one (its URL is shown once), rotate or revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from core.admin import ModelAdmin

from . import services
from .models import CalendarFeed
from .selectors import feed_url


def _announce(
    modeladmin: admin.ModelAdmin, request: HttpRequest, feed: CalendarFeed, secret: str
) -> None:
    url = feed_url(request=request, secret=secret)
    modeladmin.message_user(
        request,
        f"Subscription URL of “{feed}”: {url} — copy it now, it is not shown again.",
        messages.WARNING,
    )


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ModelAdmin):
    list_display = ["__str__", "user", "scope", "created", "rotated_at", "revoked_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username", "secret_hint"]
    autocomplete_fields = ["agreement", "party"]
    raw_id_fields = ["user"]
    fields = [
        "user",
        "name",
        "scope",
        "agreement",
        "party",
        "secret_hint",
        "created",
        "rotated_at",
        "revoked_at",
    ]
    readonly_fields = ["secret_hint", "created", "rotated_at", "revoked_at"]
    actions = ["rotate", "revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: CalendarFeed | None = None) -> Any:
        if obj is not None:
            return [*self.readonly_fields, "user", "scope", "agreement", "party"]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: CalendarFeed, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        feed, secret = services.calendar_feed_create(
            user=obj.user,
            scope=obj.scope,
            agreement=obj.agreement,
            party=obj.party,
            name=obj.name,
            now=timezone.now(),
        )
        obj.pk, obj.secret_hint, obj.created = feed.pk, feed.secret_hint, feed.created
        _announce(self, request, feed, secret)

    @admin.action(description="Rotate the secret (old URLs stop working)")
    def rotate(self, request: HttpRequest, queryset: QuerySet[CalendarFeed]) -> None:
        for feed in queryset.order_by("pk"):
            secret = services.calendar_feed_rotate(feed=feed, now=timezone.now())
            _announce(self, request, feed, secret)

    @admin.action(description="Revoke (the URL answers 404)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[CalendarFeed]) -> None:
        now = timezone.now()
        for feed in queryset.order_by("pk"):
            services.calendar_feed_revoke(feed=feed, now=now)
        self.message_user(request, "Revoked.", messages.SUCCESS)
