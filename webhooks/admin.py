"""The admin of webhooks: endpoints (the secret write-only), the events, and the delivery log.

Endpoints are saved through the same service rules as the API (target checked, one per URL
and owner). Events and deliveries are read-only: the services write them; the one action
people take, "retry now", goes through the outbox core (``WEBHOOK_OUTBOX.retry``).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from core.admin import HistoryAdmin, LogAdminMixin, ModelAdmin

from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from .services.delivery import WEBHOOK_OUTBOX
from .services.endpoints import webhook_endpoint_validate


class WebhookEndpointAdminForm(forms.ModelForm):
    """The endpoint, with a write-only secret: empty on a change keeps the current one."""

    target_url = forms.URLField(label=_("target URL"), max_length=2000, assume_scheme="https")
    new_secret = forms.CharField(
        label=_("secret"),
        required=False,
        strip=False,
        min_length=16,
        max_length=255,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Signs every delivery. Never shown again; leave empty to keep the current one."
        ),
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "owner",
            "target_url",
            "description",
            "on_status_changed",
            "on_overdue",
            "on_due_date_changed",
            "on_deadline_revised",
            "active",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        secret = cleaned.get("new_secret")
        if secret:
            self.instance.secret = secret
        elif self.instance.pk is None:
            self.add_error("new_secret", _("Give the endpoint a secret."))
        return cleaned

    def validate_unique(self) -> None:
        """Check the built instance through the service, as the API does (target included)."""
        if self.errors:
            return
        check_target = self.instance.pk is None or "target_url" in self.changed_data
        try:
            webhook_endpoint_validate(endpoint=self.instance, check_target=check_target)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                name = "new_secret" if field == "secret" else field
                self.add_error(name if name in self.fields else None, errors)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(HistoryAdmin):
    form = WebhookEndpointAdminForm
    list_display = ["target_url", "owner", "kinds", "active", "created"]
    list_filter = [
        "active",
        "on_status_changed",
        "on_overdue",
        "on_due_date_changed",
        "on_deadline_revised",
    ]
    list_select_related = ["owner"]
    search_fields = ["target_url", "description", "owner__username"]
    autocomplete_fields = ["owner"]

    @admin.display(description=_("events"))
    def kinds(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events)


@admin.register(WebhookEvent)
class WebhookEventAdmin(LogAdminMixin, ModelAdmin):
    list_display = ["kind", "commitment", "occurred_at", "uuid"]
    list_filter = ["kind", "occurred_at"]
    list_select_related = ["commitment"]
    search_fields = ["uuid", "commitment__key", "commitment__title"]
    date_hierarchy = "occurred_at"
    fields = readonly_fields = ("uuid", "kind", "commitment", "occurred_at", "payload_pretty")

    @admin.display(description=_("payload"))
    def payload_pretty(self, obj: WebhookEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(LogAdminMixin, ModelAdmin):
    list_display = [
        "event",
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "response_ms",
        "short_error",
        "next_attempt_at",
        "sent_at",
        "created",
    ]
    list_filter = ["state", "event__kind", "created"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["uuid", "event__uuid", "endpoint__target_url", "event__commitment__key"]
    date_hierarchy = "created"
    actions = ["retry_now"]

    retry_permission = "webhooks.change_webhookdelivery"

    @admin.display(description=_("last error"))
    def short_error(self, obj: WebhookDelivery) -> str:
        return Truncator(obj.last_error).chars(80)

    @admin.action(description=_("Retry now (failed deliveries only)"), permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        queued = WEBHOOK_OUTBOX.retry(ids=ids, now=timezone.now())
        self.message_user(
            request,
            _("%(queued)d failed deliveries queued again; %(left)d left as they were.")
            % {"queued": queued, "left": len(ids) - queued},
            messages.SUCCESS if queued else messages.WARNING,
        )
