"""How the OpenAPI schema describes our token authentication."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describe ``Authorization: Token <key>`` with our API tokens."""

    target_class = "api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"
    priority = 1

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Token <key>`. Keys are made in the admin or with "
                "`manage.py create_api_token USERNAME`, shown once, and may expire or be "
                "revoked."
            ),
        }
