"""Writes through the services: computed due dates, recomputation, statuses, history, hooks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from commitments.choices import Status
from commitments.models import Agreement, Citation, Commitment, ProgressUpdate
from commitments.services import commitments as svc
from commitments.services import hooks

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 1, 10, 3, 0, tzinfo=dt.UTC)
#: Clears ``make_commitment``'s default relative rule, for rules of another kind.
NOT_RELATIVE = {"offset_amount": None, "offset_unit": "", "anchor_kind": ""}
BY_MARCH = {
    **NOT_RELATIVE,
    "deadline_kind": "period_end",
    "period_unit": "month",
    "period_number": 3,
}


def fixed_on(day: dt.date) -> dict:
    return {**NOT_RELATIVE, "deadline_kind": "fixed", "deadline_date": day}


def end_of_tokyo_day(day: dt.date) -> dt.datetime:
    """Return 23:59:59.999999 in Tokyo (UTC+9, no daylight saving) on ``day``, in UTC."""
    return dt.datetime.combine(day, dt.time(14, 59, 59, 999999), tzinfo=dt.UTC)


def fresh(commitment: Commitment) -> Commitment:
    return Commitment.objects.get(pk=commitment.pk)


def history_count(instance) -> int:
    return instance.history.count()


@pytest.fixture
def calls():
    """Record the commitment ids each ``deadline_inputs_changed`` call passes to listeners."""
    seen: list[list[int]] = []

    def listener(commitment_ids: Sequence[int]) -> None:
        seen.append(list(commitment_ids))

    hooks.register(listener)
    yield seen
    hooks.unregister(listener)


def fulfil(commitment: Commitment, on: dt.date, source, **extra) -> ProgressUpdate:
    return svc.commitment_change_status(
        commitment=commitment,
        status=Status.FULFILLED,
        occurred_on=on,
        # Recorded on the day it happened at the earliest: a future date is refused.
        now=max(NOW, dt.datetime.combine(on, dt.time(12), tzinfo=dt.UTC)),
        evidence_source=source,
        evidence_quote="«Une réunion ministérielle s'est tenue»",
        **extra,
    )


# Creating and changing commitments.


def test_create_computes_the_due_date_and_instant(make_commitment):
    commitment = fresh(make_commitment())
    assert commitment.due_date == dt.date(2026, 4, 26)
    assert commitment.due_at == end_of_tokyo_day(dt.date(2026, 4, 26))


@pytest.mark.parametrize(
    ("rule", "due"),
    [
        (fixed_on(dt.date(2026, 3, 31)), dt.date(2026, 3, 31)),
        ({"offset_amount": 6, "offset_unit": "months"}, dt.date(2026, 4, 28)),
        ({"offset_amount": 2, "offset_unit": "weeks"}, dt.date(2025, 11, 11)),
        (BY_MARCH, dt.date(2026, 3, 31)),
        ({**BY_MARCH, "period_year": 2027}, dt.date(2027, 3, 31)),
    ],
)
def test_create_computes_each_rule_kind(make_commitment, rule, due):
    commitment = fresh(make_commitment(**rule))
    assert (commitment.due_date, commitment.due_at) == (due, end_of_tokyo_day(due))


def test_no_deadline_stores_no_due_date(make_commitment):
    commitment = fresh(make_commitment(**NOT_RELATIVE, deadline_kind="none"))
    assert (commitment.due_date, commitment.due_at) == (None, None)


def test_update_recomputes_the_due_date(make_commitment):
    commitment = make_commitment()
    svc.commitment_update(commitment=commitment, offset_amount=6, offset_unit="months")
    stored = fresh(commitment)
    assert stored.due_date == dt.date(2026, 4, 28)
    assert stored.due_at == end_of_tokyo_day(dt.date(2026, 4, 28))


def test_update_with_unchanged_values_saves_nothing(make_commitment, japan):
    commitment = make_commitment(target_amount=Decimal(15), target_unit="percent")
    before = fresh(commitment)
    svc.commitment_update(
        commitment=commitment,
        offset_amount=180,
        offset_unit="days",
        obligor=japan,
        target_amount="15",
        title=before.title,
    )
    assert history_count(commitment) == 1
    assert fresh(commitment).updated == before.updated


def test_update_saves_only_a_real_change(make_commitment):
    commitment = make_commitment()
    svc.commitment_update(commitment=commitment, title="A ministerial meeting on minerals")
    assert history_count(commitment) == 2
    assert fresh(commitment).title == "A ministerial meeting on minerals"


def test_fixed_date_before_the_agreement_is_an_error_on_the_date_and_writes_nothing(
    make_commitment,
):
    with pytest.raises(ValidationError) as exc:
        make_commitment(**fixed_on(dt.date(2025, 1, 1)))
    assert list(exc.value.message_dict) == ["deadline_date"]
    assert not Commitment.objects.exists()


def test_offset_past_the_year_9999_is_an_error_on_the_offset(make_commitment):
    with pytest.raises(ValidationError) as exc:
        make_commitment(offset_amount=2_000_000_000)
    assert list(exc.value.message_dict) == ["offset_amount"]
    assert not Commitment.objects.exists()


def test_unknown_field_names_on_create_are_errors_naming_them(make_commitment):
    with pytest.raises(ValidationError) as exc:
        make_commitment(due_date=dt.date(2030, 1, 1), colour="blue")
    assert sorted(exc.value.message_dict) == ["colour", "due_date"]
    assert not Commitment.objects.exists()


def test_unknown_field_names_on_update_are_errors_naming_them(make_commitment):
    commitment = make_commitment()
    with pytest.raises(ValidationError) as exc:
        svc.commitment_update(commitment=commitment, status=Status.FULFILLED, colour="blue")
    assert sorted(exc.value.message_dict) == ["colour", "status"]
    assert fresh(commitment).status == Status.NOT_STARTED
    assert history_count(commitment) == 1


def test_unknown_agreement_field_is_an_error_naming_it(agreement):
    with pytest.raises(ValidationError) as exc:
        svc.agreement_update(agreement=agreement, status="signed")
    assert list(exc.value.message_dict) == ["status"]


# Agreements move their commitments' deadlines.


def test_agreement_date_change_recomputes_every_commitment(agreement, make_commitment):
    days = make_commitment()
    months = make_commitment(offset_amount=6, offset_unit="months")
    by_march = make_commitment(**BY_MARCH)
    fixed = make_commitment(**fixed_on(dt.date(2026, 6, 30)))
    svc.agreement_update(agreement=agreement, date=dt.date(2026, 4, 1))
    assert fresh(days).due_date == dt.date(2026, 9, 28)
    assert fresh(months).due_date == dt.date(2026, 10, 1)
    assert fresh(by_march).due_date == dt.date(2027, 3, 31)
    assert fresh(by_march).due_at == end_of_tokyo_day(dt.date(2027, 3, 31))
    assert fresh(fixed).due_date == dt.date(2026, 6, 30)


def test_agreement_date_change_that_breaks_a_commitment_writes_nothing(agreement, make_commitment):
    relative = make_commitment()
    fixed = make_commitment(key="fixed-in-march", **fixed_on(dt.date(2026, 3, 31)))
    agreement_versions = history_count(agreement)
    with pytest.raises(ValidationError) as exc:
        svc.agreement_update(agreement=agreement, date=dt.date(2026, 4, 1))
    assert list(exc.value.message_dict) == ["date"]
    assert "fixed-in-march" in exc.value.message_dict["date"][0]
    assert Agreement.objects.get(pk=agreement.pk).date == dt.date(2025, 10, 28)
    assert fresh(relative).due_date == dt.date(2026, 4, 26)
    assert history_count(agreement) == agreement_versions
    assert (history_count(relative), history_count(fixed)) == (1, 1)


def test_agreement_date_change_past_an_explicit_period_is_an_error_on_the_date(
    agreement, make_commitment
):
    make_commitment(**BY_MARCH, period_year=2026)
    with pytest.raises(ValidationError) as exc:
        svc.agreement_update(agreement=agreement, date=dt.date(2026, 5, 1))
    assert list(exc.value.message_dict) == ["date"]


def test_time_zone_change_recomputes_the_due_instant(agreement, make_commitment):
    commitment = make_commitment()
    svc.agreement_update(agreement=agreement, time_zone="America/New_York")
    stored = fresh(commitment)
    assert stored.due_date == dt.date(2026, 4, 26)
    # New York is on daylight saving time (UTC-4) in April.
    assert stored.due_at == dt.datetime(2026, 4, 27, 3, 59, 59, 999999, tzinfo=dt.UTC)


def test_invalid_time_zone_is_an_error_on_the_zone_and_writes_nothing(agreement, make_commitment):
    commitment = make_commitment()
    with pytest.raises(ValidationError) as exc:
        svc.agreement_update(agreement=agreement, time_zone="Tokyo")
    assert list(exc.value.message_dict) == ["time_zone"]
    assert fresh(commitment).due_at == end_of_tokyo_day(dt.date(2026, 4, 26))


# Statuses.


@pytest.mark.parametrize("status", [Status.FULFILLED, Status.PARTIALLY_FULFILLED, Status.MISSED])
def test_judged_status_without_evidence_is_an_error_and_writes_nothing(make_commitment, status):
    commitment = make_commitment()
    with pytest.raises(ValidationError) as exc:
        svc.commitment_change_status(
            commitment=commitment, status=status, occurred_on=dt.date(2026, 1, 9), now=NOW
        )
    assert list(exc.value.message_dict) == ["evidence"]
    assert not ProgressUpdate.objects.exists()
    assert not Citation.objects.exists()
    assert fresh(commitment).status == Status.NOT_STARTED
    assert history_count(commitment) == 1


@pytest.mark.parametrize(
    ("evidence", "field"),
    [
        ({"evidence_quote": "«Réunion tenue»"}, "evidence_source"),
        ({"evidence_quote": ""}, "evidence_quote"),
        ({"evidence_quote": "«Réunion tenue»", "evidence_locator": "x" * 201}, "evidence_locator"),
    ],
)
def test_incomplete_evidence_is_an_error_on_it_and_writes_nothing(
    make_commitment, source, evidence, field
):
    commitment = make_commitment()
    evidence = {"evidence_source": source, **evidence}
    if field == "evidence_source":
        evidence.pop("evidence_source")
    with pytest.raises(ValidationError) as exc:
        svc.commitment_change_status(
            commitment=commitment, status=Status.FULFILLED, now=NOW, **evidence
        )
    assert field in exc.value.message_dict
    assert not Citation.objects.exists()
    assert not ProgressUpdate.objects.exists()
    assert fresh(commitment).status == Status.NOT_STARTED


def test_fulfilment_with_evidence_records_citation_update_and_status(
    make_commitment, source, editor
):
    commitment = make_commitment()
    update = fulfil(commitment, dt.date(2026, 1, 9), source, user=editor, note="Held in Tokyo")
    citation = Citation.objects.get()
    assert citation.commitment == commitment
    assert citation.source == source
    assert citation.quote == "«Une réunion ministérielle s'est tenue»"
    assert update.evidence == citation
    assert (update.status_from, update.status_to) == (Status.NOT_STARTED, Status.FULFILLED)
    assert update.author == editor
    assert update.note == "Held in Tokyo"
    stored = fresh(commitment)
    assert stored.status == Status.FULFILLED
    assert stored.status_changed_at == NOW
    assert stored.fulfilled_on == dt.date(2026, 1, 9)


def test_update_date_defaults_to_today_in_the_agreements_zone(make_commitment, source):
    commitment = make_commitment()
    late_evening_utc = dt.datetime(2026, 1, 9, 20, 0, tzinfo=dt.UTC)  # 10 Jan, 5:00 in Tokyo
    svc.commitment_change_status(
        commitment=commitment,
        status=Status.FULFILLED,
        now=late_evening_utc,
        evidence_source=source,
        evidence_quote="«Réunion tenue»",
    )
    assert fresh(commitment).fulfilled_on == dt.date(2026, 1, 10)


def test_existing_citation_of_the_commitment_is_evidence(make_commitment, source):
    commitment = make_commitment()
    citation = Citation.objects.create(source=source, commitment=commitment, quote="«Tenue»")
    update = svc.commitment_change_status(
        commitment=commitment, status=Status.MISSED, evidence=citation, now=NOW
    )
    assert update.evidence == citation
    assert fresh(commitment).status == Status.MISSED
    assert fresh(commitment).fulfilled_on is None


def test_citation_of_another_commitment_is_not_evidence(make_commitment, source):
    commitment, other = make_commitment(), make_commitment()
    citation = Citation.objects.create(source=source, commitment=other, quote="«Tenue»")
    with pytest.raises(ValidationError) as exc:
        svc.commitment_change_status(
            commitment=commitment, status=Status.FULFILLED, evidence=citation, now=NOW
        )
    assert list(exc.value.message_dict) == ["evidence"]
    assert fresh(commitment).status == Status.NOT_STARTED


def test_unknown_status_is_an_error_on_the_status(make_commitment):
    with pytest.raises(ValidationError) as exc:
        svc.commitment_change_status(commitment=make_commitment(), status="abandoned", now=NOW)
    assert list(exc.value.message_dict) == ["status"]


def test_update_dated_before_the_agreement_is_an_error_on_its_date(make_commitment):
    with pytest.raises(ValidationError) as exc:
        svc.commitment_change_status(
            commitment=make_commitment(),
            status=Status.IN_PROGRESS,
            occurred_on=dt.date(2025, 10, 1),
            now=NOW,
        )
    assert list(exc.value.message_dict) == ["occurred_on"]
    assert not ProgressUpdate.objects.exists()


def test_progress_note_on_a_fulfilled_commitment_needs_no_new_evidence(make_commitment, source):
    commitment = make_commitment()
    fulfil(commitment, dt.date(2026, 1, 9), source)
    note = svc.commitment_change_status(
        commitment=commitment, status=Status.FULFILLED, note="Minutes published", now=NOW
    )
    assert (note.status_from, note.status_to, note.evidence) == ("", "", None)
    assert fresh(commitment).fulfilled_on == dt.date(2026, 1, 9)


def test_in_progress_needs_no_evidence(make_commitment):
    commitment = make_commitment()
    update = svc.commitment_change_status(
        commitment=commitment, status=Status.IN_PROGRESS, occurred_on=dt.date(2025, 11, 3), now=NOW
    )
    assert update.status_to == Status.IN_PROGRESS
    assert fresh(commitment).status == Status.IN_PROGRESS


# Commitments anchored on another's fulfilment.


def anchored_on(make_commitment, anchor: Commitment, days: int) -> Commitment:
    return make_commitment(offset_amount=days, anchor_kind="commitment", anchor_commitment=anchor)


def test_anchored_commitment_has_no_due_date_until_its_anchor_is_fulfilled(make_commitment, source):
    anchor = make_commitment()
    dependent = anchored_on(make_commitment, anchor, 30)
    assert (fresh(dependent).due_date, fresh(dependent).due_at) == (None, None)
    fulfil(anchor, dt.date(2026, 1, 9), source)
    assert fresh(dependent).due_date == dt.date(2026, 2, 8)
    assert fresh(dependent).due_at == end_of_tokyo_day(dt.date(2026, 2, 8))


def test_anchored_commitment_created_after_the_fulfilment_counts_from_it(make_commitment, source):
    anchor = make_commitment()
    fulfil(anchor, dt.date(2026, 1, 9), source)
    assert fresh(anchored_on(make_commitment, fresh(anchor), 7)).due_date == dt.date(2026, 1, 16)


def test_chain_of_three_gets_due_dates_as_each_anchor_is_fulfilled(make_commitment, source):
    first = make_commitment()
    second = anchored_on(make_commitment, first, 30)
    third = anchored_on(make_commitment, second, 10)
    fulfil(first, dt.date(2026, 1, 9), source)
    assert fresh(second).due_date == dt.date(2026, 2, 8)
    assert fresh(third).due_date is None
    fulfil(second, dt.date(2026, 2, 1), source)
    assert fresh(third).due_date == dt.date(2026, 2, 11)


def test_anchored_commitment_loses_its_due_date_when_the_anchor_is_no_longer_fulfilled(
    make_commitment, source
):
    anchor = make_commitment()
    dependent = anchored_on(make_commitment, anchor, 30)
    fulfil(anchor, dt.date(2026, 1, 9), source)
    svc.commitment_change_status(commitment=anchor, status=Status.IN_PROGRESS, now=NOW)
    assert fresh(anchor).fulfilled_on is None
    assert (fresh(dependent).due_date, fresh(dependent).due_at) == (None, None)


# History and hooks.


def test_history_records_the_user_who_made_each_change(agreement, make_commitment, source, editor):
    commitment = make_commitment(user=editor)
    svc.commitment_update(commitment=commitment, user=editor, title="Renamed")
    fulfil(commitment, dt.date(2026, 1, 9), source, user=editor)
    assert [row.history_user for row in commitment.history.all()] == [editor] * 3
    assert Citation.objects.get().history.get().history_user == editor
    assert ProgressUpdate.objects.get().history.get().history_user == editor


def test_recomputed_due_dates_are_recorded_as_made_by_the_user(agreement, make_commitment, editor):
    commitment = make_commitment()
    svc.agreement_update(agreement=agreement, user=editor, date=dt.date(2025, 11, 1))
    assert agreement.history.latest().history_user == editor
    latest = commitment.history.latest()
    assert (latest.due_date, latest.history_user) == (dt.date(2026, 4, 30), editor)


def test_listeners_hear_of_a_new_commitment_and_a_status_change(make_commitment, calls):
    commitment = make_commitment()
    assert calls == [[commitment.pk]]
    svc.commitment_change_status(commitment=commitment, status=Status.IN_PROGRESS, now=NOW)
    assert calls == [[commitment.pk], [commitment.pk]]


def test_listeners_hear_of_due_date_changes_but_not_of_other_edits(make_commitment, calls):
    commitment = make_commitment()
    calls.clear()
    svc.commitment_update(commitment=commitment, title="Renamed")
    assert calls == []
    svc.commitment_update(commitment=commitment, offset_amount=90)
    assert calls == [[commitment.pk]]


def test_listeners_hear_of_every_commitment_an_agreement_change_moves(
    agreement, make_commitment, calls
):
    first, second = make_commitment(), make_commitment(offset_amount=30)
    calls.clear()
    svc.agreement_update(agreement=agreement, date=dt.date(2025, 11, 1))
    assert calls == [[first.pk, second.pk]]


def test_listeners_hear_of_the_anchor_and_of_its_dependents(make_commitment, source, calls):
    anchor = make_commitment()
    dependent = anchored_on(make_commitment, anchor, 30)
    calls.clear()
    fulfil(anchor, dt.date(2026, 1, 9), source)
    assert calls == [[anchor.pk], [dependent.pk]]


def test_unregistered_listener_is_not_called(make_commitment):
    heard: list[Sequence[int]] = []
    hooks.register(heard.append)
    hooks.unregister(heard.append)
    make_commitment()
    assert heard == []
