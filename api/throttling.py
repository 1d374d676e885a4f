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


class FailedTokenThrottle(SimpleRateThrottle):
    """Count wrong, revoked and expired tokens per address, at the anonymous rate.

    DRF runs throttles only after authentication has passed, so a request with a wrong token
    (a 401) never reaches :class:`ClientRateThrottle`: without this, one address could try
    keys as fast as the server answers. Once an address has sent as many failed tokens as the
    ``anon`` rate allows in its window, every token it sends is refused with a 429 and
    ``Retry-After``, unchecked, until enough failures have left the window. Good tokens from
    other addresses are not affected. :class:`~api.authentication.ApiTokenAuthentication`
    calls it.
    """

    scope = "anon"

    def __init__(self) -> None:
        # The rate is read at request time, as ClientRateThrottle reads it.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        self.rate = None if rate is None else str(rate)
        self.limit: tuple[int, int] | None = None  # failures allowed, in this many seconds
        if self.rate is not None:
            allowed, window = self.parse_rate(self.rate)
            if allowed is not None and window is not None:
                self.limit = (allowed, window)

    def get_cache_key(self, request: Request, view: Any) -> str:
        return f"throttle_failed-token-{self.get_ident(request)}"

    def wait_before_next_token(self, request: Request) -> float | None:
        """Return the seconds until the caller's address may send a token again, or None."""
        if self.limit is None:
            return None
        allowed, window = self.limit
        self.key = self.get_cache_key(request, None)
        self.now = self.timer()
        self.history = [
            moment for moment in self.cache.get(self.key, []) if moment > self.now - window
        ]
        if len(self.history) < allowed:
            return None
        # Newest first: below the limit again once the allowed-th newest failure has expired.
        return window - (self.now - self.history[allowed - 1])

    def record_failure(self, request: Request) -> None:
        """Count one failed token against the caller's address."""
        if self.limit is None:
            return
        self.wait_before_next_token(request)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.limit[1])
