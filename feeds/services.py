"""Make, rotate and revoke calendar feeds; each returns the secret only when it is new."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth.models import User
from django.db import transaction

from commitments.models import Agreement, Party
from core.tokens import token_hash as secret_hash  # a feed secret is stored as a token key is

from .models import CalendarFeed

#: Bytes of randomness in a secret; 32 bytes make 43 URL-safe characters.
SECRET_BYTES = 32


def _new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


@transaction.atomic
def calendar_feed_create(
    *,
    user: User,
    scope: str,
    now: dt.datetime,
    agreement: Agreement | None = None,
    party: Party | None = None,
    name: str = "",
) -> tuple[CalendarFeed, str]:
    """Create a feed and return it with its secret, which is not stored and not shown again.

    Raise ``ValidationError`` naming the field when the scope and its target disagree.
    """
    secret = _new_secret()
    feed = CalendarFeed(
        user=user,
        scope=scope,
        agreement=agreement,
        party=party,
        name=name,
        secret_hash=secret_hash(secret),
        secret_hint=secret[:6],
        created=now,
    )
    feed.full_clean()
    feed.save()
    return feed, secret


@transaction.atomic
def calendar_feed_rotate(*, feed: CalendarFeed, now: dt.datetime) -> str:
    """Give the feed a new secret, so every URL made with the old one stops working.

    A revoked feed comes back to life with the new secret.
    """
    secret = _new_secret()
    feed.secret_hash = secret_hash(secret)
    feed.secret_hint = secret[:6]
    feed.rotated_at = now
    feed.revoked_at = None
    feed.save(update_fields=["secret_hash", "secret_hint", "rotated_at", "revoked_at"])
    return secret


def calendar_feed_revoke(*, feed: CalendarFeed, now: dt.datetime) -> None:
    """Revoke the feed: its URL answers 404 from now on. Revoking twice keeps the first time."""
    if feed.revoked_at is None:
        feed.revoked_at = now
        feed.save(update_fields=["revoked_at"])
