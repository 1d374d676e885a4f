"""The overview's "upcoming" list reads from yesterday in due-date order, not every overdue
row first: ``upcoming()`` states the due-date bound that ``due_at >= now`` implies
(``earliest_due_date``), and the bound never drops a commitment, even in the zones furthest
from UTC."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Q

from commitments.models import Commitment
from commitments.querysets import earliest_due_date, watched_q
from dashboard import selectors
from tests import factories

pytestmark = pytest.mark.django_db

DUE = dt.date(2026, 3, 31)
#: The zones furthest behind and ahead of UTC, and UTC.
ZONES = ("Etc/GMT+12", "Pacific/Kiritimati", "UTC")


@pytest.fixture
def due_everywhere(japan, usa):
    """One commitment due on ``DUE`` (and one the day before) in each of :data:`ZONES`."""
    rows = []
    for zone in ZONES:
        agreement = factories.agreement_make(parties=[japan, usa], time_zone=zone)
        for day in (DUE - dt.timedelta(days=1), DUE):
            rows.append(
                factories.commitment_make(
                    agreement=agreement, obligor=japan, deadline_kind="fixed", deadline_date=day
                )
            )
    return rows


def _instants(rows: list[Commitment]) -> list[dt.datetime]:
    """Return each due instant, and a microsecond either side of it."""
    micro = dt.timedelta(microseconds=1)
    instants = [row.due_at for row in rows if row.due_at is not None]
    assert len(instants) == len(rows)
    return [at + d for at in instants for d in (-micro, dt.timedelta(), micro)]


def test_the_bound_never_drops_an_upcoming_commitment(due_everywhere):
    """At every due instant (and either side of it), upcoming() is due_at >= now alone."""
    for row in due_everywhere:
        row.refresh_from_db()
        assert row.due_at is not None
        assert row.due_date >= earliest_due_date(row.due_at)
    for now in _instants(due_everywhere):
        unbounded = Commitment.objects.filter(watched_q() & Q(due_at__gte=now))
        assert set(Commitment.objects.upcoming(now)) == set(unbounded)


def test_the_overview_lists_the_next_ones_in_due_date_order(due_everywhere):
    """The overview's list is the first ``limit`` of upcoming(), by due date then entry."""
    now = min(row.due_at for row in due_everywhere)
    data = selectors.overview(now=now, today=now.date(), limit=4)
    expected = list(
        Commitment.objects.filter(watched_q() & Q(due_at__gte=now)).order_by("due_date", "id")[:4]
    )
    assert data.upcoming == expected and len(expected) == 4


def test_the_upcoming_query_states_the_due_date_bound():
    """The SQL bounds due_date, so an index on (due_date, id) starts at yesterday."""
    now = dt.datetime(2026, 3, 31, 23, tzinfo=dt.UTC)
    sql = str(Commitment.objects.upcoming(now).order_by("due_date", "id").query)
    assert '"commitments_commitment"."due_date" >= 2026-03-30' in sql
