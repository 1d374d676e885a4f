from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        """Record webhook events in the transaction of each change the domain reports; report
        the outbox's health; put endpoints, events and deliveries in the backup."""
        from commitments.services import hooks
        from core.backup import BackupSection, backup_register

        from .health import register_health
        from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent
        from .services.events import record_field_changes, record_flags, record_revision

        hooks.register_changes(record_field_changes)
        hooks.register_flags(record_flags)
        hooks.register_revisions(record_revision)
        register_health()
        backup_register(
            BackupSection("webhook_endpoints", WebhookEndpoint, since=2),
            BackupSection("webhook_events", WebhookEvent, since=2),
            BackupSection("webhook_deliveries", WebhookDelivery, since=2),
        )
