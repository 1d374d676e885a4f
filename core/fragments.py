"""Rendered HTML kept under a version of the rows it shows, for a page that repeats work.

A page with large sections (the agreement page's 1,000-row tables) renders them again on every
request though their rows seldom change. :func:`fragments` keeps such sections, once rendered,
in the ``fragments`` cache (``CACHES``: this process's memory) under a key made of what the
request asks for (language, dates, …) and a **version** of the rows they show, read from the
database on every request (for the agreement page, ``commitments.selectors.
agreement_rows_version``). A change to any of those rows, by whatever writer, gives a new
version, so a stored section is never served once a row it shows has changed; entries of old
versions are no longer read and leave the cache by age or by room.

The version is read *before* the sections' rows, so a section stored under a version shows
those rows or newer ones, never older. Where the database cannot give a version (None:
SQLite), the sections are rendered every time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable

from django.core.cache import caches

#: The ``CACHES`` alias of the sections (``tracker.settings``: process memory, few entries).
FRAGMENTS = "fragments"


def fragments(
    key: tuple[Hashable, ...], version: str | None, build: Callable[[], dict[str, str]]
) -> dict[str, str]:
    """Return the sections ``build`` renders for ``key``, kept for ``version`` of their rows.

    ``key`` names everything besides the rows that the sections depend on (what the request
    asks for, the language, today's date); ``version`` None renders them without keeping.
    """
    if version is None:
        return build()
    name = hashlib.sha256(repr((key, version)).encode()).hexdigest()
    cache = caches[FRAGMENTS]
    sections: dict[str, str] | None = cache.get(name)
    if sections is None:
        sections = build()
        cache.set(name, sections)
    return sections
