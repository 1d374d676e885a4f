"""The text parser proposes the rule, date and target a reader of the phrase expects, or nothing.

A wrong date is worse than none: every family has phrases that must yield nothing, and the
property tests check that a proposed rule, computed through the deadline engine, gives the
date the phrase states.
"""

# The phrases are quoted as sources write them: typographic apostrophes, no-break spaces.

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from commitments import deadlines
from commitments.choices import Unit
from commitments.deadlines import (
    OffsetUnit,
    Precision,
    RuleKind,
    compute_due_date,
    rule_from_stored,
)
from commitments.parsing import LANGUAGES, Proposals, propose
from commitments.parsing.targets import UNITS

EU_US = dt.date(2025, 8, 21)
SUMMIT = dt.date(2025, 10, 28)
SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def deadline(text, lang, anchor=SUMMIT):
    return propose(text, lang=lang, anchor=anchor).deadline


# The EU–US joint statement of 21 August 2025 ------------------------------------------------


def test_the_eu_us_review_within_90_days_is_due_19_november_2025():
    found = deadline("The EU and the US will review the arrangement within 90 days.", "en", EU_US)
    assert found.due_date == dt.date(2025, 11, 19)
    assert found.stored() | {} == {
        **deadlines.RULE_EMPTY_VALUES,
        "deadline_phrase": "within 90 days",
        "deadline_kind": "relative",
        "offset_amount": 90,
        "offset_unit": "days",
        "anchor_kind": "agreement",
    }


def test_the_eu_us_purchases_through_2028_are_due_at_the_end_of_2028_to_the_year():
    proposals = propose(
        "The EU intends to procure US energy worth $750 billion through 2028.", lang="en",
        anchor=EU_US,
    )
    assert proposals.deadline.due_date == dt.date(2028, 12, 31)
    assert proposals.deadline.precision == Precision.YEAR
    assert proposals.deadline.stored()["period_unit"] == "year"
    assert proposals.deadline.stored()["period_year"] == 2028
    assert (proposals.target.amount, proposals.target.unit) == (Decimal("750000000000"), "USD")


def test_the_eu_us_tariff_ceiling_is_15_percent_from_1_august_2025():
    proposals = propose(
        "a tariff ceiling of 15 % applies from 1 August 2025", lang="en", anchor=EU_US
    )
    assert (proposals.target.amount, proposals.target.unit) == (Decimal(15), "percent")
    assert proposals.effective_from.date == dt.date(2025, 8, 1)
    assert proposals.effective_from.precision == Precision.DAY
    assert proposals.deadline is None


# Deadlines, family by family ------------------------------------------------------------------

