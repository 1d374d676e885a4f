"""``/healthz`` and ``celery_health`` tell operators whether web, broker, beat and workers work."""

import datetime as dt
import json
import re
from io import StringIO

import pytest
from celery.schedules import crontab, schedule
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from alerts.health import beat_health, scan_interval
from alerts.models import ScanRun
from webhooks.models import (
    DeliveryState,
    EventKind,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)


def finished_scan(at: dt.datetime) -> ScanRun:
    run = ScanRun.objects.create(now=at)
    ScanRun.objects.filter(pk=run.pk).update(ran_at=at)  # ran_at is set on insert
    return run


def sent_scan(at: dt.datetime) -> None:
    every_15 = CrontabSchedule.objects.create(minute="*/15")
    PeriodicTask.objects.create(
        name="scan-deadlines", task="alerts.scan_deadlines", crontab=every_15, last_run_at=at
    )


def test_healthz_reports_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("status", "database", "broker")} == {
        "status": "ok", "database": "ok", "broker": "ok"
    }


def test_healthz_is_503_and_names_the_broker_when_it_is_down(client, monkeypatch):
    from tracker.celery import app

    closed_port = "redis://127.0.0.1:1/0"
    # Celery prefers the environment variable over its configuration; set both, the
    # configuration first: its getter reads the variable, and monkeypatch restores what it read.
    monkeypatch.setattr(app.conf, "broker_url", closed_port)
    monkeypatch.setenv("CELERY_BROKER_URL", closed_port)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["broker"] != "ok"


def test_healthz_reports_a_stale_beat_but_stays_healthy(client):
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    sent_scan(an_hour_ago)
    finished_scan(an_hour_ago)

    response = client.get("/healthz")

    assert response.status_code == 200, response.json()
    beat = response.json()["beat"]
    assert beat["state"] == "stale"
    assert beat["last_scan_finished_at"] == an_hour_ago.isoformat()
    assert beat["last_scan_sent_at"] == an_hour_ago.isoformat()


def test_healthz_reports_a_recent_scan_as_ok(client):
    finished_scan(timezone.now() - dt.timedelta(minutes=5))
    assert client.get("/healthz").json()["beat"]["state"] == "ok"


def test_the_scan_is_stale_after_two_intervals_and_never_before_any():
    assert beat_health(now=NOW)["state"] == "never"
    finished_scan(NOW - dt.timedelta(minutes=30))
    assert beat_health(now=NOW)["state"] == "ok"
    assert beat_health(now=NOW + dt.timedelta(seconds=1))["state"] == "stale"


def test_the_latest_scan_counts():
    finished_scan(NOW - dt.timedelta(days=2))
    finished_scan(NOW - dt.timedelta(minutes=1))
    assert beat_health(now=NOW)["state"] == "ok"


@pytest.mark.parametrize(
    ("entry", "interval"),
    [
        (crontab(minute="*/15"), dt.timedelta(minutes=15)),
        (crontab(minute=0, hour="8,20"), dt.timedelta(hours=12)),
        (crontab(minute=5, hour=7), dt.timedelta(days=1)),
        (schedule(dt.timedelta(minutes=10)), dt.timedelta(minutes=10)),
        (300, dt.timedelta(minutes=5)),
    ],
)
def test_the_scan_interval_is_the_longest_gap_of_the_schedule(settings, entry, interval):
    settings.CELERY_BEAT_SCHEDULE = {"scan-deadlines": {"schedule": entry}}
    assert scan_interval() == interval


def run_health(*args: str) -> tuple[str, int]:
    out = StringIO()
    try:
        call_command("celery_health", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue() + str(exc), exc.returncode
    return out.getvalue(), 0


def test_celery_health_fails_when_no_worker_answers_and_no_scan_ran(monkeypatch):
    from tracker.celery import app

    monkeypatch.setattr(app.control, "ping", lambda timeout: [])
    text, code = run_health()
    assert code == 1
    assert "workers: none" in text
    assert "No worker answered; the deadline scan has never finished." in text


def test_celery_health_passes_with_a_worker_and_a_fresh_scan(monkeypatch):
    from tracker.celery import app

    # A worker is a process outside the test; its ping reply is what Celery returns.
    monkeypatch.setattr(app.control, "ping", lambda timeout: [{"w1@host": {"ok": "pong"}}])
    finished_scan(timezone.now() - dt.timedelta(minutes=3))

    text, code = run_health("--json")

    assert code == 0
    report = json.loads(text)
    assert report["workers"] == {"state": "ok", "names": ["w1@host"]}
    assert report["beat"]["state"] == "ok"
    assert report["outbox"] == {"pending": 0, "oldest_pending_seconds": None, "failed": 0}
    assert report["webhooks"] == {"pending": 0, "oldest_pending_seconds": None, "failed": 0}


def test_celery_health_counts_the_webhook_outbox(monkeypatch, make_commitment, django_user_model):
    """Operators see webhook deliveries waiting and given up, beside the alerts."""
    from tracker.celery import app

    monkeypatch.setattr(app.control, "ping", lambda timeout: [{"w1@host": {"ok": "pong"}}])
    now = timezone.now()
    finished_scan(now - dt.timedelta(minutes=3))
    owner = django_user_model.objects.create_user(username="hooks")
    endpoint = WebhookEndpoint.objects.create(
        owner=owner, target_url="https://hooks.example.org/x", secret="s" * 32
    )
    commitment = make_commitment()
    states = [
        (DeliveryState.PENDING, now - dt.timedelta(minutes=10)),
        (DeliveryState.PENDING, now - dt.timedelta(minutes=2)),
        (DeliveryState.FAILED, now - dt.timedelta(hours=5)),
        (DeliveryState.SENT, now - dt.timedelta(hours=6)),
    ]
    for state, created in states:
        event = WebhookEvent.objects.create(
            kind=EventKind.STATUS_CHANGED, commitment=commitment, payload={}, occurred_at=created
        )
        WebhookDelivery.objects.create(
            endpoint=endpoint, event=event, state=state, created=created
        )

    text, code = run_health()

    assert code == 0
    assert re.search(r"^webhooks: 2 pending \(oldest 6\d\d s\), 1 failed$", text, re.M), text
    report = json.loads(run_health("--json")[0])
    assert report["webhooks"]["pending"] == 2
    assert report["webhooks"]["failed"] == 1
    assert 600 <= report["webhooks"]["oldest_pending_seconds"] < 660


def test_celery_health_fails_when_the_broker_is_unreachable(monkeypatch):
    """No worker can be asked with the broker down: an outage, exit 1, not "unknown" and 0."""
    from tracker.celery import app

    closed_port = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(app.conf, "broker_url", closed_port)
    monkeypatch.setenv("CELERY_BROKER_URL", closed_port)
    finished_scan(timezone.now() - dt.timedelta(minutes=3))

    text, code = run_health()

    assert code == 1
    assert "workers: unknown" in text
    assert "No worker could be asked: the broker is unreachable" in text
