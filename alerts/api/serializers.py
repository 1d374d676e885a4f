"""Representations of the caller's subscriptions and alerts in the API v1."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from alerts.models import MAX_LEAD_DAYS, OVERDUE_LEAD, Alert, Subscription
from core.rest.serializers import ApiModelSerializer, DetailUrlField, StrictMixin


class LeadDaysField(serializers.ListField):
    """The lead times of a subscription, in days before the deadline."""

    def get_attribute(self, instance: Subscription) -> list[int]:
        return sorted(
            (lead.days for lead in instance.leads.all() if lead.days != OVERDUE_LEAD),
            reverse=True,
        )


class NotifyOverdueField(serializers.BooleanField):
    """Whether the subscription also alerts on the day after a missed deadline."""

    def get_attribute(self, instance: Subscription) -> bool:
        return any(lead.days == OVERDUE_LEAD for lead in instance.leads.all())


class SubscriptionSerializer(StrictMixin, ApiModelSerializer):
    """The caller's watch on everything, an agreement, a party or one commitment.

    The target (``scope`` and the agreement, party or commitment it names) is fixed once
    made; delete the subscription and make another to watch something else.
    """

    url = DetailUrlField(view_name="api:subscription-detail")
    lead_days = LeadDaysField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_LEAD_DAYS),
        required=False,
        max_length=20,
        help_text=f"Days before the deadline to alert, 1 to {MAX_LEAD_DAYS}; default 30, 7 and 1.",
    )
    notify_overdue = NotifyOverdueField(
        required=False, help_text="Also alert on the day after a missed deadline (default true)."
    )

    class Meta:
        model = Subscription
        fields = [
            "id",
            "url",
            "scope",
            "agreement",
            "party",
            "commitment",
            "mode",
            "lead_days",
            "notify_overdue",
            "created",
        ]
        read_only_fields = ["created"]
        validators: list[Any] = []


class AlertSerializer(ApiModelSerializer):
    """An alert e-mail raised for the caller: which commitment, due date and threshold."""

    url = DetailUrlField(view_name="api:alert-detail")

    class Meta:
        model = Alert
        fields = [
            "id",
            "url",
            "commitment",
            "kind",
            "due_date",
            "threshold",
            "digest",
            "state",
            "sent_at",
            "created",
        ]
        read_only_fields = fields
