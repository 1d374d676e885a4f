"""The rules across a commitment's implementation stages: one pure function, no ORM.

The stages are the dates a trade or policy analyst tracks beside the deadline: announced,
signed, a legal instrument (title and URL), effective from, in force, ended (and why, and what
replaced it). :func:`stage_errors` judges them together; ``Commitment.clean()`` calls it, so
the admin, the API, the seed loader, the CSV import and the services refuse the same input
with the same field and reason.

Decisions:

- An announcement comes before the signature, and both before the entry into force.
- "Effective from" may come before the signature or the announcement: a retroactive measure
  (the 15 % tariff signed on 4 September 2025 applies to goods entered from 7 August) is
  allowed and shown as retroactive, never refused.
- Nothing ends before it was announced, signed, in force or effective.
- An end date needs its reason and a reason its end date; only a replaced measure names what
  replaced it, and never itself. A replaced measure may leave the replacement empty: it may be
  outside the tracker.
- An instrument's URL needs its title: a bare link tells the reader nothing; a title without
  a URL is fine (an order not yet published online).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from .choices import EndReason
from .deadlines.text import date_formatted

#: The stage columns of a commitment, in the order forms, the API and the page show them.
STAGE_FIELDS = (
    "announced_on",
    "signed_on",
    "instrument_title",
    "instrument_url",
    "effective_from",
    "effective_from_precision",
    "in_force_on",
    "ended_on",
    "ended_reason",
    "replaced_by",
)

#: The dates that must come in this order, each with the word the messages use for it.
_ORDERED = ("announced_on", "signed_on", "in_force_on")


def _labels() -> dict[str, str]:
    return {
        "announced_on": _("the announcement"),
        "signed_on": _("the signature"),
        "in_force_on": _("the entry into force"),
        "effective_from": _("the effective date"),
    }


def _day(value: dt.date) -> str:
    return date_formatted(value)


def stage_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Return the stage fields of ``values`` that break the stage rules, with the reason.

    ``values`` maps the names of :data:`STAGE_FIELDS` to their values (missing ones count as
    empty; ``replaced_by`` is the replacement's id) and ``id`` to the commitment's own id, if
    it has one. The first rule a field breaks is its message.
    """
    labels = _labels()
    errors: dict[str, str] = {}
    dates: dict[str, dt.date] = {
        name: values[name]
        for name in (*_ORDERED, "effective_from", "ended_on")
        if values.get(name) is not None
    }
    for later_index, later in enumerate(_ORDERED):
        for earlier in _ORDERED[:later_index]:
            if later in dates and earlier in dates and dates[later] < dates[earlier]:
                errors.setdefault(
                    later,
                    _("%(this)s (%(date)s) cannot come before %(other)s (%(other_date)s).")
                    % {
                        "this": labels[later][:1].upper() + labels[later][1:],
                        "date": _day(dates[later]),
                        "other": labels[earlier],
                        "other_date": _day(dates[earlier]),
                    },
                )
    ended_on = dates.get("ended_on")
    if ended_on:
        for name in ("effective_from", *_ORDERED):
            if name in dates and ended_on < dates[name]:
                errors["ended_on"] = _(
                    "It cannot end (%(date)s) before %(other)s (%(other_date)s)."
                ) % {"date": _day(ended_on), "other": labels[name], "other_date": _day(dates[name])}
                break
    reason = values.get("ended_reason") or ""
    if ended_on and not reason:
        errors["ended_reason"] = _("Say why it ended: expired, withdrawn or replaced.")
    if reason and not ended_on:
        errors.setdefault("ended_on", _("A reason for the end needs the date it ended."))
    replaced_by = values.get("replaced_by")
    if replaced_by is not None:
        if reason != EndReason.REPLACED:
            errors["replaced_by"] = _(
                "Only a commitment that ended because it was replaced names its replacement."
            )
        elif values.get("id") is not None and replaced_by == values.get("id"):
            errors["replaced_by"] = _("A commitment cannot replace itself.")
    if values.get("instrument_url") and not values.get("instrument_title"):
        errors["instrument_title"] = _("Give the instrument's title with its URL.")
    return errors


def is_retroactive(
    *, effective_from: dt.date | None, signed_on: dt.date | None, announced_on: dt.date | None
) -> bool:
    """Return whether the measure takes effect before it was signed (or, unsigned, announced)."""
    decided = signed_on or announced_on
    return bool(effective_from and decided and effective_from < decided)


#: The stage dates an agreement's timeline marks, in their order.
TIMELINE_STAGES = (
    ("announced", "announced_on"),
    ("signed", "signed_on"),
    ("in_force", "in_force_on"),
    ("ended", "ended_on"),
)


def stage_dates(commitment: Any) -> tuple[tuple[str, dt.date], ...]:
    """Return the stage dates ``commitment`` has, as ``(kind, date)`` for the timeline."""
    return tuple(
        (kind, getattr(commitment, name))
        for kind, name in TIMELINE_STAGES
        if getattr(commitment, name) is not None
    )
