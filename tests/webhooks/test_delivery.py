"""Webhooks end to end in the process: events written with the change, signed, sent, retried.

Every delivery goes to a real HTTP server on 127.0.0.1 (``tests/support/webhook_receiver.py``); the
tests pass the sender's ``now`` to travel through backoff. The default commitment (agreement
2025-10-28 in Asia/Tokyo, +180 days) is due 2026-04-26, until 2026-04-26T14:59:59.999999Z.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
from collections import Counter
from pathlib import Path

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from alerts.models import ScanRun
from alerts.services.scan import scan
from commitments.choices import DeadlineState, Status
from commitments.services import commitments as svc
from core.outbox import OutboxReport
from core.roles import can_read
from tests import factories
from tests.support.webhook_receiver import WebhookReceiver, webhook_receiver_fixture  # noqa: F401
from webhooks.models import (
    DeliveryState,
    EventKind,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from webhooks.services import targets
from webhooks.services.delivery import WEBHOOK_OUTBOX, event_body, webhooks_send_pending
from webhooks.services.endpoints import webhook_endpoint_create
from webhooks.services.events import subscribers
from webhooks.services.targets import UnsafeTarget, target_check

pytestmark = pytest.mark.django_db

SECRET = "whsec-test-0123456789abcdef"
BEFORE = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
T = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
AFTER_DUE = dt.datetime(2026, 4, 27, 0, 0, tzinfo=dt.UTC)
ALL_KINDS = list(EventKind.values)


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    """Let the tests' receivers on the loopback interface through, as an operator would."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.WEBHOOK_BACKOFF_SECONDS = 30
    settings.WEBHOOK_BACKOFF_MAX_SECONDS = 3600
    settings.WEBHOOK_MAX_ATTEMPTS = 8
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 2
    settings.WEBHOOK_READ_TIMEOUT_SECONDS = 2
    return settings


@pytest.fixture
def make_endpoint(viewer, webhook_receiver):
    """Register an endpoint (the viewer's, to the receiver, every kind) through the service."""

    def make(*, owner=None, url=None, events=ALL_KINDS, secret=SECRET, **fields):
        return webhook_endpoint_create(
            owner=owner or viewer,
            target_url=url or webhook_receiver.url,
            secret=secret,
            events=events,
            **fields,
        )

    return make


@pytest.fixture
def commitment(make_commitment):
    """A commitment made before its due date, so that it is on track when made."""
    with time_machine.travel(BEFORE, tick=False):
        return make_commitment()


def send(now: dt.datetime) -> OutboxReport:
    return webhooks_send_pending(now=now)


def change_status(commitment, status: str, *, at: dt.datetime = T, **evidence):
    """Change the status at ``at``: the service and the rescan it triggers both run then."""
    with time_machine.travel(at, tick=False):
        return svc.commitment_change_status(
            commitment=commitment, status=status, now=at, **evidence
        )


def fulfil_evidence(source) -> dict:
    return {"evidence_source": source, "evidence_quote": "Le Japon a tenu parole."}


# Signature and payloads, one test per kind.


