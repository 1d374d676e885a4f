"""Validate the seed files and load them idempotently (a thin command over the seeds service)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commitments.services.seeds.loader import seeds_load
from commitments.services.seeds.problems import SeedError
from commitments.services.seeds.schema import default_seeds_dir


class Command(BaseCommand):
    help = (
        "Validate the YAML seed files against seeds/schema.json and upsert their parties, "
        "sources, agreements, commitments, citations and relations by key, in one transaction."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            type=Path,
            help="A seed directory or one seed file (default: the project's seeds/ directory).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check everything, including the model rules, then roll back.",
        )

    def handle(self, *args: Any, path: Path | None, dry_run: bool, **options: Any) -> None:
        path = path or default_seeds_dir()
        try:
            summary = seeds_load(path=path, dry_run=dry_run)
        except SeedError as exc:
            raise CommandError(
                f"Seeds not loaded; the database is unchanged.\n{exc}", returncode=1
            ) from exc
        if options["verbosity"] == 0:
            return
        prefix = "Dry run, nothing written. " if dry_run else ""
        self.stdout.write(f"{prefix}Seeds from {path}:")
        for line in summary.lines():
            self.stdout.write(f"  {line}")
