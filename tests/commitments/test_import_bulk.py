"""An import of new commitments is checked and written in batches; what it writes and what it
refuses are exactly what the row-by-row import (the admin's, through the resource and
``commitment_save``) writes and refuses on the same file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert
from commitments.models import Citation, Commitment
from commitments.resources import CommitmentResource
from commitments.services import hooks
from commitments.services.imports import commitments_import, result_errors, table_read
from tests import factories
from tests.commitments.test_import_engine import as_csv, row

pytestmark = pytest.mark.django_db

COLUMNS = [
    "key", "agreement", "title", "title_fr", "obligor", "co_obligors", "beneficiaries",
    "category", "target_amount", "target_unit", "effective_from", "deadline_phrase", "language",
    "deadline_kind", "deadline_date", "offset_amount", "offset_unit", "anchor_kind",
    "anchor_commitment", "period_unit", "period_number", "period_year",
    "citation_source", "citation_quote", "citation_translation", "citation_locator",
]  # fmt: skip
QUOTE = "Une réunion se tiendra dans un délai de 180 jours."


def a_file() -> bytes:
    """Rows of every kind: lists, phrases, amounts, an anchor further down, rules, quotes."""
    rows = [
        row("follow-up", anchor_kind="commitment", anchor_commitment="meeting",
            offset_amount="30", beneficiaries="japan"),
        row("meeting", co_obligors="united-states", beneficiaries="japan;third",
            citation_source="mofa-2025-10-28", citation_quote=QUOTE,
            citation_translation="A meeting within 180 days.", citation_locator="§ 3"),
        row("phrase", deadline_kind="", offset_amount="", offset_unit="", anchor_kind="",
            deadline_phrase="within 90 days", language="en", title_fr="Réunion",
            target_amount="750 bn", target_unit="USD"),
        row("fixed", deadline_kind="fixed", deadline_date="2026-09-30", offset_amount="",
            offset_unit="", anchor_kind="", effective_from="2025-11-01", co_obligors=""),
        row("period", deadline_kind="period_end", period_unit="quarter", period_number="2",
            period_year="2026", offset_amount="", offset_unit="", anchor_kind=""),
        row("late", deadline_kind="fixed", deadline_date="2025-11-01", offset_amount="",
            offset_unit="", anchor_kind=""),
    ]  # fmt: skip
    return as_csv(rows, COLUMNS).encode()


@pytest.fixture
def references(agreement, japan, usa, editor):
    factories.party_make(key="third", name="Third")
    factories.source_make(key="mofa-2025-10-28", text=f"Préambule. {QUOTE} Fin.")
    factories.subscription_make(user=editor)


def _keys(pks: list[int]) -> list[str]:
    by_pk = dict(Commitment.objects.values_list("pk", "key"))
    return sorted(by_pk.get(pk, f"?{pk}") for pk in pks)


def _plain(instance: Any) -> dict[str, Any]:
    """Every stored value, the commitments' ids named by their keys, the moments left out."""
    keys = dict(Commitment.objects.values_list("pk", "key"))
    out = {}
    for field in instance._meta.concrete_fields:
        if field.name in MOMENTS:
            continue
        value = getattr(instance, field.attname)
        if field.name in {"anchor_commitment", "replaced_by", "commitment"}:
            value = keys.get(value, value)
        out[field.name] = value
    return out


MOMENTS = {"id", "created", "updated", "history_id", "history_date", "flagged_at"}


def snapshot() -> dict[str, Any]:
    """Everything an import writes, by the commitments' keys, without ids and moments."""
    history = Commitment.history.model  # type: ignore[attr-defined]
    versions = []
    for version in history.objects.order_by("history_id"):
        values = _plain(version)
        values["lists"] = {
            name: sorted(getattr(version, name).values_list("party_id", flat=True))
            for name in ("beneficiaries", "co_obligors")
        }
        versions.append(values)
    versions.sort(key=lambda v: (v["key"], v["history_type"], str(v["lists"])))
    commitments = {
        c.key: {
            **_plain(c),
            "deadline_state": c.deadline_state,
            "alerts": sorted(c.alerts.values_list("threshold", flat=True)),
        }
        for c in Commitment.objects.all()
    }  # fmt: skip
    citations = sorted(
        (
            (
                _plain(c),
                list(c.history.values_list("history_type", "history_user_id", "quote", "start")),
            )
            for c in Citation.objects.all()
        ),
        key=repr,
    )
    return {
        "commitments": commitments,
        "versions": versions,
        "citations": [repr(c) for c in citations],
    }


def row_by_row(data: bytes, user) -> Any:
    """Import as the admin does: the resource, one row at a time through commitment_save."""
    return CommitmentResource().import_data(
        table_read(data=data),
        dry_run=False,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
        user=user,
    )