def test_status_change_is_delivered_signed_with_the_old_and_new_status(
    commitment, make_endpoint, editor, webhook_receiver, settings
):
    site = settings.SITE_URL.rstrip("/")
    endpoint = make_endpoint()
    change_status(commitment, Status.IN_PROGRESS)

    report = send(T)

    assert report.sent == 1
    (request,) = webhook_receiver.received()
    delivery = WebhookDelivery.objects.get()
    event = WebhookEvent.objects.get()
    assert (request.method, request.path) == ("POST", "/hooks/tracker")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-tracker-event"] == "commitment.status_changed"
    assert request.headers["x-tracker-delivery"] == str(delivery.uuid)
    assert request.headers["x-tracker-timestamp"] == str(int(T.timestamp()))
    assert request.verify(SECRET)
    assert not request.verify("another-secret-0123456789")
    assert request.json == {
        "id": str(event.uuid),
        "type": "commitment.status_changed",
        "occurred_at": "2026-03-02T08:30:00.000000Z",
        "data": {
            "commitment": {
                "id": commitment.pk,
                "key": commitment.key,
                "title": commitment.title,
                "agreement": commitment.agreement_id,
                "obligor": commitment.obligor_id,
                "obligors": [commitment.obligor_id],
                "status": "in_progress",
                "due_date": "2026-04-26",
                "due_at": "2026-04-26T14:59:59Z",
                "deadline_state": "on_track",
                "url": f"{site}/api/v1/commitments/{commitment.pk}/",
                "web_url": site + commitment.get_absolute_url(),
            },
            "changes": {"status": {"old": "not_started", "new": "in_progress"}},
        },
    }
    delivery.refresh_from_db()
    assert (delivery.endpoint, delivery.state, delivery.attempts) == (
        endpoint,
        DeliveryState.SENT,
        1,
    )
    assert (delivery.last_status_code, delivery.sent_at, delivery.last_error) == (200, T, "")
    assert delivery.response_ms is not None


def test_a_signature_made_with_another_secret_or_another_body_does_not_verify(
    commitment, make_endpoint, editor, webhook_receiver
):
    make_endpoint()
    change_status(commitment, Status.IN_PROGRESS)
    send(T)
    (request,) = webhook_receiver.received()
    tampered = type(request)(
        method=request.method,
        path=request.path,
        headers=request.headers,
        body=request.body.replace(b"in_progress", b"fulfilled"),
        answered=request.answered,
    )

    assert request.verify(SECRET)
    assert not request.verify(SECRET + "x")
    assert not tampered.verify(SECRET)


def test_due_date_change_is_delivered_with_the_old_and_new_date(
    commitment, make_endpoint, webhook_receiver
):
    make_endpoint(events=[EventKind.DUE_DATE_CHANGED])
    with time_machine.travel(T, tick=False):
        svc.commitment_update(commitment=commitment, offset_amount=200)

    send(T)

    (request,) = webhook_receiver.received()
    assert request.headers["x-tracker-event"] == "commitment.due_date_changed"
    data = request.json["data"]
    assert data["changes"] == {"due_date": {"old": "2026-04-26", "new": "2026-05-16"}}
    assert (data["commitment"]["due_date"], data["commitment"]["due_at"]) == (
        "2026-05-16",
        "2026-05-16T14:59:59Z",
    )
    assert request.json["occurred_at"] == "2026-03-02T08:30:00.000000Z"


def test_a_deadline_revision_is_delivered_with_its_kind_dates_and_reason(
    commitment, make_endpoint, source, webhook_receiver
):
    make_endpoint(events=[EventKind.DEADLINE_REVISED])
    with time_machine.travel(T, tick=False):
        factories.revision_make(
            commitment=commitment,
            source=source,
            new_due_date=dt.date(2026, 9, 1),
            new_precision="month",
            reason="Prorogé par accord.",
            now=T,
        )

    send(T)

    (request,) = webhook_receiver.received()
    assert request.headers["x-tracker-event"] == "commitment.deadline_revised"
    data = request.json["data"]
    assert data["revision"] == {
        "kind": "extended",
        "revised_on": "2026-03-02",
        "old_due_date": "2026-04-26",
        "new_due_date": "2026-09-30",
        "new_precision": "month",
        "reason": "Prorogé par accord.",
    }
    assert data["commitment"]["due_date"] == "2026-09-30"
    assert WebhookEvent.objects.get().payload == data


def test_fulfilling_an_anchor_sends_the_due_dates_it_gives_its_dependents(
    commitment, make_commitment, make_endpoint, source, webhook_receiver
):
    """Dependents get their first due date (old: null) through the recompute, in one event each."""
    with time_machine.travel(BEFORE, tick=False):
        dependent = make_commitment(
            anchor_kind="commitment", anchor_commitment=commitment, offset_amount=30
        )
    assert dependent.due_date is None
    make_endpoint(events=[EventKind.DUE_DATE_CHANGED])

    change_status(
        commitment, Status.FULFILLED, occurred_on=dt.date(2026, 3, 1), **fulfil_evidence(source)
    )
    send(T)

    (request,) = webhook_receiver.received()
    assert request.json["data"]["commitment"]["id"] == dependent.pk
    assert request.json["data"]["changes"] == {"due_date": {"old": None, "new": "2026-03-31"}}


