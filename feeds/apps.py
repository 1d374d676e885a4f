from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = "Calendar feeds and exports"

    def ready(self) -> None:
        """Put the calendar feeds in the backup."""
        from core.backup import BackupSection, backup_register

        from .models import CalendarFeed

        backup_register(BackupSection("calendar_feeds", CalendarFeed, since=2))
