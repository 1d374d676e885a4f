"""The assessment method: the rating scale, its scores and how scores are averaged. No ORM.

Status records what happened (fulfilled on 3 March); a rating is our judgement of one
obligor's compliance with one commitment, made on a date, with a justification and, for a
judged rating, evidence. The scale covers what the G7 Research Group, the OGP's Independent
Reporting Mechanism and PolitiFact's meters use, each rating with a G7-style score:

* +1 kept (fulfilled);
* 0 compromise (partially fulfilled) and in the works;
* -1 stalled and broken (missed);
* no score: not yet rated, not verifiable, cancelled or superseded. These are left out of
  every average and counted separately, so that "nobody has looked" never reads as
  "in progress".

:data:`SCALE` is the one definition: the model's choices, the services' checks, the
compliance tables, the reports, the charts and the methodology page read it.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_noop


class Rating(enum.StrEnum):
    """One step of the rating scale. ``NOT_RATED`` is the absence of a rating, never stored."""

    NOT_RATED = "not_rated"
    IN_THE_WORKS = "in_the_works"
    STALLED = "stalled"
    KEPT = "kept"
    COMPROMISE = "compromise"
    BROKEN = "broken"
    NOT_VERIFIABLE = "not_verifiable"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class RatingRule:
    """What a rating means and how it counts.

    ``score`` is the G7-style score, or ``None`` for a rating left out of averages;
    ``judged`` ratings state a finding about compliance and need evidence; ``meaning`` and
    ``why_unscored`` are the methodology's words (marked for translation, translated where
    shown).
    """

    rating: Rating
    label: str
    score: int | None
    judged: bool
    meaning: str
    why_unscored: str = ""

    @property
    def scored(self) -> bool:
        """Return whether the rating counts in averages."""
        return self.score is not None


#: The scale, in the order the methodology and the tables show it.
SCALE: tuple[RatingRule, ...] = (
    RatingRule(
        Rating.KEPT,
        gettext_noop("Kept"),
        1,
        True,
        gettext_noop(
            "The obligor did what it promised, in full. Fulfilled, in the G7 Research "
            "Group's words: full compliance."
        ),
    ),
    RatingRule(
        Rating.COMPROMISE,
        gettext_noop("Compromise"),
        0,
        True,
        gettext_noop(
            "The obligor did part of what it promised, or something less than it promised: "
            "partial compliance."
        ),
    ),
    RatingRule(
        Rating.IN_THE_WORKS,
        gettext_noop("In the works"),
        0,
        False,
        gettext_noop(
            "The obligor has taken steps toward the promise and its deadline has not passed: "
            "work in progress, scored as partial compliance."
        ),
    ),
    RatingRule(
        Rating.STALLED,
        gettext_noop("Stalled"),
        -1,
        False,
        gettext_noop(
            "No step toward the promise can be found, or the work has stopped: no compliance "
            "so far, scored as the G7 Research Group scores a member that has not acted."
        ),
    ),
    RatingRule(
        Rating.BROKEN,
        gettext_noop("Broken"),
        -1,
        True,
        gettext_noop(
            "The obligor missed the promise or acted against it: no compliance. Missed, in "
            "the status's words."
        ),
    ),
    RatingRule(
        Rating.NOT_VERIFIABLE,
        gettext_noop("Not verifiable"),
        None,
        False,
        gettext_noop("Public evidence does not show either way whether the obligor complied."),
        gettext_noop("Scoring it would guess: it is counted apart and left out of the average."),
    ),
    RatingRule(
        Rating.CANCELLED,
        gettext_noop("Cancelled or superseded"),
        None,
        False,
        gettext_noop(
            "The promise no longer stands: the parties dropped it or replaced it with another."
        ),
        gettext_noop(
            "There is nothing left to comply with: it is counted apart and left out of the average."
        ),
    ),
    RatingRule(
        Rating.NOT_RATED,
        gettext_noop("Not yet rated"),
        None,
        False,
        gettext_noop("Nobody has assessed this obligor's compliance yet."),
        gettext_noop(
            "An empty rating is not a middle score: it is counted apart and left out of the "
            "average, never read as 0."
        ),
    ),
)

RULES: dict[Rating, RatingRule] = {rule.rating: rule for rule in SCALE}
#: The ratings an editor may record (``NOT_RATED`` is the absence of one).
RECORDABLE: tuple[Rating, ...] = tuple(
    rule.rating for rule in SCALE if rule.rating != Rating.NOT_RATED
)
#: Ratings that state a finding and need evidence.
JUDGED: tuple[Rating, ...] = tuple(rule.rating for rule in SCALE if rule.judged)
#: Ratings that count in averages, and those counted apart.
SCORED: tuple[Rating, ...] = tuple(rule.rating for rule in SCALE if rule.scored)
UNSCORED: tuple[Rating, ...] = tuple(rule.rating for rule in SCALE if not rule.scored)
#: The score range, for the methodology and the charts' axes.
SCORE_MIN, SCORE_MAX = -1, 1


def score(rating: str | None) -> int | None:
    """Return the rating's score, or ``None`` if it is left out of averages (or absent)."""
    if not rating:
        return None
    # A rating's value finds its rule directly (a StrEnum member hashes as its value); only
    # an unknown value goes through ``Rating()``, which refuses it with a ValueError.
    rule = RULES.get(rating)  # type: ignore[call-overload]
    return (rule or RULES[Rating(rating)]).score


@dataclass(frozen=True)
class Tally:
    """How a set of ratings counts: the scored ones' average and every rating's count."""

    counts: dict[Rating, int]

    @classmethod
    def of(cls, ratings: Iterable[str | None]) -> Tally:
        """Count ``ratings`` (``None`` or ``""`` for a row nobody has rated)."""
        counts = dict.fromkeys((rule.rating for rule in SCALE), 0)
        # Counted by value first, then each distinct value checked once: a table's thousand
        # rows hold a handful of values, and ``Rating()`` costs more than the count.
        for rating, n in Counter(ratings).items():
            counts[Rating(rating) if rating else Rating.NOT_RATED] += n
        return cls(counts)

    @property
    def scored(self) -> int:
        """Return how many rows count in the average."""
        return sum(self.counts[rating] for rating in SCORED)

    @property
    def unscored(self) -> int:
        """Return how many rows are counted apart (unrated, not verifiable, cancelled)."""
        return sum(self.counts[rating] for rating in UNSCORED)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def average(self) -> Decimal | None:
        """Return the scored rows' mean score, to two places, or ``None`` if none is scored."""
        if not self.scored:
            return None
        total = sum(self.counts[rating] * (RULES[rating].score or 0) for rating in SCORED)
        return (Decimal(total) / self.scored).quantize(Decimal("0.01"))

    @property
    def percent(self) -> Decimal | None:
        """Return the average on a 0-100 scale (-1 is 0 %, +1 is 100 %), as the G7 reports do.

        Computed from the exact mean, not from the average rounded to two places (2/3 is
        83 %, not the 84 % that 0.67 would give).
        """
        if not self.scored:
            return None
        total = sum(self.counts[rating] * (RULES[rating].score or 0) for rating in SCORED)
        exact = Decimal(total) / self.scored
        return ((exact - SCORE_MIN) * 100 / (SCORE_MAX - SCORE_MIN)).quantize(Decimal("1"))
