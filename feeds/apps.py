from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = pgettext_lazy("application", "Calendar feeds and exports")

    def ready(self) -> None:
        """Put the calendar feeds in the backup."""
        from core.backup import BackupSection, backup_register

        from .models import CalendarFeed

        backup_register(BackupSection("calendar_feeds", CalendarFeed, since=2))
