"""Page-number pagination: ``count``, ``next``, ``previous``, ``results``; up to 500 a page."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, pagination
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages of 50 by default; ``page_size`` above 500 or not a positive number is a 400."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_page_message = "Page {page_number} does not exist: {message}"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise exceptions.ValidationError(
                {"page_size": [f"{raw!r} is not a whole number."]}
            ) from None
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [f"Must be between 1 and {self.max_page_size}; got {size}."]}
            )
        return size

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = "Number of results on all pages."
        described["properties"]["next"]["description"] = "URL of the next page, or null."
        described["properties"]["previous"]["description"] = "URL of the previous page, or null."
        return described

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = "Page number, from 1; past the last page is a 404."
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
                parameter["description"] = (
                    f"Results per page, 1 to {self.max_page_size}; more is a 400."
                )
        return parameters