def test_a_scan_flagging_overdue_sends_one_event_per_commitment_once(
    commitment, make_commitment, make_endpoint, webhook_receiver
):
    with time_machine.travel(BEFORE, tick=False):
        later = make_commitment(offset_amount=300)
    make_endpoint(events=[EventKind.OVERDUE])

    scan(now=AFTER_DUE)
    scan(now=AFTER_DUE)
    scan(now=AFTER_DUE + dt.timedelta(minutes=15))
    send(AFTER_DUE)

    (request,) = webhook_receiver.received()
    assert request.headers["x-tracker-event"] == "commitment.overdue"
    assert request.json["occurred_at"] == "2026-04-27T00:00:00.000000Z"
    data = request.json["data"]
    assert set(data) == {"commitment"}
    assert data["commitment"]["id"] == commitment.pk
    assert data["commitment"]["deadline_state"] == DeadlineState.OVERDUE
    assert WebhookEvent.objects.filter(commitment=later).count() == 0


def test_a_status_change_that_reopens_a_late_commitment_sends_both_events(
    commitment, make_endpoint, source, webhook_receiver
):
    """Reopened past its deadline: the change, and the overdue flag its rescan raises."""
    change_status(
        commitment, Status.MISSED, occurred_on=dt.date(2026, 3, 1), **fulfil_evidence(source)
    )
    make_endpoint()

    change_status(commitment, Status.IN_PROGRESS, at=AFTER_DUE)
    send(AFTER_DUE)

    kinds = sorted(request.headers["x-tracker-event"] for request in webhook_receiver.received())
    assert kinds == ["commitment.overdue", "commitment.status_changed"]


def test_every_kind_carries_the_same_commitment_fields_on_this_engine(
    commitment, make_endpoint, source, webhook_receiver
):
    make_endpoint()
    with time_machine.travel(T, tick=False):
        svc.commitment_update(commitment=commitment, offset_amount=170)
    scan(now=AFTER_DUE)
    change_status(commitment, Status.IN_PROGRESS, at=AFTER_DUE)
    with time_machine.travel(AFTER_DUE, tick=False):
        factories.revision_make(commitment=commitment, kind="suspended", source=source)
    send(AFTER_DUE)

    bodies = {r.headers["x-tracker-event"]: r.json for r in webhook_receiver.received()}
    assert set(bodies) == set(ALL_KINDS)
    shapes = {kind: sorted(body["data"]["commitment"]) for kind, body in bodies.items()}
    assert len({tuple(shape) for shape in shapes.values()}) == 1, shapes
    assert bodies["commitment.overdue"]["data"]["commitment"]["due_at"] == "2026-04-16T14:59:59Z"


# Who receives what.


def test_events_go_only_to_active_subscribed_endpoints_whose_owner_may_read(
    commitment, make_endpoint, django_user_model, viewer, editor, webhook_receiver
):
    admin = django_user_model.objects.create_superuser(username="root", email="root@example.org")
    no_role = django_user_model.objects.create_user(username="norole")
    gone = django_user_model.objects.create_user(username="gone")
    gone.groups.set(viewer.groups.all())
    receivers = {
        "viewer": make_endpoint(owner=viewer),
        "editor-overdue-only": make_endpoint(owner=editor, events=[EventKind.OVERDUE]),
        "admin": make_endpoint(owner=admin),
        "no-role": make_endpoint(owner=no_role),
        "inactive-endpoint": make_endpoint(owner=editor, url=webhook_receiver.url + "?x=1",
                                           active=False),
        "inactive-owner": make_endpoint(owner=gone),
    }
    gone.is_active = False
    gone.save()

    change_status(commitment, Status.IN_PROGRESS)

    names = {endpoint.pk: name for name, endpoint in receivers.items()}
    delivered = sorted(
        names[pk] for pk in WebhookDelivery.objects.values_list("endpoint", flat=True)
    )
    assert delivered == ["admin", "viewer"]
    for endpoint in WebhookEndpoint.objects.select_related("owner"):
        expected = endpoint.active and endpoint.owner.is_active and can_read(endpoint.owner)
        in_subscribers = subscribers(EventKind.OVERDUE).filter(pk=endpoint.pk).exists()
        assert in_subscribers == expected, names[endpoint.pk]


