"""Exactly once through the real queue: Celery worker and beat processes on Redis.

Every test here runs real ``celery -A tracker worker`` (and ``beat``) processes on Redis db 4
against the committed test database, and a real SMTP server in the test process. In each case
every recipient gets each alert once and none is lost, checked by Message-ID on what the SMTP
server accepted, after the workers have been stopped (so no late duplicate can slip in).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import redis
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from alerts.apps import rescan_commitments
from alerts.models import Alert, AlertState, SubscriptionScope
from alerts.services.scan import scan
from alerts.services.subscriptions import subscription_create
from commitments.choices import DeadlineState
from commitments.models import Commitment
from commitments.services import hooks
from tests.support.smtp_server import ReceivedMail, SMTPServer, smtp_server_fixture  # noqa: F401
from tests.support.worker_harness import (
    CeleryHarness,
    assert_each_alert_once,
    celery_harness_fixture,  # noqa: F401
    wait_for,
    wait_until_all_sent,
)

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

REDIS_DB = 4
SEND = "alerts.send_alerts"
SCAN = "alerts.scan_deadlines"


@pytest.fixture
def harness(celery_harness, smtp_server) -> CeleryHarness:
    return celery_harness(redis_db=REDIS_DB, email_url=smtp_server.url)


@pytest.fixture
def scans_flag_only_in_the_queue() -> Iterator[None]:
    """Do not re-evaluate commitments as they are created: leave all flagging to the scans."""
    hooks.unregister(rescan_commitments)
    try:
        yield
    finally:
        hooks.register(rescan_commitments)


@pytest.fixture
def watched(make_commitment, django_user_model, scans_flag_only_in_the_queue):
    """Build commitments due in five days and watchers with a 7-day lead; return the alert count.

    Nothing is flagged yet: a scan (in the test or through the queue) raises one alert per
    watcher and commitment.
    """

    def build(*, commitments: int, watchers: int) -> int:
        due = timezone.now().astimezone(ZoneInfo("Asia/Tokyo")).date() + dt.timedelta(days=5)
        for _ in range(commitments):
            make_commitment(
                deadline_kind="fixed",
                deadline_date=due,
                offset_amount=None,
                offset_unit="",
                anchor_kind="",
            )
        for n in range(watchers):
            user = django_user_model.objects.create_user(
                username=f"watcher{n}", email=f"watcher{n}@example.org"
            )
            subscription_create(
                user=user, scope=SubscriptionScope.ALL, lead_days=[7], notify_overdue=False
            )
        return commitments * watchers

    return build


def pending_alerts(*, expected: int) -> None:
    """Raise the alerts with a scan in the test process, as a beat-driven scan would."""
    scan(now=timezone.now())
    assert Alert.objects.filter(state=AlertState.PENDING).count() == expected


def wait_until_unacked_for(harness: CeleryHarness, *, seconds: float) -> None:
    """Wait until a delivered message has stayed unacknowledged for ``seconds``."""
    broker = redis.Redis.from_url(harness.broker_url)
    wait_for(
        # kombu's index of unacknowledged messages is scored by delivery time.
        lambda: broker.zrangebyscore("unacked_index", "-inf", time.time() - seconds),
        timeout=10 + seconds,
        what="a delivered message to outlive the visibility timeout",
    )


def test_worker_sends_alerts_enqueued_through_the_broker(harness, smtp_server, watched):
    """A worker runs send_alerts from Redis: each pending alert is mailed once, rows marked."""
    expected = watched(commitments=4, watchers=3)
    pending_alerts(expected=expected)
    (worker,) = harness.start_workers("w1")

    task_id = harness.send(SEND)
    wait_until_all_sent(expected=expected, harness=harness)
    harness.stop(worker)

    assert worker.received(SEND) == [task_id]
    assert_each_alert_once(smtp_server)
    assert Alert.objects.filter(sent_at__isnull=True).count() == 0


def test_two_workers_sending_at_once_send_each_alert_once(harness, smtp_server, watched):
    """Two worker processes (two pool processes each) race over 60 alerts: each goes once."""
    expected = watched(commitments=6, watchers=10)
    pending_alerts(expected=expected)
    smtp_server.delay = 0.02  # long enough for the four senders to overlap
    workers = harness.start_workers("w1", "w2", concurrency=2)

    task_ids = sorted(harness.send(SEND) for _ in range(6))
    wait_until_all_sent(expected=expected, harness=harness)
    wait_for(
        lambda: sorted(workers[0].received(SEND) + workers[1].received(SEND)) == task_ids,
        timeout=20,
        what=lambda: f"the workers to take all six tasks\n{harness.logs()}",
    )
    harness.stop(*workers)

    assert_each_alert_once(smtp_server)
    assert all(worker.received(SEND) for worker in workers), harness.logs()


def test_two_scans_at_once_through_the_queue_raise_and_send_each_alert_once(
    harness, smtp_server, watched
):
    """Two scan tasks run on two workers at the same time: one alert row and one mail each."""
    expected = watched(commitments=5, watchers=4)
    workers = harness.start_workers("w1", "w2")

    scan_ids = [harness.send(SCAN), harness.send(SCAN)]
    wait_until_all_sent(expected=expected, harness=harness)
    harness.stop(*workers)

    assert [worker.received(SCAN) for worker in workers] in (
        [[scan_ids[0]], [scan_ids[1]]],
        [[scan_ids[1]], [scan_ids[0]]],
    ), harness.logs()
    assert set(Commitment.objects.values_list("deadline_state", flat=True)) == {
        DeadlineState.DUE_SOON
    }
    assert_each_alert_once(smtp_server)


def test_two_beats_running_at_once_send_each_alert_once(harness, smtp_server, watched):
    """A misconfigured deployment with two beats runs every task twice: each alert still once."""
    expected = watched(commitments=3, watchers=4)
    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    for name, task in (("test-scan", SCAN), ("test-send", SEND)):
        PeriodicTask.objects.create(name=name, task=task, interval=every_second)
    (worker,) = harness.start_workers("w1", concurrency=2)
    beats = harness.start_beats("beat1", "beat2")

    wait_for(
        lambda: (
            all(beat.log().count("Sending due task test-scan") >= 2 for beat in beats)
            and len(worker.received(SCAN)) >= 4
        ),
        timeout=30,
        what=lambda: (
            f"both beats to send the scan twice, and the worker to get them\n{harness.logs()}"
        ),
    )
    wait_until_all_sent(expected=expected, harness=harness)
    harness.stop(*beats, worker)

    assert_each_alert_once(smtp_server)


def test_task_redelivered_after_visibility_timeout_sends_each_alert_once(
    celery_harness, smtp_server, watched
):
    """A send_alerts still running past the visibility timeout runs again on another worker.

    With ``acks_late`` the message stays unacknowledged while the first worker waits for the
    SMTP server's answer to its first mail; after the (1 s) visibility timeout a second worker
    restores the message and runs the same task id while the first is still at it. Row locks
    keep each alert to one mail.
    """
    harness = celery_harness(
        redis_db=REDIS_DB,
        email_url=smtp_server.url,
        env={"CELERY_VISIBILITY_TIMEOUT": "1", "EMAIL_TIMEOUT": "60"},
    )
    expected = watched(commitments=5, watchers=2)
    pending_alerts(expected=expected)
    (first,) = harness.start_workers("first")
    redelivered = threading.Event()

    async def hold_first_mail_until_redelivered(messages: list[ReceivedMail]) -> None:
        deadline = time.monotonic() + 60
        while len(messages) == 1 and not redelivered.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    smtp_server.before_reply(hold_first_mail_until_redelivered)
    task_id = harness.send(SEND)
    smtp_server.wait_for_messages(1, timeout=20)
    wait_until_unacked_for(harness, seconds=1.5)

    (second,) = harness.start_workers("second")
    wait_for(
        lambda: second.received(SEND),
        timeout=20,
        what=lambda: f"the second worker to receive the redelivered task\n{harness.logs()}",
    )
    redelivered.set()
    wait_until_all_sent(expected=expected, harness=harness)
    harness.stop(first, second)

    assert first.received(SEND) == [task_id]
    assert second.received(SEND) == [task_id]
    assert_each_alert_once(smtp_server)


def test_worker_killed_after_smtp_accepted_resends_at_most_that_one_mail(
    celery_harness, smtp_server, watched
):
    """SIGKILL between the SMTP server's acceptance and the commit: nothing lost, one duplicate.

    This is the crash window that cannot be closed without a two-phase commit with the SMTP
    server: the alert stays pending. The killed task was never acknowledged, so after the
    (1 s) visibility timeout the restarted worker runs it again, and the alert goes out a
    second time with the same Message-ID, which mail clients fold. Every other alert arrives
    exactly once.
    """
    harness = celery_harness(
        redis_db=REDIS_DB, email_url=smtp_server.url, env={"CELERY_VISIBILITY_TIMEOUT": "1"}
    )
    expected = watched(commitments=5, watchers=2)
    pending_alerts(expected=expected)
    (doomed,) = harness.start_workers("doomed", concurrency=2)

    async def kill_worker_at_fourth_mail(messages: list[ReceivedMail]) -> None:
        if len(messages) == 4:
            doomed.kill(wait=False)

    smtp_server.before_reply(kill_worker_at_fourth_mail)
    task_id = harness.send(SEND)
    wait_for(lambda: not doomed.alive(), timeout=20, what=lambda: doomed.log())
    in_flight = smtp_server.messages[3]
    (alert,) = [a for a in Alert.objects.all() if a.message_id == in_flight.message_id]
    assert alert.state == AlertState.PENDING, "the killed worker's transaction was committed"
    assert Alert.objects.filter(state=AlertState.SENT).count() == 3

    def row_lock_released() -> bool:
        with transaction.atomic():
            return Alert.objects.select_for_update(skip_locked=True).filter(pk=alert.pk).exists()

    wait_for(row_lock_released, timeout=10, what="the killed worker's row lock to go")
    wait_until_unacked_for(harness, seconds=1.5)
    (restarted,) = harness.start_workers("restarted")
    wait_until_all_sent(expected=expected, harness=harness)
    harness.stop(restarted)

    assert restarted.received(SEND) == [task_id]
    assert_each_alert_once(smtp_server, duplicated=in_flight.message_id)
    assert len(smtp_server.messages) == expected + 1
