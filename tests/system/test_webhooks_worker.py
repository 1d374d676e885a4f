"""Webhooks through the real queue: Celery beat and a worker on Redis deliver each event once.

A real ``celery beat`` (database scheduler) and ``celery worker`` run on Redis db 4 (shared
with, and serialised against, the other worker tests by its lock) and the committed test
database; the receiver is a real HTTP server on 127.0.0.1 in the test process.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from alerts.apps import rescan_commitments
from commitments.choices import DeadlineState, Status
from commitments.models import Commitment
from commitments.services import commitments as svc
from commitments.services import hooks
from tests.support.smtp_server import smtp_server_fixture  # noqa: F401
from tests.support.webhook_receiver import webhook_receiver_fixture  # noqa: F401
from tests.support.worker_harness import celery_harness_fixture, wait_for  # noqa: F401
from webhooks.models import DeliveryState, WebhookDelivery
from webhooks.services.endpoints import webhook_endpoint_create

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

REDIS_DB = 4
SCAN = "alerts.scan_deadlines"
SEND = "webhooks.send_webhooks"
SECRET = "worker-test-secret-0123"


@pytest.fixture
def scans_flag_only_in_the_queue() -> Iterator[None]:
    """Do not re-evaluate commitments as they are made: leave the overdue flags to beat's scan."""
    hooks.unregister(rescan_commitments)
    try:
        yield
    finally:
        hooks.register(rescan_commitments)


def test_beat_and_a_worker_deliver_scan_and_status_events_once_each(
    celery_harness,
    smtp_server,
    webhook_receiver,
    make_commitment,
    viewer,
    settings,
    scans_flag_only_in_the_queue,
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    harness = celery_harness(
        redis_db=REDIS_DB,
        email_url=smtp_server.url,
        env={"WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"},
    )
    webhook_endpoint_create(owner=viewer, target_url=webhook_receiver.url, secret=SECRET)
    late = [make_commitment() for _ in range(3)]  # due 2026-04-26: past, not flagged yet
    assert {c.deadline_state for c in Commitment.objects.all()} == {DeadlineState.NONE}
    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    for name, task in (("test-scan", SCAN), ("test-send-webhooks", SEND)):
        PeriodicTask.objects.create(name=name, task=task, interval=every_second)
    (worker,) = harness.start_workers("w1", concurrency=2)
    (beat,) = harness.start_beats("beat1")

    webhook_receiver.wait_for(3, timeout=60)
    # A change made in this process, as a web request makes it: beat's send picks it up.
    svc.commitment_change_status(commitment=late[0], status=Status.IN_PROGRESS)

    def all_sent() -> bool:
        states = Counter(WebhookDelivery.objects.values_list("state", flat=True))
        return states == Counter({DeliveryState.SENT: 4})

    wait_for(all_sent, timeout=60, what=lambda: f"4 deliveries sent\n{harness.logs()}")
    wait_for(
        lambda: beat.log().count("Sending due task test-send-webhooks") >= 2,
        timeout=20,
        what=lambda: f"beat to send the webhook task\n{harness.logs()}",
    )
    harness.stop(beat, worker)

    assert worker.received(SEND), harness.logs()
    requests = webhook_receiver.received()
    expected = {str(uuid) for uuid in WebhookDelivery.objects.values_list("uuid", flat=True)}
    assert Counter(r.delivery for r in requests) == Counter(expected), "lost or repeated"
    assert all(r.answered == 200 and r.verify(SECRET) for r in requests)
    kinds = Counter(r.headers["x-tracker-event"] for r in requests)
    assert kinds == {"commitment.overdue": 3, "commitment.status_changed": 1}
    assert {r.json["data"]["commitment"]["id"] for r in requests} == {c.pk for c in late}