#: (lang, text, phrase, due date for the summit's date, precision, stored parts).
DEADLINES = [
    ("fr", "se réunira dans les 180 jours.", "dans les 180 jours", "2026-04-26", "day",
     {"deadline_kind": "relative", "offset_amount": 180, "offset_unit": "days",
      "anchor_kind": "agreement"}),
    ("fr", "Dans les six mois, les deux pays prévoient", "Dans les six mois", "2026-04-28", "day",
     {"offset_amount": 6, "offset_unit": "months"}),
    ("fr", "dans un délai de trois ans", "dans un délai de trois ans", "2028-10-28", "day",
     {"offset_amount": 3, "offset_unit": "years"}),
    ("fr", "dans un délai d’un an à compter de la signature", None, "2026-10-28", "day",
     {"offset_amount": 1, "offset_unit": "years"}),
    ("fr", "au cours des six prochains mois", "au cours des six prochains mois", "2026-04-28",
     "day", {"offset_amount": 6, "offset_unit": "months"}),
    ("fr", "d’ici deux semaines", "d’ici deux semaines", "2025-11-11", "day",
     {"offset_amount": 2, "offset_unit": "weeks"}),
    ("fr", "sous quatre-vingt-dix jours", None, "2026-01-26", "day", {"offset_amount": 90}),
    ("fr", "90 jours après la signature de l’accord", None, "2026-01-26", "day",
     {"offset_amount": 90}),
    ("fr", "à 2 % du PIB d’ici mars, deux ans", "d’ici mars", "2026-03-31", "month",
     {"deadline_kind": "period_end", "period_unit": "month", "period_number": 3,
      "period_year": None}),
    ("fr", "d’ici la fin mars 2027", "d’ici la fin mars 2027", "2027-03-31", "month",
     {"period_number": 3, "period_year": 2027}),
    ("fr", "avant la fin du mois de juin", None, "2026-06-30", "month", {"period_number": 6}),
    ("fr", "d’ici la fin du premier trimestre 2026", None, "2026-03-31", "quarter",
     {"period_unit": "quarter", "period_number": 1, "period_year": 2026}),
    ("fr", "d’ici la fin du T3 2026", None, "2026-09-30", "quarter", {"period_number": 3}),
    ("fr", "d’ici 2028", "d’ici 2028", "2028-12-31", "year",
     {"period_unit": "year", "period_year": 2028, "period_number": None}),
    ("fr", "jusqu’en 2028", "jusqu’en 2028", "2028-12-31", "year", {"period_year": 2028}),
    ("fr", "d’ici à la fin de 2030", None, "2030-12-31", "year", {"period_year": 2030}),
    ("fr", "d’ici la fin de l’année", None, "2025-12-31", "year", {"period_year": None}),
    ("fr", "l’année prochaine", None, "2026-12-31", "year", {"period_year": 2026}),
    ("fr", "au plus tard l’année prochaine", None, "2026-12-31", "year", {"period_year": 2026}),
    ("fr", "d’ici l’année prochaine", None, "2026-12-31", "year", {"period_year": 2026}),
    ("fr", "avant la fin de l’année prochaine", None, "2026-12-31", "year", {}),
    ("fr", "au plus tard le 1er juillet 2026", None, "2026-07-01", "day",
     {"deadline_kind": "fixed", "deadline_date": dt.date(2026, 7, 1),
      "deadline_precision": "day"}),
    ("fr", "le 30 juin 2026 au plus tard", None, "2026-06-30", "day",
     {"deadline_date": dt.date(2026, 6, 30)}),
    ("fr", "au plus tard le 15 janvier", None, "2026-01-15", "day",
     {"deadline_date": dt.date(2026, 1, 15)}),
    ("fr", "au plus tard le 30/06/2026", None, "2026-06-30", "day", {}),
    ("en", "Japan and the US will meet within 180 days.", "within 180 days", "2026-04-26", "day",
     {"offset_amount": 180, "offset_unit": "days", "anchor_kind": "agreement"}),
    ("en", "within six months of the signing, financing", "within six months of the signing",
     "2026-04-28", "day", {"offset_amount": 6, "offset_unit": "months"}),
    ("en", "in the next twenty-four months", None, "2027-10-28", "day", {"offset_amount": 24}),
    ("en", "within a year", None, "2026-10-28", "day",
     {"offset_amount": 1, "offset_unit": "years"}),
    ("en", "no later than 90 days after the signing", None, "2026-01-26", "day", {}),
    ("en", "60 days after the signing of this agreement", None, "2025-12-27", "day", {}),
    ("en", "by March", "by March", "2026-03-31", "month",
     {"period_number": 3, "period_year": None}),
    ("en", "by the end of March 2027", None, "2027-03-31", "month", {"period_year": 2027}),
    ("en", "by end-June", None, "2026-06-30", "month", {"period_number": 6}),
    ("en", "by the end of Q1 2026", "by the end of Q1 2026", "2026-03-31", "quarter",
     {"period_unit": "quarter", "period_number": 1, "period_year": 2026}),
    ("en", "by the end of the second quarter of 2026", None, "2026-06-30", "quarter", {}),
    ("en", "by the end of the first quarter of next year", None, "2026-03-31", "quarter",
     {"period_year": 2026}),
    ("en", "through 2028", "through 2028", "2028-12-31", "year", {"period_year": 2028}),
    ("en", "by 2030", None, "2030-12-31", "year", {"period_year": 2030}),
    ("en", "by the end of the year", None, "2025-12-31", "year", {"period_year": None}),
    ("en", "next year", None, "2026-12-31", "year", {"period_year": 2026}),
    ("en", " Next year. ", "Next year", "2026-12-31", "year", {"period_year": 2026}),
    ("en", "no later than next year", None, "2026-12-31", "year", {"period_year": 2026}),
    ("en", "by the end of next year", None, "2026-12-31", "year", {"period_year": 2026}),
    ("en", "by July 1, 2026", "by July 1, 2026", "2026-07-01", "day",
     {"deadline_kind": "fixed", "deadline_date": dt.date(2026, 7, 1)}),
    ("en", "no later than 1 July 2026", None, "2026-07-01", "day", {}),
    ("en", "by 2026-07-01", None, "2026-07-01", "day", {}),
    ("en", "by 15 January", None, "2026-01-15", "day", {}),
    # A relative phrase counts from the agreement when it ends its clause or names it.
    ("en", "within 90 days, and the parties will meet", "within 90 days", "2026-01-26", "day",
     {"offset_amount": 90, "anchor_kind": "agreement"}),
    ("en", "within 90 days and report", "within 90 days", "2026-01-26", "day", {}),
    ("en", "within 90 days of this agreement", None, "2026-01-26", "day", {}),
    ("en", "within 90 days from the date of signing", None, "2026-01-26", "day", {}),
    ("fr", "dans les 90 jours qui suivent la signature", None, "2026-01-26", "day",
     {"offset_amount": 90, "anchor_kind": "agreement"}),
    ("fr", "dans les 90 jours qui suivent, puis", "dans les 90 jours qui suivent", "2026-01-26",
     "day", {}),
    ("fr", "dans les 180 jours du présent accord", None, "2026-04-26", "day", {}),
    ("fr", "dans un délai d’un an à compter de la date de signature", None, "2026-10-28", "day",
     {}),
    ("fr", "sous 30 jours et d’ici là", "sous 30 jours", "2025-11-27", "day", {}),
    ("fr", "Le Japon investira 550 milliards de dollars d’ici 2029.", "d’ici 2029", "2029-12-31",
     "year", {"period_year": 2029}),
    ("fr", "au moins 30 % d’ici 2030", "d’ici 2030", "2030-12-31", "year", {}),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "text", "phrase", "due", "precision", "stored"), DEADLINES)
