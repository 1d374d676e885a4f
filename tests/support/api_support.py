"""Helpers for the API tests: clients authenticated with a fresh API token."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework.test import APIClient

from tests.factories import api_token_make


def token_client(user: Any, *, expires_at: dt.datetime | None = None) -> APIClient:
    """Return an API client that sends a new token of ``user`` in ``Authorization``."""
    _token, key = api_token_make(user=user, expires_at=expires_at)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def results(response: Any) -> list[dict[str, Any]]:
    """Return the rows of a paginated list answer, checking it succeeded."""
    assert response.status_code == 200, response.content
    return response.json()["results"]
