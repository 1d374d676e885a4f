"""The effective-from grammar: « avec effet rétroactif à août », "from 1 August 2025".

A date known to the day is proposed with day precision; a month with month precision, as its
first day (an effective date starts something). A month or a day without its year is read
only in a retroactive phrase, as the last one on or before the agreement's date; elsewhere
("from August") the year is not sure and nothing is proposed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import cast

from commitments.deadlines import Precision

from . import dates
from .lexicon import APOSTROPHE as A
from .matching import Found, Grammar, choose, compile_pattern, find_all
from .proposals import DateProposal, Span


def _reader(lang: str, *, retroactive: bool) -> Callable[[re.Match[str], dt.date | None], Found]:
    def read(match: re.Match[str], anchor: dt.date | None) -> Found:
        return Found(match.start(), match.end(), _meaning(match, lang, anchor, retroactive))

    return read


def _meaning(
    match: re.Match[str], lang: str, anchor: dt.date | None, retroactive: bool
) -> tuple[dt.date, Precision] | None:
    parts = dates.read_date(match["d"], lang)
    if parts is None:
        return None
    precision = Precision.DAY if parts.day is not None else Precision.MONTH
    if parts.year is not None:
        day = parts.date()
    elif retroactive and anchor is not None:
        day = dates.on_or_before(parts, anchor)
    else:
        day = None
    return (day, precision) if day is not None else None


def _english() -> Grammar:
    any_date = (
        rf"(?:{dates.DAY_WITH_YEAR['en']}|{dates.DAY_WITHOUT_YEAR['en']}"
        rf"|{dates.MONTH_WITH_YEAR['en']}|{dates.MONTH_WITHOUT_YEAR['en']})"
    )
    dated = rf"(?:{dates.DAY_WITH_YEAR['en']}|{dates.MONTH_WITH_YEAR['en']})"
    retro = (
        r"\b(?:(?:with\s+)?retroactive\s+effect\s+(?:to|from|as\s+of)|retroactive(?:ly)?"
        r"\s+(?:to|from|as\s+of|back\s+to)|backdated\s+to)"
    )
    start = (
        r"\b(?:with\s+effect\s+(?:from|as\s+of|on)|effective\s+(?:from|as\s+of|on)?|as\s+(?:of|from)"
        r"|starting(?:\s+(?:on|from|in))?|beginning(?:\s+(?:on|in))?|from)"
    )
    rules = [
        (rf"{retro}\s+(?:the\s+)?(?P<d>{any_date})", _reader("en", retroactive=True)),
        (rf"{start}\s+(?:the\s+)?(?P<d>{dated})", _reader("en", retroactive=False)),
    ]
    return tuple((compile_pattern(p), r) for p, r in rules)


def _french() -> Grammar:
    any_date = (
        rf"(?:{dates.DAY_WITH_YEAR['fr']}|{dates.DAY_WITHOUT_YEAR['fr']}"
        rf"|{dates.MONTH_WITH_YEAR['fr']}|{dates.MONTH_WITHOUT_YEAR['fr']})"
    )
    dated = rf"(?:{dates.DAY_WITH_YEAR['fr']}|{dates.MONTH_WITH_YEAR['fr']})"
    from_ = rf"(?:[àa]\s+compter\s+(?:du|de|d{A})|[àa]\s+partir\s+(?:du|de|d{A}))"
    link = rf"(?:{from_}|au|[àa]|d[èe]s\s+(?:le)?|depuis\s+(?:le)?)"
    retro = (
        r"\b(?:avec\s+effet\s+r[ée]troactif|r[ée]troactivement|de\s+mani[èe]re\s+r[ée]troactive)"
        rf"\s*(?:{link})?\s*(?:la\s+date\s+du\s+|le\s+mois\s+d{A}\s*|le\s+mois\s+de\s+)?"
    )
    start = (
        rf"\b(?:avec\s+effet\s+(?:{link})|{from_}|d[èe]s\s+le"
        r"|prenant\s+effet\s+(?:le|au|en))"
    )
    rules = [
        (rf"{retro}(?P<d>{any_date})", _reader("fr", retroactive=True)),
        (
            rf"{start}\s*(?:(?:le|du)\s+mois\s+(?:de\s+|d{A}\s*))?(?P<d>{dated})",
            _reader("fr", retroactive=False),
        ),
    ]
    return tuple((compile_pattern(p), r) for p, r in rules)


GRAMMARS: dict[str, Grammar] = {"en": _english(), "fr": _french()}


def propose(text: str, lang: str, anchor: dt.date | None) -> DateProposal | None:
    """Return the effective-from date ``text`` states, or ``None`` if it is not sure."""
    found = choose(find_all(GRAMMARS[lang], text, anchor))
    if found is None:
        return None
    day, precision = cast(tuple[dt.date, Precision], found.meaning)
    return DateProposal(
        date=day,
        precision=precision,
        phrase=text[found.start : found.end],
        span=Span(found.start, found.end),
    )