def test_without_a_subscribed_endpoint_no_event_is_written(commitment, make_endpoint):
    make_endpoint(events=[EventKind.OVERDUE])

    change_status(commitment, Status.IN_PROGRESS)
    with time_machine.travel(T, tick=False):
        svc.commitment_update(commitment=commitment, offset_amount=200)

    assert not WebhookEvent.objects.exists()


def test_a_status_change_rolled_back_writes_no_event(commitment, make_endpoint):
    make_endpoint()

    with pytest.raises(RuntimeError), transaction.atomic():
        change_status(commitment, Status.IN_PROGRESS)
        assert WebhookEvent.objects.count() == 1
        raise RuntimeError("the request failed after the change")

    assert not WebhookEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_a_refused_status_change_writes_no_event(commitment, make_endpoint):
    """Fulfilled needs evidence: the service refuses, and nothing of the change remains."""
    make_endpoint()

    with pytest.raises(Exception, match="evidence"):
        svc.commitment_change_status(commitment=commitment, status=Status.FULFILLED, now=T)

    assert not WebhookEvent.objects.exists()


def test_the_scan_writes_overdue_events_set_based(make_commitment, make_endpoint):
    """As many statements for 40 newly overdue commitments as for 4: no per-row loop."""
    make_endpoint(events=[EventKind.OVERDUE])

    def statements(count: int, now: dt.datetime) -> int:
        with time_machine.travel(BEFORE, tick=False):
            for _ in range(count):
                make_commitment()
        with CaptureQueriesContext(connection) as queries:
            scan(now=now)
        return len(queries)

    few = statements(4, AFTER_DUE)
    WebhookEvent.objects.all().delete()
    # A first scan again, like the one before: a scan skips its outbox insert when no due
    # date is in its windows, and the later scan's windows would hold none of these.
    ScanRun.objects.all().delete()
    many = statements(40, AFTER_DUE + dt.timedelta(days=1))

    assert WebhookEvent.objects.count() == 40
    assert WebhookDelivery.objects.count() == 40
    assert many == few


# Retries, the fault test, timeouts, giving up.


def test_fault_receiver_answering_500_then_200_gets_the_event_exactly_once_after_backoff(
    commitment, make_endpoint, webhook_receiver
):
    """Fails on loss (never a 2xx) or duplicate (a 2xx twice, or a send after success)."""
    make_endpoint()
    change_status(commitment, Status.IN_PROGRESS)
    webhook_receiver.answer(500)

    first = send(T)
    delivery = WebhookDelivery.objects.get()
    assert (first.sent, first.retrying) == (0, 1)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.PENDING,
        1,
        500,
    )
    # A host an operator lists is internal: its error page is not shown back, only the status.
    assert delivery.last_error == "HTTP 500: Internal Server Error"
    assert delivery.next_attempt_at == T + dt.timedelta(seconds=30)

    assert send(T + dt.timedelta(seconds=29)).sent == 0, "retried before its backoff"
    assert send(T + dt.timedelta(seconds=30)).sent == 1
    for later in (1, 60, 3600):
        assert send(T + dt.timedelta(seconds=30 + later)).sent == 0

    requests = webhook_receiver.received()
    assert [r.answered for r in requests] == [500, 200]
    assert len({r.delivery for r in requests}) == 1
    assert requests[0].body == requests[1].body
    assert all(r.verify(SECRET) for r in requests)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.SENT,
        2,
        200,
    )
    assert delivery.last_error == ""
    accepted = Counter(r.delivery for r in requests if 200 <= r.answered < 300)
    assert accepted == {str(delivery.uuid): 1}