def test_a_deadline_phrase_gives_its_rule_and_due_date(lang, text, phrase, due, precision, stored):
    found = deadline(text, lang)
    assert found is not None, text
    assert found.due_date == dt.date.fromisoformat(due)
    assert found.precision == precision
    assert found.phrase == (phrase or text)
    assert text[found.span.start : found.span.end] == found.phrase
    values = found.stored()
    assert set(values) == set(deadlines.RULE_FIELD_NAMES)
    assert {name: values[name] for name in stored} == stored
    # The stored values are the rule: the engine computes the same date from them.
    assert compute_due_date(rule_from_stored(values), SUMMIT) == found.due_date


#: Phrases that must give no deadline: vague, counted from another event, or not a deadline.
NO_DEADLINE = [
    ("en", "by mid-2026"),
    ("en", "by early 2027"),
    ("en", "as soon as possible"),
    ("en", "in the coming years"),
    ("en", "within a few months"),
    ("en", "within 90 business days"),
    ("en", "within 90 days of entry into force"),
    ("en", "within 30 days of the request"),
    ("en", "before 1 July 2026"),
    ("en", "by the end of fiscal year 2026"),
    ("en", "the highest level in 20 years"),
    ("en", "Japan may march on"),
    ("en", "from 2025 to 2028"),
    ("en", "within 90 days, and by the end of 2028"),
    ("en", "within six months or within 180 days"),
    ("fr", "d’ici mi-2026"),
    ("fr", "d’ici début 2027"),
    ("fr", "dès que possible"),
    ("fr", "dans les années à venir"),
    ("fr", "dans les prochains mois"),
    ("fr", "dans les 30 jours ouvrables"),
    ("fr", "dans les 180 jours suivant l’entrée en vigueur"),
    ("fr", "avant le 1er juillet 2026"),
    ("fr", "à terme"),
    ("fr", "dans les 180 jours, et d’ici 2028"),
    ("fr", "Les deux dirigeants ont confirmé vouloir collaborer étroitement."),
    # Counted from another event than the agreement: any words after the phrase but a named
    # agreement leave it unsure.
    ("en", "The vote will be held within 90 days before the election."),
    ("en", "within 90 days prior to the election"),
    ("en", "within 30 days preceding the vote"),
    ("en", "within 60 days upon entry into force"),
    ("en", "within 60 days once the law is adopted"),
    ("en", "within 30 days at the request of either party"),
    ("en", "within 30 days since the signing"),
    ("en", "within 30 days thereafter"),
    ("en", "within 30 days of the meeting of the joint committee"),
    ("fr", "dans les 90 jours qui suivent l’entrée en vigueur"),
    ("fr", "dans les 90 jours à la suite de l’élection"),
    ("fr", "dans les 90 jours dès la ratification"),
    ("fr", "dans les 90 jours avant l’élection"),
    ("fr", "dans les 90 jours précédant l’élection"),
    ("fr", "dans les 90 jours consécutifs à la ratification"),
    ("fr", "sous 30 jours à réception de la facture"),
    ("fr", "dans les 30 jours de l’entrée en vigueur du présent accord"),
    # "next year" needs a deadline word (or to be the whole phrase); "until" must not be
    # the earliest date.
    ("en", "from next year"),
    ("en", "starting next year"),
    ("en", "talks will resume next year"),
    ("en", "in the next year"),
    ("en", "over the next year"),
    ("en", "within the next year"),
    ("en", "until next year"),
    ("en", "before next year"),  # the end of this year, or of next year?
    ("en", "not until 2028"),
    ("en", "The plant won't start until 2028."),
    ("en", "The rule will not take effect until March."),
    ("en", "The tariffs will not be lifted before the end of 2026."),
    ("fr", "à partir de l’année prochaine"),
    ("fr", "célébrer ensemble l’année prochaine les 250 ans"),
    ("fr", "avant l’année prochaine"),
    ("fr", "jusqu’à l’année prochaine"),
    ("fr", "Le programme ne démarrera pas avant 2028."),
    # A lower bound is no deadline; a date before the agreement's is none of its deadlines.
    ("en", "at least 90 days after the signing"),
    ("en", "no earlier than 90 days after the signing"),
    ("en", "The tariffs will stay through 2028 at least."),
    ("fr", "au moins 90 jours après la signature"),
    ("fr", "jusqu’en 2028 au moins"),
    ("en", "By 2019, exports had doubled."),
    ("en", "By March 2025 the parties had met twice."),
    ("fr", "D’ici mars 2025, les parties s’étaient réunies deux fois."),
]


