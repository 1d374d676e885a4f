"""What the parser proposes: a deadline rule, an effective-from date and a target, with spans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from commitments import deadlines


@dataclass(frozen=True)
class Span:
    """Offsets into the text given: ``text[start:end]`` is the phrase."""

    start: int
    end: int


@dataclass(frozen=True)
class DeadlineProposal:
    """A deadline rule read from a phrase, and the due date it gives for the anchor given.

    ``anchor_kind`` is ``"agreement"`` for a relative rule (the parser only reads offsets from
    the agreement's date) and empty otherwise; ``due_date`` is ``None`` where the rule needs
    an anchor that was not given; ``precision`` is how precisely the due date is known.
    """

    rule: deadlines.DeadlineRule
    anchor_kind: str
    due_date: dt.date | None
    precision: deadlines.Precision
    phrase: str
    span: Span

    def stored(self) -> dict[str, Any]:
        """Return every stored rule field (``RULE_FIELDS`` names) as a commitment keeps it."""
        rule = self.rule
        values: dict[str, Any] = dict(deadlines.RULE_EMPTY_VALUES)
        values.update(
            {
                "deadline_phrase": self.phrase,
                "deadline_kind": rule.kind.value,
                "anchor_kind": self.anchor_kind,
            }
        )
        if rule.kind == deadlines.RuleKind.FIXED:
            values["deadline_date"] = rule.fixed_date
            values["deadline_precision"] = (rule.precision or deadlines.Precision.DAY).value
        elif rule.kind == deadlines.RuleKind.RELATIVE:
            values["offset_amount"] = rule.offset_amount
            values["offset_unit"] = rule.offset_unit.value if rule.offset_unit else ""
        elif rule.kind == deadlines.RuleKind.PERIOD_END:
            values["period_unit"] = rule.period_unit.value if rule.period_unit else ""
            values["period_number"] = rule.period_number
            values["period_year"] = rule.period_year
        return values

    def as_json(self) -> dict[str, Any]:
        """Return the proposal as JSON values, each stored part under its API key.

        ``precision`` is the due date's precision (for a fixed rule, also its stored one).
        """
        stored = self.stored()
        answer: dict[str, Any] = {
            field.key: _json_value(stored[field.name]) for field in deadlines.RULE_FIELDS
        }
        answer.update(
            {
                "kind": self.rule.kind.value,
                "due_date": _json_value(self.due_date),
                "phrase": self.phrase,
                "precision": self.precision.value,
                "span": [self.span.start, self.span.end],
            }
        )
        return answer


@dataclass(frozen=True)
class DateProposal:
    """A date read from a phrase; one known to the month is its first day (it starts something)."""

    date: dt.date
    precision: deadlines.Precision
    phrase: str
    span: Span


@dataclass(frozen=True)
class TargetProposal:
    """A measurable target: an amount in one of the units of ``commitments.choices.Unit``."""

    amount: Decimal
    unit: str
    phrase: str
    span: Span

    def amount_text(self) -> str:
        """Return the amount in plain decimal notation, without exponent or trailing zeros."""
        text = format(self.amount.normalize(), "f")
        return text


@dataclass(frozen=True)
class Proposals:
    """The parser's answer for one text: each part, or ``None`` where it is unsure."""

    deadline: DeadlineProposal | None
    effective_from: DateProposal | None
    target: TargetProposal | None

    def as_json(self) -> dict[str, Any]:
        """Return the answer of ``parse_commitment_text`` and of ``POST /api/v1/parse/``."""
        effective = self.effective_from
        target = self.target
        return {
            "deadline": self.deadline.as_json() if self.deadline else None,
            "effective_from": effective.date.isoformat() if effective else None,
            "effective_from_precision": effective.precision.value if effective else None,
            "effective_from_phrase": effective.phrase if effective else None,
            "effective_from_span": [effective.span.start, effective.span.end]
            if effective
            else None,
            "target": {
                "amount": target.amount_text(),
                "unit": target.unit,
                "phrase": target.phrase,
                "span": [target.span.start, target.span.end],
            }
            if target
            else None,
        }


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


#: No proposal at all: what an unknown language or an empty text gets.
NOTHING = Proposals(deadline=None, effective_from=None, target=None)
