from collections.abc import Sequence

from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


def rescan_commitments(commitment_ids: Sequence[int]) -> None:
    """Re-evaluate these commitments' deadline state and alerts now, in the caller's transaction.

    While a full scan is running, their alerts are written by a task once it ends, so that the
    change (a web request) does not wait for the scan.
    """
    from django.utils import timezone

    from alerts.services.scan import scan
    from alerts.tasks import scan_deadlines_on_commit

    result = scan(now=timezone.now(), commitment_ids=commitment_ids, defer_alerts_if_busy=True)
    if result.alerts_deferred:
        scan_deadlines_on_commit(commitment_ids=commitment_ids)


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = pgettext_lazy("application", "Deadline watch")

    def ready(self) -> None:
        """Re-evaluate a commitment at once when its status or due date changes; report health
        and put subscriptions, alerts and scan runs in the backup."""
        from commitments.services import hooks
        from core.backup import BackupSection, backup_register

        from .health import register_health
        from .models import Alert, ScanRun, Subscription, SubscriptionLead

        hooks.register(rescan_commitments)
        register_health()
        backup_register(
            BackupSection("subscriptions", Subscription),
            BackupSection("subscription_leads", SubscriptionLead),
            # Version 4 added the review alerts: an older document held deadline alerts only.
            BackupSection(
                "alerts",
                Alert,
                added={"kind": (4, "deadline"), "assessment": (4, None), "reviewed_on": (4, None)},
            ),
            BackupSection("scan_runs", ScanRun),
        )
