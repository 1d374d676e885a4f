"""How the OpenAPI schema describes every operation's errors and conditional GETs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "An error. `detail` says what went wrong for the whole request; validation errors "
        "instead map each offending field (or `non_field_errors`) to a list of reasons, "
        "nested for nested objects such as `deadline_rule` or `evidence`."
    ),
    "properties": {"detail": {"type": "string", "description": "What went wrong."}},
    "additionalProperties": {
        "description": "The reasons a field was refused.",
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "additionalProperties": True},
        ],
    },
}

ERROR_RESPONSES = {
    "400": "Bad input: malformed JSON, a wrong type, an unknown or read-only field, an unknown "
    "filter value, a page_size above 500, or a domain rule broken. Nothing was written.",
    "401": "No credentials, or a token that is wrong, revoked or expired.",
    "403": "Your role does not allow this: viewers read, editors write.",
    "404": "No such object, not yours, or a page past the last one.",
    "429": "Too many requests for this token; retry after `Retry-After` seconds.",
}


class ApiAutoSchema(AutoSchema):
    """Add the error responses, ETag headers and 304 that every operation may give."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        component = ResolvedComponent(
            name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA
        )
        self.registry.register_on_missing(component)
        responses = operation.setdefault("responses", {})
        for code, description in ERROR_RESPONSES.items():
            response: dict[str, Any] = {
                "description": description,
                "content": {"application/json": {"schema": component.ref}},
            }
            if code == "401":
                response["headers"] = {
                    "WWW-Authenticate": {
                        "schema": {"type": "string"},
                        "description": "The scheme to authenticate with: Token.",
                    }
                }
            elif code == "429":
                response["headers"] = {
                    "Retry-After": {
                        "schema": {"type": "integer"},
                        "description": "Seconds to wait before the next request.",
                    }
                }
            responses.setdefault(code, response)
        if self.method == "GET":
            responses.setdefault(
                "304", {"description": "Not modified: the ETag sent in If-None-Match still holds."}
            )
            ok = responses.get("200")
            if ok is not None:
                ok.setdefault("headers", {})["ETag"] = {
                    "schema": {"type": "string"},
                    "description": "Send it back in If-None-Match to get a 304 if nothing changed.",
                }
            operation.setdefault("parameters", []).append(
                {
                    "in": "header",
                    "name": "If-None-Match",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "An ETag from an earlier answer; 304 if it still holds.",
                }
            )
        return operation
