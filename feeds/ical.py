"""Build an RFC 5545 calendar of deadlines with the icalendar library; no ORM here.

Each deadline is an all-day event on its due date, with a UID that depends only on the
commitment's id (a renamed commitment stays the same event in the subscriber's calendar) and
alarms at 09:00 local time on each lead day.

A recurring commitment is one event per occurrence written so far, each with its own UID (the
commitment's id and the occurrence's number), status and alarms, rather than one event with an
RRULE: an RRULE cannot carry a status per occurrence (a fulfilled one keeps no alarms, an
overdue one is marked), and it cannot say "every month counted from 31 January" exactly
(BYMONTHDAY=31 skips the short months, BYMONTHDAY=-1 moves a 30th anchor to the 31st).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commitments.deadlines.text import due_in_words

PRODID = "-//Commitment Tracker//Deadline calendar//EN"
#: How often subscribers should fetch the feed again (RFC 7986 REFRESH-INTERVAL).
REFRESH_INTERVAL = dt.timedelta(hours=1)
#: Alarms ring at this time of the local day, not at midnight.
ALARM_TIME_OF_DAY = dt.timedelta(hours=9)
OVERDUE_PREFIX = "[OVERDUE] "


@dataclass(frozen=True, slots=True)
class DeadlineEvent:
    """What the calendar shows about one commitment's deadline."""

    commitment_id: int
    title: str
    due_date: dt.date
    due_at: dt.datetime
    time_zone: str
    agreement_title: str
    #: Every party bound, the obligor first.
    obligor_names: Sequence[str]
    category_label: str
    status_label: str
    rule_words: str
    deadline_phrase: str
    url: str
    overdue: bool
    cancelled: bool
    lead_days: Sequence[int]
    last_modified: dt.datetime
    #: The occurrence's number, for one occurrence of a recurring commitment.
    occurrence: int | None = None
    #: How precisely the due date is known ("month": written "March 2026").
    due_precision: str = ""
    #: How the due date was reached (``commitments.deadlines.text.deadline_explanation``).
    explanation: str = ""


def event_uid(*, commitment_id: int, host: str, occurrence: int | None = None) -> str:
    """Return the stable UID of a commitment's deadline event, or of one of its occurrences."""
    if occurrence is not None:
        return f"commitment-{commitment_id}-occurrence-{occurrence}-due@{host}"
    return f"commitment-{commitment_id}-due@{host}"


def alarm_trigger(lead_days: int) -> dt.timedelta:
    """Return the alarm offset from the start of the due date for a lead time.

    ``lead_days`` > 0 rings that many days before, 0 rings the day after the due date (the
    overdue notice); both at :data:`ALARM_TIME_OF_DAY`.
    """
    days = 1 if lead_days == 0 else -lead_days
    return dt.timedelta(days=days) + ALARM_TIME_OF_DAY


def _description(event: DeadlineEvent) -> str:
    local = event.due_at.astimezone(ZoneInfo(event.time_zone))
    utc = event.due_at.astimezone(dt.UTC)
    status = event.status_label
    if event.overdue:
        status = _("%(status)s — overdue") % {"status": status}
    lines = [
        _("Due by the end of %(date)s in %(zone)s (%(local)s; %(utc)s UTC).")
        % {
            "date": due_in_words(event.due_date, event.due_precision),
            "zone": event.time_zone,
            "local": f"{local:%Y-%m-%d %H:%M %Z}",
            "utc": f"{utc:%Y-%m-%d %H:%M}",
        },
        _("Agreement: %(title)s") % {"title": event.agreement_title},
        ngettext("Obligor: %(names)s", "Obligors: %(names)s", len(event.obligor_names))
        % {"names": ", ".join(event.obligor_names)},
        _("Status: %(status)s") % {"status": status},
        _("Rule: %(words)s") % {"words": event.rule_words},
    ]
    if event.explanation:
        lines.append(_("How the due date was reached: %(text)s") % {"text": event.explanation})
    if event.deadline_phrase:
        lines.append(_("In the source's words: %(phrase)s") % {"phrase": event.deadline_phrase})
    lines.append(event.url)
    return "\n".join(lines)


def _alarm_text(lead_days: int, title: str) -> str:
    if lead_days == 0:
        return _("Overdue since yesterday: %(title)s") % {"title": title}
    if lead_days == 1:
        return _("Due tomorrow: %(title)s") % {"title": title}
    return _("Due in %(days)s days: %(title)s") % {"days": lead_days, "title": title}


def _vevent(event: DeadlineEvent, *, host: str) -> icalendar.Event:
    vevent = icalendar.Event()
    uid = event_uid(commitment_id=event.commitment_id, host=host, occurrence=event.occurrence)
    vevent.add("uid", uid)
    vevent.add("dtstamp", event.last_modified)
    vevent.add("last-modified", event.last_modified)
    vevent.add("dtstart", event.due_date)
    vevent.add("dtend", event.due_date + dt.timedelta(days=1))
    title = event.title
    if event.occurrence is not None:
        title = _("%(title)s (#%(number)s)") % {"title": title, "number": event.occurrence}
    vevent.add("summary", (OVERDUE_PREFIX if event.overdue else "") + title)
    vevent.add("description", _description(event))
    vevent.add("url", event.url)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    categories = [event.category_label, event.status_label]
    if event.overdue:
        categories.append("Overdue")
    vevent.add("categories", categories)
    vevent.add("transp", "TRANSPARENT")
    for lead in sorted(set(event.lead_days), reverse=True):
        alarm = icalendar.Alarm()
        alarm.add("uid", uid.replace("-due@", f"-due-lead-{lead}@"))
        alarm.add("action", "DISPLAY")
        alarm.add("description", _alarm_text(lead, event.title))
        alarm.add("trigger", alarm_trigger(lead))
        vevent.add_component(alarm)
    return vevent


def calendar_build(
    *, name: str, description: str, host: str, events: Iterable[DeadlineEvent]
) -> bytes:
    """Return the calendar of ``events`` as iCalendar bytes (CRLF lines, UTF-8)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("description", description)
    calendar.add("x-wr-caldesc", description)
    calendar.add(
        "refresh-interval", icalendar.vDuration(REFRESH_INTERVAL), parameters={"VALUE": "DURATION"}
    )
    calendar.add("x-published-ttl", icalendar.vDuration(REFRESH_INTERVAL))
    for event in events:
        calendar.add_component(_vevent(event, host=host))
    return calendar.to_ical()
