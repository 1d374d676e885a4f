"""How a grammar's matches become one proposal, or none when the text is unsure.

Every grammar reports what it found as :class:`Found` readings: where the phrase is and what it
means, or ``None`` for a phrase of that kind the parser cannot turn into a value ("by
mid-2026", "as soon as possible", "90 business days"). :func:`choose` drops a reading that
lies inside a longer one ("by the end of next year" holds "next year"), then
proposes the one meaning left, and nothing if two readings disagree or one is unsure.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Found:
    """A phrase at ``start:end`` and its meaning (``None``: a phrase of this kind, unread)."""

    start: int
    end: int
    meaning: Hashable | None


#: A grammar rule: a compiled pattern, and what a match means for the agreement's date given
#: (``None``: ignore the match).
Reader = Callable[[re.Match[str], dt.date | None], Found | None]
Grammar = tuple[tuple[re.Pattern[str], Reader], ...]


def find_all(grammar: Grammar, text: str, anchor: dt.date | None) -> list[Found]:
    """Return every reading of every rule of ``grammar`` in ``text``."""
    found = []
    for pattern, reader in grammar:
        for match in pattern.finditer(text):
            reading = reader(match, anchor)
            if reading is not None:
                found.append(reading)
    return found


def outermost(found: Iterable[Found]) -> list[Found]:
    """Return the readings not lying inside another, longer one, in text order."""
    ordered = sorted(found, key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Found] = []
    for reading in ordered:
        if any(k.start <= reading.start and reading.end <= k.end for k in kept):
            continue
        kept.append(reading)
    return kept


def choose(found: Iterable[Found]) -> Found | None:
    """Return the one reading the text supports, or ``None`` if it is unsure or disagrees."""
    kept = outermost(found)
    if not kept or any(reading.meaning is None for reading in kept):
        return None
    if len({reading.meaning for reading in kept}) > 1:
        return None
    return kept[0]


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a grammar pattern: case-insensitive, whole words, spaces as written."""
    return re.compile(pattern, re.IGNORECASE)
