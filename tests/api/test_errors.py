"""The API's safety net: domain and database errors that reach a view become a JSON 400."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from commitments.deadlines import RuleError
from core.rest.exceptions import NESTED_FIELDS, exception_handler, nested_fields_register


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ValidationError({"title": ["Too long."], "__all__": ["Inconsistent."]}),
            {"title": ["Too long."], "non_field_errors": ["Inconsistent."]},
        ),
        (
            ValidationError({"anchor_kind": ["Needs an anchor."]}),
            {"deadline_rule": {"anchor_kind": ["Needs an anchor."]}},
        ),
        (
            ValidationError({"evidence_quote": ["Empty."]}),
            {"evidence": {"quote": ["Empty."]}},
        ),
        (ValidationError("Broken."), {"non_field_errors": ["Broken."]}),
        (
            RuleError("offset_amount", "After the year 9999."),
            {"deadline_rule": {"offset_amount": ["After the year 9999."]}},
        ),
    ],
)
def test_domain_errors_become_a_400_with_the_api_field_names(error, expected):
    response = exception_handler(error, {})
    assert response is not None
    assert response.status_code == 400
    assert response.data == expected


def test_an_integrity_error_becomes_a_400_without_database_details():
    response = exception_handler(IntegrityError('duplicate key value violates "secret_idx"'), {})
    assert response is not None
    assert response.status_code == 400
    assert "conflicts with existing data" in response.data["non_field_errors"][0]
    assert "secret_idx" not in str(response.data)


def test_other_errors_are_left_to_the_server_error_handler():
    assert exception_handler(ZeroDivisionError(), {}) is None


def test_a_stored_field_is_nested_in_one_place_only():
    """The domain registers where its fields' errors appear; a second place is refused."""
    with pytest.raises(ValueError, match="anchor_kind"):
        nested_fields_register({"anchor_kind": ("elsewhere", "anchor_kind")})
    assert NESTED_FIELDS["anchor_kind"] == ("deadline_rule", "anchor_kind")
