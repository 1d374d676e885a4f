"""The import's speed-ups keep its answers: check constraints in one query give Django's own
errors, batched hooks tell the listeners what per-row hooks told them; an import of new rows
costs as many queries for 3N rows as for N, an import of updates a bounded constant per row."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert
from commitments.models import Citation, Commitment, ProgressUpdate
from commitments.services import hooks
from commitments.services.imports import commitments_import, table_read
from core.constraints import full_clean_many
from tests import factories
from tests.commitments.test_import_engine import as_csv, row

pytestmark = pytest.mark.django_db

BROKEN: list[dict[str, Any]] = [
    {},
    {"target_amount": Decimal(-1)},
    {"target_amount": Decimal(5), "target_unit": ""},
    {"category": "bogus", "status": "bogus", "deadline_state": "bogus"},
    {"deadline_kind": "fixed", "deadline_date": None},
    {"deadline_kind": "relative", "offset_amount": 0},
    {"anchor_kind": "commitment", "anchor_commitment": None},
    {"deadline_kind": "period_end", "period_unit": ""},
    {"due_date": dt.date(2026, 1, 1), "due_at": None},
    {"effective_from": dt.date(1800, 1, 1), "period_year": 3000},
    {"recurrence": "every", "recurrence_interval": 0, "recurrence_unit": ""},
    {"ended_on": dt.date(2026, 1, 1), "ended_reason": ""},
    {"deadline_precision": "week", "fulfilment_timing": "never"},
]


def errors_of(check) -> dict[str, list[str]] | None:
    try:
        check()
    except ValidationError as exc:
        return exc.message_dict
    return None


@pytest.mark.parametrize("changes", BROKEN, ids=lambda c: ",".join(c) or "valid")
def test_check_constraints_in_one_query_give_djangos_errors(make_commitment, changes):
    commitment = make_commitment()
    commitment.anchor_commitment = commitment if "anchor_kind" in changes else None
    for name, value in changes.items():
        setattr(commitment, name, value)
    ours = errors_of(commitment.validate_constraints)
    djangos = errors_of(lambda: models.Model.validate_constraints(commitment))
    assert ours == djangos
    assert (ours is None) == (not changes)
    # With a field left out (it has its own error), its checks are skipped by both.
    exclude = set(changes) or {"category"}
    ours = errors_of(lambda: commitment.validate_constraints(exclude=exclude))
    djangos = errors_of(lambda: models.Model.validate_constraints(commitment, exclude=exclude))
    assert ours == djangos


def test_a_batch_is_judged_as_each_of_its_rows_alone(make_commitment, agreement, japan):
    """full_clean_many gives each instance the errors its own full_clean gives: the field
    checks, clean(), the unique key (stored or not), the check constraints in one statement."""
    stored = make_commitment(key="taken")
    batch = []
    for number, changes in enumerate(BROKEN):
        commitment = Commitment(agreement=agreement, obligor=japan, title=f"Row {number}",
                                key=f"row-{number}", category="meeting")  # fmt: skip
        for name, value in changes.items():
            setattr(commitment, name, value)
        if "anchor_kind" in changes:
            commitment.anchor_commitment = stored
        batch.append(commitment)
    batch.append(Commitment(agreement=agreement, obligor=japan, title="Taken", key="taken"))
    batch.append(Commitment(agreement=agreement, obligor_id=10**9, title="Lost", key="lost"))
    batch.append(Commitment(agreement=agreement, obligor=japan, title="", key="x" * 300))
    alone = [errors_of(commitment.full_clean) for commitment in batch]
    together = [error.message_dict if error else None for error in full_clean_many(batch)]
    assert together == alone
    assert alone[0] is None and sum(found is not None for found in alone) >= 12
    assert "key" in (alone[-3] or {}) and "obligor" in (alone[-2] or {})
    assert "title" in (alone[-1] or {})
    with CaptureQueriesContext(connection) as queries:
        full_clean_many(batch)
    assert len(queries) <= 8
    # And with fields left out, as the import leaves out the cells it could not read.
    excludes = [set(changes) for changes in BROKEN] + [set(), {"obligor"}, {"key"}]
    alone = [
        errors_of(lambda c=c, e=e: c.full_clean(exclude=e))
        for c, e in zip(batch, excludes, strict=True)
    ]
    together = [e.message_dict if e else None for e in full_clean_many(batch, excludes=excludes)]
    assert together == alone


def test_a_citations_checks_give_djangos_errors(make_commitment, source):
    citation = Citation(commitment=make_commitment(), source=source, quote="", start=5, end=2)
    citation.translation_language = "not a language"
    ours = errors_of(citation.validate_constraints)
    assert ours == errors_of(lambda: models.Model.validate_constraints(citation))
    assert ours is not None and len(ours["__all__"]) == 3


def test_a_progress_updates_checks_give_djangos_errors(make_commitment):
    """The status action's update is checked in one statement too, with Django's errors."""
    update = ProgressUpdate(
        commitment=make_commitment(), status_to="fulfilled", occurred_on=dt.date(1800, 1, 1)
    )
    ours = errors_of(update.validate_constraints)
    assert ours == errors_of(lambda: models.Model.validate_constraints(update))
    assert ours is not None and len(ours["__all__"]) == 2
    update.status_to = "bogus"
    ours = errors_of(update.validate_constraints)
    assert ours == errors_of(lambda: models.Model.validate_constraints(update))
    assert ours is not None and len(ours["__all__"]) == 2
    update.status_to, update.occurred_on = "in_progress", dt.date(2026, 1, 1)
    assert errors_of(update.validate_constraints) is None
    with CaptureQueriesContext(connection) as queries:
        update.validate_constraints()
    assert len(queries) == 3  # the statement in its savepoint


def test_check_constraints_cost_one_query_and_one_savepoint(make_commitment):
    commitment = make_commitment()
    with CaptureQueriesContext(connection) as queries:
        commitment.validate_constraints()
    checks = [q for q in queries.captured_queries if "_check" in q["sql"]]
    assert len(checks) == 1
    # The model's statement compiled once, over this row's values given as its table (a
    # batch's), not a query built anew for the row.
    assert "(VALUES (" in checks[0]["sql"]
    # Django's unique constraints are still checked as before (at most a few queries).
    assert len(queries) <= 6


def test_batched_hooks_tell_the_listeners_once_after_the_block(agreement, japan):
    told: list[list[int]] = []
    changes: list[list[hooks.FieldChange]] = []

    def listener(ids):
        told.append(list(ids))

    def change_listener(found, at):
        changes.append(list(found))

    hooks.register(listener)
    hooks.register_changes(change_listener)
    try:
        change = hooks.FieldChange(1, "due_date", None, dt.date(2026, 1, 1))
        with hooks.batched():
            hooks.deadline_inputs_changed(commitment_ids=[1])
            hooks.deadline_inputs_changed(commitment_ids=[2, 1])
            hooks.fields_changed(changes=[change], at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
            assert hooks.batching() and told == [] and changes == []
        assert told == [[1, 2]]
        assert changes == [[change]]
        assert not hooks.batching()
    finally:
        hooks.unregister(listener)
        hooks.unregister_changes(change_listener)


def test_an_import_flags_and_alerts_as_row_by_row_saves_do(agreement, japan, editor):
    """The deadline watch runs once for the file: every row ends flagged, with its alerts."""
    factories.subscription_make(user=editor)
    rows = [
        row("late", deadline_kind="fixed", deadline_date="2025-11-01", offset_amount="",
            offset_unit="", anchor_kind=""),
        row("soon", offset_amount="1"),
        row("later"),
    ]  # fmt: skip
    report = commitments_import(dataset=table_read(data=as_csv(rows).encode()), user=editor)
    assert report.ok, report.errors
    imported = {c.key: c for c in Commitment.objects.all()}
    for commitment in imported.values():
        state, alerts = (
            commitment.deadline_state,
            set(Alert.objects.filter(commitment=commitment).values_list("threshold", flat=True)),
        )
        # The same commitment saved alone (its own scan) ends in the same state.
        Commitment.objects.filter(pk=commitment.pk).update(deadline_state="none", flagged_at=None)
        Alert.objects.filter(commitment=commitment).delete()
        hooks.deadline_inputs_changed(commitment_ids=[commitment.pk])
        commitment.refresh_from_db()
        assert commitment.deadline_state == state
        assert alerts == set(
            Alert.objects.filter(commitment=commitment).values_list("threshold", flat=True)
        )
    assert imported["late"].deadline_state == "overdue"


def _import_queries(count: int, user, *, stored: bool = False) -> int:
    """Count the queries of a preview of ``count`` rows (of stored commitments: updates)."""
    rows = [
        row(f"c{n}", title_fr=f"Réunion {n}", deadline_phrase="within 90 days", language="en",
            deadline_kind="", offset_amount="", offset_unit="", anchor_kind="")
        for n in range(count)
    ]  # fmt: skip
    Commitment.objects.all().delete()
    if stored:
        assert commitments_import(dataset=table_read(data=as_csv(rows).encode()), user=user).ok
        rows = [{**values, "title": f"{values['title']} (revised)"} for values in rows]
    dataset = table_read(data=as_csv(rows).encode())
    with CaptureQueriesContext(connection) as queries:
        report = commitments_import(dataset=dataset, user=user, dry_run=True)
    assert report.ok, report.errors
    return len(queries)


def test_an_import_of_new_rows_costs_the_same_queries_for_three_times_the_rows(
    agreement, japan, editor
):
    """New rows are checked and written in batches: the queries do not grow with the rows."""
    few, many = _import_queries(5, editor), _import_queries(15, editor)
    assert many <= 1.2 * few + 5, (few, many)
    # The fixed part (reading the file's agreements and parties, the batch's statements).
    assert few <= 60


#: Queries an updated row may cost (a file naming stored commitments is imported row by row):
#: its update, its history rows (one per write, with the party lists' history), its party
#: lists, its occurrences, the checks in one query, the foreign keys' existence checks and
#: the savepoints of the services it goes through.
PER_ROW = 40


def test_an_imports_queries_grow_by_a_bounded_constant_per_row(agreement, japan, editor):
    few = _import_queries(5, editor, stored=True)
    many = _import_queries(15, editor, stored=True)
    per_row = (many - few) / 10
    assert per_row <= PER_ROW, per_row
    # The fixed part (reading the file's agreements and parties, the one scan) is bounded too.
    assert few - 5 * per_row <= 60


def test_a_value_the_database_cannot_take_passes_over_its_checks_only(make_commitment):
    """A NUL character cannot be sent to PostgreSQL: the one query fails, and the checks are
    then run one by one as Django runs them, so the others still answer (a negative amount)."""
    commitment = make_commitment()
    commitment.category = "bad\x00category"
    commitment.target_amount = Decimal("-5")
    commitment.target_unit = "USD"
    ours = errors_of(commitment.validate_constraints)
    assert ours == errors_of(lambda: models.Model.validate_constraints(commitment))
    assert ours is not None and ours["__all__"]
