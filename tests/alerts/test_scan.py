"""The deadline scan: states flagged with set-based SQL, and the alert outbox it writes."""

from __future__ import annotations

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.urls import reverse

from alerts.models import Alert, AlertState, DeliveryMode, ScanRun, SubscriptionScope
from alerts.services.delivery import ALERT_OUTBOX
from alerts.services.scan import scan
from alerts.services.subscriptions import subscription_create
from commitments.choices import AgreementKind, DeadlineState, Status
from commitments.models import Agreement, Commitment
from commitments.services import commitments as svc

UTC = dt.UTC
#: When the test data is created (the hooks scan at the real clock, which travels here).
CREATED_AT = dt.datetime(2025, 11, 1, tzinfo=UTC)
#: Due instant of the default commitment: the end of 26 Apr 2026 in Asia/Tokyo.
DUE_AT = dt.datetime(2026, 4, 26, 14, 59, 59, 999999, tzinfo=UTC)
DUE_DATE = dt.date(2026, 4, 26)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(CREATED_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def watcher(django_user_model):
    return django_user_model.objects.create_user(username="watcher", email="watcher@example.org")


def fixed(day: dt.date) -> dict:
    """Return the input fields of a fixed-date deadline rule."""
    return {
        "deadline_kind": "fixed",
        "deadline_date": day,
        "offset_amount": None,
        "offset_unit": "",
        "anchor_kind": "",
    }


def alert_keys(**filters) -> list[tuple]:
    return sorted(
        Alert.objects.filter(**filters).values_list(
            "email", "commitment__key", "due_date", "threshold"
        )
    )


def state_of(commitment: Commitment) -> str:
    commitment.refresh_from_db()
    return commitment.deadline_state


# States ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DUE_AT - dt.timedelta(days=30, seconds=1), DeadlineState.ON_TRACK),
        (DUE_AT - dt.timedelta(days=30), DeadlineState.DUE_SOON),
        (DUE_AT, DeadlineState.DUE_SOON),
        (DUE_AT + dt.timedelta(microseconds=1), DeadlineState.OVERDUE),
    ],
)
def test_open_commitment_state_follows_its_due_instant(make_commitment, now, expected):
    """On track until 30 days before the due instant, then due soon, then overdue."""
    commitment = make_commitment()
    scan(now=now)
    assert state_of(commitment) == expected


@pytest.mark.django_db
def test_commitment_without_deadline_or_closed_is_none(make_commitment, source):
    """No due date, or a terminal status, means no deadline state, even when long past due."""
    ongoing = make_commitment(deadline_kind="none", offset_amount=None, offset_unit="",
                              anchor_kind="")
    cancelled = make_commitment()
    svc.commitment_change_status(commitment=cancelled, status=Status.CANCELLED)
    scan(now=DUE_AT + dt.timedelta(days=100))
    assert state_of(ongoing) == DeadlineState.NONE
    assert state_of(cancelled) == DeadlineState.NONE
    assert Alert.objects.count() == 0


@pytest.mark.django_db
def test_new_commitment_is_flagged_at_once(make_commitment):
    """Creating a commitment evaluates its state in the same transaction (no scan needed)."""
    commitment = make_commitment()
    assert state_of(commitment) == DeadlineState.ON_TRACK
    assert commitment.flagged_at == CREATED_AT


