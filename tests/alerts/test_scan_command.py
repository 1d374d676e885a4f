"""``manage.py scan_deadlines``: a thin command over the scan service, with a dry run."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from alerts.models import Alert, ScanRun, SubscriptionScope
from alerts.services.subscriptions import subscription_create
from commitments.choices import DeadlineState
from commitments.models import Commitment

pytestmark = pytest.mark.django_db

CREATED_AT = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(CREATED_AT, tick=False):
        yield


def run(*args: str) -> str:
    out = StringIO()
    call_command("scan_deadlines", *args, stdout=out)
    return out.getvalue()


def snapshot() -> tuple:
    return (
        sorted(Commitment.objects.values_list("key", "deadline_state", "flagged_at")),
        Alert.objects.count(),
        ScanRun.objects.count(),
    )


def test_dry_run_prints_changes_and_alerts_and_writes_nothing(make_commitment, owner, settings,
                                                              django_user_model):
    settings.TRACKER_ESCALATION_EMAIL = "desk@example.org"
    nobody = django_user_model.objects.create_user(username="nobody", email="")
    make_commitment(owner=owner)  # due 2026-04-26 in Tokyo
    make_commitment(owner=nobody, deadline_kind="fixed", deadline_date=dt.date(2026, 5, 4),
                    offset_amount=None, offset_unit="", anchor_kind="")
    before = snapshot()
    output = run("--now", "2026-05-04T00:00:00Z", "--dry-run")
    assert snapshot() == before
    lines = output.splitlines()
    assert "would flag c-1: on_track → overdue (due 2026-04-26)" in lines
    assert "would flag c-2: on_track → due_soon (due 2026-05-04)" in lines
    assert "would alert owner <owner@example.org> about c-1: overdue (due 2026-04-26)" in lines
    assert (
        "would alert nobody (no e-mail address: recorded as skipped) about c-2: "
        "1 day before (due 2026-05-04)" in lines
    )
    assert (
        "would alert desk@example.org (escalation contact) about c-1: "
        "escalation, 7 days overdue (due 2026-04-26)" in lines
    )
    assert lines[-1].startswith("Dry run, nothing written. Scan at 2026-05-04T00:00:00+00:00:")
    assert "2 commitment(s) flagged" in lines[-1]


def test_run_flags_and_writes_and_prints_a_summary(make_commitment, owner):
    commitment = make_commitment(owner=owner)
    output = run("--now", "2026-04-20T00:00:00+00:00")
    assert output.strip() == (
        "Scan at 2026-04-20T00:00:00+00:00: 1 commitment(s) flagged (none: 0, on_track: 0, "
        "due_soon: 1, overdue: 0, suspended: 0); 1 alert(s) and 0 escalation(s) written."
    )
    commitment.refresh_from_db()
    assert commitment.deadline_state == DeadlineState.DUE_SOON
    assert Alert.objects.get().threshold == 7


def test_a_scan_at_a_chosen_instant_leaves_no_watermark(make_commitment):
    """The next periodic scan must not start from an instant that was not "now"."""
    make_commitment()
    run("--now", "2026-04-20T00:00:00Z")
    assert not ScanRun.objects.exists()


def test_now_without_offset_is_utc(make_commitment):
    assert "Scan at 2026-04-20T00:00:00+00:00" in run("--now", "2026-04-20T00:00:00")


@pytest.mark.parametrize("value", ["bogus", "2026-13-01T00:00:00Z", "2026-04-31"])
def test_bad_now_fails_naming_the_option(value):
    with pytest.raises(CommandError, match="--now") as exc:
        run("--now", value)
    assert exc.value.returncode != 0
    assert not ScanRun.objects.exists()


def test_dry_run_on_the_seed_data(django_user_model):
    """The example from the issue: the seeds, a watcher of everything, a dry run on 27 Apr."""
    call_command("loadseeds", stdout=StringIO())
    watcher = django_user_model.objects.create_user(username="desk", email="desk@example.org")
    subscription_create(user=watcher, scope=SubscriptionScope.ALL)
    before = snapshot()
    output = run("--now", "2026-04-27T00:00:00Z", "--dry-run")
    assert snapshot() == before
    assert any(line.startswith("would flag ") for line in output.splitlines())
    assert any(line.startswith("would alert desk <desk@example.org> about ")
               for line in output.splitlines())
