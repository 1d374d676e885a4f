"""Filters of the caller's own lists (subscriptions and alerts)."""

from __future__ import annotations

import django_filters

from alerts.models import Alert, AlertState, Subscription, SubscriptionScope
from commitments.filtersets import StableOrderingFilter
from commitments.models import Commitment


class SubscriptionFilterSet(django_filters.FilterSet):
    """Filter subscriptions by scope."""

    scope = django_filters.MultipleChoiceFilter(choices=SubscriptionScope.choices)
    ordering = StableOrderingFilter(fields=(("created", "created"), ("id", "id")))

    class Meta:
        model = Subscription
        fields = ["scope", "ordering"]


class AlertFilterSet(django_filters.FilterSet):
    """Filter alerts by delivery state, commitment and due date."""

    state = django_filters.MultipleChoiceFilter(choices=AlertState.choices)
    commitment = django_filters.ModelChoiceFilter(
        queryset=Commitment.objects.all(), help_text="Id of the commitment."
    )
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    ordering = StableOrderingFilter(
        fields=(("created", "created"), ("due_date", "due_date"), ("id", "id"))
    )

    class Meta:
        model = Alert
        fields = ["state", "commitment", "due_before", "due_after", "ordering"]
