"""The scan over revised deadlines, travelling in time around a due instant in Asia/Tokyo.

A commitment due 26 Apr 2026 in Tokyo is due until 2026-04-26T14:59:59.999999Z. Suspended, it
is neither due soon nor overdue and raises no alert; resumed, the clock runs again; extended,
the alerts re-arm for the new date.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from alerts.models import Alert
from alerts.services.scan import scan
from commitments.choices import DeadlineState
from commitments.models import Commitment
from tests import factories

pytestmark = pytest.mark.django_db

UTC = dt.UTC
CREATED_AT = dt.datetime(2025, 11, 1, tzinfo=UTC)
DUE_DATE = dt.date(2026, 4, 26)
DUE_AT = dt.datetime(2026, 4, 26, 14, 59, 59, 999999, tzinfo=UTC)
SECOND = dt.timedelta(seconds=1)
FIXED = {
    "deadline_kind": "fixed",
    "deadline_date": DUE_DATE,
    "offset_amount": None,
    "offset_unit": "",
    "anchor_kind": "",
}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(CREATED_AT, tick=False) as traveller:
        yield traveller


def state_of(commitment: Commitment) -> str:
    return Commitment.objects.values_list("deadline_state", flat=True).get(pk=commitment.pk)


def alert_keys() -> list[tuple]:
    return sorted(Alert.objects.values_list("commitment__key", "due_date", "threshold"))


def test_a_suspended_deadline_is_not_overdue_and_raises_no_alert(make_commitment, owner, source):
    commitment = make_commitment(owner=owner, **FIXED)
    factories.revision_make(commitment=commitment, kind="suspended", source=source)
    assert state_of(commitment) == DeadlineState.SUSPENDED

    for now in (DUE_AT - dt.timedelta(days=7), DUE_AT - SECOND, DUE_AT + SECOND):
        result = scan(now=now)
        assert state_of(commitment) == DeadlineState.SUSPENDED
        assert result.flagged[DeadlineState.OVERDUE] == 0
    assert alert_keys() == []
    assert not Commitment.objects.overdue(DUE_AT + SECOND).exists()


def test_resumed_after_its_due_instant_it_is_overdue_at_once(
    make_commitment, owner, source, frozen_clock
):
    commitment = make_commitment(owner=owner, **FIXED)
    factories.revision_make(commitment=commitment, kind="suspended", source=source)
    scan(now=DUE_AT + SECOND)
    assert state_of(commitment) == DeadlineState.SUSPENDED

    frozen_clock.move_to(DUE_AT + 2 * SECOND)
    factories.revision_make(commitment=commitment, kind="resumed", source=source)

    assert state_of(commitment) == DeadlineState.OVERDUE
    assert alert_keys() == [("c-1", DUE_DATE, 0)]


def test_resumed_before_its_due_instant_the_clock_runs_again_to_the_second(
    make_commitment, owner, source, frozen_clock
):
    commitment = make_commitment(owner=owner, **FIXED)
    factories.revision_make(commitment=commitment, kind="suspended", source=source)
    frozen_clock.move_to(DUE_AT - dt.timedelta(days=2))
    factories.revision_make(commitment=commitment, kind="resumed", source=source)
    assert state_of(commitment) == DeadlineState.DUE_SOON

    scan(now=DUE_AT - SECOND)
    assert state_of(commitment) == DeadlineState.DUE_SOON
    scan(now=DUE_AT + SECOND)
    assert state_of(commitment) == DeadlineState.OVERDUE
    assert alert_keys() == [("c-1", DUE_DATE, 0), ("c-1", DUE_DATE, 1), ("c-1", DUE_DATE, 7)]


def test_an_extension_re_arms_the_seven_day_alert_for_the_new_date(
    make_commitment, owner, source, frozen_clock
):
    commitment = make_commitment(owner=owner, **FIXED)
    frozen_clock.move_to(DUE_AT - dt.timedelta(days=3))
    scan(now=DUE_AT - dt.timedelta(days=3))
    assert alert_keys() == [("c-1", DUE_DATE, 7)]

    new_date = DUE_DATE + dt.timedelta(days=2)
    factories.revision_make(commitment=commitment, source=source, new_due_date=new_date)

    assert alert_keys() == [("c-1", DUE_DATE, 7), ("c-1", new_date, 7)]
    scan(now=DUE_AT + SECOND)
    assert state_of(commitment) == DeadlineState.DUE_SOON


def test_the_dry_run_shows_a_suspended_deadline_as_suspended(make_commitment, source):
    """A suspension the rescan has not flagged yet (a restored backup) shows in the dry run."""
    commitment = make_commitment(**FIXED)
    Commitment.objects.filter(pk=commitment.pk).update(deadline_suspended=True)
    out = StringIO()
    call_command("scan_deadlines", "--now", "2026-04-27T00:00:00Z", "--dry-run", stdout=out)
    lines = out.getvalue().splitlines()
    assert "would flag c-1: on_track → suspended (due 2026-04-26)" in lines
    assert "suspended: 1" in lines[-1]
    assert state_of(commitment) == DeadlineState.ON_TRACK