@pytest.mark.parametrize(("lang", "text"), NO_DEADLINE)
def test_an_unsure_or_absent_deadline_gives_none(lang, text):
    assert deadline(text, lang) is None


def test_the_same_deadline_said_twice_is_one_proposal():
    found = deadline("by March, that is by the end of March", "en")
    assert found.due_date == dt.date(2026, 3, 31)
    assert found.phrase == "by March"


def test_without_the_agreement_date_a_relative_rule_is_proposed_with_no_due_date():
    found = deadline("within 180 days", "en", anchor=None)
    assert found.rule.kind == RuleKind.RELATIVE
    assert found.due_date is None
    month = deadline("d’ici mars", "fr", anchor=None)
    assert month.stored()["period_number"] == 3
    assert month.due_date is None


def test_without_the_agreement_date_a_phrase_needing_it_for_its_year_gives_nothing():
    assert deadline("l’année prochaine", "fr", anchor=None) is None
    assert deadline("by 1 July", "en", anchor=None) is None
    assert propose("avec effet rétroactif à août", lang="fr", anchor=None).effective_from is None


def test_a_date_outside_the_product_range_gives_nothing():
    assert deadline("by 2400", "en") is None
    assert deadline("within 500 years", "en") is None


def test_another_language_or_an_empty_text_gives_nothing():
    assert propose("innerhalb von 180 Tagen, 15 %", lang="de", anchor=SUMMIT) == Proposals(
        None, None, None
    )
    assert propose("   ", lang="en", anchor=SUMMIT) == Proposals(None, None, None)
    assert set(LANGUAGES) == {"en", "fr"}


def test_english_grammar_does_not_read_french_and_the_reverse():
    assert deadline("dans les 180 jours", "en") is None
    assert deadline("within 180 days", "fr") is None


# Effective-from dates --------------------------------------------------------------------------

