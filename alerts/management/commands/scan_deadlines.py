"""``manage.py scan_deadlines``: run the deadline scan once, for cron users and audits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from alerts.models import Alert, AlertState
from alerts.services.scan import scan, scan_preview
from core.dates import DATE_MAX, DATE_MIN, date_in_range


def parse_now(value: str) -> dt.datetime:
    """Return the aware instant an ISO-8601 ``--now`` names; naive values are taken as UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(
            f"--now: {value!r} is not an ISO-8601 date and time, e.g. 2026-04-27T00:00:00Z."
        )
    now = parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt.UTC)
    if not date_in_range(now.date()):
        raise CommandError(
            f"--now: {value!r} falls outside the dates the tracker accepts "
            f"({DATE_MIN.isoformat()} to {DATE_MAX.isoformat()})."
        )
    return now


class Command(BaseCommand):
    help = (
        "Flag due-soon and overdue commitments and ratings due for review, and write the alerts "
        "they raise. "
        "--dry-run prints what would change and who would be told, and changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now", help="Scan as of this ISO-8601 instant (default: the current time)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would change; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = parse_now(options["now"]) if options["now"] else timezone.now()
        if not options["dry_run"]:
            # A scan at a chosen instant leaves no watermark: the next periodic scan must not
            # start from an instant that was not "now".
            self.stdout.write(scan(now=now, record=options["now"] is None).summary())
            return
        preview = scan_preview(now=now)
        for key, old, new, due_date in preview.changes:
            due = due_date.isoformat() if due_date else "no due date"
            self.stdout.write(f"would flag {key}: {old} → {new} (due {due})")
        for alert in preview.alerts:
            self.stdout.write(
                f"would alert {recipient_label(alert)} about {alert.commitment.key}: "
                + (
                    f"review due ({alert.assessment.party.name}'s rating, last reviewed "
                    f"{alert.reviewed_on.isoformat()})"
                    if alert.assessment is not None and alert.reviewed_on is not None
                    else f"{threshold_label(alert.threshold)} (due {alert.due_date.isoformat()})"
                )
            )
        self.stdout.write(f"Dry run, nothing written. {preview.result.summary()}")


def threshold_label(threshold: int) -> str:
    """Return an alert threshold in words: ``7 days before``, ``overdue``, ``7 days overdue``."""
    if threshold > 0:
        return f"{threshold} day{'s' if threshold != 1 else ''} before"
    if threshold == 0:
        return "overdue"
    return f"escalation, {-threshold} days overdue"


def recipient_label(alert: Alert) -> str:
    """Return who an alert goes to, saying when it is an escalation or skipped."""
    if alert.user is None:
        return f"{alert.email} (escalation contact)"
    if alert.state == AlertState.SKIPPED:
        return f"{alert.user.get_username()} (no e-mail address: recorded as skipped)"
    mode = ", digest" if alert.digest else ""
    return f"{alert.user.get_username()} <{alert.email}>{mode}"
