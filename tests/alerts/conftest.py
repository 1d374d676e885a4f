"""Fixtures shared by the alerts tests."""

import pytest

from tests.factories import user_make


@pytest.fixture
def owner(db):
    """The user who owns the commitments the alerts are about (owner@example.org)."""
    return user_make(username="owner")
