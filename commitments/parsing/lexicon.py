"""The words the parser reads, per language: months, numbers in words, units and scales.

Every pattern fragment here is a regular-expression string meant to be compiled with
``re.IGNORECASE`` inside a larger pattern; the ``*_VALUE`` tables turn a matched word back
into its value after :func:`fold` (lower case, no accents, no final dot).
"""

from __future__ import annotations

import unicodedata

#: Letters a typographic or typewriter apostrophe may be written with.
APOSTROPHE = r"['’ʼ]"
#: A space, including the no-break spaces French typography puts before « % » and inside
#: numbers (U+00A0, U+202F): ``\s`` matches every Unicode space in Python's ``re``.
SPACE = r"\s+"
OPTIONAL_SPACE = r"\s*"


def fold(word: str) -> str:
    """Return ``word`` lower-cased, without accents, final dot or inner space runs."""
    decomposed = unicodedata.normalize("NFKD", word.strip().rstrip(".").lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.replace("’", "'").replace("ʼ", "'").split())


def alternation(words: list[str]) -> str:
    """Return a non-capturing alternation of ``words``, longest first so none is cut short."""
    return "(?:" + "|".join(sorted(words, key=len, reverse=True)) + ")"


# Months ---------------------------------------------------------------------------------

_EN_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_EN_MONTH_ABBREVIATIONS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_FR_MONTHS = {
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
    "janv": 1,
    "fevr": 2,
    "avr": 4,
    "juil": 7,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}

MONTH_VALUE = {
    "en": {
        **{name.lower(): number for number, name in enumerate(_EN_MONTHS, start=1)},
        **_EN_MONTH_ABBREVIATIONS,
    },
    "fr": _FR_MONTHS,
}

# English month names are read only when capitalised: "may" and "march" are also verbs.
_EN_MONTH_PATTERN = alternation(
    [f"(?-i:{name}|{name.upper()})" for name in _EN_MONTHS]
    + [f"(?-i:{abbr.capitalize()})\\.?" for abbr in _EN_MONTH_ABBREVIATIONS]
)
_FR_MONTH_PATTERN = alternation(
    [
        "janvier",
        "f[ée]vrier",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "ao[uû]t",
        "septembre",
        "octobre",
        "novembre",
        "d[ée]cembre",
        r"janv\.",
        r"f[ée]vr\.",
        r"avr\.",
        r"juil\.",
        r"sept\.",
        r"oct\.",
        r"nov\.",
        r"d[ée]c\.",
    ]
)
MONTH = {"en": _EN_MONTH_PATTERN + r"(?![\w])", "fr": _FR_MONTH_PATTERN + r"(?![\w])"}

# Numbers in words (small counts: "six months", « trois ans ») --------------------------

_EN_UNITS = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}


def _english_numbers() -> dict[str, int]:
    words = {word: value for value, word in enumerate(_EN_UNITS, start=1)}
    for tens_word, tens in _EN_TENS.items():
        words[tens_word] = tens
        for unit, unit_word in enumerate(_EN_UNITS[:9], start=1):
            words[f"{tens_word}-{unit_word}"] = tens + unit
            words[f"{tens_word} {unit_word}"] = tens + unit
    words.update({"a": 1, "an": 1, "a hundred": 100, "one hundred": 100})
    return words


_FR_UNITS = [
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
]


