"""Throttle per API token (or per user for sessions, per address for anonymous callers).

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (scopes ``token``, ``user`` and
``anon``) at request time, so settings overrides, and tests, change them. An exceeded rate is
a 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ClientRateThrottle(SimpleRateThrottle):
    """Count requests per token, per session user, or per anonymous address."""

    def __init__(self) -> None:
        self.scope = ""
        self.ident = ""
        self.rate = None

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return None if rate is None else str(rate)

    def allow_request(self, request: Request, view: Any) -> bool:
        token = getattr(request, "api_token", None)
        if token is not None:
            self.scope, self.ident = "token", f"token-{token.pk}"
        elif request.user and request.user.is_authenticated:
            self.scope, self.ident = "user", f"user-{request.user.pk}"
        else:
            self.scope, self.ident = "anon", f"anon-{self.get_ident(request)}"
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str:
        return f"throttle_{self.ident}"
