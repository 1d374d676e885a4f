"""Words the review pages say about commitments, in the reader's language."""

from __future__ import annotations

import datetime as dt

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commitments import deadlines
from commitments.choices import AnchorKind, DeadlineKind
from commitments.models import Commitment


def _date(value: dt.date) -> str:
    return date_format(value, "DATE_FORMAT")


def _offset(amount: int, unit: str) -> str:
    if unit == "days":
        return ngettext("%(n)d day", "%(n)d days", amount) % {"n": amount}
    if unit == "weeks":
        return ngettext("%(n)d week", "%(n)d weeks", amount) % {"n": amount}
    if unit == "months":
        return ngettext("%(n)d month", "%(n)d months", amount) % {"n": amount}
    return ngettext("%(n)d year", "%(n)d years", amount) % {"n": amount}


def _period(commitment: Commitment) -> str:
    year = commitment.period_year
    if commitment.period_unit == "month" and commitment.period_number:
        month = date_format(
            deadlines.period_end(deadlines.PeriodUnit.MONTH, commitment.period_number, 2000),
            "F",
        )
        return (
            _("by the end of %(month)s %(year)s") % {"month": month, "year": year}
            if year
            else _("by the end of %(month)s") % {"month": month}
        )
    if commitment.period_unit == "quarter":
        return (
            _("by the end of Q%(q)s %(year)s") % {"q": commitment.period_number, "year": year}
            if year
            else _("by the end of Q%(q)s") % {"q": commitment.period_number}
        )
    return _("by the end of %(year)s") % {"year": year} if year else _("by the end of the year")


def rule_in_words(commitment: Commitment) -> str:
    """Return the rule and its result, e.g. "180 days after 28 Oct 2025 → 26 Apr 2026"."""
    kind = commitment.deadline_kind
    if kind == DeadlineKind.NONE:
        return _("No deadline (ongoing)")
    due = _date(commitment.due_date) if commitment.due_date else None
    if kind == DeadlineKind.FIXED:
        return _("On %(date)s") % {"date": due}
    if kind == DeadlineKind.PERIOD_END:
        words = _period(commitment)
        return f"{words} → {due}" if due else words
    offset = _offset(commitment.offset_amount or 0, commitment.offset_unit)
    if commitment.anchor_kind == AnchorKind.COMMITMENT and commitment.anchor_commitment:
        anchor = commitment.anchor_commitment
        if anchor.fulfilled_on is None:
            return _("%(offset)s after “%(title)s” is fulfilled (not yet)") % {
                "offset": offset,
                "title": anchor.title,
            }
        words = _("%(offset)s after “%(title)s” was fulfilled on %(date)s") % {
            "offset": offset,
            "title": anchor.title,
            "date": _date(anchor.fulfilled_on),
        }
    else:
        words = _("%(offset)s after %(date)s") % {
            "offset": offset,
            "date": _date(commitment.agreement.date),
        }
    return f"{words} → {due}" if due else words