#: (lang, text, date, precision).
EFFECTIVE = [
    ("fr", "à 15 %, avec effet rétroactif à août", "2025-08-01", "month"),
    ("fr", "avec effet rétroactif au 7 août 2025", "2025-08-07", "day"),
    ("fr", "à compter du 1er août 2025", "2025-08-01", "day"),
    ("fr", "à partir d’août 2025", "2025-08-01", "month"),
    ("fr", "avec effet au 1er janvier 2026", "2026-01-01", "day"),
    ("fr", "rétroactivement au 1er septembre", "2025-09-01", "day"),
    ("en", "retroactive to August 7, 2025", "2025-08-07", "day"),
    ("en", "retroactive to August", "2025-08-01", "month"),
    ("en", "with effect from 1 August 2025", "2025-08-01", "day"),
    ("en", "from 7 August 2025", "2025-08-07", "day"),
    ("en", "effective January 1, 2026", "2026-01-01", "day"),
    ("en", "starting in September 2025", "2025-09-01", "month"),
]


@pytest.mark.parametrize(("lang", "text", "date", "precision"), EFFECTIVE)
def test_an_effective_from_phrase_gives_its_date(lang, text, date, precision):
    found = propose(text, lang=lang, anchor=SUMMIT).effective_from
    assert found is not None, text
    assert (found.date, found.precision) == (dt.date.fromisoformat(date), precision)
    assert text[found.span.start : found.span.end] == found.phrase


def test_retroactive_to_a_month_is_the_last_one_on_or_before_the_agreement():
    found = propose("retroactive to November", lang="en", anchor=SUMMIT).effective_from
    assert found.date == dt.date(2024, 11, 1)
    found = propose("avec effet rétroactif à octobre", lang="fr", anchor=SUMMIT).effective_from
    assert found.date == dt.date(2025, 10, 1)


NO_EFFECTIVE = [
    ("en", "from August"),  # which August: the year is not sure
    ("en", "from Japan to the United States"),
    ("en", "from 1 August 2025 or from 1 September 2025"),
    ("fr", "à compter d’août"),
    ("fr", "à partir de la signature"),
    ("fr", "rétroactivement au 30 février"),
]


@pytest.mark.parametrize(("lang", "text"), NO_EFFECTIVE)
def test_an_unsure_effective_date_gives_none(lang, text):
    assert propose(text, lang=lang, anchor=SUMMIT).effective_from is None


# Targets -------------------------------------------------------------------------------------

NNBSP, NBSP = "\u202f", "\u00a0"

#: (lang, text, amount, unit).
TARGETS = [
    ("fr", "s’est engagé à $550 milliards d’investissements", "550000000000", "USD"),
    ("fr", "550 milliards de dollars", "550000000000", "USD"),
    ("fr", "à 15 %, avec effet", "15", "percent"),
    ("fr", f"à 15{NNBSP}%", "15", "percent"),
    ("fr", "à 2 % du PIB d’ici mars", "2", "percent_gdp"),
    ("fr", f"2{NBSP}% du produit intérieur brut", "2", "percent_gdp"),
    ("fr", "1,2 milliard d’euros", "1200000000", "EUR"),
    ("fr", "1 000 milliards de yens", "1000000000000", "JPY"),
    ("fr", f"1{NNBSP}000 milliards de yens", "1000000000000", "JPY"),
    ("fr", f"550{NBSP}000{NBSP}000{NBSP}000 USD", "550000000000", "USD"),
    ("fr", "un billion de yens, soit 1 billion ¥", "1000000000000", "JPY"),
    ("fr", "2,5 millions de tonnes", "2500000", "tonnes"),
    ("en", "550 billion dollars", "550000000000", "USD"),
    ("en", "$750 billion", "750000000000", "USD"),
    ("en", "$600bn", "600000000000", "USD"),
    ("en", "US$1.2 trillion", "1200000000000", "USD"),
    ("en", "¥1 trillion", "1000000000000", "JPY"),
    ("en", "€600 billion", "600000000000", "EUR"),
    ("en", "550 000 000 000 USD", "550000000000", "USD"),
    ("en", "$550,000,000,000", "550000000000", "USD"),
    ("en", "15%", "15", "percent"),
    ("en", "15 per cent", "15", "percent"),
    ("en", "2% of GDP", "2", "percent_gdp"),
    ("en", "2.5 percent of gross domestic product", "2.5", "percent_gdp"),
    ("en", "1.5 million tonnes", "1500000", "tonnes"),
    ("fr", "600 milliards de dollars US", "600000000000", "USD"),
    ("fr", "investir 600 milliards $ au Japon", "600000000000", "USD"),
    ("en", "$600 billion, Canada said", "600000000000", "USD"),
]


