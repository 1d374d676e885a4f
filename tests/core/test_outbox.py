"""The outbox core, directly: claim, mark, backoff and give-up, the same for both outboxes.

Each test runs once on the alerts outbox and once on the webhook deliveries, with the same
expected values: the two outboxes share one core, so they cannot drift. The sender is a
stand-in for the receiver (the SMTP server, the webhook endpoint) that answers as each test
says; the real receivers are exercised in ``test_delivery`` and ``test_webhooks``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.db import connection, transaction

from alerts.models import Alert
from alerts.services.delivery import ALERT_OUTBOX
from core import outbox as core_outbox
from core.outbox import (
    AttemptFailed,
    Outbox,
    OutboxReport,
    SenderUnavailable,
    _claimed,
    claim,
    send_batch,
)
from tests.support.committed import committed_state
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services.delivery import WEBHOOK_OUTBOX

NOW = dt.datetime(2026, 4, 19, 3, 0, tzinfo=dt.UTC)
OUTBOXES = {"alerts": ALERT_OUTBOX, "webhooks": WEBHOOK_OUTBOX}


class ScriptedSender:
    """A receiver stand-in: each send raises the next scripted error, or accepts (None)."""

    def __init__(self, outbox: Outbox, answers: Sequence[Exception | None] = ()) -> None:
        self.outbox = outbox
        self.answers = list(answers)
        self.skip: set[int] = set()
        self.calls: list[list[int]] = []

    def narrow(self, due: Any) -> Any:
        return due

    def load(self, pks: Sequence[int]) -> list[Any]:
        return list(self.outbox.model._default_manager.filter(pk__in=pks).order_by("pk"))

    def skip_reason(self, row: Any) -> str:
        return "No longer wanted." if row.pk in self.skip else ""

    def holds_back(self, row: Any) -> bool:
        return False

    def send(self, rows: Sequence[Any], *, now: dt.datetime, ready: Callable[[], None]) -> None:
        ready()
        self.calls.append([row.pk for row in rows])
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer


@pytest.fixture(params=sorted(OUTBOXES))
def outbox(request, settings) -> Outbox:
    """Each outbox in turn, with the same retry settings for both."""
    box = OUTBOXES[request.param]
    setattr(settings, box.max_attempts_setting, 3)
    setattr(settings, box.backoff_setting, 60)
    setattr(settings, box.backoff_max_setting, 100)
    setattr(settings, box.batch_size_setting, 200)
    return box


@pytest.fixture
def make_rows(outbox, make_commitment, django_user_model):
    """Write ``n`` pending rows of the outbox under test, as its producer would; return them."""

    def make(n: int) -> list[Any]:
        user = django_user_model.objects.create_user(username="watcher", email="w@example.org")
        commitments = [make_commitment() for _ in range(n)]
        if outbox is ALERT_OUTBOX:
            return [
                Alert.objects.create(
                    user=user,
                    email=user.email,
                    commitment=c,
                    due_date=c.due_date,
                    threshold=7,
                    created=NOW,
                )
                for c in commitments
            ]
        endpoint = WebhookEndpoint.objects.create(
            owner=user, target_url="https://hooks.example.org/in", secret="s" * 16
        )
        return [
            WebhookDelivery.objects.create(
                endpoint=endpoint,
                event=WebhookEvent.objects.create(
                    kind="commitment.status_changed", commitment=c, payload={}, occurred_at=NOW
                ),
                created=NOW,
            )
            for c in commitments
        ]

    return make


def row_state(row: Any) -> tuple:
    row.refresh_from_db()
    return (row.state, row.attempts, row.next_attempt_at, row.sent_at, row.last_error)


@pytest.mark.django_db
def test_a_batch_takes_the_oldest_rows_one_message_each_and_says_when_it_is_full(outbox, make_rows):
    rows = make_rows(3)
    sender = ScriptedSender(outbox)

    first = send_batch(sender=sender, now=NOW, report=OutboxReport(), limit=2)

    assert (first.sent, first.full) == (2, True)
    assert sender.calls == [[rows[0].pk], [rows[1].pk]]
    assert [row_state(r) for r in rows[:2]] == [("sent", 1, None, NOW, "")] * 2
    assert row_state(rows[2]) == ("pending", 0, None, None, "")

    second = send_batch(sender=sender, now=NOW, report=OutboxReport(), limit=2)

    assert (second.sent, second.full) == (1, False)
    assert sender.calls[2:] == [[rows[2].pk]]
    assert row_state(rows[2]) == ("sent", 1, None, NOW, "")
    assert send_batch(sender=sender, now=NOW, report=OutboxReport()).handled == 0


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="claims of several rows are PostgreSQL's"
)
@pytest.mark.django_db
def test_a_run_claims_a_few_rows_first_then_more_while_the_backlog_lasts(
    outbox, make_rows, monkeypatch
):
    """Senders starting together share a small backlog through their small first claims; a
    run whose backlog outlasted its first claim spreads a claim's fixed cost on more rows."""
    monkeypatch.setattr(core_outbox, "CLAIM_SIZE", 2)
    monkeypatch.setattr(core_outbox, "LATER_CLAIM_SIZE", 3)
    rows = make_rows(7)
    sender = ScriptedSender(outbox)
    loads: list[list[int]] = []
    load = sender.load

    def recorded(pks: Sequence[int]) -> list[Any]:
        loads.append(list(pks))
        return load(pks)

    monkeypatch.setattr(sender, "load", recorded)

    report = send_batch(sender=sender, now=NOW, report=OutboxReport())

    assert report.sent == 7
    pks = [row.pk for row in rows]
    assert loads == [pks[:2], pks[2:5], pks[5:]]


