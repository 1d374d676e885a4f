"""SQLite, the embedded default, made to search as PostgreSQL does.

Django's ``icontains``, ``iexact`` and ``contains`` are ``LIKE`` on SQLite, and SQLite's
``LIKE`` folds the case of ASCII letters only: a search for « communiqué » missed
« Communiqué », and « ÉTATS » missed « États », where PostgreSQL (``UPPER() LIKE UPPER()``)
finds both. Every search of the tracker (the dashboard's, the API's filters, the admin's
``search_fields``, the public search) goes through those lookups, so the fix is made once,
here: each new SQLite connection gets a ``like()`` that folds the case of every letter.
SQLite calls ``like(pattern, value[, escape])`` for ``value LIKE pattern [ESCAPE escape]``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper


def like(pattern: Any, value: Any, escape: Any = None) -> int | None:
    """SQLite's ``LIKE``: ``%`` and ``_`` as wildcards, case folded for every letter.

    NULL in any argument gives NULL, as SQLite's own ``LIKE`` does.
    """
    if pattern is None or value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return int(_compiled(str(pattern), escape).fullmatch(str(value)) is not None)


def like_escaped(pattern: Any, value: Any, escape: Any) -> int | None:
    """``LIKE … ESCAPE``: the escape character makes the next one literal."""
    if escape is None:
        return None
    if not isinstance(escape, str) or len(escape) != 1:
        # SQLite's own words for the same mistake.
        raise ValueError("ESCAPE expression must be a single character")
    return like(pattern, value, escape)


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str, escape: str | None) -> re.Pattern[str]:
    parts: list[str] = []
    characters = iter(pattern)
    for character in characters:
        if character == escape:
            # An escape at the very end stands for itself, as in SQLite.
            parts.append(re.escape(next(characters, character)))
        elif character == "%":
            parts.append(".*")
        elif character == "_":
            parts.append(".")
        else:
            parts.append(re.escape(character))
    return re.compile("".join(parts), re.DOTALL | re.IGNORECASE)


def fold_case_in_like(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: give a new SQLite connection the folding ``LIKE``."""
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("like", 2, like, deterministic=True)
    raw.create_function("like", 3, like_escaped, deterministic=True)
