"""Template filters of the review pages: amounts and dates in the reader's locale."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commitments.choices import deadline_state_label as state_label
from commitments.deadlines import text as deadline_text
from core import roles

register = template.Library()


def _with_unit(number: str, count: Decimal, unit: str) -> str:
    # Each language places the unit itself: "$550,000,000,000" but "550 000 000 000 $".
    if unit == "USD":
        return _("$%(n)s") % {"n": number}
    if unit == "JPY":
        return _("¥%(n)s") % {"n": number}
    if unit == "EUR":
        return _("€%(n)s") % {"n": number}
    if unit == "percent":
        return _("%(n)s%%") % {"n": number}
    if unit == "percent_gdp":
        return _("%(n)s%% of GDP") % {"n": number}
    if unit == "tonnes":
        return ngettext("%(n)s tonne", "%(n)s tonnes", int(count)) % {"n": number}
    if unit == "meetings":
        return ngettext("%(n)s meeting", "%(n)s meetings", int(count)) % {"n": number}
    return ngettext("%(n)s unit", "%(n)s units", int(count)) % {"n": number}


@register.filter
def amount(value: Decimal | None, unit: str) -> str:
    """Return ``value`` grouped, with its unit, as the reader's language writes it."""
    if value is None:
        return ""
    places = 0 if value == value.to_integral_value() else 2
    number = number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)
    return _with_unit(number, value, unit)


def _scaled(value: Decimal) -> tuple[Decimal, str]:
    """Return ``value`` divided by its scale (thousand ... trillion) and the scale's pattern."""
    size = abs(value)
    if size >= 10**12:
        return value / 10**12, _("%(n)s tn")
    if size >= 10**9:
        return value / 10**9, _("%(n)s bn")
    if size >= 10**6:
        return value / 10**6, _("%(n)s m")
    if size >= 10**4:
        return value / 10**3, _("%(n)s k")
    return value, "%(n)s"


@register.filter
def amount_short(value: Decimal | None, unit: str) -> str:
    """Return ``value`` rounded to its scale, with its unit: "$260 bn", « 260 Md $ ».

    For axes and summaries where the full figure ("$260,000,000,000") is too long to read.
    """
    if value is None:
        return ""
    # Shares are never large: "15%" stays as it is.
    if unit in ("percent", "percent_gdp"):
        scaled, pattern = Decimal(value), "%(n)s"
    else:
        scaled, pattern = _scaled(Decimal(value))
    places = 0 if scaled == scaled.to_integral_value() or abs(scaled) >= 100 else 1
    number = number_format(
        scaled.quantize(Decimal(1).scaleb(-places)),
        decimal_pos=places,
        use_l10n=True,
        force_grouping=True,
    )
    return _with_unit(pattern % {"n": number}, Decimal(value), unit)


@register.filter
def date_in_words(value: dt.date | None, precision: str | None = None) -> str:
    """Return a date as precisely as it is known: "March 31, 2026", "March 2026", "Q1 2026".

    ``{{ c.due_date|date_in_words:c.due_precision }}``; every page that shows a due date or
    an effective-from date writes it with this (``commitments.deadlines.text``'s words).
    """
    return deadline_text.due_in_words(value, precision or None)


@register.filter
def recurrence_in_words(commitment: Any) -> str:
    """Return how ``commitment`` recurs, in words (``deadlines.text.recurrence_in_words``)."""
    return deadline_text.recurrence_in_words(commitment.recurrence_rule)


@register.filter
def deadline_state_label(item: Any) -> str:
    """Return a commitment's or an occurrence's deadline state as a reader reads it."""
    return state_label(status=item.status, state=item.deadline_state)


@register.filter
def item(mapping: dict[Any, Any], key: Any) -> Any:
    """Return ``mapping[key]`` (``""`` if absent): ``{{ commitment_urls|item:c.pk }}``."""
    return mapping.get(key, "")


@register.filter
def can_write(user: Any) -> bool:
    """Return whether ``user`` may change the tracker's data (:func:`core.roles.can_write`):
    the rule the workbench and the import pages apply, read from the roles the request has
    already read, so the menu costs no permission query."""
    return roles.can_write(user)
