"""The base viewset of every API endpoint: filtering, conditional GET, role permissions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import status, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from .permissions import RolePermission


class ApiViewSet(viewsets.GenericViewSet):
    """Filtering, conditional GET and role permissions shared by every endpoint."""

    filter_backends = [DjangoFilterBackend]
    permission_classes: Sequence[type[BasePermission]] = [RolePermission]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD"):
            patch_vary_headers(response, ["Authorization", "Cookie"])
            if response.status_code == status.HTTP_200_OK and isinstance(response, Response):
                response.render()
                set_response_etag(response)
                conditional = get_conditional_response(
                    request, etag=response["ETag"], response=response
                )
                if conditional is not None and conditional is not response:
                    patch_vary_headers(conditional, ["Authorization", "Cookie"])
                    # A bodiless 304 (HttpResponseNotModified), which DRF passes through.
                    return conditional  # type: ignore[return-value]
        return response
