from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        """Record webhook events in the transaction of each change the domain reports."""
        from commitments.services import hooks

        from .health import register_health
        from .services.events import record_field_changes, record_flags

        hooks.register_changes(record_field_changes)
        hooks.register_flags(record_flags)
        register_health()
