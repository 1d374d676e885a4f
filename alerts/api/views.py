"""The API v1 endpoints of the deadline watch: the caller's own subscriptions and alerts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status

from alerts.filtersets import AlertFilterSet, SubscriptionFilterSet
from alerts.models import Alert, Subscription
from alerts.services import subscriptions as subscription_services
from core.rest.exceptions import call_service
from core.rest.permissions import OwnDataPermission
from core.rest.views import ApiViewSet

from . import serializers


@extend_schema_view(
    list=extend_schema(summary="List my subscriptions"),
    retrieve=extend_schema(summary="Show one of my subscriptions"),
    create=extend_schema(summary="Watch something"),
    update=extend_schema(summary="Replace one of my subscriptions"),
    partial_update=extend_schema(summary="Change one of my subscriptions"),
    destroy=extend_schema(
        summary="Stop watching", responses={status.HTTP_204_NO_CONTENT: OpenApiResponse()}
    ),
)
class SubscriptionViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    ApiViewSet,
):
    """The caller's own subscriptions; anyone else's are not found."""

    serializer_class = serializers.SubscriptionSerializer
    filterset_class = SubscriptionFilterSet
    permission_classes = [OwnDataPermission]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return Subscription.objects.none()
        return (
            Subscription.objects.filter(user=self.request.user)  # type: ignore[misc]
            .prefetch_related("leads")
            .order_by("-created", "-id")
        )

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = call_service(
            subscription_services.subscription_create, user=self.request.user, **data
        )

    def perform_update(self, serializer: Any) -> None:
        data = serializer.validated_data
        target = {name: data[name] for name in subscription_services.TARGET_FIELDS if name in data}
        changes = {
            name: data[name] for name in ("lead_days", "notify_overdue", "mode") if name in data
        }
        serializer.instance = call_service(
            subscription_services.subscription_update,
            subscription=serializer.instance,
            target=target,
            **changes,
        )

    def perform_destroy(self, instance: Subscription) -> None:
        call_service(subscription_services.subscription_delete, subscription=instance)


@extend_schema_view(
    list=extend_schema(summary="List my alerts"),
    retrieve=extend_schema(summary="Show one of my alerts"),
)
class AlertViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, ApiViewSet):
    """Alert e-mails raised for the caller; anyone else's are not found."""

    serializer_class = serializers.AlertSerializer
    filterset_class = AlertFilterSet
    permission_classes = [OwnDataPermission]

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        return Alert.objects.filter(user=self.request.user).order_by(  # type: ignore[misc]
            "-created", "-id"
        )
