"""Deadline revisions through ``revision_create``: what each kind does, and every refusal.

The default commitment (agreement 2025-10-28 in Asia/Tokyo, +180 days) is due 2026-04-26.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from commitments.choices import DeadlineState, FulfilmentTiming, Status
from commitments.deadlines import RULE_EMPTY_VALUES
from commitments.models import Citation, Commitment, DeadlineRevision
from commitments.services import commitments as svc
from commitments.services import hooks
from commitments.services.revisions import revision_create
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
DUE = dt.date(2026, 4, 26)


def fresh(commitment: Commitment) -> Commitment:
    return Commitment.objects.get(pk=commitment.pk)


def revise(commitment: Commitment, source, kind: str = "extended", **fields) -> DeadlineRevision:
    fields.setdefault("now", NOW)
    return factories.revision_make(commitment=commitment, kind=kind, source=source, **fields)


def rows() -> tuple[int, int, int]:
    return (
        DeadlineRevision.objects.count(),
        Citation.objects.count(),
        DeadlineRevision.history.count(),
    )


def test_an_extension_moves_the_due_date_and_keeps_the_original(make_commitment, source, editor):
    commitment = make_commitment()
    revision = revise(
        commitment, source, new_due_date=dt.date(2026, 7, 31), user=editor, reason="Prorogé."
    )

    stored = fresh(commitment)
    assert (stored.original_due_date, stored.due_date) == (DUE, dt.date(2026, 7, 31))
    assert stored.due_at == dt.datetime(2026, 7, 31, 14, 59, 59, 999999, tzinfo=dt.UTC)
    assert stored.due_precision == "day"
    revision = DeadlineRevision.objects.get(pk=revision.pk)
    assert (revision.kind, revision.revised_on) == ("extended", dt.date(2026, 3, 2))
    assert (revision.old_due_date, revision.new_due_date) == (DUE, dt.date(2026, 7, 31))
    assert (revision.reason, revision.author) == ("Prorogé.", editor)
    assert revision.evidence.commitment_id == commitment.pk
    assert revision.evidence.source == source
    assert revision.history.get().history_user == editor
    assert stored.history.latest().history_user == editor


def test_a_month_precision_moves_the_date_to_the_end_of_the_month(make_commitment, source):
    commitment = make_commitment()
    revise(commitment, source, new_due_date=dt.date(2026, 9, 3), new_precision="month")

    stored = fresh(commitment)
    assert (stored.due_date, stored.due_precision) == (dt.date(2026, 9, 30), "month")
    assert DeadlineRevision.objects.get().new_precision == "month"


def test_bringing_forward_and_renegotiating_follow_each_other_in_order(make_commitment, source):
    commitment = make_commitment()
    revise(commitment, source, "brought_forward", new_due_date=dt.date(2026, 4, 1))
    revise(commitment, source, "renegotiated", new_due_date=dt.date(2026, 12, 31))

    stored = fresh(commitment)
    assert (stored.original_due_date, stored.due_date) == (DUE, dt.date(2026, 12, 31))
    olds = list(DeadlineRevision.objects.values_list("old_due_date", "new_due_date"))
    assert olds == [(DUE, dt.date(2026, 4, 1)), (dt.date(2026, 4, 1), dt.date(2026, 12, 31))]


def test_suspending_stops_the_clock_and_resuming_restarts_it_with_a_new_date(
    make_commitment, source
):
    commitment = make_commitment()
    revise(commitment, source, "suspended")
    stored = fresh(commitment)
    assert (stored.deadline_suspended, stored.due_date) == (True, DUE)
    assert stored.deadline_state == DeadlineState.SUSPENDED

    revise(commitment, source, "resumed", new_due_date=dt.date(2026, 10, 1))
    stored = fresh(commitment)
    assert (stored.deadline_suspended, stored.due_date) == (False, dt.date(2026, 10, 1))
    assert stored.deadline_state != DeadlineState.SUSPENDED


def test_resuming_without_a_date_records_the_date_left_in_force(make_commitment, source):
    commitment = make_commitment()
    revise(commitment, source, "brought_forward", new_due_date=dt.date(2026, 4, 1))
    revise(commitment, source, "suspended")
    resumed = revise(commitment, source, "resumed")

    stored = fresh(commitment)
    assert (stored.deadline_suspended, stored.due_date) == (False, dt.date(2026, 4, 1))
    row = DeadlineRevision.objects.get(pk=resumed.pk)
    assert (row.old_due_date, row.new_due_date, row.new_precision) == (
        dt.date(2026, 4, 1),
        dt.date(2026, 4, 1),
        "day",
    )


def test_an_existing_citation_of_the_commitment_is_evidence(make_commitment, source):
    commitment = make_commitment()
    citation = factories.citation_make(source=source, commitment=commitment)
    revision = revision_create(
        commitment=commitment,
        kind="extended",
        reason="Prorogé.",
        new_due_date=dt.date(2026, 6, 1),
        evidence=citation,
        now=NOW,
    )
    assert DeadlineRevision.objects.get(pk=revision.pk).evidence == citation
    assert Citation.objects.count() == 1


def test_listeners_hear_of_the_due_date_change_and_of_the_revision(make_commitment, source):
    commitment = make_commitment()
    changes: list = []
    revisions: list = []

    def on_changes(batch, at):
        changes.extend(batch)

    def on_revision(revision, at):
        revisions.append((revision, at))

    hooks.register_changes(on_changes)
    hooks.register_revisions(on_revision)
    try:
        revise(commitment, source, new_due_date=dt.date(2026, 6, 1), reason="Prorogé.")
    finally:
        hooks.unregister_changes(on_changes)
        hooks.unregister_revisions(on_revision)

    assert changes == [hooks.FieldChange(commitment.pk, "due_date", DUE, dt.date(2026, 6, 1))]
    ((revision, at),) = revisions
    assert at == NOW
    assert (revision.kind, revision.old_due_date, revision.new_due_date, revision.reason) == (
        "extended",
        DUE,
        dt.date(2026, 6, 1),
        "Prorogé.",
    )


# Refusals: each names its field, and nothing is written.

EXTEND: dict[str, Any] = {"kind": "extended", "new_due_date": dt.date(2026, 7, 1)}


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"kind": "postponed"}, "kind", "not a kind"),
        ({**EXTEND, "reason": "  "}, "reason", "reason"),
        ({**EXTEND, "evidence_source": None, "evidence_quote": ""}, "evidence", "evidence"),
        ({**EXTEND, "evidence_quote": ""}, "evidence_quote", ""),
        ({"kind": "extended"}, "new_due_date", "required"),
        ({"kind": "brought_forward"}, "new_due_date", "required"),
        ({"kind": "renegotiated"}, "new_due_date", "required"),
        ({"kind": "extended", "new_due_date": DUE}, "new_due_date", "after the current"),
        ({"kind": "extended", "new_due_date": dt.date(2026, 4, 1)}, "new_due_date", "after"),
        ({"kind": "brought_forward", "new_due_date": DUE}, "new_due_date", "before the current"),
        ({"kind": "brought_forward", "new_due_date": dt.date(2026, 5, 1)}, "new_due_date", ""),
        ({"kind": "renegotiated", "new_due_date": DUE}, "new_due_date", "other than"),
        (
            {"kind": "brought_forward", "new_due_date": dt.date(2025, 10, 1)},
            "new_due_date",
            "before the agreement",
        ),
        ({**EXTEND, "new_due_date": dt.date(2201, 1, 1)}, "new_due_date", "range"),
        ({**EXTEND, "new_precision": "week"}, "new_precision", "not a precision"),
        ({"kind": "suspended", "new_due_date": DUE}, "new_due_date", "keeps the date"),
        ({"kind": "resumed"}, "kind", "Resuming a deadline that is not suspended"),
        ({**EXTEND, "revised_on": dt.date(2025, 10, 1)}, "revised_on", "before the agreement"),
        ({**EXTEND, "revised_on": dt.date(2026, 3, 3)}, "revised_on", "future"),
    ],
)
def test_a_bad_revision_is_refused_on_its_field_and_writes_nothing(
    make_commitment, source, fields, field, words
):
    commitment = make_commitment()
    before = rows()
    with pytest.raises(ValidationError) as caught:
        revise(commitment, source, **fields)
    assert list(caught.value.message_dict) == [field]
    assert words in " ".join(caught.value.message_dict[field])
    assert rows() == before
    stored = fresh(commitment)
    assert (stored.due_date, stored.deadline_suspended) == (DUE, False)


def test_revised_on_defaults_to_today_in_the_agreements_zone(make_commitment, source):
    """At 20:00 UTC on 1 March it is already 2 March in Tokyo."""
    commitment = make_commitment()
    late_evening = dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC)
    revision = revise(commitment, source, new_due_date=dt.date(2026, 6, 1), now=late_evening)
    assert DeadlineRevision.objects.get(pk=revision.pk).revised_on == dt.date(2026, 3, 2)


def test_a_revision_dated_before_the_previous_one_is_refused(make_commitment, source):
    commitment = make_commitment()
    revise(commitment, source, new_due_date=dt.date(2026, 6, 1), revised_on=dt.date(2026, 2, 1))
    before = rows()
    with pytest.raises(ValidationError) as caught:
        revise(commitment, source, new_due_date=dt.date(2026, 7, 1), revised_on=dt.date(2026, 1, 1))
    assert "before the previous one" in caught.value.message_dict["revised_on"][0]
    assert rows() == before


def test_suspending_twice_is_refused(make_commitment, source):
    commitment = make_commitment()
    revise(commitment, source, "suspended")
    before = rows()
    with pytest.raises(ValidationError) as caught:
        revise(commitment, source, "suspended")
    assert "already suspended" in caught.value.message_dict["kind"][0]
    assert rows() == before


def test_an_undated_commitment_is_refused(make_commitment, source):
    commitment = make_commitment(
        deadline_kind="none", offset_amount=None, offset_unit="", anchor_kind=""
    )
    before = rows()
    with pytest.raises(ValidationError) as caught:
        revise(commitment, source, "suspended")
    assert "no due date" in caught.value.message_dict["kind"][0]
    assert rows() == before


def test_a_closed_commitment_is_refused(make_commitment, source):
    commitment = make_commitment()
    svc.commitment_change_status(commitment=commitment, status=Status.CANCELLED, now=NOW)
    before = rows()
    with pytest.raises(ValidationError) as caught:
        revise(commitment, source, **EXTEND)
    assert "closed commitment" in caught.value.message_dict[NON_FIELD_ERRORS][0]
    assert rows() == before


def test_a_recurring_commitment_is_refused(make_commitment, source):
    commitment = make_commitment()
    Commitment.objects.filter(pk=commitment.pk).update(
        recurrence="every", recurrence_interval=1, recurrence_unit="years"
    )
    before = rows()
    with pytest.raises(ValidationError) as caught:
        revise(fresh(commitment), source, **EXTEND)
    assert "occurrences" in caught.value.message_dict[NON_FIELD_ERRORS][0]
    assert rows() == before


def test_a_citation_of_another_commitment_is_refused(make_commitment, source):
    commitment, other = make_commitment(), make_commitment()
    citation = factories.citation_make(source=source, commitment=other)
    before = rows()
    with pytest.raises(ValidationError) as caught:
        revision_create(
            commitment=commitment,
            kind="extended",
            reason="r",
            evidence=citation,
            now=NOW,
            new_due_date=dt.date(2026, 7, 1),
        )
    assert "this commitment" in caught.value.message_dict["evidence"][0]
    assert rows() == before


# Timeliness, stored when the commitment is fulfilled.


def fulfil(commitment: Commitment, on: dt.date, source) -> None:
    svc.commitment_change_status(
        commitment=commitment,
        status=Status.FULFILLED,
        occurred_on=on,
        # Recorded on the day it happened at the latest: an update is never dated ahead.
        now=max(NOW, dt.datetime.combine(on, dt.time(12), tzinfo=dt.UTC)),
        evidence_source=source,
        evidence_quote="Tenu.",
    )


@pytest.mark.parametrize(
    ("fulfilled_on", "timing"),
    [
        (dt.date(2026, 4, 26), FulfilmentTiming.ON_TIME),
        (dt.date(2026, 5, 2), FulfilmentTiming.AFTER_EXTENSION),
        (dt.date(2026, 6, 2), FulfilmentTiming.LATE),
    ],
)
def test_fulfilment_stores_its_timing_against_the_original_and_the_extension(
    make_commitment, source, fulfilled_on, timing
):
    commitment = make_commitment()
    revise(commitment, source, new_due_date=dt.date(2026, 6, 1))
    fulfil(commitment, fulfilled_on, source)
    assert fresh(commitment).fulfilment_timing == timing


def test_moving_away_from_fulfilled_clears_the_timing(make_commitment, source):
    commitment = make_commitment()
    fulfil(commitment, dt.date(2026, 3, 1), source)
    assert fresh(commitment).fulfilment_timing == FulfilmentTiming.ON_TIME
    svc.commitment_change_status(commitment=commitment, status=Status.IN_PROGRESS, now=NOW)
    assert fresh(commitment).fulfilment_timing == ""


def test_the_timing_follows_a_deadline_corrected_after_the_fulfilment(make_commitment, source):
    """Fulfilled on 1 March against 26 April: on time; the rule corrected to 1 February (a
    data-entry fix, not a revision): late, the same rule computing both."""
    commitment = make_commitment()
    fulfil(commitment, dt.date(2026, 3, 1), source)
    assert fresh(commitment).fulfilment_timing == FulfilmentTiming.ON_TIME
    svc.commitment_update(
        commitment=fresh(commitment), **{**RULE_EMPTY_VALUES, "deadline_kind": "fixed",
                                         "deadline_date": dt.date(2026, 2, 1)}
    )
    assert fresh(commitment).fulfilment_timing == FulfilmentTiming.LATE


def test_a_recurring_commitment_has_no_timing_of_its_own(agreement, japan, source):
    """Its deadlines are its occurrences': the mirrored next date is no deadline to judge a
    fulfilment of the whole commitment against."""
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    svc.commitment_change_status(
        commitment=commitment, status=Status.FULFILLED, occurrence=commitment.occurrences.get(
            sequence=1), now=NOW, evidence_source=source, evidence_quote="Première année.",
    )
    fulfil(fresh(commitment), dt.date(2026, 10, 30), source)
    stored = fresh(commitment)
    assert stored.status == Status.FULFILLED and stored.fulfilment_timing == ""
