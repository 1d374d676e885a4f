"""``manage.py import_all FILE``: restore an export_all document into an empty database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commitments.services.backup import (
    BackupError,
    backup_drafted,
    backup_import,
    backup_read,
)


class Command(BaseCommand):
    help = (
        "Load a file written by export_all into a database with no domain rows yet, in one "
        "transaction: a bad record aborts the whole import and is named with its field."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The JSON file written by export_all.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with open(options["file"], encoding="utf-8") as stream:
                document = backup_read(stream=stream)
            counts = backup_import(document=document)
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror}.") from exc
        except BackupError as exc:
            raise CommandError(f"Nothing imported. {exc}") from exc
        summary = ", ".join(f"{count} {section}" for section, count in counts.items())
        self.stdout.write(f"Imported {summary}.")
        drafted = backup_drafted(document=document)
        if drafted:
            self.stdout.write(
                f"{drafted} agreement(s) restored as drafts: this backup (version "
                f"{document['version']}) is older than publishing, so nothing is on the public "
                "site until an editor publishes it."
            )
