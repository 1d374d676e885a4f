"""The deadline grammar: "within 180 days", « d’ici mars », "by the end of Q1 2026", "through 2028".

Each rule reads one family of phrases into a :class:`~commitments.deadlines.DeadlineRule`
(with ``"agreement"`` as the anchor of a relative rule) or into ``None`` where a phrase sets a
deadline the engine cannot state ("by mid-2026", "as soon as possible", "90 business days",
"within 90 days of entry into force": an anchor other than the agreement). Month, quarter and
year phrases become period-end rules; a day becomes a fixed rule known to the day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from commitments.deadlines import DeadlineRule, OffsetUnit, PeriodUnit, RuleKind

from . import dates
from .lexicon import (
    APOSTROPHE,
    MONTH,
    NUMBER_WORD,
    NUMBER_WORD_VALUE,
    OFFSET_UNIT,
    OFFSET_UNIT_VALUE,
    ORDINAL,
    ORDINAL_VALUE,
    UNSUPPORTED_OFFSET_UNIT,
    fold,
)
from .matching import Found, Grammar, compile_pattern

AGREEMENT = "agreement"
A = APOSTROPHE
YEAR = dates.YEAR

# Shared pieces -----------------------------------------------------------------------------

#: "next year" / « l’année prochaine » where a year is expected: the anchor's year plus one.
NEXT_YEAR = {
    "en": r"next\s+year(?![\w'’])",
    "fr": rf"(?:l{A}\s*ann[ée]e\s+prochaine|l{A}\s*an\s+prochain)(?![\w])",
}
#: Where a relative phrase may say what it counts from, and the anchors meaning the agreement.
_TAIL = {
    "en": r"\s*,?\s+(?:of|after|from|following)\s+",
    "fr": rf"\s*,?\s*(?:suivant\s+|apr[èe]s\s+|[àa]\s+compter\s+(?:de\s+|du\s+|d{A}\s*)"
    rf"|[àa]\s+partir\s+(?:de\s+|du\s+|d{A}\s*)|de\s+|du\s+|d{A}\s*)",
}
_AGREEMENT_ANCHOR = {
    "en": r"(?:(?:the|this|its)\s+)?(?:date\s+of\s+(?:the\s+|this\s+)?)?(?:signing|signature"
    r"|agreement|joint\s+statement|statement|summit|announcement|today|now)"
    r"(?:\s+of\s+(?:the|this)\s+(?:agreement|joint\s+statement|statement|framework))?",
    "fr": rf"(?:(?:la|sa|cette|le|ce)\s+|l{A}\s*)?(?:pr[ée]sente?\s+)?"
    rf"(?:date\s+de\s+(?:la\s+|l{A}\s*)?)?"
    r"(?:signature|accord|d[ée]claration|sommet|annonce|aujourd.hui|ce\s+jour)"
    rf"(?:\s+(?:de\s+(?:cet|l{A}\s*)\s*accord|du\s+pr[ée]sent\s+accord"
    r"|de\s+(?:la|cette)\s+d[ée]claration|de\s+la\s+pr[ée]sente\s+d[ée]claration))?",
}
_FOLLOWING = {"en": "", "fr": r"\s+qui\s+(?:suivent|suivront|suivra|suit)"}
#: Where a clause ends: a stop, a bracket or a dash, the end of the text, or a conjunction.
_CLAUSE_END = (
    r"(?=\s*(?:[,.;:!?)\]\n»”\"—–]|$)|\s+(?:and|or|but|et|ou|mais)(?![\w'’])"
    # A purpose in its infinitive ends the deadline's clause too: "meet within 180 days to
    # discuss…", « se réuniront dans les 90 jours pour examiner… »; "to the election" and
    # « pour la signature » name an event and stay unsure.
    r"|\s+to\s+(?!(?:the|a|an|its|their|this|that|these|those|his|her|our|each)\b)[a-z]+\b"
    r"|\s+(?:pour|afin\s+d(?:e\s+|['’]))\s*[a-zàâçéèêëîïôûùüÿœ]+(?:er|ir|re)\b)"
)
_TAIL_PATTERN = {lang: re.compile(_TAIL[lang], re.IGNORECASE) for lang in ("en", "fr")}
_ANCHORED = {
    lang: re.compile(rf"(?:{_AGREEMENT_ANCHOR[lang]}){_CLAUSE_END}", re.IGNORECASE)
    for lang in ("en", "fr")
}
_ENDS_CLAUSE = re.compile(_CLAUSE_END, re.IGNORECASE)
_FOLLOWING_PATTERN = re.compile(_FOLLOWING["fr"], re.IGNORECASE)


def _count(text: str, lang: str) -> int | None:
    folded = fold(text)
    if folded.isdigit():
        return int(folded)
    return NUMBER_WORD_VALUE[lang].get(folded.replace("'", ""))


Meaning = tuple[DeadlineRule, str] | None


def _period(
    unit: PeriodUnit,
    number: int | None,
    match: re.Match[str],
    anchor: dt.date | None,
    *,
    year: int | None = None,
) -> Meaning:
    """Return a period-end rule; its year is given, named in the match, or the next one."""
    groups = match.groupdict()
    if groups.get("y"):
        year = int(groups["y"])
    elif groups.get("ny"):
        if anchor is None:
            return None  # "next year" without the agreement's date
        year = anchor.year + 1
    rule = DeadlineRule(
        kind=RuleKind.PERIOD_END, period_unit=unit, period_number=number, period_year=year
    )
    return rule, ""


# Readers -----------------------------------------------------------------------------------


def _relative_reader(lang: str) -> Callable[[re.Match[str], dt.date | None], Found | None]:
    def read(match: re.Match[str], anchor: dt.date | None) -> Found | None:
        amount = _count(match["n"], lang)
        unit = OFFSET_UNIT_VALUE[lang].get(fold(match["unit"]))
        if amount is None or unit is None or amount < 1:
            return Found(match.start(), match.end(), None)
        end, counted_from_agreement = _anchored_end(match, lang)
        meaning = (
            (
                DeadlineRule(
                    kind=RuleKind.RELATIVE, offset_amount=amount, offset_unit=OffsetUnit(unit)
                ),
                AGREEMENT,
            )
            if counted_from_agreement
            else None
        )
        return Found(match.start(), end, meaning)

    return read


def _anchored_end(match: re.Match[str], lang: str) -> tuple[int, bool]:
    """Return where a relative phrase ends and whether it counts from the agreement.

    It does when the phrase ends its clause ("within 90 days.", « dans les 180 jours qui
    suivent, »), or names the agreement ("within 90 days of the signing", « à compter de la
    signature »). Any other words after it may name another event ("within 90 days of entry
    into force", "prior to the election", « à la suite de », « dès »): the phrase is read,
    but as unsure.
    """
    text, end = match.string, match.end()
    if lang == "fr":
        following = _FOLLOWING_PATTERN.match(text, end)
        if following:
            end = following.end()
            anchored = _ANCHORED[lang].match(text, _skip_spaces(text, end))
            if anchored is not None:
                return anchored.end(), True
    if _ENDS_CLAUSE.match(text, end):
        return end, True
    tail = _TAIL_PATTERN[lang].match(text, end)
    if tail is not None:
        anchored = _ANCHORED[lang].match(text, tail.end())
        if anchored is not None:
            return anchored.end(), True
    return end, False


def _skip_spaces(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _unsure(match: re.Match[str], anchor: dt.date | None) -> Found:
    return Found(match.start(), match.end(), None)


def _month_reader(lang: str) -> Callable[[re.Match[str], dt.date | None], Found | None]:
    def read(match: re.Match[str], anchor: dt.date | None) -> Found | None:
        parts = dates.read_date(match["m"], lang)
        if parts is None:
            return None
        meaning = _period(PeriodUnit.MONTH, parts.month, match, anchor, year=parts.year)
        return Found(match.start(), match.end(), meaning)

    return read


def _quarter_reader(lang: str) -> Callable[[re.Match[str], dt.date | None], Found | None]:
    def read(match: re.Match[str], anchor: dt.date | None) -> Found | None:
        number = int(match["q"]) if match["q"] else ORDINAL_VALUE[lang].get(fold(match["ord"]))
        if number is None:
            return Found(match.start(), match.end(), None)
        return Found(match.start(), match.end(), _period(PeriodUnit.QUARTER, number, match, anchor))

    return read


def _year_reader(match: re.Match[str], anchor: dt.date | None) -> Found:
    return Found(match.start(), match.end(), _period(PeriodUnit.YEAR, None, match, anchor))


def _alone_reader(match: re.Match[str], anchor: dt.date | None) -> Found:
    """Read a text that is nothing but "next year": the phrase, without its spaces."""
    return Found(match.start("ny"), match.end(), _period(PeriodUnit.YEAR, None, match, anchor))


def _day_reader(lang: str) -> Callable[[re.Match[str], dt.date | None], Found | None]:
    def read(match: re.Match[str], anchor: dt.date | None) -> Found | None:
        parts = dates.read_date(match["d"], lang)
        if parts is None or parts.day is None:
            return None
        if parts.year is not None:
            day = parts.date()
        else:
            day = dates.on_or_after(parts, anchor) if anchor is not None else None
        meaning = (DeadlineRule(kind=RuleKind.FIXED, fixed_date=day), "") if day else None
        return Found(match.start(), match.end(), meaning)

    return read


# Grammars ----------------------------------------------------------------------------------


def _english() -> Grammar:
    by = r"(?:by|no\s+later\s+than|not\s+later\s+than|at\s+the\s+latest\s+by|on\s+or\s+before)"
    until = r"(?:until|till|through|thru)"
    end_of = r"(?:the\s+end\s+of\s+|end[-\s]|the\s+close\s+of\s+)"
    year = rf"(?:(?P<y>{YEAR})|(?P<ny>{NEXT_YEAR['en']}))"
    number = rf"(?:\d{{1,4}}|{NUMBER_WORD['en']})"
    month = rf"(?:{dates.MONTH_WITH_YEAR['en']}|{dates.MONTH_WITHOUT_YEAR['en']})"
    quarter = (
        rf"(?:(?-i:Q)(?P<q>[1-4])|(?:the\s+)?(?P<ord>{ORDINAL['en']})\s+quarter)"
        rf"(?:(?:\s+of)?[\s-]+{year}|(?!\s+(?:of|next|fiscal|FY)\b))"
    )
    day = rf"(?:{dates.DAY_WITH_YEAR['en']}|{dates.DAY_WITHOUT_YEAR['en']})"
    vague_when = (
        r"(?:mid|early|late|the\s+middle\s+of|the\s+beginning\s+of|the\s+start\s+of"
        r"|the\s+(?:first|second)\s+half\s+of|H[12])"
    )
    rules: list[tuple[str, Callable]] = [
        (
            rf"\b(?:within|no\s+later\s+than|not\s+later\s+than"
            rf"|(?:in|over|during)\s+the\s+(?:next|following|coming|first))"
            rf"\s+(?:the\s+)?(?:next\s+|following\s+|coming\s+|first\s+)?"
            rf"(?!(?:next|following|coming)\s)(?P<n>{number})"
            rf"\s+(?P<unit>{OFFSET_UNIT['en']})",
            _relative_reader("en"),
        ),
        (
            rf"\b(?P<n>{number})\s+(?P<unit>{OFFSET_UNIT['en']})(?=\s+(?:after|from|following)\s)",
            _relative_after_reader("en"),
        ),
        (
            rf"\b(?:within|in|over)\s+(?:the\s+next\s+)?{number}\s+"
            rf"{UNSUPPORTED_OFFSET_UNIT['en']}",
            _unsure,
        ),
        (rf"\b(?:{by}|{until})\s+(?:{end_of})?(?P<m>{month})", _month_reader("en")),
        (rf"\bbefore\s+{end_of}(?P<m>{month})", _month_reader("en")),
        (rf"\b(?:{by}|{until}|before\s+{end_of})\s*(?:{end_of})?{quarter}", _quarter_reader("en")),
        (
            rf"\b(?:{by}|{until}|before\s+{end_of})\s*(?:{end_of})?(?:the\s+year\s+)?"
            rf"(?P<y>{YEAR})(?![-–/]\d)",
            _year_reader,
        ),
        (
            rf"\b(?:{by}|{until}|before)\s+(?:the\s+end\s+of\s+(?:the|this)\s+(?:calendar\s+)?year"
            r"|(?:this\s+)?year[-\s]end)(?![\w])",
            _year_reader,
        ),
        # "next year" is a deadline after a deadline word, or alone (a deadline phrase as an
        # editor types it); "from next year", "talks will resume next year" are no deadline.
        (
            rf"\b(?:{by}\s+(?:the\s+end\s+of\s+)?|(?:before|{until})\s+the\s+end\s+of\s+)"
            rf"(?P<ny>{NEXT_YEAR['en']})",
            _year_reader,
        ),
        (rf"^\s*(?P<ny>{NEXT_YEAR['en']})(?=\s*\.?\s*$)", _alone_reader),
        (rf"\b(?:{by}|through|thru)\s+(?:the\s+)?(?P<d>{day})", _day_reader("en")),
        (rf"(?P<d>{dates.DAY_WITH_YEAR['en']}),?\s+at\s+the\s+latest", _day_reader("en")),
        # Phrases that set a deadline the engine cannot state, or not surely.
        (rf"\bbefore\s+(?:the\s+)?{day}", _unsure),
        (r"\bas\s+soon\s+as\s+(?:possible|practicable|feasible)", _unsure),
        (
            r"\b(?:in|over|within)\s+the\s+(?:coming|next\s+few|next\s+several|near)\s+"
            r"(?:years?|months?|weeks?|days?|future|term)",
            _unsure,
        ),
        (r"\bwithin\s+(?:a\s+few|several|some)\s+(?:years|months|weeks|days)", _unsure),
        (
            rf"\b(?:{by}|{until}|before|in)\s+(?:the\s+end\s+of\s+)?{vague_when}[-\s]*"
            rf"(?:{YEAR}|{MONTH['en']}|the\s+year|next\s+year)",
            _unsure,
        ),
        (
            rf"\b(?:{by}|{until}|before)\s+(?:the\s+end\s+of\s+)?(?:fiscal\s+(?:year\s+)?|FY\s?)",
            _unsure,
        ),
        (r"\bin\s+due\s+course\b", _unsure),
        # "in the next year": within twelve months, or during next year; not sure which.
        (r"\b(?:in|over|within|during)\s+the\s+(?:next|following)\s+year(?![\w])", _unsure),
        # "not until 2028", "won't start until 2028", "not before the end of 2026": the earliest
        # date something happens, not a deadline.
        (
            r"(?:\bnot|\bnever|n[’']t)\s+(?:[\w’'-]+\s+){0,4}?(?:until|till|before)(?![\w])"
            r"[^.;!?\n]*",
            _unsure,
        ),  # "at least 90 days after the signing", "through 2028 at least": a lower bound.
        (
            rf"\b(?:at\s+least|no\s+(?:earlier|sooner)\s+than|not\s+(?:earlier|sooner)\s+than)"
            rf"\s+{number}\s+{OFFSET_UNIT['en']}",
            _unsure,
        ),
        (rf"\b{until}\s+[^.;!?\n,]*?\bat\s+(?:the\s+)?least(?![\w])", _unsure),
    ]
    return tuple((compile_pattern(pattern), reader) for pattern, reader in rules)


def _relative_after_reader(lang: str) -> Callable[[re.Match[str], dt.date | None], Found | None]:
    """Read "90 days after the signing": a relative phrase only if it names the agreement."""
    relative = _relative_reader(lang)

    def read(match: re.Match[str], anchor: dt.date | None) -> Found | None:
        if _count(match["n"], lang) is None:
            return None  # "the days after the signing": no count, no deadline phrase
        reading = relative(match, anchor)
        if reading is None or reading.end == match.end():
            return None  # "90 days after" something not read: not a deadline phrase here
        return reading

    return read


def _french() -> Grammar:
    number = rf"(?:\d{{1,4}}|{NUMBER_WORD['fr']})"
    unit = OFFSET_UNIT["fr"]
    next_year = NEXT_YEAR["fr"]
    year = rf"(?:(?P<y>{YEAR})|(?P<ny>{next_year}))"
    month = rf"(?:{dates.MONTH_WITH_YEAR['fr']}|{dates.MONTH_WITHOUT_YEAR['fr']})"
    of = rf"(?:\s+(?:de\s+|d{A}\s*)|\s+)"
    end_of = rf"(?:la\s+)?fin(?:\s+du\s+mois)?{of}"
    dici = rf"d{A}\s*ici(?:\s+[àa])?"
    by_end = (
        rf"(?:{dici}\s+(?:{end_of})?|(?:avant|au\s+plus\s+tard\s+[àa]?)\s*{end_of}"
        rf"|jusqu{A}\s*[àa]\s+{end_of})"
    )
    quarter = (
        rf"(?:(?-i:T)(?P<q>[1-4])|(?P<ord>{ORDINAL['fr']})\s+trimestre)"
        rf"(?:(?:\s+(?:de\s+|d{A}\s*)|\s+){year}|(?!\s+(?:de|d{A}|prochain|fiscal)))"
    )
    day = rf"(?:{dates.DAY_WITH_YEAR['fr']}|{dates.DAY_WITHOUT_YEAR['fr']})"
    vague_when = (
        r"(?:la\s+)?(?:mi|milieu|d[ée]but|courant"
        r"|premier\s+semestre|second\s+semestre|deuxi[èe]me\s+semestre)"
    )
    rules: list[tuple[str, Callable]] = [
        (
            rf"\b(?:dans(?:\s+(?:les|un\s+d[ée]lai(?:\s+(?:maximum|maximal))?\s+(?:de|d{A})))?"
            rf"|{dici}|sous|en\s+moins\s+de|au\s+cours\s+des|au\s+plus\s+tard)\s*"
            rf"(?P<n>{number})\s+(?:(?:prochain|prochaine)s\s+)?(?P<unit>{unit})"
            r"(?:\s+(?:prochain|prochaine)s(?![\w]))?",
            _relative_reader("fr"),
        ),
        (
            rf"\b(?P<n>{number})\s+(?P<unit>{unit})(?=\s*,?\s*(?:apr[èe]s|suivant)\s)",
            _relative_after_reader("fr"),
        ),
        (
            rf"\b(?:dans|sous|d{A}\s*ici)\s+(?:les\s+|un\s+d[ée]lai\s+de\s+)?{number}\s+"
            rf"{UNSUPPORTED_OFFSET_UNIT['fr']}",
            _unsure,
        ),
        (
            rf"\b(?:{by_end}|jusqu{A}\s*en\s+|au\s+plus\s+tard\s+en\s+)(?P<m>{month})",
            _month_reader("fr"),
        ),
        (
            rf"\b(?:{by_end}|{dici}\s+(?:le\s+|au\s+)?)(?:du\s+|le\s+|au\s+)?{quarter}",
            _quarter_reader("fr"),
        ),
        (
            rf"\b(?:{by_end}|jusqu{A}\s*en\s+|au\s+plus\s+tard\s+en\s+)"
            rf"(?:l{A}\s*ann[ée]e\s+)?(?P<y>{YEAR})(?![-–/]\d)",
            _year_reader,
        ),
        (
            rf"\b(?:{dici}|avant|jusqu{A}\s*[àa]|au\s+plus\s+tard\s+[àa])\s+la\s+fin\s+"
            rf"(?:de\s+(?:l{A}\s*|cette\s+)ann[ée]e|de\s+l{A}\s*an)(?!\s+prochain|\s*(?:19|20|21)\d\d)",
            _year_reader,
        ),
        # « l’année prochaine » after a deadline word, or alone (an editor's deadline phrase);
        # « à partir de l’année prochaine » is no deadline.
        (
            rf"\b(?:(?:{dici}|au\s+plus\s+tard(?:\s+[àa])?)\s+(?:la\s+fin\s+de\s+)?"
            rf"|(?:avant|jusqu{A}\s*[àa])\s+la\s+fin\s+de\s+)(?P<ny>{next_year})",
            _year_reader,
        ),
        (rf"^\s*(?P<ny>{next_year})(?=\s*\.?\s*$)", _alone_reader),
        (
            rf"\b(?:au\s+plus\s+tard(?:\s+le)?|{dici}\s+(?:le|au)|jusqu{A}\s*au)\s+(?P<d>{day})",
            _day_reader("fr"),
        ),
        (
            rf"(?<!\w)(?=le\s|\d|premier)(?:le\s+)?(?P<d>{dates.DAY_WITH_YEAR['fr']})"
            r"\s*,?\s*au\s+plus\s+tard",
            _day_reader("fr"),
        ),
        # Phrases that set a deadline the engine cannot state, or not surely.
        (rf"\bavant\s+le\s+{day}", _unsure),
        (
            r"\b(?:d[èe]s\s+que\s+possible|le\s+plus\s+(?:t[ôo]t|rapidement|vite)\s+possible"
            r"|dans\s+les\s+meilleurs\s+d[ée]lais|[àa]\s+(?:court|moyen|long)\s+terme|prochainement)",
            _unsure,
        ),
        (
            r"\bdans\s+les\s+(?:(?:prochaines|prochains)\s+(?:ann[ée]es|mois|semaines|jours)"
            r"|(?:ann[ée]es|mois|semaines|jours)\s+[àa]\s+venir)",
            _unsure,
        ),
        (rf"\b(?:dans|d{A}\s*ici|sous)\s+quelques\s+(?:ann[ée]es|mois|semaines|jours)", _unsure),
        (
            rf"\b(?:{dici}|avant|jusqu{A}\s*[àa]|au\s+plus\s+tard\s+(?:[àa]|en)?)\s*{vague_when}"
            rf"[-\s]*(?:{YEAR}|{MONTH['fr']}|l{A}\s*ann[ée]e)",
            _unsure,
        ),
        (rf"\b(?:{by_end})(?:l{A}\s*)?exercice", _unsure),
        # « pas avant 2028 », « ne … qu’en 2028 »: the earliest date, not a deadline.
        (r"\bpas\s+(?:avant|jusqu)(?![\w])[^.;!?\n]*", _unsure),
        # « au moins 90 jours après la signature », « jusqu’en 2028 au moins »: a lower bound.
        (rf"\b(?:au\s+moins|pas\s+moins\s+de|au\s+plus\s+t[ôo]t)\s+{number}\s+{unit}", _unsure),
        (rf"\bjusqu{A}\s*[^.;!?\n,]*?\bau\s+moins(?![\w])", _unsure),
    ]
    return tuple((compile_pattern(pattern), reader) for pattern, reader in rules)


GRAMMARS: dict[str, Grammar] = {"en": _english(), "fr": _french()}
