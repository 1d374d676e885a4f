"""The target grammar: "$550 milliards", "550 billion dollars", « 15 % », "2% of GDP", "$600bn".

A target is an amount in one of the units of ``commitments.choices.Unit`` (kept here as plain
codes so the parser needs no Django model; a test checks they are among the model's). Numbers
are read as their language writes them: "1,200.5" in English, « 1 200,5 » in French, with
U+00A0 or U+202F as the thousands space; a number that could be read two ways ("1.500" in
French, "1,5" in English) gives nothing. A French « billion » is 10^12.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import cast

from .lexicon import (
    AMBIGUOUS_SCALE,
    CURRENCY_AFTER,
    CURRENCY_AFTER_VALUE,
    CURRENCY_BEFORE,
    CURRENCY_BEFORE_VALUE,
    OF_GDP,
    OTHER_CURRENCY_AFTER,
    PERCENT,
    PERCENT_POINTS,
    SCALE,
    SCALE_VALUE,
    TONNES,
    fold,
)
from .matching import Found, Grammar, choose, compile_pattern, find_all
from .proposals import Span, TargetProposal

#: The unit codes the parser proposes: a subset of ``commitments.choices.Unit``'s values.
UNITS = ("USD", "JPY", "EUR", "percent", "percent_gdp", "tonnes")

#: A number as written: digits grouped by threes (with a comma, a dot or a space), or not,
#: with decimals or not. Which mark is the decimal one is the language's call.
NUMBER = (
    r"(?<![\d.,])(?:\d{1,3}(?:(?:,|\.|[ \u00a0\u202f])\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
    r"(?![\d])"
)
_GROUPED = re.compile(r"\d{1,3}(?:([,. \u00a0\u202f])\d{3})+(?:([.,])\d+)?")


def read_number(text: str, lang: str) -> Decimal | None:
    """Return the number ``text`` writes in ``lang``, or ``None`` if it reads two ways."""
    grouped = _GROUPED.fullmatch(text)
    if grouped:
        separator, decimal_mark = grouped.group(1), grouped.group(2)
        # "1.500" (and « 1,500 » in French): a thousands separator for some writers, decimals
        # for others. Only the English "1,500" is sure.
        one_mark = separator in ",." and text.count(separator) == 1 and not decimal_mark
        if one_mark and not (lang == "en" and separator == ","):
            return None
        if decimal_mark == separator:
            return None
        if decimal_mark and separator not in ",." and decimal_mark != _DECIMAL[lang]:
            return None
        whole, _, decimals = text.rpartition(decimal_mark) if decimal_mark else (text, "", "")
        digits = re.sub(r"\D", "", whole)
        return _decimal(f"{digits}.{decimals}" if decimals else digits)
    if re.fullmatch(r"\d+", text):
        return _decimal(text)
    mark = "," if "," in text else "."
    if mark != _DECIMAL[lang]:
        return None
    return _decimal(text.replace(mark, "."))


_DECIMAL = {"en": ".", "fr": ","}


def read_amount(text: str, lang: str) -> Decimal | None:
    """Return the amount an editor typed: digits, grouped or not, and perhaps a scale word.

    "750 billion", "750bn", « 1,2 milliard », "750 000 000 000" and "750000000000" all read;
    anything else, or a number that reads two ways in ``lang``, is ``None``.
    """
    if lang not in _DECIMAL:
        return None
    match = re.fullmatch(
        rf"\s*(?P<num>{NUMBER})(?:\s*(?P<scale>{SCALE[lang]}))?\s*", text, re.IGNORECASE
    )
    return _scaled(match, lang) if match else None


class AmbiguousScale(ValueError):
    """A typed amount's scale word means a different number in English and in French."""

    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


