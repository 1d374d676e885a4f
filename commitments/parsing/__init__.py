"""The text parser: deadline rules, effective-from dates and targets read from French and English.

A pure module (no ORM): :func:`propose` reads a passage of a source, in English or French,
and proposes a deadline rule (with its phrase, due date and precision), an effective-from date
and a measurable target, each with the span of text it came from. The workbench, the CSV
import, the ``parse_commitment_text`` command and ``POST /api/v1/parse/`` all call it.

When unsure it proposes nothing, part by part: a wrong date is worse than none. A part is left
out when the text holds two different readings of it ("within 90 days … through 2028"), a
phrase the engine cannot state ("by mid-2026", "as soon as possible", "90 business days", a
deadline counted from another event than the agreement), a lower bound ("not until 2028", "at
least 90 days after"), a date before the agreement's ("By 2019, exports had doubled"), an
unknown unit (another dollar than the US one), or when the text is
in another language than English or French. A relative rule, or a month or quarter without a
year, counts from ``anchor`` (the agreement's date); without it the rule is still proposed,
with no due date; a phrase whose meaning needs the anchor ("next year", "retroactive to
August", "by 1 July") gives nothing without it.

The grammars are ours (regular expressions compiled once, about a millisecond a call):
``dateparser`` reads absolute dates but no deadline phrase ("d’ici mars", "within 180 days"),
guesses a missing year or day from today's date, and costs far more per call than the CSV
import can afford per row; ``number-parser`` has no French; ``price-parser`` ignores scale
words (« milliards »). See the README.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from commitments.deadlines import (
    DeadlineRule,
    RuleError,
    compute_due_date,
    rule_precision,
)

from . import deadline_phrases, effective, targets
from .matching import choose, find_all
from .proposals import (
    NOTHING,
    DateProposal,
    DeadlineProposal,
    Proposals,
    Span,
    TargetProposal,
)

__all__ = [
    "LANGUAGES",
    "MAX_TEXT_LENGTH",
    "DateProposal",
    "DeadlineProposal",
    "Proposals",
    "Span",
    "TargetProposal",
    "propose",
]

#: The languages the grammars know; any other gets no proposal.
LANGUAGES = ("en", "fr")
#: The longest text the command and the API accept: a long passage, not a whole report.
MAX_TEXT_LENGTH = 20_000


def propose(text: str, *, lang: str, anchor: dt.date | None) -> Proposals:
    """Return what ``text`` (in ``lang``) proposes, each part ``None`` where it is unsure.

    ``anchor`` is the agreement's date: relative rules and periods without a year count
    from it, retroactive dates reach back from it.
    """
    if lang not in LANGUAGES or not text.strip():
        return NOTHING
    return Proposals(
        deadline=_deadline(text, lang, anchor),
        effective_from=effective.propose(text, lang, anchor),
        target=targets.propose(text, lang),
    )


def _deadline(text: str, lang: str, anchor: dt.date | None) -> DeadlineProposal | None:
    found = choose(find_all(deadline_phrases.GRAMMARS[lang], text, anchor))
    if found is None:
        return None
    rule, anchor_kind = cast(tuple[DeadlineRule, str], found.meaning)
    try:
        due = compute_due_date(rule, anchor)
    except RuleError:
        return None  # a date outside the product's range is no proposal
    if due is not None and anchor is not None and due < anchor:
        return None  # "By 2019, exports had doubled": a past date, no deadline of the agreement
    return DeadlineProposal(
        rule=rule,
        anchor_kind=anchor_kind,
        due_date=due,
        precision=rule_precision(rule),
        phrase=text[found.start : found.end],
        span=Span(found.start, found.end),
    )


def as_json(proposals: Proposals) -> dict[str, Any]:
    """Return ``proposals`` as the command and the API print them."""
    return proposals.as_json()
