"""Database expressions of the webhooks app that Django does not ship for every engine."""

from __future__ import annotations

from typing import Any

from django.db import models


class RandomUUID(models.Func):
    """A random UUID made by the database, so set-based ``INSERT ... SELECT`` rows get one too.

    PostgreSQL (13 and later) has ``gen_random_uuid()``. SQLite stores a ``UUIDField`` as 32
    hex digits, which 16 random bytes give.
    """

    function = "gen_random_uuid"
    template = "%(function)s()"
    output_field = models.UUIDField()
    arity = 0

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return "lower(hex(randomblob(16)))", []
