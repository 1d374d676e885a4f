from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = pgettext_lazy("application", "Accounts")

    def ready(self) -> None:
        """Keep each user's language with their entry in the backup."""
        from core.backup import BackupUserField, backup_register_user_field

        from .models import Profile

        backup_register_user_field(BackupUserField(Profile, "language"))