@pytest.mark.parametrize(("lang", "text", "amount", "unit"), TARGETS)
def test_a_target_gives_its_amount_and_unit(lang, text, amount, unit):
    found = propose(text, lang=lang, anchor=SUMMIT).target
    assert found is not None, text
    assert (found.amount, found.unit) == (Decimal(amount), unit)
    assert text[found.span.start : found.span.end] == found.phrase
    assert propose(text, lang=lang, anchor=SUMMIT).as_json()["target"]["amount"] == amount


NO_TARGET = [
    ("en", "C$500 million"),  # Canadian dollars: a unit the tracker does not have
    ("en", "1,5 billion dollars"),  # a French decimal comma in English: read two ways
    ("fr", "1.500 milliards de dollars"),
    ("en", "cut from 27.5% to 15%"),  # two different levels
    ("en", "up 2 percentage points"),
    ("en", "in 2025, 42 ministers met"),
    ("fr", "Le Japon renforcera sa coopération."),
    # Other dollars, and the yuan's ¥: a unit the tracker does not have, never USD or JPY.
    ("fr", "600 milliards de dollars canadiens"),
    ("fr", "600 milliards de dollars australiens"),
    ("fr", "600 milliards de dollars de Hong Kong"),
    ("fr", "600 milliards de dollars néo-zélandais"),
    ("fr", "600 milliards $ CA"),
    ("fr", "600 milliards $CA"),
    ("en", "$600 billion Canadian"),
    ("en", "$600 billion (CAD)"),
    ("en", "$600 billion in Canadian dollars"),
    ("en", "600 billion dollars Canadian"),
    ("en", "C$600bn"),
    ("en", "CA$600bn"),
    ("en", "A$600bn"),
    ("en", "HK$600bn"),
    ("en", "NZ$600bn"),
    ("en", "S$600bn"),
    ("en", "CN¥600bn"),
    ("en", "¥600 billion yuan"),
]


@pytest.mark.parametrize(("lang", "text"), NO_TARGET)
def test_an_unsure_or_unknown_target_gives_none(lang, text):
    assert propose(text, lang=lang, anchor=SUMMIT).target is None


def test_the_parser_units_are_units_of_the_model():
    assert set(UNITS) <= set(Unit.values)


# The answer as JSON ----------------------------------------------------------------------------


def test_the_json_answer_names_the_rule_parts_by_their_api_keys():
    answer = propose(
        "Le Japon portera ses dépenses à 2 % du PIB d’ici mars.", lang="fr", anchor=SUMMIT
    ).as_json()
    rule = answer["deadline"]
    assert {field.key for field in deadlines.RULE_FIELDS} <= set(rule)
    assert rule["kind"] == "period_end"
    assert rule["due_date"] == "2026-03-31"
    assert rule["precision"] == "month"
    assert rule["phrase"] == rule["source_phrase"] == "d’ici mars"
    assert (rule["period_unit"], rule["period_number"], rule["period_year"]) == ("month", 3, None)
    assert rule["span"] == [answer["deadline"]["span"][0], answer["deadline"]["span"][0] + 10]
    assert answer["effective_from"] is None
    assert answer["target"]["amount"] == "2"
    assert answer["target"]["unit"] == "percent_gdp"


# Properties: the rule computed through the engine gives the date the phrase states ---------------

EN_MONTHS = list(calendar.month_name)[1:]
FR_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre"]  # fmt: skip
EN_UNITS = {"days": "day", "weeks": "week", "months": "month", "years": "year"}
FR_UNITS = {"days": ("jour", "jours"), "weeks": ("semaine", "semaines"),
            "months": ("mois", "mois"), "years": ("an", "ans")}  # fmt: skip
EN_ORDINALS = ["first", "second", "third", "fourth"]
FR_ORDINALS = ["premier", "deuxième", "troisième", "quatrième"]

