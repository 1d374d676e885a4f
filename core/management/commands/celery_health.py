"""``manage.py celery_health [--json] [--timeout S]``: workers and each app's sections."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from core.health import celery_health, celery_health_problems, health_sections


class Command(BaseCommand):
    help = (
        "Ping the Celery workers, say when beat last sent and a worker last finished the "
        "deadline scan (stale after two scan intervals), and count the alert and webhook "
        "outboxes. Exits 1 when no worker answers (the broker being unreachable included) "
        "or the scan is stale or has never run."
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
            workers = report["workers"]
            names = ", ".join(workers["names"]) or workers.get("error", "none answered")
            self.stdout.write(f"workers: {workers['state']} ({names})")
            for section in health_sections():
                self.stdout.write(section.line(report[section.name]))
        problems = celery_health_problems(report)
        if problems:
            text = "; ".join(problems)
            raise CommandError(f"{text[0].upper()}{text[1:]}.", returncode=1)
