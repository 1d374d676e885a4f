"""Make an API token for a user and print its key (shown this once only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from api.services import api_token_create


class Command(BaseCommand):
    help = "Make an API token for USERNAME and print its key; only a hash of it is stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--expires-in-days", type=int, help="Days until it expires; default never."
        )
        parser.add_argument("--name", default="command line", help="What the token is for.")

    def handle(
        self, *args: Any, username: str, expires_in_days: int | None, name: str, **options: Any
    ) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"username: no user {username!r}.")
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days: must be 1 or more.")
        now = timezone.now()
        expires_at = now + dt.timedelta(days=expires_in_days) if expires_in_days else None
        try:
            token, key = api_token_create(user=user, name=name, now=now, expires_at=expires_at)
        except ValidationError as exc:
            raise CommandError(
                "; ".join(
                    f"{field}: {', '.join(errors)}" for field, errors in exc.message_dict.items()
                )
            ) from exc
        self.stdout.write(key)
        expiry = (
            f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "no expiry"
        )
        self.stderr.write(
            f"Token {token.name!r} for {username} ({expiry}). Keep the key: it is not shown again."
        )