@pytest.mark.django_db
def test_tokyo_due_instant_one_second_either_side(make_commitment):
    """The deadline ends at midnight in Tokyo: 14:59:59 UTC is due soon, 15:00:00 overdue."""
    commitment = make_commitment(**fixed(DUE_DATE))
    assert commitment.due_at == DUE_AT
    scan(now=dt.datetime(2026, 4, 26, 14, 59, 59, tzinfo=UTC))
    assert state_of(commitment) == DeadlineState.DUE_SOON
    scan(now=dt.datetime(2026, 4, 26, 15, 0, 0, 999999, tzinfo=UTC))
    assert state_of(commitment) == DeadlineState.OVERDUE


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("due_date", "local_midnight_utc"),
    [
        # Winter time (UTC+1) the day before the change on 29 March 2026...
        (dt.date(2026, 3, 28), dt.datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),
        # ...summer time (UTC+2) on the day of the change.
        (dt.date(2026, 3, 29), dt.datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),
    ],
)
def test_paris_due_instant_across_dst_change(japan, usa, make_commitment, due_date,
                                              local_midnight_utc):
    """A Paris deadline ends at local midnight whichever offset is in force that day."""
    paris = svc.agreement_create(
        key="paris-2025", title="Paris meeting", kind=AgreementKind.MINISTERIAL_MEETING,
        date=dt.date(2025, 10, 1), time_zone="Europe/Paris", parties=[japan, usa],
    )
    commitment = make_commitment(agreement=paris, **fixed(due_date))
    assert commitment.due_at == local_midnight_utc - dt.timedelta(microseconds=1)
    scan(now=local_midnight_utc - dt.timedelta(seconds=1))
    assert state_of(commitment) == DeadlineState.DUE_SOON
    scan(now=local_midnight_utc + dt.timedelta(seconds=1))
    assert state_of(commitment) == DeadlineState.OVERDUE


@pytest.mark.django_db
def test_rescan_at_same_instant_changes_nothing(make_commitment, owner):
    """A second scan at the same instant updates no row and writes no alert."""
    make_commitment(owner=owner)
    make_commitment(owner=owner, **fixed(dt.date(2026, 4, 1)))
    now = DUE_AT - dt.timedelta(days=3)
    first = scan(now=now)
    assert first.changed == 2
    assert first.alerts == 2
    second = scan(now=now)
    assert second.changed == 0
    assert second.alerts == 0
    assert Alert.objects.count() == 2


@pytest.mark.django_db
def test_only_rows_whose_state_changes_get_a_new_flag_time(make_commitment):
    """flagged_at records when the state last changed; unchanged rows keep theirs."""
    soon = make_commitment()
    later = make_commitment(**fixed(dt.date(2026, 12, 31)))
    first = DUE_AT - dt.timedelta(days=10)
    scan(now=first)
    second = first + dt.timedelta(days=1)
    result = scan(now=second)
    assert result.changed == 0
    soon.refresh_from_db()
    later.refresh_from_db()
    assert (soon.deadline_state, soon.flagged_at) == (DeadlineState.DUE_SOON, first)
    assert (later.deadline_state, later.flagged_at) == (DeadlineState.ON_TRACK, CREATED_AT)
    scan(now=DUE_AT + dt.timedelta(hours=1))
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.flagged_at == DUE_AT + dt.timedelta(hours=1)
    assert later.flagged_at == CREATED_AT


@pytest.mark.django_db
def test_status_change_to_fulfilled_clears_the_state_at_once(make_commitment, source):
    """Recording fulfilment re-evaluates the deadline state in the same transaction."""
    commitment = make_commitment()
    scan(now=DUE_AT + dt.timedelta(days=1))
    assert state_of(commitment) == DeadlineState.OVERDUE
    svc.commitment_change_status(
        commitment=commitment, status=Status.FULFILLED, occurred_on=dt.date(2025, 11, 1),
        evidence_source=source, evidence_quote="Réunion tenue.",
    )
    assert state_of(commitment) == DeadlineState.NONE


# Alerts ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_owner_is_alerted_without_a_subscription(make_commitment, owner):
    """An owner gets the default 30-day notice with no subscription of their own."""
    commitment = make_commitment(owner=owner)
    result = scan(now=DUE_AT - dt.timedelta(days=20))
    assert result.alerts == 1
    alert = Alert.objects.get()
    assert (alert.user, alert.email, alert.commitment, alert.due_date, alert.threshold) == (
        owner, "owner@example.org", commitment, DUE_DATE, 30,
    )
    assert (alert.state, alert.digest, alert.created) == (
        AlertState.PENDING, False, DUE_AT - dt.timedelta(days=20),
    )


