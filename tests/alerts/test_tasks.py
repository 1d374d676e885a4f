"""The Celery tasks and schedule: thin calls to the services, enqueueing on commit, broker down.

The tasks run in this process (``apply``); eager mode only where the queue is not the
subject. The real worker processes on Redis are exercised in ``test_worker_exactly_once``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from zoneinfo import ZoneInfo

import pytest
from django.db import OperationalError, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from alerts import tasks
from alerts.models import Alert, AlertState, Subscription, SubscriptionLead
from commitments.choices import DeadlineState
from commitments.services.commitments import commitment_change_status
from tests.support.smtp_server import free_port, smtp_server_fixture, smtp_settings_fixture  # noqa: F401
from tracker.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def use_broker(monkeypatch):
    """Return a function that points the Celery app at another broker for the test."""

    def reset_pools() -> None:
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    def use(url: str) -> None:
        reset_pools()
        # Celery reads CELERY_BROKER_URL from the environment before its configuration. The
        # configuration is set first: monkeypatch restores what the getter read, which with
        # the variable already set would be ``url``, left behind for the next tests wherever
        # no variable hides it (SQLite's embedded broker, a fresh clone's `make test`).
        monkeypatch.setattr(app.conf, "broker_url", url)
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        monkeypatch.setattr(app.conf, "broker_transport_options", {})

    yield use
    reset_pools()


@pytest.fixture
def broker_down(use_broker) -> str:
    """Point the app at a Redis broker on a port nobody listens on; return its URL."""
    url = f"redis://127.0.0.1:{free_port()}/3"
    use_broker(url)
    return url


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setattr(app.conf, "task_always_eager", True)


@pytest.fixture
def retries_run_in_process(monkeypatch):
    """Let ``apply()`` run a task's retries in this process instead of raising ``Retry``."""
    monkeypatch.setattr(app.conf, "task_eager_propagates", False)


@pytest.fixture
def due_in_five_days(make_commitment, django_user_model):
    """A commitment due five days from now, watched by a user with the 7-day lead time."""
    tokyo_today = timezone.now().astimezone(ZoneInfo("Asia/Tokyo")).date()
    commitment = make_commitment(
        title="Ministerial meeting",
        deadline_kind="fixed",
        deadline_date=tokyo_today + dt.timedelta(days=5),
    )
    watcher = django_user_model.objects.create_user(username="ann", email="ann@example.org")
    subscription = Subscription.objects.create(
        user=watcher, scope="commitment", commitment=commitment
    )
    SubscriptionLead.objects.create(subscription=subscription, days=7)
    return commitment


@pytest.mark.django_db(transaction=True)  # the scheduler closes the database connection
def test_schedule_is_installed_where_the_admin_shows_it():
    DatabaseScheduler(app=app)

    rows = {
        task.name: task
        for task in PeriodicTask.objects.select_related("crontab").filter(
            name__in=["scan-deadlines", "send-alerts", "send-digests"]
        )
    }
    crontabs = {
        name: (task.task, task.crontab.minute, task.crontab.hour, str(task.crontab.timezone))
        for name, task in rows.items()
    }
    assert crontabs == {
        "scan-deadlines": ("alerts.scan_deadlines", "*/15", "*", "UTC"),
        "send-alerts": ("alerts.send_alerts", "*", "*", "UTC"),
        "send-digests": ("alerts.send_digests", "0", "7", "UTC"),
    }
    assert rows["send-alerts"].expire_seconds == 60
    for task in rows.values():
        assert task.task in app.tasks, f"{task.task} is scheduled but not registered"


def test_scan_task_flags_writes_alerts_and_has_them_sent_on_commit(
    eager, smtp_settings, due_in_five_days, django_capture_on_commit_callbacks
):
    commitment = due_in_five_days

    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.scan_deadlines.apply()

    assert result.successful(), result.traceback
    assert "1 alert(s)" in result.result
    commitment.refresh_from_db()
    assert commitment.deadline_state == DeadlineState.DUE_SOON
    alert = Alert.objects.get(commitment=commitment)
    assert (alert.state, alert.threshold) == (AlertState.SENT, 7)
    [mail] = smtp_settings.messages
    assert mail.message_id == alert.message_id
    assert mail.subject == "[Due in 5 days] Ministerial meeting"