def read_typed_amount(text: str, lang: str) -> Decimal | None:
    """Return the amount an editor typed on a page in ``lang``, or ``None``.

    A currency sign before it is dropped. The page's language reads it first; a figure with a
    scale word of the other language reads too (« 1,2 milliard » on an English page), but
    never bare digits that would read differently there ("1,500"). A scale word an English and
    a French reader take for different numbers ("750 billion": 10^9 or 10^12) raises
    :class:`AmbiguousScale`, whatever the page: the editor may be copying a source in the
    other language. "milliard" (French only) and "bn" (10^9 in both) are sure.
    """
    text = text.strip().lstrip("$€¥").strip()
    words = [fold(word) for word in re.findall(r"[^\W\d_]+", text)]
    for word in words:
        if word in AMBIGUOUS_SCALE:
            raise AmbiguousScale(word)
    languages = [lang] + ([_OTHER_LANGUAGE.get(lang, "en")] if words else [])
    for language in dict.fromkeys(languages):
        amount = read_amount(text, language)
        if amount is not None:
            return amount
    return None


_OTHER_LANGUAGE = {"en": "fr", "fr": "en"}


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _scaled(match: re.Match[str], lang: str) -> Decimal | None:
    number = read_number(match["num"], lang)
    if number is None:
        return None
    scale = match.groupdict().get("scale")
    if scale:
        power = SCALE_VALUE[lang].get(fold(scale))
        if power is None:
            return None
        number *= Decimal(10) ** power
    return number if number > 0 else None


_OTHER_CURRENCY = re.compile(OTHER_CURRENCY_AFTER, re.IGNORECASE)


def _reader(lang: str, unit: str | None) -> Callable[[re.Match[str], dt.date | None], Found]:
    def read(match: re.Match[str], anchor: dt.date | None) -> Found:
        amount = _scaled(match, lang)
        code = unit or _currency(match)
        if code in ("USD", "JPY") and _OTHER_CURRENCY.match(match.string, match.end()):
            code = None  # "$600 billion Canadian": another dollar, a unit the tracker lacks
        meaning = (amount.normalize(), code) if amount is not None and code else None
        return Found(match.start(), match.end(), meaning)

    return read


def _currency(match: re.Match[str]) -> str | None:
    before = match.groupdict().get("before")
    if before:
        return CURRENCY_BEFORE_VALUE.get(re.sub(r"\s", "", before).lower())
    after = fold(match["after"] or "")
    after = re.sub(r"^(?:de |d')\s*", "", after)
    return CURRENCY_AFTER_VALUE.get(after)


def _unsure(match: re.Match[str], anchor: dt.date | None) -> Found:
    return Found(match.start(), match.end(), None)


def _grammar(lang: str) -> Grammar:
    scale = rf"(?:\s?(?P<scale>{SCALE[lang]}))?"
    scale_of = rf"{scale}(?:\s+(?:de|d['’])\s*)?" if lang == "fr" else scale
    rules = [
        (
            rf"(?P<before>{CURRENCY_BEFORE})\s?(?P<num>{NUMBER}){scale}",
            _reader(lang, None),
        ),
        (
            rf"(?P<num>{NUMBER}){scale}\s*(?P<after>{CURRENCY_AFTER[lang]})(?![\w])",
            _reader(lang, None),
        ),
        (rf"(?P<num>{NUMBER})\s*{PERCENT[lang]}\s+{OF_GDP[lang]}", _reader(lang, "percent_gdp")),
        (rf"(?P<num>{NUMBER})\s*{PERCENT[lang]}", _reader(lang, "percent")),
        (rf"(?P<num>{NUMBER}){scale_of}\s*{TONNES[lang]}", _reader(lang, "tonnes")),
        (rf"{NUMBER}\s*{PERCENT_POINTS[lang]}", _unsure),
    ]
    return tuple((compile_pattern(p), r) for p, r in rules)


GRAMMARS: dict[str, Grammar] = {lang: _grammar(lang) for lang in ("en", "fr")}


def propose(text: str, lang: str) -> TargetProposal | None:
    """Return the one target ``text`` states, or ``None`` if it states none or several."""
    found = choose(find_all(GRAMMARS[lang], text, None))
    if found is None:
        return None
    amount, unit = cast(tuple[Decimal, str], found.meaning)
    return TargetProposal(
        amount=amount,
        unit=unit,
        phrase=text[found.start : found.end],
        span=Span(found.start, found.end),
    )