@pytest.mark.django_db
def test_only_the_tightest_threshold_is_written_after_a_gap(make_commitment, owner):
    """After three weeks without scans, 5 days before due gives the 7-day notice only."""
    make_commitment(owner=owner)
    scan(now=DUE_AT - dt.timedelta(days=26))
    scan(now=DUE_AT - dt.timedelta(days=5))
    assert alert_keys() == [
        ("owner@example.org", "c-1", DUE_DATE, 7),
        ("owner@example.org", "c-1", DUE_DATE, 30),
    ]
    Alert.objects.all().delete()
    scan(now=DUE_AT - dt.timedelta(days=40))
    scan(now=DUE_AT - dt.timedelta(days=5))
    assert [key[3] for key in alert_keys()] == [7]


@pytest.mark.django_db
def test_each_threshold_once_then_the_overdue_notice(make_commitment, owner):
    """Scans every day raise 30, 7, 1 and the notice the day after, each exactly once."""
    make_commitment(owner=owner)
    day = DUE_AT - dt.timedelta(days=35)
    while day < DUE_AT + dt.timedelta(days=3):
        scan(now=day)
        day += dt.timedelta(hours=12)
    assert [key[3] for key in alert_keys()] == [0, 1, 7, 30]


@pytest.mark.django_db
def test_changed_due_date_rearms_alerts(make_commitment, owner, frozen_clock):
    """A new due date makes new alert keys: the same threshold is raised again."""
    commitment = make_commitment(owner=owner, **fixed(DUE_DATE))
    frozen_clock.move_to(DUE_AT - dt.timedelta(days=3))
    scan(now=DUE_AT - dt.timedelta(days=3))
    new_date = dt.date(2026, 4, 28)
    svc.commitment_update(commitment=commitment, deadline_date=new_date)
    assert alert_keys() == [
        ("owner@example.org", "c-1", DUE_DATE, 7),
        ("owner@example.org", "c-1", new_date, 7),
    ]


@pytest.mark.django_db
def test_party_scope_matches_obligor_and_beneficiary(make_commitment, watcher, japan, usa):
    """Watching a party covers commitments it owes and those it benefits from."""
    owed = make_commitment(obligor=usa)
    benefits = make_commitment(obligor=japan, beneficiaries=[usa])
    make_commitment(obligor=japan)
    subscription_create(user=watcher, scope=SubscriptionScope.PARTY, party=usa)
    scan(now=DUE_AT - dt.timedelta(days=2))
    assert alert_keys(user=watcher) == [
        ("watcher@example.org", owed.key, DUE_DATE, 7),
        ("watcher@example.org", benefits.key, DUE_DATE, 7),
    ]


@pytest.mark.django_db
def test_subscription_scopes_and_lead_times(make_commitment, watcher, agreement):
    """Agreement, commitment and all scopes each match; their lead times are combined."""
    first = make_commitment()
    second = make_commitment()
    subscription_create(user=watcher, scope=SubscriptionScope.COMMITMENT, commitment=first,
                        lead_days=[3])
    subscription_create(user=watcher, scope=SubscriptionScope.AGREEMENT, agreement=agreement,
                        lead_days=[10], notify_overdue=False)
    scan(now=DUE_AT - dt.timedelta(days=2, hours=12))
    assert alert_keys() == [
        ("watcher@example.org", first.key, DUE_DATE, 3),
        ("watcher@example.org", second.key, DUE_DATE, 10),
    ]
    scan(now=DUE_AT + dt.timedelta(hours=1))
    assert alert_keys(threshold=0) == [("watcher@example.org", first.key, DUE_DATE, 0)]


@pytest.mark.django_db
def test_digest_only_when_every_matching_subscription_is_digest(make_commitment, watcher,
                                                                 owner, agreement):
    """An alert is a digest item only if all the recipient's matching subscriptions say so."""
    mine = make_commitment(owner=owner)
    subscription_create(user=watcher, scope=SubscriptionScope.ALL, mode=DeliveryMode.DIGEST)
    subscription_create(user=owner, scope=SubscriptionScope.ALL, mode=DeliveryMode.DIGEST)
    subscription_create(user=owner, scope=SubscriptionScope.COMMITMENT, commitment=mine,
                        lead_days=[2])
    scan(now=DUE_AT - dt.timedelta(days=1, hours=12))
    digests = dict(Alert.objects.values_list("user__username", "digest"))
    assert digests == {"watcher": True, "owner": False}
    # The owner's own subscriptions replace the default: lead 2 is theirs, not a default.
    assert Alert.objects.get(user=owner).threshold == 2


