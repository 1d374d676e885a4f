"""``manage.py export_all [--output FILE]``: the whole dataset as one JSON document."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from commitments.services.backup import backup_dumps, backup_export


class Command(BaseCommand):
    help = (
        "Write every party, source, agreement, citation, commitment, relation, progress "
        "update, subscription, alert and scan run, and the users they name (no passwords), "
        "as JSON. Restore with import_all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", help="File to write; standard output if omitted.")

    def handle(self, *args: Any, **options: Any) -> None:
        document = backup_export(now=timezone.now())
        text = backup_dumps(document=document)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as stream:
                stream.write(text + "\n")
            counts = ", ".join(
                f"{len(rows)} {section}"
                for section, rows in document.items()
                if isinstance(rows, list)
            )
            self.stderr.write(f"Wrote {options['output']}: {counts}.")
        else:
            self.stdout.write(text)
