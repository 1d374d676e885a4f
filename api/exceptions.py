"""Turn every error into a JSON 4xx naming the field and the reason; never a 500 for bad input.

DRF's handler covers its own exceptions. This safety net also converts Django's
``ValidationError`` (from ``full_clean`` in the services), database integrity errors (a race
with a unique constraint) and deadline-rule errors into a 400, and a request over Django's
size limits (``DATA_UPLOAD_MAX_MEMORY_SIZE``, ``DATA_UPLOAD_MAX_NUMBER_FIELDS``) into a JSON
413 or 400 instead of Django's HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from commitments.deadlines import RULE_FIELDS, RuleError
from commitments.forms import service_error

logger = logging.getLogger(__name__)

#: Where errors on a stored commitment field appear in the API's representation.
NESTED_FIELDS = {
    **{field.name: ("deadline_rule", field.key) for field in RULE_FIELDS},
    "evidence_source": ("evidence", "source"),
    "evidence_quote": ("evidence", "quote"),
    "evidence_translation": ("evidence", "translation"),
    "evidence_locator": ("evidence", "locator"),
}


class PayloadTooLarge(exceptions.APIException):
    """A request body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, refused before it is parsed."""

    status_code = 413
    default_code = "payload_too_large"

    def __init__(self) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        super().__init__(f"The request body is larger than the {limit} bytes accepted.")


def validation_error_detail(exc: DjangoValidationError) -> dict[str, Any]:
    """Return the DRF error detail for a Django ``ValidationError``, nesting rule fields."""
    if not hasattr(exc, "error_dict"):
        return {"non_field_errors": exc.messages}
    detail: dict[str, Any] = {}
    for name, messages in exc.message_dict.items():
        field = "non_field_errors" if name == "__all__" else name
        if field in NESTED_FIELDS:
            outer, inner = NESTED_FIELDS[field]
            detail.setdefault(outer, {}).setdefault(inner, []).extend(messages)
        else:
            detail.setdefault(field, []).extend(messages)
    return detail


def to_drf_validation_error(exc: DjangoValidationError | RuleError) -> exceptions.ValidationError:
    """Convert a domain error into the DRF error that renders as a 400 with the same fields."""
    return exceptions.ValidationError(validation_error_detail(service_error(exc)))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Handle DRF's exceptions; domain and integrity errors are a 400, a huge request a 4xx."""
    if isinstance(exc, DjangoValidationError | RuleError):
        exc = to_drf_validation_error(exc)
    elif isinstance(exc, RequestDataTooBig):
        # Django would answer its HTML 400 page and log an error with a traceback.
        exc = PayloadTooLarge()
    elif isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        exc = exceptions.ParseError(f"More than {limit} query parameters or fields.")
    elif isinstance(exc, IntegrityError):
        logger.info("Integrity error answered as 400: %s", exc)
        exc = exceptions.ValidationError(
            {"non_field_errors": ["This conflicts with existing data (a duplicate or a "
                                  "reference that does not hold)."]}
        )
    return drf_exception_handler(exc, context)
