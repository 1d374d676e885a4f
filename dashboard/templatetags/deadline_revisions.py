"""Template filters of the deadline revisions' pages (issue 12)."""

from __future__ import annotations

import datetime as dt

from django import template

from commitments.deadlines.text import date_in_words

register = template.Library()


@register.filter
def precise_date(value: dt.date | None, precision: str = "") -> str:
    """Write ``value`` as precisely as it is known ("March 2026", « T1 2026 »); "" for none."""
    if value is None:
        return ""
    return date_in_words(value, precision)
