from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = "Commitments"

    def ready(self) -> None:
        """Keep the role groups in step after ``migrate``; put the domain in the backup."""
        from .roles import roles_sync
        from .services.backup import register_sections

        post_migrate.connect(roles_sync, sender=self)
        register_sections()