@pytest.mark.django_db
def test_recipient_without_address_is_recorded_as_skipped(make_commitment, django_user_model):
    """No e-mail address: the alert is written as skipped with the reason, and not retried."""
    nobody = django_user_model.objects.create_user(username="nobody", email="")
    make_commitment(owner=nobody)
    now = DUE_AT - dt.timedelta(days=2)
    scan(now=now)
    alert = Alert.objects.get()
    assert (alert.state, alert.email, alert.next_attempt_at) == (AlertState.SKIPPED, "", None)
    assert "no e-mail address" in alert.last_error
    assert scan(now=now + dt.timedelta(hours=1)).alerts == 0
    assert ALERT_OUTBOX.retry(ids=[alert.pk], now=now) == 0


@pytest.mark.django_db
def test_inactive_users_are_not_alerted(make_commitment, owner):
    """A deactivated account gets nothing."""
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    make_commitment(owner=owner)
    assert scan(now=DUE_AT - dt.timedelta(days=2)).alerts == 0


@pytest.mark.django_db
def test_escalation_after_n_days_overdue(make_commitment, owner, settings):
    """The escalation contact is told once, N days after the deadline, with threshold -N."""
    settings.TRACKER_ESCALATION_EMAIL = "desk@example.org"
    settings.TRACKER_ESCALATION_AFTER_DAYS = 7
    commitment = make_commitment(owner=owner)
    assert scan(now=DUE_AT + dt.timedelta(days=6, hours=23)).escalations == 0
    assert scan(now=DUE_AT + dt.timedelta(days=7, hours=1)).escalations == 1
    assert scan(now=DUE_AT + dt.timedelta(days=8)).escalations == 0
    alert = Alert.objects.get(user=None)
    assert (alert.email, alert.commitment, alert.due_date, alert.threshold, alert.state) == (
        "desk@example.org", commitment, DUE_DATE, -7, AlertState.PENDING,
    )


@pytest.mark.django_db
def test_no_escalation_without_a_contact(make_commitment, settings):
    """With no escalation address configured, nobody is escalated to."""
    settings.TRACKER_ESCALATION_EMAIL = ""
    make_commitment()
    assert scan(now=DUE_AT + dt.timedelta(days=30)).escalations == 0
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_scan_after_an_outage_sends_what_fell_due_meanwhile(make_commitment, owner, settings):
    """Two months without scans: the next one sends the overdue notice and the escalation."""
    settings.TRACKER_ESCALATION_EMAIL = "desk@example.org"
    make_commitment(owner=owner)
    scan(now=DUE_AT - dt.timedelta(days=40))
    result = scan(now=DUE_AT + dt.timedelta(days=60))
    assert (result.alerts, result.escalations) == (1, 1)
    assert [key[3] for key in alert_keys()] == [-7, 0]


@pytest.mark.django_db
def test_each_full_scan_is_recorded(make_commitment, owner):
    """Every full scan leaves a record of its instant and what it did, newest first."""
    make_commitment(owner=owner)
    scan(now=DUE_AT - dt.timedelta(days=2))
    scan(now=DUE_AT - dt.timedelta(days=1))
    runs = list(ScanRun.objects.values_list("now", "changed", "alerts"))
    assert runs == [
        (DUE_AT - dt.timedelta(days=1), 0, 1),
        (DUE_AT - dt.timedelta(days=2), 1, 1),
    ]


