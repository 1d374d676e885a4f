"""Broker down: the web app and the API keep answering; the scan catches up when it is back.

Here the web process's Celery broker is a port nobody listens on: API requests that change a
commitment's status and deadline through the services still succeed, the alerts they raise at
once are kept in the outbox, and ``/healthz`` names the broker as the part that is down. Then a
real worker on the real Redis (db 5) runs the periodic scan, which raises what was missed and
has every alert sent once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertState, SubscriptionScope
from alerts.services.subscriptions import subscription_create
from tests.support.api_support import token_client
from tests.support.smtp_server import free_port, smtp_server_fixture  # noqa: F401
from tests.support.worker_harness import (
    assert_each_alert_once,
    celery_harness_fixture,  # noqa: F401
    wait_until_all_sent,
)
from tracker.celery import app

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

REDIS_DB = 5
COMMITMENTS = "/api/v1/commitments/"


@pytest.fixture
def broker_down(monkeypatch) -> Iterator[str]:
    """Point this process's Celery app (the web app's enqueues) at a closed port."""
    url = f"redis://127.0.0.1:{free_port()}/{REDIS_DB}"
    # Celery reads CELERY_BROKER_URL from the environment before its settings, and keeps its
    # connection pools: drop them so the next enqueue connects to ``url``.
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    yield url


def fixed_in(days: int) -> dict:
    """Return the input fields of a deadline on the day ``days`` from today in Tokyo."""
    today = timezone.now().astimezone(ZoneInfo("Asia/Tokyo")).date()
    return {
        "deadline_kind": "fixed",
        "deadline_date": today + dt.timedelta(days=days),
        "offset_amount": None,
        "offset_unit": "",
        "anchor_kind": "",
    }


def test_web_app_keeps_answering_with_broker_down_and_scan_catches_up(
    broker_down, celery_harness, smtp_server, make_commitment, editor, django_user_model
):
    """Status and deadline changes succeed with no broker; a later scan has all alerts sent."""
    started = make_commitment(**fixed_in(5))
    moved = make_commitment(**fixed_in(60))
    unattended = make_commitment(**fixed_in(4))
    watcher = django_user_model.objects.create_user(username="watcher", email="watcher@example.org")
    subscription_create(
        user=watcher, scope=SubscriptionScope.ALL, lead_days=[7], notify_overdue=False
    )
    api = token_client(editor)

    status = api.post(
        f"{COMMITMENTS}{started.pk}/status/", {"status": "in_progress"}, format="json"
    )
    deadline = api.patch(
        f"{COMMITMENTS}{moved.pk}/",
        {"deadline_rule": {"kind": "fixed", "date": f"{fixed_in(3)['deadline_date']}"}},
        format="json",
    )
    listing = api.get(COMMITMENTS)
    health = api.get("/healthz")

    assert status.status_code == 201, status.content
    assert deadline.status_code == 200, deadline.content
    assert listing.status_code == 200
    assert health.status_code == 503
    assert health.json()["broker"] != "ok"
    assert set(
        Alert.objects.filter(state=AlertState.PENDING).values_list("commitment", flat=True)
    ) == {started.pk, moved.pk}

    harness = celery_harness(redis_db=REDIS_DB, email_url=smtp_server.url)
    (worker,) = harness.start_workers("w1")
    harness.send("alerts.scan_deadlines")
    wait_until_all_sent(expected=3, harness=harness)
    harness.stop(worker)

    assert set(Alert.objects.values_list("commitment", flat=True)) == {
        started.pk,
        moved.pk,
        unattended.pk,
    }
    assert_each_alert_once(smtp_server)
