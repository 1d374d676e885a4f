"""The occurrence service: rows follow the series, keep their outcomes, and drive the mirror."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import translation

from commitments.choices import Status
from commitments.models import Commitment, Occurrence, ProgressUpdate
from commitments.services import commitments as svc
from commitments.services.occurrences import (
    occurrences_due_for_top_up,
    occurrences_sync,
    occurrences_top_up,
)
from tests import factories

pytestmark = pytest.mark.django_db

TOKYO_DAY_END = dt.timedelta(hours=14, minutes=59, seconds=59, microseconds=999999)


def _dates(commitment: Commitment) -> list[dt.date]:
    return list(commitment.occurrences.order_by("sequence").values_list("due_date", flat=True))


def test_a_yearly_target_writes_one_row_per_year_each_with_the_target(agreement, japan):
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    rows = list(commitment.occurrences.order_by("sequence"))
    assert [(r.sequence, r.due_date) for r in rows] == [
        (1, dt.date(2026, 10, 28)),
        (2, dt.date(2027, 10, 28)),
        (3, dt.date(2028, 10, 28)),
    ]
    assert {r.target_amount for r in rows} == {Decimal(8_000_000_000)}
    # The end of each due day in Tokyo: 23:59:59.999999 JST is 14:59:59.999999 UTC.
    assert rows[1].due_at == dt.datetime(2027, 10, 28, tzinfo=dt.UTC) + TOKYO_DAY_END
    commitment.refresh_from_db()
    assert commitment.due_date == dt.date(2026, 10, 28)
    assert commitment.original_due_date == dt.date(2026, 10, 28)


def test_a_period_end_recurrence_defaults_to_every_period(agreement, japan):
    commitment = factories.recurring_commitment_make(
        agreement=agreement,
        obligor=japan,
        recurrence="quarter_end",
        recurrence_interval=None,
        recurrence_unit="",
        recurrence_count=None,
        recurrence_until=dt.date(2027, 6, 30),
    )
    assert commitment.recurrence_interval == 1
    assert _dates(commitment) == [
        dt.date(2026, 10, 28),
        dt.date(2027, 3, 31),
        dt.date(2027, 6, 30),
    ]


@override_settings(TRACKER_OCCURRENCE_HORIZON_DAYS=100)
def test_an_open_ended_series_is_written_to_the_horizon_and_topped_up(agreement, japan):
    commitment = factories.recurring_commitment_make(
        agreement=agreement,
        obligor=japan,
        offset_amount=10,
        offset_unit="days",
        recurrence_unit="months",
        recurrence_count=None,
    )
    # Written at creation for the real clock; travel back to the week after the agreement.
    commitment.occurrences.all().delete()
    now = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    occurrences_sync(commitment=commitment, now=now)
    # Through 9 Feb 2026 (100 days on), plus the first one after it.
    assert _dates(commitment) == [
        dt.date(2025, 11, 7),
        dt.date(2025, 12, 7),
        dt.date(2026, 1, 7),
        dt.date(2026, 2, 7),
        dt.date(2026, 3, 7),
    ]
    assert occurrences_due_for_top_up(now=now) == []
    later = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    assert occurrences_due_for_top_up(now=later) == [commitment.pk]
    assert occurrences_top_up(now=later) == [commitment.pk]
    assert _dates(commitment)[-1] == dt.date(2026, 4, 7)
    assert occurrences_due_for_top_up(now=later) == []


def test_a_rule_change_keeps_outcomes_and_drops_untouched_rows(agreement, japan, source):
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    first = commitment.occurrences.get(sequence=1)
    svc.commitment_change_status(
        commitment=commitment, occurrence=first, status=Status.IN_PROGRESS, note="Begun"
    )
    svc.commitment_update(commitment=commitment, recurrence_count=2)
    assert _dates(commitment) == [dt.date(2026, 10, 28), dt.date(2027, 10, 28)]
    assert commitment.occurrences.get(sequence=1).status == Status.IN_PROGRESS


def test_a_rule_change_that_would_drop_an_occurrence_with_updates_is_refused(agreement, japan):
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    third = commitment.occurrences.get(sequence=3)
    svc.commitment_change_status(
        commitment=commitment, occurrence=third, status=Status.IN_PROGRESS, note="Begun"
    )
    # In English whatever an earlier test's request left active in this thread.
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        svc.commitment_update(
            commitment=Commitment.objects.get(pk=commitment.pk), recurrence_count=2
        )
    assert "recurrence" in caught.value.message_dict
    assert "Occurrence 3" in caught.value.message_dict["recurrence"][0]
    assert Commitment.objects.get(pk=commitment.pk).recurrence_count == 3
    assert commitment.occurrences.count() == 3


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"recurrence_interval": 0}, "recurrence_interval"),
        ({"recurrence_until": dt.date(2026, 1, 1), "recurrence_count": None}, "recurrence_until"),
        ({"recurrence_count": 501}, "recurrence_count"),
        (
            {
                "recurrence_unit": "days",
                "recurrence_until": dt.date(2199, 12, 31),
                "recurrence_count": None,
            },
            "recurrence_until",
        ),
        (
            {"deadline_kind": "none", "offset_amount": None, "offset_unit": "", "anchor_kind": ""},
            "recurrence",
        ),
        ({"recurrence_unit": ""}, "recurrence_unit"),
    ],
)
def test_bad_recurrences_are_refused_on_the_field_and_nothing_is_written(
    agreement, japan, fields, field
):
    with pytest.raises(ValidationError) as caught:
        factories.recurring_commitment_make(agreement=agreement, obligor=japan, **fields)
    assert field in caught.value.message_dict
    assert not Commitment.objects.exists()
    assert not Occurrence.objects.exists()


def test_an_occurrence_status_moves_the_commitment_to_the_next_open_one(agreement, japan, source):
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    first = commitment.occurrences.get(sequence=1)
    update = svc.commitment_change_status(
        commitment=commitment,
        occurrence=first,
        status=Status.FULFILLED,
        occurred_on=dt.date(2026, 9, 1),
        evidence_source=source,
        evidence_quote="Achats de 8 milliards de dollars réalisés.",
    )
    first.refresh_from_db()
    commitment.refresh_from_db()
    assert (first.status, first.fulfilled_on) == (Status.FULFILLED, dt.date(2026, 9, 1))
    assert update.occurrence_id == first.pk
    assert update.status_from == Status.NOT_STARTED
    assert commitment.status == Status.NOT_STARTED
    assert commitment.due_date == dt.date(2027, 10, 28)
    assert commitment.original_due_date == dt.date(2026, 10, 28)
    assert first.history.count() == 2


def test_an_occurrence_status_needs_evidence_as_a_commitments_does(agreement, japan):
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    first = commitment.occurrences.get(sequence=1)
    with pytest.raises(ValidationError) as caught:
        svc.commitment_change_status(
            commitment=commitment, occurrence=first, status=Status.FULFILLED
        )
    assert "evidence" in caught.value.message_dict
    assert not ProgressUpdate.objects.exists()
    assert commitment.occurrences.get(sequence=1).status == Status.NOT_STARTED


def test_an_occurrence_of_another_commitment_is_refused(agreement, japan):
    one = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    other = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    with pytest.raises(ValidationError) as caught:
        svc.commitment_change_status(
            commitment=one,
            occurrence=other.occurrences.first(),
            status=Status.IN_PROGRESS,
        )
    assert "occurrence" in caught.value.message_dict
    assert not ProgressUpdate.objects.exists()


def test_a_moved_agreement_date_moves_every_occurrence(agreement, japan):
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    svc.agreement_update(agreement=agreement, date=dt.date(2025, 11, 1))
    assert _dates(commitment) == [
        dt.date(2026, 11, 1),
        dt.date(2027, 11, 1),
        dt.date(2028, 11, 1),
    ]


def test_no_longer_recurring_removes_the_untouched_rows(agreement, japan):
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    svc.commitment_update(
        commitment=commitment,
        recurrence="none",
        recurrence_interval=None,
        recurrence_unit="",
        recurrence_count=None,
    )
    assert not commitment.occurrences.exists()
    commitment.refresh_from_db()
    assert commitment.due_date == dt.date(2026, 10, 28)