@pytest.mark.django_db
def test_retry_puts_failed_alerts_back_in_the_queue(make_commitment, owner):
    """"Retry now" makes a failed alert pending again with a fresh attempt budget."""
    make_commitment(owner=owner)
    now = DUE_AT - dt.timedelta(days=2)
    scan(now=now)
    Alert.objects.update(state=AlertState.FAILED, attempts=5, last_error="550 refused")
    alert = Alert.objects.get()
    assert ALERT_OUTBOX.retry(ids=[alert.pk], now=now + dt.timedelta(hours=1)) == 1
    alert.refresh_from_db()
    assert (alert.state, alert.attempts, alert.next_attempt_at) == (
        AlertState.PENDING, 0, now + dt.timedelta(hours=1),
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"
)
def test_two_scans_at_once_write_each_alert_once(make_commitment, owner, watcher):
    """Two scans racing on separate connections write every alert exactly once."""
    for _ in range(20):
        make_commitment(owner=owner)
    subscription_create(user=watcher, scope=SubscriptionScope.ALL)
    now = DUE_AT - dt.timedelta(days=2)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(scan(now=now))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sum(r.alerts for r in results) == 40
    assert sum(r.changed for r in results) == 20
    assert Alert.objects.count() == 40
    assert Commitment.objects.filter(deadline_state=DeadlineState.DUE_SOON).count() == 20


@pytest.mark.django_db
def test_one_commitments_alerts_are_written_one_after_another(
    make_commitment, agreement, django_user_model
):
    """A scan writes the alerts of one commitment at consecutive ids, its recipients in turn,
    so a sender's run, which takes alerts by id, writes that mail's words once for them all.
    Recipient by recipient, a run of 200 mails to 20 watchers of 100 commitments held two
    recipients' alerts and wrote each mail's words twice."""
    commitments = [make_commitment() for _ in range(3)]
    users = [
        django_user_model.objects.create_user(username=f"w{n}", email=f"w{n}@example.org")
        for n in range(4)
    ]
    for user in reversed(users):
        subscription_create(user=user, scope=SubscriptionScope.AGREEMENT, agreement=agreement)
    scan(now=DUE_AT - dt.timedelta(days=2))
    written = list(Alert.objects.order_by("pk").values_list("commitment_id", "user_id"))
    assert written == [(c.pk, u.pk) for c in commitments for u in users]


@pytest.mark.django_db
def test_admin_lists_failures_and_retries_them(admin_client, make_commitment, owner):
    """The alert admin shows the error and attempts; "retry now" requeues failed alerts only."""
    make_commitment(owner=owner)
    make_commitment(owner=owner)
    scan(now=DUE_AT - dt.timedelta(days=2))
    failed, sent = Alert.objects.order_by("pk")
    Alert.objects.filter(pk=failed.pk).update(
        state=AlertState.FAILED, attempts=8, last_error="550 mailbox unavailable"
    )
    Alert.objects.filter(pk=sent.pk).update(state=AlertState.SENT, attempts=1)
    url = reverse("admin:alerts_alert_changelist")
    listing = admin_client.get(url, {"state__exact": "failed"})
    assert list(listing.context["cl"].queryset) == [failed]
    assert "550 mailbox unavailable" in listing.content.decode()
    response = admin_client.post(
        url, {"action": "retry_now", "_selected_action": [failed.pk, sent.pk]}, follow=True
    )
    assert "1 failed alert(s) queued again; 1 left as they were." in response.content.decode()
    assert dict(Alert.objects.values_list("pk", "state")) == {
        failed.pk: AlertState.PENDING,
        sent.pk: AlertState.SENT,
    }


def lock_waiters(*, timeout: float = 15.0) -> list[str]:
    """Return the statements of this database's sessions waiting on a lock, once there are any.

    Polls ``pg_stat_activity`` for up to ``timeout`` seconds; an empty list means none waited.
    """
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT query FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            waiting = [row[0] for row in cursor.fetchall()]
            if waiting:
                return waiting
            time.sleep(0.05)
    return []


@pytest.fixture
def enqueued(monkeypatch):
    """Return the tasks enqueued (on commit) during the test, kept here instead of sent."""
    sent: list = []
    monkeypatch.setattr("core.outbox.enqueue", lambda task, **options: sent.append(task))
    return sent


def rescans(enqueued) -> list[list[int]]:
    """Return the ``commitment_ids`` of each deadline rescan task among ``enqueued``."""
    return [task.kwargs["commitment_ids"] for task in enqueued
            if task.name == "alerts.scan_deadlines"]


