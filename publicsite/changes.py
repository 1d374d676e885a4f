"""The change log in public: what changed in a week, and the corrections log.

Both render :func:`commitments.changes.public_changes`, the rows the Atom feeds carry
(:mod:`publicsite.feeds`), in the URL's language. Neither reads the user or the session.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commitments import changes as log
from commitments.changes import Change, public_changes
from core.dates import YEAR_MAX, YEAR_MIN

from .context import public_context
from .feeds import change_headline, change_permalink
from .i18n import public_view

#: Corrections on one page of the log.
CORRECTIONS_PER_PAGE = 50

_WEEK = re.compile(r"(?P<year>\d{4})-W(?P<week>\d{2})")


@dataclass(frozen=True)
class Entry:
    """A change as a page lists it: the change, its headline and its permalink."""

    change: Change
    headline: str
    link: str


def _entries(changes: list[Change], lang: str) -> list[Entry]:
    return [Entry(c, change_headline(c), change_permalink(c, lang)) for c in changes]


def _site_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def week_label(monday: dt.date) -> str:
    """Return a week's ``?week=`` value: ``2026-W49``."""
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def week_parse(value: str) -> dt.date | None:
    """Return the Monday of the ISO week ``value`` names (``2026-W49``), or None."""
    match = _WEEK.fullmatch(value.strip())
    if match is None:
        return None
    year = int(match["year"])
    if not YEAR_MIN <= year <= YEAR_MAX:  # the weeks around it must exist too
        return None
    try:
        return dt.date.fromisocalendar(year, int(match["week"]), 1)
    except ValueError:  # week 00, week 53 of a 52-week year
        return None


def change_counts(changes: list[Change]) -> str:
    """Return "3 status changes, 1 rating, …": how many changes of each kind, in words."""
    counts = Counter(change.kind for change in changes)
    words = {
        log.STATUS: lambda n: ngettext("%(count)d status change", "%(count)d status changes", n),
        log.RATING: lambda n: ngettext("%(count)d rating", "%(count)d ratings", n),
        log.DEADLINE: lambda n: ngettext(
            "%(count)d deadline change", "%(count)d deadline changes", n
        ),
        log.CORRECTION: lambda n: ngettext("%(count)d correction", "%(count)d corrections", n),
    }
    return ", ".join(
        words[kind](counts[kind]) % {"count": counts[kind]} for kind in log.KINDS if counts[kind]
    )


def _days(entries: list[Entry], zone: ZoneInfo) -> list[tuple[dt.date, list[Entry]]]:
    """Group ``entries`` (newest first) by the day they were recorded, in ``zone``."""
    days: dict[dt.date, list[Entry]] = {}
    for entry in entries:
        days.setdefault(timezone.localtime(entry.change.at, zone).date(), []).append(entry)
    return list(days.items())


@public_view
def week(request: HttpRequest, lang: str) -> HttpResponse:
    """What changed in one ISO week (Monday to Sunday in the site's zone): this one by default."""
    zone = _site_zone()
    today = timezone.localtime(timezone.now(), zone).date()
    this_monday = today - dt.timedelta(days=today.weekday())
    asked = request.GET.get("week")
    monday = this_monday if asked is None else week_parse(asked)
    context: dict[str, Any] = {**public_context(request), "feed_lang": lang}
    if monday is None:
        context["error"] = _(
            "“%(value)s” is not a week: write the year, a W and the week's number, "
            "as in %(example)s."
        ) % {"value": asked, "example": week_label(this_monday)}
        return render(request, "public/week.html", context, status=400)
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time.min, tzinfo=zone)
    changes = public_changes(since=start, until=end, language=lang)
    previous = monday - dt.timedelta(days=7)
    following = monday + dt.timedelta(days=7)
    context.update(
        {
            "monday": monday,
            "sunday": monday + dt.timedelta(days=6),
            "week": week_label(monday),
            "is_current": monday == this_monday,
            "is_future": monday > this_monday,
            "previous_week": week_label(previous),
            "next_week": week_label(following) if following <= this_monday else None,
            "days": _days(_entries(changes, lang), zone),
            "summary": change_counts(changes),
        }
    )
    return render(request, "public/week.html", context)


@public_view
def corrections(request: HttpRequest, lang: str) -> HttpResponse:
    """Every public correction, newest first, fifty to a page."""
    changes = public_changes(kinds=(log.CORRECTION,), language=lang)
    page = Paginator(changes, CORRECTIONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        **public_context(request),
        "page": page,
        "entries": _entries(list(page.object_list), lang),
    }
    return render(request, "public/corrections.html", context)
