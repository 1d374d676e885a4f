from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import pgettext_lazy


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = pgettext_lazy("application", "Commitments")

    def ready(self) -> None:
        """Keep the role groups in step after ``migrate``; put the domain in the backup; show
        the domain's input errors in the API as its representation nests the fields."""
        from django.db.models.signals import pre_save

        from .api.serializers import errors_register
        from .models import Agreement, Commitment, Party
        from .roles import roles_sync
        from .services.backup import register_sections
        from .services.keys import key_change_remember

        post_migrate.connect(roles_sync, sender=self)
        register_sections()
        errors_register()
        # Permalinks: an edited key leaves a redirect from the old one (issue 15).
        for model in (Agreement, Commitment, Party):
            pre_save.connect(key_change_remember, sender=model, dispatch_uid=f"key-{model}")