anchors = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31))


def _last_day(year, month):
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _plus_months(day, months):
    """Add months the way a reader does: same day of the month, or the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@st.composite
def relative_phrases(draw):
    lang = draw(st.sampled_from(LANGUAGES))
    unit = draw(st.sampled_from(list(OffsetUnit)))
    amount = draw(st.integers(1, 400 if unit == OffsetUnit.DAYS else 40))
    if lang == "en":
        word = EN_UNITS[unit] + ("s" if amount > 1 else "")
        text = draw(st.sampled_from(["within {n} {u}", "within the next {n} {u}",
                                     "no later than {n} {u} after the signing"]))  # fmt: skip
    else:
        word = FR_UNITS[unit][amount > 1]
        text = draw(st.sampled_from(["dans les {n} {u}", "dans un délai de {n} {u}",
                                     "{n} {u} après la signature", "d’ici {n} {u}"]))  # fmt: skip
    return lang, text.format(n=amount, u=word), amount, unit


@settings(max_examples=200, deadline=None)
@given(relative_phrases(), anchors)
def test_a_relative_phrase_counts_from_the_agreement_as_a_reader_would(phrase, anchor):
    lang, text, amount, unit = phrase
    found = deadline(text, lang, anchor)
    assert found is not None, text
    expected = {
        OffsetUnit.DAYS: anchor + dt.timedelta(days=amount),
        OffsetUnit.WEEKS: anchor + dt.timedelta(days=7 * amount),
        OffsetUnit.MONTHS: _plus_months(anchor, amount),
        OffsetUnit.YEARS: _plus_months(anchor, 12 * amount),
    }[unit]
    assert compute_due_date(found.rule, anchor) == expected == found.due_date


@st.composite
def period_phrases(draw):
    """Render a month (with or without a year), a quarter and year, a year, or a full date."""
    lang = draw(st.sampled_from(LANGUAGES))
    anchor = draw(anchors)
    kind = draw(st.sampled_from(["month", "month_year", "quarter", "year", "date"]))
    year = draw(st.integers(anchor.year, anchor.year + 8))
    month = draw(st.integers(1, 12))
    months = EN_MONTHS if lang == "en" else FR_MONTHS
    if kind == "month":
        text = f"by {months[month - 1]}" if lang == "en" else f"d’ici {months[month - 1]}"
        first = _last_day(anchor.year, month)
        due = first if first >= anchor else _last_day(anchor.year + 1, month)
        precision = Precision.MONTH
    elif kind == "month_year":
        year += _last_day(year, month) < anchor  # a deadline before the agreement gives none
        text = (f"by the end of {months[month - 1]} {year}" if lang == "en"
                else f"d’ici fin {months[month - 1]} {year}")  # fmt: skip
        due, precision = _last_day(year, month), Precision.MONTH
    elif kind == "quarter":
        quarter = draw(st.integers(1, 4))
        year += _last_day(year, quarter * 3) < anchor
        text = draw(st.sampled_from(
            [f"by the end of Q{quarter} {year}",
             f"by the end of the {EN_ORDINALS[quarter - 1]} quarter of {year}"]
            if lang == "en" else
            [f"d’ici la fin du T{quarter} {year}",
             f"d’ici la fin du {FR_ORDINALS[quarter - 1]} trimestre {year}"]))  # fmt: skip
        due, precision = _last_day(year, quarter * 3), Precision.QUARTER
    elif kind == "year":
        text = draw(st.sampled_from(
            [f"through {year}", f"by the end of {year}", f"by {year}"] if lang == "en"
            else [f"jusqu’en {year}", f"d’ici {year}", f"d’ici la fin de {year}"]))  # fmt: skip
        due, precision = dt.date(year, 12, 31), Precision.YEAR
    else:
        due = draw(st.dates(min_value=anchor, max_value=dt.date(anchor.year + 8, 12, 31)))
        name = months[due.month - 1]
        text = draw(st.sampled_from(
            [f"by {name} {due.day}, {due.year}", f"no later than {due.day} {name} {due.year}"]
            if lang == "en" else
            [f"au plus tard le {'1er' if due.day == 1 else due.day} {name} {due.year}"]
        ))  # fmt: skip
        precision = Precision.DAY
    return lang, text, anchor, due, precision


@settings(max_examples=300, deadline=None)
@given(period_phrases())
def test_a_period_or_date_phrase_is_due_when_the_phrase_says(phrase):
    lang, text, anchor, due, precision = phrase
    found = deadline(text, lang, anchor)
    assert found is not None, text
    assert compute_due_date(found.rule, anchor) == due == found.due_date, text
    assert found.precision == precision
    assert found.phrase == text


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.sampled_from(LANGUAGES), anchors)
def test_any_text_gives_an_answer_whose_spans_hold_its_phrases(text, lang, anchor):
    proposals = propose(text, lang=lang, anchor=anchor)
    for part in (proposals.deadline, proposals.effective_from, proposals.target):
        if part is not None:
            assert text[part.span.start : part.span.end] == part.phrase


# The seeds: every deadline the parser reads from their phrases and quotes is the seed's --------


def _seed_texts():
    sources = yaml.safe_load((SEEDS / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    language = {source["key"]: source["language"] for source in sources}
    for path in sorted((SEEDS / "agreements").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        anchor = data["agreement"]["date"]
        for commitment in data.get("commitments", []):
            quotes = [(language[c["source"]], c["quote"]) for c in commitment["citations"]]
            translations = [("en", c["translation"]) for c in commitment["citations"]
                            if c.get("translation")]  # fmt: skip
            phrase = commitment.get("deadline_phrase")
            phrase = [("fr", phrase)] if phrase else []
            yield commitment, anchor, phrase + quotes, translations


def test_every_deadline_read_from_the_seeds_is_the_seeds_own():
    """The quotes' targets and effective dates too; the translations (with the editors' notes
    in brackets) are checked for deadlines only."""
    recognised, with_deadline = 0, 0
    for commitment, anchor, texts, translations in _seed_texts():
        for lang, text in translations:
            proposals = propose(text, lang=lang, anchor=anchor)
            if proposals.deadline is not None:
                assert proposals.deadline.due_date == compute_due_date(
                    rule_from_stored({**deadlines.RULE_EMPTY_VALUES, **{
                        k: v for k, v in commitment.items() if k in deadlines.RULE_FIELD_NAMES}}),
                    anchor), (commitment["key"], text)
        stored = {**deadlines.RULE_EMPTY_VALUES, "anchor_kind": ""}
        stored.update({k: v for k, v in commitment.items() if k in deadlines.RULE_FIELD_NAMES})
        expected = compute_due_date(rule_from_stored(stored), anchor)
        with_deadline += expected is not None
        read = False
        for lang, text in texts:
            proposals = propose(text, lang=lang, anchor=anchor)
            if proposals.deadline is not None:
                assert proposals.deadline.due_date == expected, (commitment["key"], text)
                read = True
            if proposals.target is not None and commitment.get("target_unit"):
                assert proposals.target.unit == commitment["target_unit"], text
                assert proposals.target.amount == Decimal(str(commitment["target_amount"]))
            if proposals.effective_from is not None and commitment.get("effective_from"):
                assert proposals.effective_from.date == commitment["effective_from"], text
        recognised += read
    # Every seeded deadline (four) is read from its phrase or its quote.
    assert recognised == with_deadline == 4




@pytest.mark.parametrize(
    ("text", "lang", "due"),
    [
        ("The two sides will meet within 180 days to discuss the next steps.", "en", "2026-04-26"),
        ("Les parties se réuniront dans les 90 jours pour examiner la mise en œuvre.", "fr",
         "2026-01-26"),
        ("dans les 90 jours afin d’évaluer les progrès", "fr", "2026-01-26"),
    ],
)
def test_a_purpose_after_the_deadline_ends_its_clause(text, lang, due):
    proposal = propose(text, lang=lang, anchor=SUMMIT).deadline
    assert proposal is not None and proposal.due_date == dt.date.fromisoformat(due)


@pytest.mark.parametrize(
    ("text", "lang"),
    [("Elections within 90 days to the parliament.", "en"),
     ("dans les 90 jours pour la signature du traité", "fr")],
)
def test_an_event_after_to_or_pour_stays_unsure(text, lang):
    assert propose(text, lang=lang, anchor=SUMMIT).deadline is None
