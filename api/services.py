"""Make and revoke API tokens; the admin and the ``create_api_token`` command call these."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.tokens import token_hash

from .models import ApiToken


@transaction.atomic
def api_token_create(
    *,
    user: Any,
    name: str,
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Make a token for ``user`` and return it with its key, which is not stored anywhere."""
    if expires_at is not None and expires_at <= now:
        raise ValidationError({"expires_at": "A token must expire after it is made."})
    key = secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        key_hash=token_hash(key),
        prefix=key[:8],
        expires_at=expires_at,
    )
    token.full_clean(exclude=["key_hash", "prefix", "created"])
    token.save()
    return token, key


def api_token_revoke(*, token: ApiToken, now: dt.datetime) -> ApiToken:
    """Revoke ``token`` from ``now``; revoking twice keeps the first time."""
    if token.revoked_at is None:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
    return token