def test_the_batched_import_writes_what_the_row_by_row_import_writes(references, editor):
    data = a_file()
    with transaction.atomic():
        result = row_by_row(data, editor)
        assert not result.has_errors() and not result.has_validation_errors(), result_errors(
            result
        )
        expected = snapshot()
        transaction.set_rollback(True)
    assert not Commitment.objects.exists() and not Commitment.history.exists()

    report = commitments_import(dataset=table_read(data=data), user=editor)
    assert report.ok, report.errors
    assert (report.created, report.updated) == (6, 0)
    found = snapshot()
    for mine, theirs in zip(found["versions"], expected["versions"], strict=True):
        assert {k: v for k, v in mine.items() if theirs.get(k) != v} == {}, mine["key"]
    assert found == expected
    # The file's content, as a reader checks it: three versions for a row with both lists.
    meeting = [v for v in found["versions"] if v["key"] == "meeting"]
    assert [v["history_type"] for v in meeting] == ["+", "~", "~"]
    assert all(v["history_user"] == editor.pk for v in found["versions"])
    assert found["commitments"]["late"]["deadline_state"] == "overdue"
    assert found["commitments"]["follow-up"]["anchor_commitment"] == "meeting"
    assert str(found["commitments"]["period"]["due_date"]) == "2026-06-30"


def test_the_preview_of_a_batched_import_answers_as_the_import_and_writes_nothing(
    references, editor
):
    told: list[Sequence[int]] = []

    def listener(ids: Sequence[int]) -> None:
        told.append(ids)

    hooks.register(listener)
    try:
        preview = commitments_import(dataset=table_read(data=a_file()), user=editor, dry_run=True)
    finally:
        hooks.unregister(listener)
    assert preview.ok, preview.errors
    assert not Commitment.objects.exists() and not Commitment.history.exists()
    assert not Citation.objects.exists() and not Alert.objects.exists()
    assert told == []
    report = commitments_import(dataset=table_read(data=a_file()), user=editor)
    assert (preview.created, preview.updated, preview.total) == (
        report.created, report.updated, report.total
    )  # fmt: skip
    assert Commitment.objects.count() == 6


def bad_file() -> bytes:
    rows = [
        row("anchor-bad", obligor="atlantis"),
        row("on-bad-anchor", anchor_kind="commitment", anchor_commitment="anchor-bad"),
        row("bad-cells", offset_amount="lots", target_amount="many", target_unit="USD"),
        row("self-bound", co_obligors="japan"),
        row("bad-quote", citation_source="mofa-2025-10-28", citation_quote="Not in the text."),
        row("no-source", citation_quote="A quote without its source."),
        row("no-unit", target_amount="5", target_unit=""),
        row("too-early", deadline_kind="fixed", deadline_date="2020-01-01", offset_amount="",
            offset_unit="", anchor_kind=""),
        row("fine"),
        row("", title=""),
        row("fine", title="Again"),
        row("nul", title="A\x00B"),
        row("unknown-list", beneficiaries="nowhere"),
    ]  # fmt: skip
    return as_csv(rows, COLUMNS).encode()


def test_a_bad_file_gets_the_row_by_row_imports_errors_and_writes_nothing(references, editor):
    data = bad_file()
    with transaction.atomic():
        expected = [e.as_dict() for e in result_errors(row_by_row(data, editor))]
        transaction.set_rollback(True)
    report = commitments_import(dataset=table_read(data=data), user=editor)
    assert [e.as_dict() for e in report.errors] == expected
    # Every bad row is named, each by its line and column.
    assert {(e.line, e.column) for e in report.errors} >= {
        (2, "obligor"), (3, "anchor_commitment"), (4, "offset_amount"), (5, "co_obligors"),
        (6, "citation_quote"), (7, "citation_source"), (8, "target_unit"), (9, "deadline_date"),
        (11, "key"), (12, "key"), (13, "title"), (14, "beneficiaries"),
    }  # fmt: skip
    assert (report.created, report.updated) == (0, 0)
    assert not Commitment.objects.exists() and not Commitment.history.exists()
    assert not Citation.objects.exists() and not Citation.history.exists()  # type: ignore[attr-defined]


def _queries(count: int, user) -> int:
    rows = [
        row(f"c{n}", co_obligors="united-states", beneficiaries="japan;third",
            citation_source="mofa-2025-10-28", citation_quote=QUOTE)
        for n in range(count)
    ]  # fmt: skip
    dataset = table_read(data=as_csv(rows, COLUMNS).encode())
    with CaptureQueriesContext(connection) as queries:
        report = commitments_import(dataset=dataset, user=user)
    assert report.ok, report.errors
    Commitment.objects.all().delete()
    return len(queries)


def test_a_batched_imports_queries_do_not_grow_with_its_rows(references, editor):
    few, many = _queries(10, editor), _queries(30, editor)
    assert many <= 1.2 * few + 5, (few, many)
