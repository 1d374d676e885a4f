from collections.abc import Sequence

from django.apps import AppConfig


def rescan_commitments(commitment_ids: Sequence[int]) -> None:
    """Re-evaluate these commitments' deadline state and alerts now, in the caller's transaction."""
    from django.utils import timezone

    from alerts.services.scan import scan

    scan(now=timezone.now(), commitment_ids=commitment_ids)


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Deadline watch"

    def ready(self) -> None:
        """Re-evaluate a commitment at once when its status or due date changes; report health."""
        from commitments.services import hooks

        from .health import register_health

        hooks.register(rescan_commitments)
        register_health()
