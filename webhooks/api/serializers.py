"""Representations of webhook endpoints and their deliveries; the secret is write-only."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.rest.serializers import ApiModelSerializer, DetailUrlField, StrictMixin
from webhooks.models import EventKind, WebhookDelivery, WebhookEndpoint, WebhookEvent


class WebhookEndpointSerializer(StrictMixin, ApiModelSerializer):
    """An endpoint of the caller's that receives signed events about commitments."""

    url = DetailUrlField(view_name="api:webhook-detail")
    target_url = serializers.URLField(
        max_length=2000,
        help_text=(
            "Where events are POSTed: https on a public address (http and internal hosts only "
            "if the operator allows them)."
        ),
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        min_length=16,
        max_length=255,
        trim_whitespace=False,
        help_text=(
            "Signs every delivery (X-Tracker-Signature). Write-only: never shown again; send "
            "a new one to replace it."
        ),
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventKind.choices),
        min_length=1,
        max_length=len(EventKind.values),
        required=False,
        help_text="The kinds of event to receive; all of them by default.",
    )
    deliveries = DetailUrlField(view_name="api:webhook-deliveries")

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "target_url",
            "secret",
            "events",
            "description",
            "active",
            "deliveries",
            "created",
        ]
        read_only_fields = ["created"]
        validators: list[Any] = []


class WebhookEndpointCreateSerializer(WebhookEndpointSerializer):
    """Registering an endpoint needs its secret."""

    secret = serializers.CharField(
        write_only=True,
        min_length=16,
        max_length=255,
        trim_whitespace=False,
        help_text="Signs every delivery (X-Tracker-Signature). Write-only: never shown again.",
    )


class WebhookEventSerializer(ApiModelSerializer):
    """An event as it was sent: the body's ``id``, ``type``, ``occurred_at`` and ``data``."""

    id = serializers.UUIDField(source="uuid", help_text="The event's id, the same everywhere.")
    type = serializers.ChoiceField(source="kind", choices=EventKind.choices)

    class Meta:
        model = WebhookEvent
        fields = ["id", "type", "commitment", "occurred_at"]

    def get_fields(self) -> dict[str, serializers.Field]:
        # ``data`` is added here: declared on the class, it would shadow ``Serializer.data``.
        fields = super().get_fields()
        fields["data"] = serializers.JSONField(
            source="payload", read_only=True, help_text="The commitment and what changed."
        )
        return fields


class WebhookDeliverySerializer(ApiModelSerializer):
    """One event to the endpoint: its state, attempts and the last answer or error."""

    id = serializers.UUIDField(
        source="uuid", help_text="Sent as X-Tracker-Delivery: the same on every attempt."
    )
    event = WebhookEventSerializer()

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "state",
            "attempts",
            "last_status_code",
            "response_ms",
            "last_error",
            "next_attempt_at",
            "sent_at",
            "created",
        ]
