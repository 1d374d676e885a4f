"""Turn every error into a JSON 4xx naming the field and the reason; never a 500 for bad input.

DRF's handler covers its own exceptions. This safety net also converts Django's
``ValidationError`` (from ``full_clean`` in the services), database integrity errors (a race
with a unique constraint) and the domain's input errors into a 400, and a request over Django's
size limits (``DATA_UPLOAD_MAX_MEMORY_SIZE``, ``DATA_UPLOAD_MAX_NUMBER_FIELDS``) into a JSON
413 or 400 instead of Django's HTML page.

The mapping is one for every endpoint; the apps below contribute to it in their
``AppConfig.ready()``: the input errors they raise (:func:`input_error_register`) and where a
stored field's errors nest in their representation (:func:`nested_fields_register`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Where errors on a stored field appear in the API's representation: ``name: (outer, inner)``,
#: or a longer path for an object within an object (``("stages", "instrument", "title")``).
NESTED_FIELDS: dict[str, tuple[str, ...]] = {}

#: The input errors of lower layers, each with its conversion to a Django ``ValidationError``.
INPUT_ERRORS: dict[type[Exception], Callable[[Any], DjangoValidationError]] = {}


def nested_fields_register(fields: Mapping[str, tuple[str, ...]]) -> None:
    """Show errors on each stored field ``name`` under ``outer.inner`` in the API's errors."""
    for name, place in fields.items():
        if NESTED_FIELDS.setdefault(name, place) != place:
            raise ValueError(f"Errors on {name!r} are already shown under {NESTED_FIELDS[name]}.")


def input_error_register(
    error: type[Exception], convert: Callable[[Any], DjangoValidationError]
) -> None:
    """Answer ``error`` (bad input found by a lower layer) with a 400, as ``convert`` maps it."""
    INPUT_ERRORS[error] = convert


def input_errors() -> tuple[type[Exception], ...]:
    """Return the exceptions answered with a 400 naming the fields: Django's and the domain's."""
    return (DjangoValidationError, *INPUT_ERRORS)


class PayloadTooLarge(exceptions.APIException):
    """A request body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, refused before it is parsed."""

    status_code = 413
    default_code = "payload_too_large"

    def __init__(self) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        super().__init__(f"The request body is larger than the {limit} bytes accepted.")


def validation_error_detail(exc: DjangoValidationError) -> dict[str, Any]:
    """Return the DRF error detail for a Django ``ValidationError``, nesting registered fields."""
    if not hasattr(exc, "error_dict"):
        return {"non_field_errors": exc.messages}
    detail: dict[str, Any] = {}
    for name, messages in exc.message_dict.items():
        field = "non_field_errors" if name == "__all__" else name
        if field in NESTED_FIELDS:
            *outer, inner = NESTED_FIELDS[field]
            place = detail
            for key in outer:
                place = place.setdefault(key, {})
            place.setdefault(inner, []).extend(messages)
        else:
            detail.setdefault(field, []).extend(messages)
    return detail


def to_drf_validation_error(exc: Exception) -> exceptions.ValidationError:
    """Convert a domain error into the DRF error that renders as a 400 with the same fields."""
    for error, convert in INPUT_ERRORS.items():
        if isinstance(exc, error):
            exc = convert(exc)
    if not isinstance(exc, DjangoValidationError):
        raise TypeError(f"{type(exc).__name__} is not an input error.")
    return exceptions.ValidationError(validation_error_detail(exc))


def call_service(function: Callable[..., T], /, **kwargs: Any) -> T:
    """Call a domain service, turning its validation errors into DRF's 400 errors."""
    try:
        return function(**kwargs)
    except input_errors() as exc:
        raise to_drf_validation_error(exc) from exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Handle DRF's exceptions; domain and integrity errors are a 400, a huge request a 4xx."""
    if isinstance(exc, input_errors()):
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
            {
                "non_field_errors": [
                    "This conflicts with existing data (a duplicate or a "
                    "reference that does not hold)."
                ]
            }
        )
    return drf_exception_handler(exc, context)