def test_a_timeout_is_retried_and_then_delivered(
    commitment, make_endpoint, webhook_receiver, loopback_allowed
):
    loopback_allowed.WEBHOOK_READ_TIMEOUT_SECONDS = 0.3
    make_endpoint()
    change_status(commitment, Status.IN_PROGRESS)
    webhook_receiver.delay = 1.0

    assert send(T).retrying == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_error.startswith("Timed out")
    assert (delivery.last_status_code, delivery.response_ms) == (None, None)

    webhook_receiver.delay = 0
    assert send(T + WEBHOOK_OUTBOX.retry_delay(attempts=1)).sent == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 2)


def test_a_receiver_that_drips_its_answer_is_cut_at_the_attempt_deadline(
    commitment, make_endpoint, loopback_allowed
):
    """Each byte comes within the read timeout, so only the whole attempt's deadline ends it."""
    loopback_allowed.WEBHOOK_READ_TIMEOUT_SECONDS = 2
    loopback_allowed.WEBHOOK_ATTEMPT_TIMEOUT_SECONDS = 1
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(100):  # 30 s at most, whatever happens
                if stop.wait(0.3):
                    break
                try:
                    conn.sendall(b"a")
                except OSError:
                    break

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    make_endpoint(url=f"http://127.0.0.1:{listener.getsockname()[1]}/hook")
    change_status(commitment, Status.IN_PROGRESS)
    try:
        report = send(T)
    finally:
        stop.set()
        dripper.join(timeout=5)
        listener.close()
    assert (report.sent, report.retrying) == (0, 1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_error == "Timed out: the attempt took more than 1 s in all."
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)


def test_gives_up_after_max_attempts_keeping_the_error_then_retry_now_sends_once(
    commitment, make_endpoint, webhook_receiver, loopback_allowed
):
    loopback_allowed.WEBHOOK_MAX_ATTEMPTS = 3
    make_endpoint()
    change_status(commitment, Status.IN_PROGRESS)
    webhook_receiver.default_status = 503

    now = T
    waits = []
    for _ in range(3):
        send(now)
        delivery = WebhookDelivery.objects.get()
        if delivery.next_attempt_at:
            waits.append(delivery.next_attempt_at - now)
            now = delivery.next_attempt_at
    assert waits == [dt.timedelta(seconds=30), dt.timedelta(seconds=60)]
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryState.FAILED,
        3,
        None,
    )
    assert delivery.last_error == "HTTP 503: Service Unavailable"
    assert send(now + dt.timedelta(days=1)).sent == 0
    assert len(webhook_receiver.received()) == 3

    webhook_receiver.default_status = 200
    assert WEBHOOK_OUTBOX.retry(ids=[delivery.pk], now=now) == 1
    assert send(now).sent == 1
    assert WEBHOOK_OUTBOX.retry(ids=[delivery.pk], now=now) == 0
    assert send(now + dt.timedelta(days=1)).sent == 0
    assert [r.answered for r in webhook_receiver.received()] == [503, 503, 503, 200]


def test_backoff_is_exponential_and_capped(loopback_allowed):
    loopback_allowed.WEBHOOK_BACKOFF_SECONDS = 10
    loopback_allowed.WEBHOOK_BACKOFF_MAX_SECONDS = 100
    delays = [WEBHOOK_OUTBOX.retry_delay(attempts=n).total_seconds() for n in range(1, 7)]
    assert delays == [10, 20, 40, 80, 100, 100]


def test_a_redirect_is_not_followed_but_retried(commitment, make_endpoint, webhook_receiver):
    make_endpoint()
    change_status(commitment, Status.IN_PROGRESS)
    webhook_receiver.answer(302)

    assert send(T).retrying == 1

    assert [r.path for r in webhook_receiver.received()] == ["/hooks/tracker"]
    assert WebhookDelivery.objects.get().last_error.startswith("HTTP 302")