def hold_a_full_scan(now, written, release, errors) -> None:
    """Run a full scan at ``now`` and keep its transaction open until ``release`` is set."""
    try:
        with transaction.atomic():
            scan(now=now)
            written.set()
            assert release.wait(timeout=30)
    except BaseException as exc:  # reported by the test
        errors.append(exc)
    finally:
        written.set()
        connections.close_all()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_a_status_change_meeting_a_full_scan_on_its_alert_does_not_wait_for_it(
    make_commitment, owner, frozen_clock, enqueued
):
    """A status change during a full scan that wrote the same alert neither waits nor fails.

    The scan has written the overdue alert of a commitment (its flags were already right, so it
    holds no lock on the commitment) and not yet committed. The status change's rescan would
    insert the same alert and wait on it for as long as the scan's transaction lasts (a first
    scan: seconds to minutes, inside a web request; seen under bench/load.py), and its row
    lock could meet the scan's foreign-key check at commit (a deadlock PostgreSQL breaks by
    failing one). So it flags its row now, leaves the alerts to a rescan task enqueued on
    commit, and returns while the scan is still open; the task then finds the alert written.
    """
    commitment = make_commitment(owner=owner)
    frozen_clock.move_to(DUE_AT + dt.timedelta(days=1))
    now = DUE_AT + dt.timedelta(days=1)
    scan(now=now)  # flags right; the alerts and the watermark go, so the next scan rewrites
    Alert.objects.all().delete()
    ScanRun.objects.all().delete()
    written, changed, release = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def status_change() -> None:
        try:
            assert written.wait(timeout=30)
            svc.commitment_change_status(
                commitment=commitment, status=Status.IN_PROGRESS, user=owner, now=now
            )
            changed.set()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=hold_a_full_scan, args=(now, written, release, errors)),
        threading.Thread(target=status_change),
    ]
    for thread in threads:
        thread.start()
    try:
        finished_first = changed.wait(timeout=15)
        waiting = lock_waiters(timeout=0.2)
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert finished_first, "the status change waited for the full scan"
    assert waiting == []
    commitment.refresh_from_db()
    assert commitment.status == Status.IN_PROGRESS
    assert rescans(enqueued) == [[commitment.pk]]
    assert alert_keys() == [("owner@example.org", commitment.key, DUE_DATE, 0)]
    (task,) = [task for task in enqueued if task.name == "alerts.scan_deadlines"]
    task.apply()
    assert alert_keys() == [("owner@example.org", commitment.key, DUE_DATE, 0)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks need PostgreSQL")
def test_a_commitment_reopened_during_a_full_scan_gets_its_alerts_from_the_rescan_task(
    make_commitment, owner, frozen_clock, enqueued
):
    """A change the running full scan did not see is flagged at once and alerted after it.

    The commitment is cancelled when the scan reads it, so the scan writes no alert for it;
    reopened meanwhile, it is flagged overdue in the change's own transaction, and the rescan
    task enqueued on its commit writes the overdue notice once the scan has ended.
    """
    other = make_commitment(owner=owner)
    commitment = make_commitment(owner=owner)
    svc.commitment_change_status(commitment=commitment, status=Status.CANCELLED, user=owner)
    frozen_clock.move_to(DUE_AT + dt.timedelta(days=1))
    now = DUE_AT + dt.timedelta(days=1)
    written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    scanning = threading.Thread(target=hold_a_full_scan, args=(now, written, release, errors))
    scanning.start()
    try:
        assert written.wait(timeout=30)
        svc.commitment_change_status(
            commitment=commitment, status=Status.IN_PROGRESS, user=owner, now=now
        )
        assert state_of(commitment) == DeadlineState.OVERDUE
    finally:
        release.set()
        scanning.join(timeout=30)
    assert errors == []
    assert alert_keys() == [("owner@example.org", other.key, DUE_DATE, 0)]
    assert rescans(enqueued) == [[commitment.pk]]
    (task,) = [task for task in enqueued if task.name == "alerts.scan_deadlines"]
    task.apply()
    assert alert_keys() == [
        ("owner@example.org", other.key, DUE_DATE, 0),
        ("owner@example.org", commitment.key, DUE_DATE, 0),
    ]
    assert ScanRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks need PostgreSQL")
def test_a_rescan_deferred_with_the_broker_down_runs_after_the_commit(
    make_commitment, owner, frozen_clock, monkeypatch
):
    """No broker to take the deferred rescan: the change runs it itself once it has committed.

    The periodic scan reads only thresholds crossed since its watermark, so it would never
    write this overdue notice; nothing may be lost, even at the price of a wait (here none:
    the scan holds no row of this commitment's alert).
    """

    def broker_down(self, *args, **kwargs):
        raise OSError("Connection refused")

    monkeypatch.setattr("celery.app.task.Task.apply_async", broker_down)
    monkeypatch.setattr("celery.canvas.Signature.apply_async", broker_down)
    other = make_commitment(owner=owner)
    commitment = make_commitment(owner=owner)
    svc.commitment_change_status(commitment=commitment, status=Status.CANCELLED, user=owner)
    now = DUE_AT + dt.timedelta(days=1)
    frozen_clock.move_to(now)
    written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    scanning = threading.Thread(target=hold_a_full_scan, args=(now, written, release, errors))

    def reopen() -> None:
        try:
            svc.commitment_change_status(
                commitment=commitment, status=Status.IN_PROGRESS, user=owner, now=now
            )
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    changing = threading.Thread(target=reopen)
    scanning.start()
    try:
        assert written.wait(timeout=30)
        changing.start()
        changing.join(timeout=30)
        assert not changing.is_alive()
        assert state_of(commitment) == DeadlineState.OVERDUE
        # Written by the change's own rescan after its commit; the scan's rows are not yet.
        assert alert_keys() == [("owner@example.org", commitment.key, DUE_DATE, 0)]
    finally:
        release.set()
        scanning.join(timeout=30)
        changing.join(timeout=30)
    assert errors == []
    assert alert_keys() == [
        ("owner@example.org", other.key, DUE_DATE, 0),
        ("owner@example.org", commitment.key, DUE_DATE, 0),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks need PostgreSQL")
def test_a_status_change_with_no_full_scan_running_writes_its_alerts_itself(
    make_commitment, owner, frozen_clock, enqueued
):
    """Without a full scan running, the change's own transaction writes its alerts: no task."""
    commitment = make_commitment(owner=owner)
    svc.commitment_change_status(commitment=commitment, status=Status.CANCELLED, user=owner)
    frozen_clock.move_to(DUE_AT + dt.timedelta(days=1))
    svc.commitment_change_status(commitment=commitment, status=Status.IN_PROGRESS, user=owner)
    assert alert_keys() == [("owner@example.org", commitment.key, DUE_DATE, 0)]
    assert rescans(enqueued) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_an_agreement_change_waits_for_an_open_status_change_at_the_agreement(
    make_commitment, owner
):
    """A status change locks its agreement first, as an agreement change does.

    So a change of the agreement's date or zone waits before it writes anything, rather than
    updating the agreement, reading the commitments a status change is recomputing, and
    saving due instants from that stale read.
    """
    commitment = make_commitment(owner=owner)
    agreement_id = commitment.agreement_id
    changed, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def status_change() -> None:
        try:
            with transaction.atomic():
                svc.commitment_change_status(
                    commitment=commitment, status=Status.IN_PROGRESS, user=owner
                )
                changed.set()
                assert release.wait(timeout=30)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            changed.set()
            connections.close_all()

    def zone_change() -> None:
        try:
            assert changed.wait(timeout=30)
            agreement = Agreement.objects.get(pk=agreement_id)
            svc.agreement_update(agreement=agreement, time_zone="America/Los_Angeles")
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=status_change), threading.Thread(target=zone_change)]
    for thread in threads:
        thread.start()
    try:
        waiting = lock_waiters()
        if not waiting:
            pytest.fail("the agreement change never waited on the status change")
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert len(waiting) == 1 and waiting[0].startswith('UPDATE "commitments_agreement"'), waiting
    commitment.refresh_from_db()
    assert commitment.status == Status.IN_PROGRESS
    assert commitment.due_at == dt.datetime(
        commitment.due_date.year, commitment.due_date.month, commitment.due_date.day,
        23, 59, 59, 999999, tzinfo=ZoneInfo("America/Los_Angeles"),
    )
