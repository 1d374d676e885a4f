"""``manage.py celery_health [--json] [--timeout S]``: workers, beat and outbox, for operators."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tracker.health import celery_health


class Command(BaseCommand):
    help = (
        "Ping the Celery workers, say when beat last sent and a worker last finished the "
        "deadline scan (stale after two scan intervals), and count the alert and webhook "
        "outboxes. Exits 1 when no worker answers or the scan is stale or has never run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument(
            "--timeout", type=float, default=2.0, help="Seconds to wait for workers' replies."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = celery_health(now=timezone.now(), ping_timeout=options["timeout"])
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=1))
        else:
            workers, beat = report["workers"], report["beat"]
            names = ", ".join(workers["names"]) or workers.get("error", "none answered")
            self.stdout.write(f"workers: {workers['state']} ({names})")
            self.stdout.write(
                f"beat: {beat['state']} (scan every {beat['scan_interval_seconds']} s; last sent "
                f"{beat['last_scan_sent_at'] or 'never'}, last finished "
                f"{beat['last_scan_finished_at'] or 'never'})"
            )
            for label, key in (("outbox", "outbox"), ("webhooks", "webhooks")):
                queue = report[key]
                self.stdout.write(
                    f"{label}: {queue['pending']} pending (oldest "
                    f"{queue['oldest_pending_seconds'] if queue['pending'] else '-'} s), "
                    f"{queue['failed']} failed"
                )
        problems = []
        if report["workers"]["state"] == "none":
            problems.append("no worker answered")
        if report["beat"]["state"] == "stale":
            problems.append("the deadline scan is stale")
        if report["beat"]["state"] == "never":
            problems.append("the deadline scan has never finished")
        if problems:
            raise CommandError("; ".join(problems).capitalize() + ".", returncode=1)