def test_a_dead_endpoint_is_tried_once_per_run_and_does_not_hold_up_the_others(
    commitment, make_commitment, make_endpoint, editor, webhook_receiver
):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    dead = make_endpoint(owner=editor, url=f"http://127.0.0.1:{closed_port}/hook")
    live = make_endpoint()
    with time_machine.travel(BEFORE, tick=False):
        other = make_commitment()
    for item in (commitment, other):
        change_status(item, Status.IN_PROGRESS)

    report = send(T)

    assert (report.sent, report.retrying) == (2, 1)
    attempts = dict(
        WebhookDelivery.objects.filter(endpoint=dead).values_list("event__commitment", "attempts")
    )
    assert sorted(attempts.values()) == [0, 1]
    failed = WebhookDelivery.objects.get(endpoint=dead, attempts=1)
    assert "ConnectionRefusedError" in failed.last_error
    assert set(
        WebhookDelivery.objects.filter(endpoint=live).values_list("state", flat=True)
    ) == {DeliveryState.SENT}


# Where webhooks may go.


def test_nothing_is_sent_to_a_host_the_operator_no_longer_allows(
    commitment, make_endpoint, webhook_receiver, loopback_allowed
):
    make_endpoint()
    change_status(commitment, Status.IN_PROGRESS)
    loopback_allowed.WEBHOOK_ALLOWED_HOSTS = []

    assert send(T).retrying == 1

    assert webhook_receiver.received() == []
    assert WebhookDelivery.objects.get().last_error.startswith("Not sent: Use https")


def test_a_name_that_resolves_to_a_private_address_at_send_time_gets_nothing(
    commitment, make_endpoint, monkeypatch, webhook_receiver
):
    """DNS rebinding: public when registered, loopback when sending: refused, not connected."""
    monkeypatch.setattr(targets, "resolve", lambda host, port: ["93.184.216.34"])
    make_endpoint(url="https://hooks.example.org/tracker")
    change_status(commitment, Status.IN_PROGRESS)
    monkeypatch.setattr(targets, "resolve", lambda host, port: ["127.0.0.1"])

    assert send(T).retrying == 1

    assert webhook_receiver.received() == []
    error = WebhookDelivery.objects.get().last_error
    assert "hooks.example.org resolves to an address that is not public" in error
    assert "127.0.0.1" not in error, "the internal address is told to the endpoint's owner"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://93.184.216.34/x", "Give an https:// URL"),
        ("http://93.184.216.34/x", "Use https"),
        ("https://127.0.0.1/x", "127.0.0.1 resolves to an address that is not public"),
        ("https://10.1.2.3/x", "10.1.2.3 resolves to an address that is not public"),
        ("https://192.168.0.10/x", "not public"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254 resolves to an address"),
        ("https://100.64.0.1/x", "not public"),
        ("https://0.0.0.0/x", "not public"),
        ("https://[::1]/x", "::1 resolves to an address that is not public"),
        ("https://[::ffff:127.0.0.1]/x", "not public"),
        ("https://[fe80::1]/x", "not public"),
        ("https://2130706433/x", "2130706433 resolves to an address that is not public"),
        ("https://user:pw@93.184.216.34/x", "no user name or password"),
        ("https://93.184.216.34/x#frag", "fragment"),
        ("https://93.184.216.34:99999/x", "not a valid URL"),
        ("https://no-such-host.invalid/x", "could not be resolved"),
        ("https:///x", "Give an https:// URL"),
        # IPv6 addresses that lead to a private IPv4 one: NAT64, 6to4, SIIT.
        ("https://[64:ff9b::a9fe:a9fe]/x", "not public"),
        ("https://[64:ff9b:1::a00:5]/x", "not public"),
        ("https://[2002:a9fe:a9fe::1]/x", "not public"),
        ("https://[::ffff:0:7f00:1]/x", "not public"),
        ("https://example.org/caf\u00e9", "Write the URL in ASCII"),
        ("https://b\u00fccher.example/x", "Write the URL in ASCII"),
    ],
)
def test_targets_that_are_refused(url, reason, loopback_allowed):
    loopback_allowed.WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(UnsafeTarget, match=reason.replace(".", r"\.").replace("[", r"\[")):
        target_check(url)


