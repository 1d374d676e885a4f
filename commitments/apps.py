from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = "Commitments"

    def ready(self) -> None:
        """Keep the role groups in step after ``migrate``; put the domain in the backup; show
        the domain's input errors in the API as its representation nests the fields."""
        from .api.serializers import errors_register
        from .roles import roles_sync
        from .services.backup import register_sections

        post_migrate.connect(roles_sync, sender=self)
        register_sections()
        errors_register()