@pytest.mark.django_db
def test_a_failed_attempt_backs_off_exponentially_and_gives_up_after_the_maximum(outbox, make_rows):
    (row,) = make_rows(1)
    sender = ScriptedSender(outbox, [AttemptFailed("refused")] * 10)
    now = NOW

    report = send_batch(sender=sender, now=now, report=OutboxReport())

    assert (report.retrying, report.deferred, report.failed, report.full) == (1, 1, 0, False)
    assert row_state(row) == ("pending", 1, now + dt.timedelta(seconds=60), None, "refused")
    early = send_batch(sender=sender, now=now + dt.timedelta(seconds=59), report=OutboxReport())
    assert (early.handled, len(sender.calls)) == (0, 1), "not due before its backoff"

    now += dt.timedelta(seconds=60)
    send_batch(sender=sender, now=now, report=OutboxReport())
    # 2 x 60 s, capped at 100 s.
    assert row_state(row) == ("pending", 2, now + dt.timedelta(seconds=100), None, "refused")

    now += dt.timedelta(seconds=100)
    report = send_batch(sender=sender, now=now, report=OutboxReport())

    assert (report.retrying, report.failed) == (0, 1)
    assert row_state(row) == ("failed", 3, None, None, "refused")
    send_batch(sender=sender, now=now + dt.timedelta(days=30), report=OutboxReport())
    assert len(sender.calls) == 3, "a row that gave up is never sent again"


@pytest.mark.django_db
def test_an_unavailable_receiver_stops_the_run_and_uses_no_attempt(outbox, make_rows):
    rows = make_rows(3)
    sender = ScriptedSender(outbox, [SenderUnavailable("Connection refused")])

    report = send_batch(sender=sender, now=NOW, report=OutboxReport())

    assert (report.sent, report.postponed, report.deferred) == (0, 1, 1)
    assert (report.interrupted, report.full) == ("Connection refused", False)
    assert sender.calls == [[rows[0].pk]]
    assert row_state(rows[0]) == ("pending", 0, None, None, "Connection refused")
    assert [row_state(r) for r in rows[1:]] == [("pending", 0, None, None, "")] * 2

    report = send_batch(sender=sender, now=NOW, report=OutboxReport())

    assert report.sent == 3
    assert row_state(rows[0]) == ("sent", 1, None, NOW, "Connection refused")


@pytest.mark.django_db
def test_a_row_the_sender_no_longer_wants_is_skipped_and_never_touched_again(outbox, make_rows):
    rows = make_rows(2)
    sender = ScriptedSender(outbox)
    sender.skip = {rows[0].pk}

    report = send_batch(sender=sender, now=NOW, report=OutboxReport())

    assert (report.sent, report.skipped) == (1, 1)
    assert sender.calls == [[rows[1].pk]]
    assert row_state(rows[0]) == ("skipped", 0, None, None, "No longer wanted.")
    sender.skip = set()
    assert send_batch(sender=sender, now=NOW, report=OutboxReport()).handled == 0


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SKIP LOCKED between connections needs PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_a_claim_skips_the_rows_another_sender_holds(outbox, make_rows):
    rows = make_rows(3)
    held = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def other_sender() -> None:
        try:
            with transaction.atomic():
                assert claim(outbox.due(now=NOW), limit=1) == [rows[0].pk]
                held.set()
                release.wait(timeout=30)
        except BaseException as exc:
            errors.append(exc)
            held.set()
        finally:
            connection.close()

    thread = threading.Thread(target=other_sender)
    thread.start()
    try:
        assert held.wait(timeout=30)
        with transaction.atomic():
            assert claim(outbox.due(now=NOW)) == [rows[1].pk, rows[2].pk]
    finally:
        release.set()
        thread.join(timeout=30)
    assert errors == []


