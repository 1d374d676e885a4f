"""Admin for API tokens: make one (its key is shown once) and revoke them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from core.admin import ModelAdmin

from .models import ApiToken
from .services import api_token_create, api_token_revoke


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name", "expires_at"]

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and self.instance.pk is None and expires_at <= timezone.now():
            raise forms.ValidationError("A token must expire after it is made.")
        return expires_at


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin):
    form = ApiTokenForm
    list_display = ["name", "user", "prefix", "created", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["revoked_at", "expires_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        if obj is None:
            return ["prefix", "created", "revoked_at", "last_used_at"]
        return ["user", "name", "expires_at", "prefix", "created", "revoked_at", "last_used_at"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return
        token, key = api_token_create(
            user=obj.user, name=obj.name, now=timezone.now(), expires_at=obj.expires_at
        )
        obj.pk, obj.key_hash, obj.prefix, obj.created = (
            token.pk,
            token.key_hash,
            token.prefix,
            token.created,
        )
        messages.warning(
            request, f"The key of {token.name!r} is {key} - copy it now, it is not shown again."
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        now = timezone.now()
        for token in queryset.order_by("pk"):
            api_token_revoke(token=token, now=now)
        self.message_user(request, f"Revoked {queryset.count()} token(s).", messages.SUCCESS)