def test_send_tasks_are_safe_to_run_twice(smtp_settings, due_in_five_days, make_commitment):
    commitment = due_in_five_days
    watcher = Subscription.objects.get().user
    for threshold, digest in [(7, False), (30, True)]:
        Alert.objects.create(
            user=watcher,
            email=watcher.email,
            commitment=commitment,
            due_date=commitment.due_date,
            threshold=threshold,
            digest=digest,
            created=timezone.now(),
        )

    results = [task.apply() for task in (tasks.send_alerts, tasks.send_alerts)]
    results += [task.apply() for task in (tasks.send_digests, tasks.send_digests)]

    assert [r.result["sent"] for r in results] == [1, 0, 1, 0]
    assert all(json.loads(json.dumps(r.result)) == r.result for r in results)
    assert len(smtp_settings.messages) == 2


@pytest.mark.parametrize("senders", [1, 3])
def test_a_scan_s_enqueue_starts_as_many_senders_as_configured(
    senders, use_broker, tmp_path, settings, django_capture_on_commit_callbacks
):
    """TRACKER_ALERT_SENDERS send tasks go once the transaction commits, none before."""
    settings.TRACKER_ALERT_SENDERS = senders
    use_broker(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}")
    with django_capture_on_commit_callbacks() as callbacks:
        tasks.send_alerts_on_commit()
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue("celery")
        assert queue.qsize() == 0, "nothing is published before the commit"
        for callback in callbacks:
            callback()
        messages = [queue.get(timeout=5) for _ in range(senders)]
        for message in messages:
            message.ack()
        assert queue.qsize() == 0
        queue.close()

    assert [message.headers["task"] for message in messages] == ["alerts.send_alerts"] * senders


def test_broker_down_the_change_commits_and_the_periodic_send_catches_up(
    broker_down, smtp_settings, due_in_five_days, source, caplog, django_capture_on_commit_callbacks
):
    """A web request that changes a commitment while the broker is down still answers."""
    commitment = due_in_five_days
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="alerts.tasks"):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            commitment_change_status(commitment=commitment, status="in_progress", note="Dates set")
            tasks.send_alerts_on_commit()
        scan = tasks.scan_deadlines.apply()

    assert time.monotonic() - started < 10
    assert scan.successful(), scan.traceback
    commitment.refresh_from_db()
    assert commitment.status == "in_progress"
    assert commitment.deadline_state == DeadlineState.DUE_SOON
    assert "Could not enqueue alerts.send_alerts" in caplog.text
    alert = Alert.objects.get(commitment=commitment)
    assert alert.state == AlertState.PENDING
    assert smtp_settings.messages == []

    periodic_run = tasks.send_alerts.apply()

    assert periodic_run.result["sent"] == 1
    assert [m.message_id for m in smtp_settings.messages] == [alert.message_id]


def test_send_task_retries_transient_database_errors(
    retries_run_in_process, monkeypatch, smtp_settings
):
    real = tasks.alerts_send_pending
    calls = []

    def flaky(*, now):
        calls.append(now)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real(now=now)

    monkeypatch.setattr(tasks, "alerts_send_pending", flaky)

    result = tasks.send_alerts.apply()

    assert result.successful(), result.traceback
    assert len(calls) == 3
    assert result.result["sent"] == 0


def test_send_task_gives_up_after_its_retries(retries_run_in_process, monkeypatch):
    calls = []

    def broken(*, now):
        calls.append(now)
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(tasks, "alerts_send_pending", broken)

    result = tasks.send_alerts.apply()

    assert result.failed()
    assert isinstance(result.result, OperationalError)
    assert len(calls) == 1 + tasks.send_alerts.max_retries
