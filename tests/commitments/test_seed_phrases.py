"""Each deadline phrase in the seeds gives the date a reader of the source text expects."""

# The phrases are quoted verbatim, with the sources' typographic apostrophes.

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from commitments.deadlines import (
    DeadlineRule,
    OffsetUnit,
    PeriodUnit,
    RuleKind,
    compute_due_date,
    due_instant,
)
from commitments.models import Commitment

SUMMIT_DAY = dt.date(2025, 10, 28)

#: Each phrase used in seeds/, the rule it is stored as, and an example reading.
PHRASE_RULES = {
    "dans les 180 jours": DeadlineRule(
        kind=RuleKind.RELATIVE, offset_amount=180, offset_unit=OffsetUnit.DAYS
    ),
    "Dans les six mois": DeadlineRule(
        kind=RuleKind.RELATIVE, offset_amount=6, offset_unit=OffsetUnit.MONTHS
    ),
    "d’ici mars": DeadlineRule(
        kind=RuleKind.PERIOD_END, period_unit=PeriodUnit.MONTH, period_number=3
    ),
    "l’année prochaine": DeadlineRule(
        kind=RuleKind.PERIOD_END, period_unit=PeriodUnit.YEAR, period_year=2026
    ),
}


def test_within_180_days_of_the_summit_is_26_april_2026():
    """180 calendar days after 28 October 2025, counting the days after the signing."""
    assert compute_due_date(PHRASE_RULES["dans les 180 jours"], SUMMIT_DAY) == dt.date(2026, 4, 26)


def test_within_six_months_of_the_summit_is_28_april_2026():
    assert compute_due_date(PHRASE_RULES["Dans les six mois"], SUMMIT_DAY) == dt.date(2026, 4, 28)


def test_within_six_months_of_31_august_clamps_to_the_end_of_february():
    rule = PHRASE_RULES["Dans les six mois"]
    assert compute_due_date(rule, dt.date(2025, 8, 31)) == dt.date(2026, 2, 28)
    assert compute_due_date(rule, dt.date(2023, 8, 31)) == dt.date(2024, 2, 29)


def test_by_march_said_in_october_is_the_end_of_next_march():
    assert compute_due_date(PHRASE_RULES["d’ici mars"], SUMMIT_DAY) == dt.date(2026, 3, 31)


def test_by_march_said_in_march_is_the_end_of_this_march():
    assert compute_due_date(PHRASE_RULES["d’ici mars"], dt.date(2026, 3, 10)) == dt.date(
        2026, 3, 31
    )


def test_next_year_said_in_2025_is_the_end_of_2026():
    assert compute_due_date(PHRASE_RULES["l’année prochaine"], SUMMIT_DAY) == dt.date(2026, 12, 31)


def test_a_deadline_ends_at_midnight_tokyo_time():
    assert due_instant(dt.date(2026, 4, 26), "Asia/Tokyo") == dt.datetime(
        2026, 4, 26, 14, 59, 59, 999999, tzinfo=dt.UTC
    )


@pytest.mark.django_db
def test_every_seeded_phrase_is_stored_as_the_rule_tested_here():
    """A new phrase in seeds/ needs its own example above; a changed rule fails here."""
    call_command("loadseeds", stdout=StringIO())
    seeded = Commitment.objects.exclude(deadline_phrase="").select_related("agreement")
    assert {c.deadline_phrase for c in seeded} == set(PHRASE_RULES)
    for c in seeded:
        rule = PHRASE_RULES[c.deadline_phrase]
        assert c.rule == rule, c.key
        assert c.due_date == compute_due_date(rule, c.agreement.date), c.key
