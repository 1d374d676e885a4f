"""The scan over recurring commitments: each occurrence flagged and alerted on its own.

Time-travel tests in Asia/Tokyo: a monthly commitment whose occurrences end at midnight in
Tokyo (14:59:59.999999 UTC the same day).
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from alerts.models import Alert
from alerts.services.delivery import alerts_send_pending
from alerts.services.scan import scan
from commitments.choices import DeadlineState, Status
from commitments.models import Commitment, Occurrence
from commitments.services import commitments as svc
from tests import factories
from tests.support.smtp_server import smtp_server_fixture, smtp_settings_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

UTC = dt.UTC
CREATED_AT = dt.datetime(2025, 11, 1, tzinfo=UTC)
#: Occurrences 1 and 2: the ends of 30 Apr and 31 May 2026 in Tokyo.
FIRST = dt.date(2026, 4, 30)
SECOND = dt.date(2026, 5, 31)
FIRST_AT = dt.datetime(2026, 4, 30, 14, 59, 59, 999999, tzinfo=UTC)
SECOND_AT = dt.datetime(2026, 5, 31, 14, 59, 59, 999999, tzinfo=UTC)
ONE_SECOND = dt.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(CREATED_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def monthly(agreement, japan, owner) -> Commitment:
    """Monthly reports at each month's end from April 2026, six in all, owned by ``owner``."""
    return factories.month_end_series_make(
        agreement=agreement, obligor=japan, owner=owner, first=FIRST
    )


def states(commitment: Commitment) -> list[str]:
    return list(
        commitment.occurrences.order_by("sequence").values_list("deadline_state", flat=True)
    )


def alert_keys() -> list[tuple]:
    return sorted(Alert.objects.values_list("commitment__key", "due_date", "threshold"))


def test_each_occurrence_is_flagged_one_second_either_side_of_its_due_instant(monthly):
    result = scan(now=FIRST_AT - ONE_SECOND)
    assert states(monthly)[:3] == [
        DeadlineState.DUE_SOON,
        DeadlineState.ON_TRACK,
        DeadlineState.ON_TRACK,
    ]
    assert result.flagged_occurrences[DeadlineState.DUE_SOON] == 1
    scan(now=FIRST_AT + ONE_SECOND)
    assert states(monthly)[:2] == [DeadlineState.OVERDUE, DeadlineState.ON_TRACK]
    scan(now=SECOND_AT - dt.timedelta(days=30))
    assert states(monthly)[:2] == [DeadlineState.OVERDUE, DeadlineState.DUE_SOON]
    monthly.refresh_from_db()
    # The commitment row mirrors its next open occurrence: the overdue first one.
    assert (monthly.due_date, monthly.deadline_state) == (FIRST, DeadlineState.OVERDUE)


def test_an_overdue_first_and_a_due_soon_second_occurrence_both_alert(monthly):
    scan(now=FIRST_AT + ONE_SECOND)
    assert alert_keys() == [(monthly.key, FIRST, 0)]
    scan(now=SECOND_AT - dt.timedelta(days=30))
    assert alert_keys() == [(monthly.key, FIRST, 0), (monthly.key, SECOND, 30)]
    # A second scan at the same instant writes nothing more.
    assert scan(now=SECOND_AT - dt.timedelta(days=30)).alerts == 0


def test_the_second_occurrence_alerts_while_the_first_is_fulfilled(monthly, source, frozen_clock):
    frozen_clock.move_to(FIRST_AT - dt.timedelta(days=2))
    svc.commitment_change_status(
        commitment=monthly,
        occurrence=monthly.occurrences.get(sequence=1),
        status=Status.FULFILLED,
        evidence_source=source,
        evidence_quote="Rapport d'avril remis.",
    )
    monthly.refresh_from_db()
    assert monthly.due_date == SECOND
    scan(now=SECOND_AT - dt.timedelta(days=30) - ONE_SECOND)
    assert [key for key in alert_keys() if key[1] == SECOND] == []
    scan(now=SECOND_AT - dt.timedelta(days=30))
    assert (monthly.key, SECOND, 30) in alert_keys()
    assert not Alert.objects.filter(due_date=FIRST, threshold=0).exists()
    assert states(monthly)[0] == DeadlineState.NONE


def test_a_cancelled_recurring_commitment_raises_no_occurrence_alerts(monthly, source):
    svc.commitment_change_status(commitment=monthly, status=Status.CANCELLED, note="Dropped")
    scan(now=FIRST_AT + ONE_SECOND)
    assert alert_keys() == []


def test_escalations_are_per_occurrence(monthly, settings):
    settings.TRACKER_ESCALATION_EMAIL = "desk@example.org"
    settings.TRACKER_ESCALATION_AFTER_DAYS = 7
    scan(now=SECOND_AT + dt.timedelta(days=8))
    escalated = sorted(Alert.objects.filter(threshold=-7).values_list("due_date", flat=True))
    assert escalated == [FIRST, SECOND]


@pytest.mark.parametrize("horizon", [60])
def test_the_scan_tops_up_open_ended_series(agreement, japan, settings, horizon):
    settings.TRACKER_OCCURRENCE_HORIZON_DAYS = horizon
    commitment = factories.month_end_series_make(
        agreement=agreement, obligor=japan, first=dt.date(2025, 11, 30), count=None
    )
    # 1 Nov + 60 days is 31 Dec: November and December, then January past the horizon.
    assert commitment.occurrences.count() == 3
    assert scan(now=CREATED_AT).topped_up == 0
    result = scan(now=dt.datetime(2026, 2, 1, tzinfo=UTC))
    assert result.topped_up == 1
    assert Occurrence.objects.filter(commitment=commitment).latest("due_date").due_date == (
        dt.date(2026, 4, 30)
    )


def test_an_occurrence_alert_is_mailed_though_an_earlier_occurrence_is_still_open(
    monthly, smtp_settings
):
    """The commitment's own date mirrors its next open occurrence (the first, overdue); the
    second's 30-day notice is still an alert to send, not a due date that moved."""
    scan(now=SECOND_AT - dt.timedelta(days=30))
    assert (monthly.key, SECOND, 30) in alert_keys()
    report = alerts_send_pending(now=SECOND_AT - dt.timedelta(days=30))
    assert report.mails == 2
    assert set(Alert.objects.values_list("due_date", "state")) == {
        (FIRST, "sent"), (SECOND, "sent")
    }
    # Once that occurrence is closed, its pending alerts are skipped, saying why.
    Alert.objects.update(state="pending", sent_at=None)
    Occurrence.objects.filter(commitment=monthly, sequence=2).update(status=Status.CANCELLED)
    alerts_send_pending(now=SECOND_AT - dt.timedelta(days=30))
    skipped = Alert.objects.get(due_date=SECOND)
    assert skipped.state == "skipped" and "occurrence" in skipped.last_error
