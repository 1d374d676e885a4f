"""A backlog drains through the real queue: one send task re-queues itself while batches fill.

A real ``celery worker`` on Redis db 4 (shared with, and serialised against, the other worker
tests by its lock) and the committed test database, no beat: a backlog of several batches
leaves on one enqueued task, not at one batch per beat minute.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from alerts.apps import rescan_commitments
from alerts.models import Alert, AlertState, SubscriptionScope
from alerts.services.scan import scan
from alerts.services.subscriptions import subscription_create
from commitments.choices import Status
from commitments.services import commitments as svc
from commitments.services import hooks
from tests.support.smtp_server import smtp_server_fixture  # noqa: F401
from tests.support.webhook_receiver import webhook_receiver_fixture  # noqa: F401
from tests.support.worker_harness import (
    assert_each_alert_once,
    celery_harness_fixture,  # noqa: F401
    wait_for,
    wait_until_all_sent,
)
from webhooks.models import DeliveryState, WebhookDelivery
from webhooks.services.endpoints import webhook_endpoint_create

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

REDIS_DB = 4


@pytest.fixture
def scans_flag_only_when_asked() -> Iterator[None]:
    """Do not re-evaluate commitments as they change: the test raises what it needs."""
    hooks.unregister(rescan_commitments)
    try:
        yield
    finally:
        hooks.register(rescan_commitments)


def test_one_send_alerts_task_drains_a_backlog_of_several_batches(
    celery_harness, smtp_server, make_commitment, django_user_model, scans_flag_only_when_asked
):
    """12 alerts, batches of 5: one enqueued task runs three times (5, 5, 2), each mail once."""
    harness = celery_harness(
        redis_db=REDIS_DB, email_url=smtp_server.url, env={"TRACKER_ALERT_BATCH_SIZE": "5"}
    )
    due = timezone.now().astimezone(ZoneInfo("Asia/Tokyo")).date() + dt.timedelta(days=5)
    for _ in range(4):
        make_commitment(
            deadline_kind="fixed",
            deadline_date=due,
            offset_amount=None,
            offset_unit="",
            anchor_kind="",
        )
    for n in range(3):
        user = django_user_model.objects.create_user(
            username=f"watcher{n}", email=f"watcher{n}@example.org"
        )
        subscription_create(
            user=user, scope=SubscriptionScope.ALL, lead_days=[7], notify_overdue=False
        )
    scan(now=timezone.now())
    assert Alert.objects.filter(state=AlertState.PENDING, digest=False).count() == 12
    (worker,) = harness.start_workers("w1")

    task_id = harness.send("alerts.send_alerts")
    wait_until_all_sent(expected=12, harness=harness)
    wait_for(
        lambda: len(worker.received("alerts.send_alerts")) >= 3,
        timeout=20,
        what=lambda: f"the third run\n{harness.logs()}",
    )
    harness.stop(worker)

    runs = worker.received("alerts.send_alerts")
    assert len(runs) == 3, harness.logs()
    assert runs[0] == task_id
    assert_each_alert_once(smtp_server)


def test_one_send_webhooks_task_drains_a_backlog_of_several_batches(
    celery_harness,
    smtp_server,
    webhook_receiver,
    make_commitment,
    viewer,
    settings,
    scans_flag_only_when_asked,
):
    """5 deliveries, batches of 2: one enqueued task runs three times (2, 2, 1), each once."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    harness = celery_harness(
        redis_db=REDIS_DB,
        email_url=smtp_server.url,
        env={"WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "WEBHOOK_BATCH_SIZE": "2"},
    )
    webhook_endpoint_create(owner=viewer, target_url=webhook_receiver.url, secret="s" * 20)
    for _ in range(5):
        svc.commitment_change_status(commitment=make_commitment(), status=Status.IN_PROGRESS)
    assert WebhookDelivery.objects.filter(state=DeliveryState.PENDING).count() == 5
    (worker,) = harness.start_workers("w1")

    task_id = harness.send("webhooks.send_webhooks")

    def all_sent() -> bool:
        states = Counter(WebhookDelivery.objects.values_list("state", flat=True))
        return states == Counter({DeliveryState.SENT: 5})

    wait_for(all_sent, timeout=60, what=lambda: f"5 deliveries sent\n{harness.logs()}")
    wait_for(
        lambda: len(worker.received("webhooks.send_webhooks")) >= 3,
        timeout=20,
        what=lambda: f"the third run\n{harness.logs()}",
    )
    harness.stop(worker)

    runs = worker.received("webhooks.send_webhooks")
    assert len(runs) == 3, harness.logs()
    assert runs[0] == task_id
    expected = {str(uuid) for uuid in WebhookDelivery.objects.values_list("uuid", flat=True)}
    assert Counter(r.delivery for r in webhook_receiver.received()) == Counter(expected)