def _french_numbers() -> dict[str, int]:
    words = {word: value for value, word in enumerate(_FR_UNITS, start=1)}
    words.update({"une": 1, "dix-sept": 17, "dix-huit": 18, "dix-neuf": 19, "cent": 100})
    tens = {"vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60}
    for tens_word, value in tens.items():
        words[tens_word] = value
        words[f"{tens_word} et un"] = value + 1
        words[f"{tens_word} et une"] = value + 1
        for unit in range(2, 10):
            words[f"{tens_word}-{_FR_UNITS[unit - 1]}"] = value + unit
    # Seventy to ninety-nine count on from sixty and eighty: soixante-douze, quatre-vingt-onze.
    for base, base_word in ((60, "soixante"), (80, "quatre-vingt")):
        for unit in range(1 if base == 80 else 10, 20):
            joiner = " et " if (base, unit) == (60, 11) else "-"
            if unit <= 16:
                words[f"{base_word}{joiner}{_FR_UNITS[unit - 1]}"] = base + unit
            else:
                words[f"{base_word}-dix-{_FR_UNITS[unit - 11]}"] = base + unit
    words["soixante-dix"] = 70
    words["quatre-vingts"] = words["quatre-vingt"] = 80
    words["quatre-vingt-dix"] = 90
    return words


NUMBER_WORD_VALUE = {"en": _english_numbers(), "fr": _french_numbers()}
#: A number written in words, as a pattern: any word (and « et un », "one" after a ten),
#: checked against :data:`NUMBER_WORD_VALUE` by the grammar. An alternation of the two
#: thousand words would be tried at every word of a text and cost ten times more.
_WORD = r"[^\W\d_]+(?:-[^\W\d_]+)*"
NUMBER_WORD = {
    "en": rf"{_WORD}(?:\s+(?:one|two|three|four|five|six|seven|eight|nine|hundred)\b)?",
    "fr": rf"{_WORD}(?:\s+et\s+(?:un|une|onze)\b)?",
}

# Relative offsets ------------------------------------------------------------------------

#: Offset units as written, folded, to the engine's unit; "business days" are not calendar
#: days, so the grammars read them as a phrase they cannot turn into a rule.
OFFSET_UNIT_VALUE = {
    "en": {
        "day": "days",
        "days": "days",
        "calendar days": "days",
        "week": "weeks",
        "weeks": "weeks",
        "month": "months",
        "months": "months",
        "year": "years",
        "years": "years",
    },
    "fr": {
        "jour": "days",
        "jours": "days",
        "jours calendaires": "days",
        "semaine": "weeks",
        "semaines": "weeks",
        "mois": "months",
        "an": "years",
        "ans": "years",
        "annee": "years",
        "annees": "years",
    },
}
OFFSET_UNIT = {
    "en": r"(?:calendar\s+days|days?|weeks?|months?|years?)(?![\w-])",
    "fr": r"(?:jours\s+calendaires|jours?|semaines?|mois|ans?|ann[ée]es?)(?![\w-])",
}
UNSUPPORTED_OFFSET_UNIT = {
    "en": r"(?:business|working|trading|banking)\s+days?",
    "fr": r"jours\s+(?:ouvrables|ouvr[ée]s|francs)",
}

# Quarters -------------------------------------------------------------------------------

ORDINAL_VALUE = {
    "en": {
        "first": 1,
        "1st": 1,
        "second": 2,
        "2nd": 2,
        "third": 3,
        "3rd": 3,
        "fourth": 4,
        "4th": 4,
        "last": 4,
    },
    "fr": {
        "premier": 1,
        "1er": 1,
        "deuxieme": 2,
        "second": 2,
        "2e": 2,
        "2eme": 2,
        "troisieme": 3,
        "3e": 3,
        "3eme": 3,
        "quatrieme": 4,
        "4e": 4,
        "4eme": 4,
        "dernier": 4,
    },
}
ORDINAL = {
    "en": r"(?:first|1st|second|2nd|third|3rd|fourth|4th|last)",
    "fr": r"(?:premier|1er|deuxi[èe]me|second|2e|2[èe]me|troisi[èe]me|3e|3[èe]me"
    r"|quatri[èe]me|4e|4[èe]me|dernier)",
}

# Amounts ----------------------------------------------------------------------------------

#: Scale words, folded, to their power of ten. A French « billion » is 10^12, an English
#: "billion" 10^9: the language decides.
SCALE_VALUE = {
    "en": {
        "thousand": 3,
        "k": 3,
        "million": 6,
        "millions": 6,
        "mn": 6,
        "m": 6,
        "billion": 9,
        "billions": 9,
        "bn": 9,
        "b": 9,
        "trillion": 12,
        "trillions": 12,
        "tn": 12,
        "tr": 12,
    },
    "fr": {
        "mille": 3,
        "million": 6,
        "millions": 6,
        "milliard": 9,
        "milliards": 9,
        "md": 9,
        "mds": 9,
        "mrd": 9,
        "mrds": 9,
        "billion": 12,
        "billions": 12,
        "bn": 9,
    },
}
#: Scale words an English and a French reader take for different numbers: "billion" is 10^9
#: in English, 10^12 in French; "trillion" 10^12, and 10^18 in French (a word the French
#: grammar does not read). A typed amount must not use them: its language is not sure.
AMBIGUOUS_SCALE = frozenset({"billion", "billions", "trillion", "trillions"})
SCALE = {
    "en": r"(?:thousand|million|billion|trillion|mn|bn|tn|tr|k|m|b)(?![\w])",
    "fr": r"(?:mille|millions?|milliards?|billions?|mds?|mrds?|bn)(?![\w])",
}

#: Currency marks before a number, and currency names after it, to the unit codes of
#: ``commitments.choices.Unit``. A "$" preceded by a letter (C$, A$, HK$) is another dollar.
CURRENCY_BEFORE = r"(?:US\s?\$|(?<![A-Za-z])\$|(?<![A-Za-z])¥|€|USD|EUR|JPY)"
CURRENCY_BEFORE_VALUE = {
    "us$": "USD",
    "$": "USD",
    "¥": "JPY",
    "€": "EUR",
    "usd": "USD",
    "eur": "EUR",
    "jpy": "JPY",
}
CURRENCY_AFTER = {
    "en": r"(?:US\s+dollars?|U\.S\.\s+dollars?|dollars?|USD|US\$|\$|yen|JPY|¥|euros?|EUR|€)",
    "fr": r"(?:(?:de\s+|d['’]\s*)?(?:dollars?(?:\s+(?:américains|US))?|yens?|euros?)"
    r"|USD|US\$|\$|JPY|¥|EUR|€)",
}
CURRENCY_AFTER_VALUE = {
    "dollar": "USD",
    "dollars": "USD",
    "usd": "USD",
    "us$": "USD",
    "$": "USD",
    "us dollar": "USD",
    "us dollars": "USD",
    "u.s. dollar": "USD",
    "u.s. dollars": "USD",
    "dollars americains": "USD",
    "dollar americains": "USD",
    "dollars us": "USD",
    "dollar us": "USD",
    "yen": "JPY",
    "yens": "JPY",
    "jpy": "JPY",
    "¥": "JPY",
    "euro": "EUR",
    "euros": "EUR",
    "eur": "EUR",
    "€": "EUR",
}
#: Words after "$" or "dollars" (or "¥") naming another currency than the US dollar (the
#: Japanese yen): « 600 milliards de dollars canadiens », « 600 milliards $ CA », "$600 billion
#: Canadian", "¥100 billion yuan". The amount's unit is then unknown.
OTHER_CURRENCY_AFTER = (
    r"\s*(?:\(?\s*(?-i:CA|CAN|CAD|AU|AUD|HK|HKD|NZ|NZD|SG|SGD|TW|TWD|NT|MX|MXN|CN|CNY|RMB)"
    r"(?![\w$])"
    r"|\s(?:in\s+)?(?:Canadian|Australian|Hong\s+Kong|New\s+Zealand|Singapore|Singaporean"
    r"|Taiwan|Taiwanese|Mexican|Chinese|yuan|renminbi)(?![\w])"
    r"|\s(?:canadiens?|australiens?|de\s+Hong\s+Kong|hongkongais|n[ée]o-z[ée]landais"
    r"|de\s+Singapour|singapouriens?|de\s+Ta[iï]wan|ta[iï]wanais|mexicains?|chinois"
    r"|yuans?|renminbis?)(?![\w]))"
)
PERCENT = {
    "en": r"(?:%|per\s?cent(?![\w])|percent(?![\w]))",
    "fr": r"(?:%|pour\s?cent(?![\w])|pourcents?(?![\w]))",
}
OF_GDP = {
    "en": r"(?:of|of\s+the)\s+(?:GDP|gross\s+domestic\s+product)(?![\w])",
    "fr": r"(?:du|de\s+son|de\s+leur)\s+(?:PIB|produit\s+int[ée]rieur\s+brut)(?![\w])",
}
#: "percentage points" and « points de pourcentage » measure a change, not a level.
PERCENT_POINTS = {"en": r"percentage\s+points?", "fr": r"points?\s+de\s+pourcentage"}
TONNES = {
    "en": r"(?:(?:metric\s+)?tonnes|metric\s+tons)(?![\w])",
    "fr": r"(?:(?:de\s+|d['’]\s*)?tonnes)(?![\w])",
}
