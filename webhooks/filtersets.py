"""Filters of the caller's webhook endpoints and of an endpoint's delivery log."""

from __future__ import annotations

import django_filters

from commitments.filtersets import StableOrderingFilter
from webhooks.models import DeliveryState, EventKind, WebhookDelivery, WebhookEndpoint


class WebhookEndpointFilterSet(django_filters.FilterSet):
    """Filter the caller's endpoints by whether they are active."""

    active = django_filters.BooleanFilter()
    ordering = StableOrderingFilter(fields=(("created", "created"), ("id", "id")))

    class Meta:
        model = WebhookEndpoint
        fields = ["active", "ordering"]


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    """Filter an endpoint's delivery log by state and kind of event."""

    state = django_filters.MultipleChoiceFilter(choices=DeliveryState.choices)
    event_type = django_filters.MultipleChoiceFilter(
        field_name="event__kind", choices=EventKind.choices, label="Kind of event"
    )

    class Meta:
        model = WebhookDelivery
        fields = ["state", "event_type"]