def _advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="session advisory locks are PostgreSQL's"
)
@pytest.mark.django_db(transaction=True)
def test_a_session_claim_locks_only_the_rows_it_returns_skipping_those_another_sender_holds(
    outbox, make_rows
):
    """Two senders claim two rows each of five: disjoint, oldest first, and no lock is taken on
    a candidate the claim did not return; leaving the claim releases its locks."""
    rows = make_rows(5)
    held = threading.Event()
    release = threading.Event()
    seen: list[list[int]] = []
    errors: list[BaseException] = []

    def other_sender() -> None:
        try:
            with _claimed(outbox.due(now=NOW), limit=2) as pks:
                seen.append(pks)
                held.set()
                release.wait(timeout=30)
        except BaseException as exc:
            errors.append(exc)
            held.set()
        finally:
            connection.close()

    thread = threading.Thread(target=other_sender)
    thread.start()
    try:
        assert held.wait(timeout=30)
        with _claimed(outbox.due(now=NOW), limit=2) as mine:
            assert mine == [rows[2].pk, rows[3].pk]
            assert _advisory_locks_held() == 2
        assert _advisory_locks_held() == 0
    finally:
        release.set()
        thread.join(timeout=30)
    assert errors == []
    assert seen == [[rows[0].pk, rows[1].pk]]
    with _claimed(outbox.due(now=NOW), limit=10) as everything:
        assert everything == [row.pk for row in rows], "the other sender released its rows"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="marks commit behind the next message on PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_the_next_message_is_written_while_a_mark_commits_and_leaves_only_once_it_committed(
    outbox, make_rows
):
    """The first row's mark is held up by another transaction's lock on the row: the second
    message is written meanwhile, and its ``ready()`` returns only once the mark committed."""
    first, second = make_rows(2)
    locked, release = threading.Event(), threading.Event()

    def hold_the_first_row() -> None:
        try:
            with transaction.atomic():
                outbox.model._default_manager.select_for_update().get(pk=first.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_first_row)
    holder.start()
    assert locked.wait(timeout=30)
    seen: dict[str, str] = {}

    class Observer(ScriptedSender):
        def send(self, rows: Sequence[Any], *, now: dt.datetime, ready: Callable[[], None]) -> None:
            if rows[0].pk == second.pk:
                seen["written"] = committed_state(outbox.model, first.pk)
                # Released from elsewhere: ready() must wait for the commit, not return first.
                threading.Timer(0.3, release.set).start()
                ready()
                seen["sent"] = committed_state(outbox.model, first.pk)
            super().send(rows, now=now, ready=ready)

    try:
        report = send_batch(sender=Observer(outbox), now=NOW, report=OutboxReport())
    finally:
        release.set()
        holder.join(timeout=30)

    assert report.sent == 2
    assert seen == {"written": "pending", "sent": "sent"}
    assert [row_state(row)[0] for row in (first, second)] == ["sent", "sent"]


class _Task:
    """A task whose broker is up, or down (every enqueue raises)."""

    name = "probe.task"

    def __init__(self, *, down: bool) -> None:
        self.down = down
        self.calls = 0

    def apply_async(self, *, retry: bool) -> None:
        self.calls += 1
        if self.down:
            raise OSError("connection refused")


def test_enqueue_times_publishes_each_and_stops_at_a_broker_that_is_down(caplog):
    """Up, the task goes ``times`` times; down, one attempt is waited for, not ``times``."""
    up, down = _Task(down=False), _Task(down=True)
    done: list[int] = []

    core_outbox.enqueue(up, times=3)
    core_outbox.enqueue(down, times=3)
    core_outbox.enqueue(_Task(down=True), times=3, otherwise=lambda: done.append(1))

    assert (up.calls, down.calls) == (3, 1)
    assert caplog.text.count("Could not enqueue probe.task") == 2
    assert done == [1]
