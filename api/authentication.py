"""``Authorization: Token <key>`` against our hashed, expiring, revocable API tokens."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.db.models import Q
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from core.roles import roles_remember, with_roles
from core.tokens import token_hash

from .models import ApiToken
from .throttling import FailedTokenThrottle

#: How stale ``last_used_at`` may get before a request writes it again.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """Authenticate by an :class:`ApiToken` key; a wrong, revoked or expired key is a 401.

    Failed keys are counted per address (:class:`~api.throttling.FailedTokenThrottle`): past
    the anonymous rate, the address gets a 429 for any key until its failures age out.
    """

    keyword = "Token"
    model = ApiToken

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        """Authenticate, unless the caller's address has sent too many failed tokens (429)."""
        guard = FailedTokenThrottle()
        header = authentication.get_authorization_header(request).split()
        if header and header[0].lower() == self.keyword.lower().encode():
            wait = guard.wait_before_next_token(request)
            if wait is not None:
                raise exceptions.Throttled(wait=math.ceil(wait))
        try:
            result = super().authenticate(request)
        except exceptions.AuthenticationFailed:
            guard.record_failure(request)
            raise
        if result is not None:
            request.api_token = result[1]  # type: ignore[attr-defined]
        return result

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        now = timezone.now()
        # ``get``, not ``first``: the hash is unique, and ``first`` sorted by the model's
        # ordering for nothing (compiling and running the sort on every request).
        try:
            token = with_roles(ApiToken.objects.select_related("user"), "user_id").get(
                key_hash=token_hash(key)
            )
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This token has been revoked.")
        if not token.is_active(now=now):
            raise exceptions.AuthenticationFailed("This token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is inactive.")
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
            ).update(last_used_at=now)
        roles_remember(token.user, token)
        return token.user, token
