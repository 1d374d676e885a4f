"""The API of webhooks: the caller's own endpoints, and each one's delivery log.

``/api/v1/webhooks/`` lists, registers, changes and removes the caller's endpoints;
``/api/v1/webhooks/{id}/deliveries/`` is the read-only delivery log of one of them. Anyone
with a role may use it (viewers too): an endpoint receives only what its owner may already
read through the API. Someone else's endpoint is not found (404), as with subscriptions.

The secret is write-only: required when registering, replaced by sending a new one, never
shown in any answer.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from core.rest.permissions import OwnDataPermission
from core.rest.views import ApiViewSet
from webhooks.filtersets import WebhookDeliveryFilterSet, WebhookEndpointFilterSet
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoints as endpoint_services

from .serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="List your webhook endpoints"),
    retrieve=extend_schema(summary="Show one of your webhook endpoints"),
    create=extend_schema(
        summary="Register a webhook endpoint", responses={201: WebhookEndpointSerializer}
    ),
    update=extend_schema(summary="Change a webhook endpoint"),
    partial_update=extend_schema(summary="Change part of a webhook endpoint"),
    destroy=extend_schema(summary="Remove a webhook endpoint and its delivery log"),
)
class WebhookEndpointViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    ApiViewSet,
):
    """The caller's own webhook endpoints; anyone else's are not found."""

    serializer_class = WebhookEndpointSerializer
    filterset_class = WebhookEndpointFilterSet
    permission_classes = [OwnDataPermission]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        fake = getattr(self, "swagger_fake_view", False)
        if self.action == "deliveries":
            if fake:
                return WebhookDelivery.objects.none()
            return (
                WebhookDelivery.objects.filter(endpoint__owner=self.request.user.pk)
                .select_related("event")
                .order_by("-created", "-id")
            )
        return WebhookEndpoint.objects.none() if fake else self._own_endpoints()

    def _own_endpoints(self) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.filter(owner=self.request.user.pk).order_by(
            "-created", "-id"
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "create":
            return WebhookEndpointCreateSerializer
        if self.action == "deliveries":
            return WebhookDeliverySerializer
        return WebhookEndpointSerializer

    # The services' validation errors become 400s in the API's exception handler.
    def perform_create(self, serializer: Any) -> None:
        # OwnDataPermission has let only authenticated users with a role in.
        serializer.instance = endpoint_services.webhook_endpoint_create(
            owner=cast(User, self.request.user), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = endpoint_services.webhook_endpoint_update(
            endpoint=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        endpoint_services.webhook_endpoint_delete(endpoint=instance)

    @extend_schema(
        summary="List the deliveries of one of your webhook endpoints, latest first",
        responses=WebhookDeliverySerializer(many=True),
        parameters=[
            OpenApiParameter(
                "id", int, OpenApiParameter.PATH, description="The id of your endpoint."
            )
        ],
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="deliveries",
        filterset_class=WebhookDeliveryFilterSet,
    )
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        """Answer the endpoint's delivery log, paged; 404 if the endpoint is not the caller's."""
        endpoint = get_object_or_404(self._own_endpoints(), pk=pk)
        self.check_object_permissions(request, endpoint)
        rows = self.filter_queryset(self.get_queryset().filter(endpoint=endpoint))
        page = self.paginate_queryset(rows)
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)