def test_targets_that_are_accepted(loopback_allowed):
    public = target_check("https://93.184.216.34/hooks?x=1")
    assert (public.host, public.port, public.path, public.addresses) == (
        "93.184.216.34",
        443,
        "/hooks?x=1",
        ("93.184.216.34",),
    )
    local = target_check("http://127.0.0.1:8080")
    assert (local.scheme, local.port, local.path) == ("http", 8080, "/")
    loopback_allowed.WEBHOOK_ALLOWED_HOSTS = ["[::1]"]
    assert target_check("http://[::1]:9000/x").addresses == ("::1",)


# What is skipped, what is never shown.


def test_deliveries_of_a_deactivated_endpoint_or_an_owner_without_role_are_skipped(
    commitment, make_endpoint, editor, viewer, webhook_receiver
):
    deactivated = make_endpoint(owner=editor)
    demoted = make_endpoint(owner=viewer)
    change_status(commitment, Status.IN_PROGRESS)
    WebhookEndpoint.objects.filter(pk=deactivated.pk).update(active=False)
    viewer.groups.clear()

    assert send(T).skipped == 2

    assert webhook_receiver.received() == []
    errors = dict(WebhookDelivery.objects.values_list("endpoint", "last_error"))
    assert errors[deactivated.pk] == "The endpoint was deactivated before the event went out."
    assert errors[demoted.pk] == "The endpoint's owner may no longer read the tracker."
    assert send(T + dt.timedelta(days=1)).skipped == 0


def test_the_secret_is_never_logged_stored_in_history_or_in_an_error(
    commitment, make_endpoint, webhook_receiver, caplog
):
    caplog.set_level(logging.DEBUG)
    endpoint = make_endpoint()
    change_status(commitment, Status.IN_PROGRESS)
    webhook_receiver.answer(500)
    send(T)
    send(T + dt.timedelta(minutes=5))

    assert caplog.records, "the sender logs its work"
    assert SECRET not in caplog.text
    assert "Webhook delivery" in caplog.text
    assert all(SECRET not in row.last_error for row in WebhookDelivery.objects.all())
    history = endpoint.history.first()
    assert not hasattr(history, "secret")
    assert SECRET not in str(WebhookEvent.objects.get().payload)


def test_the_body_is_the_same_bytes_for_every_endpoint_and_attempt(
    commitment, make_endpoint, editor, webhook_receiver
):
    make_endpoint()
    make_endpoint(owner=editor, secret="editors-own-secret-123")
    change_status(commitment, Status.IN_PROGRESS)

    send(T)

    requests = webhook_receiver.received()
    assert len(requests) == 2
    assert requests[0].body == requests[1].body == event_body(WebhookEvent.objects.get())
    assert requests[0].delivery != requests[1].delivery
    assert sorted(r.verify(SECRET) for r in requests) == [False, True]


def test_the_batch_limit_leaves_the_rest_for_the_next_run(
    commitment, make_commitment, make_endpoint
):
    make_endpoint()
    with time_machine.travel(BEFORE, tick=False):
        others = [make_commitment() for _ in range(2)]
    for item in (commitment, *others):
        change_status(item, Status.IN_PROGRESS)

    first = webhooks_send_pending(now=T, limit=2)
    second = webhooks_send_pending(now=T, limit=2)

    assert (first.sent, first.full) == (2, True)
    assert (second.sent, second.full) == (1, False)


