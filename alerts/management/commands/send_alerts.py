"""``manage.py send_alerts [--now ISO-8601] [--digests] [--limit N]``: deliver the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from alerts.services.delivery import DeliveryReport, alerts_send_digests, alerts_send_pending


def _instant(value: str) -> dt.datetime:
    """Parse ``--now``: an ISO-8601 date-time with a time zone."""
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(
            f"--now: {value!r} is not an ISO-8601 date-time such as 2026-04-27T00:00:00Z."
        )
    if timezone.is_naive(parsed):
        raise CommandError(f"--now: {value!r} has no time zone; add Z or an offset such as +09:00.")
    return parsed


class Command(BaseCommand):
    help = (
        "Send the pending alert e-mails that are due (or, with --digests, each recipient's "
        "digest) and print how many were sent, deferred for a retry, failed and skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            type=str,
            help="Send as of this instant (ISO-8601 with a time zone); default: now.",
        )
        parser.add_argument(
            "--digests",
            action="store_true",
            help="Send the daily digests instead of the immediate alerts.",
        )
        parser.add_argument(
            "--limit",
            type=int,
            help="Send at most this many immediate alerts (default: TRACKER_ALERT_BATCH_SIZE).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = _instant(options["now"]) if options["now"] else timezone.now()
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError(f"--limit: {limit} is not a positive number of alerts.")
        if options["digests"]:
            if limit is not None:
                raise CommandError("--limit: applies to immediate alerts, not to --digests.")
            report = alerts_send_digests(now=now)
            what = "Digest alerts"
        else:
            report = alerts_send_pending(now=now, limit=limit)
            what = "Alerts"
        self.stdout.write(self._summary(what=what, report=report))
        if report.interrupted:
            self.stderr.write(
                f"The SMTP server is unavailable ({report.interrupted}); the remaining alerts "
                "stay pending for the next run."
            )

    @staticmethod
    def _summary(*, what: str, report: DeliveryReport) -> str:
        return (
            f"{what}: {report.sent} sent in {report.mails} mail(s), {report.deferred} deferred, "
            f"{report.failed} failed, {report.skipped} skipped."
        )
