"""Template filters for ratings and scores, shared by the pages, the reports and their PDF."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from commitments.assessment import UNSCORED
from commitments.choices import rating_label as _rating_label
from commitments.deadlines import text as deadline_text

register = template.Library()


@register.filter
def rating_label(rating: str | None) -> str:
    """Return a rating as a reader reads it: ``"kept"`` is "Kept", an empty one "Not yet rated"."""
    return _rating_label(rating)


@register.filter
def signed_score(score: int | None) -> str:
    """Return a score as the method writes it: +1, 0, −1, or a dash for a row not scored."""
    if score is None:
        return "—"
    if score > 0:
        return f"+{score}"
    return f"−{-score}" if score < 0 else "0"


@register.filter
def average(value: Decimal | None) -> str:
    """Return an average score to two places in the reader's locale, signed; a dash if none."""
    if value is None:
        return "—"
    number = number_format(abs(value), decimal_pos=2, use_l10n=True)
    return ("−" if value < 0 else "+" if value > 0 else "") + number


@register.filter
def percent(value: Decimal | None) -> str:
    """Return a G7 percentage ("67 %" in French, "67%" in English); a dash if none."""
    if value is None:
        return "—"
    return _("%(n)s%%") % {"n": number_format(value, decimal_pos=0, use_l10n=True)}


@register.filter
def day(value: dt.date | None) -> str:
    """Return a day in words, as every page writes dates (``deadlines.text.due_in_words``)."""
    return deadline_text.due_in_words(value, None) if value else "—"


@register.filter
def excerpt(text: str, words: int = 30) -> str:
    """Return the first ``words`` words of ``text``, with an ellipsis if it is longer."""
    parts = (text or "").split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


@register.filter
def unscored_counts(tally: Any) -> list[tuple[str, int]]:
    """Return the tally's rows counted apart, as (label, count) for each kind present."""
    return [(_rating_label(r), tally.counts[r]) for r in UNSCORED if tally.counts[r]]