# Two senders at once.


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks with SKIP LOCKED between threads need PostgreSQL (SQLite serialises)",
)
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_senders_deliver_each_event_to_each_endpoint_exactly_once(
    make_commitment, make_endpoint, editor, webhook_receiver
):
    make_endpoint()
    make_endpoint(owner=editor, url=webhook_receiver.url + "?second")
    with time_machine.travel(BEFORE, tick=False):
        commitments = [make_commitment() for _ in range(15)]
    for item in commitments:
        change_status(item, Status.IN_PROGRESS)
    expected = {str(uuid) for uuid in WebhookDelivery.objects.values_list("uuid", flat=True)}
    assert len(expected) == 30
    webhook_receiver.delay = 0.02  # long enough per request that both senders get rows
    barrier = threading.Barrier(2)
    reports: list[OutboxReport] = []
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            barrier.wait()
            reports.append(webhooks_send_pending(now=T))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(r.sent for r in reports)[0] > 0, "the senders really ran side by side"
    assert sum(r.sent for r in reports) == 30
    received = Counter(r.delivery for r in webhook_receiver.received())
    assert received == Counter(expected)
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_the_verification_snippet_in_the_docs_accepts_our_requests_only(
    commitment, make_endpoint, webhook_receiver
):
    """docs/operations.md tells receivers how to verify: its code must agree with the sender."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    section = docs[docs.index("## Webhooks") :]
    code = section[section.index("```python") + len("```python") : section.index("```\n\nTests")]
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 (our own documentation)
    make_endpoint()
    change_status(commitment, Status.IN_PROGRESS)
    send(T)
    (request,) = webhook_receiver.received()
    headers = {
        name: request.headers[name.lower()]
        for name in ("X-Tracker-Timestamp", "X-Tracker-Signature")
    }

    with time_machine.travel(T + dt.timedelta(minutes=1), tick=False):
        assert namespace["verify"](SECRET, headers, request.body)
        assert not namespace["verify"]("not-the-secret-0000", headers, request.body)
        assert not namespace["verify"](SECRET, headers, request.body + b" ")
    with time_machine.travel(T + dt.timedelta(hours=1), tick=False):
        assert not namespace["verify"](SECRET, headers, request.body), "a replay is stale"


def test_only_a_worker_enqueues_the_sender_and_a_broker_down_is_logged(
    commitment, make_commitment, make_endpoint, monkeypatch, caplog,
    django_capture_on_commit_callbacks,
):
    """A web change waits for beat's next send; the scan task in a worker asks for one now."""
    from kombu.exceptions import OperationalError as BrokerError

    from alerts import tasks as alert_tasks
    from webhooks import tasks as webhook_tasks

    enqueued: list[dict] = []
    monkeypatch.setattr(
        webhook_tasks.send_webhooks, "apply_async", lambda **kwargs: enqueued.append(kwargs)
    )
    monkeypatch.setattr(alert_tasks.send_alerts, "apply_async", lambda **kwargs: None)
    make_endpoint()

    with django_capture_on_commit_callbacks(execute=True):
        change_status(commitment, Status.IN_PROGRESS)
    assert WebhookDelivery.objects.count() == 1
    assert enqueued == []

    with time_machine.travel(BEFORE, tick=False):
        make_commitment()
    with django_capture_on_commit_callbacks(execute=True):
        alert_tasks.scan_deadlines.apply(kwargs={})
    assert WebhookDelivery.objects.count() == 3
    assert enqueued == [{"retry": False}]

    def broker_down(**kwargs: object) -> None:
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(webhook_tasks.send_webhooks, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_tasks.send_webhooks_on_commit()
    assert "Could not enqueue webhooks.send_webhooks" in caplog.text


def test_the_payload_lists_every_obligor_of_a_shared_commitment(
    commitment, make_endpoint, editor, webhook_receiver, usa
):
    """"obligors" holds the obligor, then the other obligors by name, beside "obligor"."""
    nato = factories.party_make(key="nato", name="NATO")
    svc.commitment_update(commitment=commitment, co_obligors=[usa, nato])
    make_endpoint()
    change_status(commitment, Status.IN_PROGRESS)

    send(T)

    (request,) = webhook_receiver.received()
    data = request.json["data"]["commitment"]
    assert data["obligor"] == commitment.obligor_id
    assert data["obligors"] == [commitment.obligor_id, nato.pk, usa.pk]
