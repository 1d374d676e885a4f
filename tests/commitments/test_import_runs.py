"""Imports in the background: a run kept with its file, executed once, its outcome recorded;
the downloadable template."""

from __future__ import annotations

import datetime as dt

import pytest

from commitments.models import Citation, Commitment, ImportRun, ImportRunStatus
from commitments.services.imports import (
    TEMPLATE_COLUMNS,
    commitments_import,
    import_run_execute,
    import_run_start,
    import_template,
    table_read,
)
from tests import factories
from tests.commitments.test_import_engine import as_csv, row

pytestmark = pytest.mark.django_db


def test_a_started_run_is_queued_and_enqueued_once_the_transaction_commits(
    editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = import_run_start(file_name="c.csv", data=b"key\n", user=editor)
    assert len(callbacks) == 1
    run.refresh_from_db()
    assert run.status == ImportRunStatus.QUEUED
    assert bytes(run.file_data) == b"key\n"
    assert run.user == editor


def test_a_run_imports_every_row_records_the_counts_and_runs_only_once(
    agreement, japan, editor, make_commitment
):
    make_commitment(key="existing")
    data = as_csv([row("new-one"), row("existing", title="Renamed")]).encode()
    run = ImportRun.objects.create(file_name="c.csv", file_data=data, user=editor)
    done = import_run_execute(run_id=run.pk)
    assert done is not None
    run.refresh_from_db()
    assert (run.status, run.rows_total, run.rows_done) == (ImportRunStatus.DONE, 2, 2)
    assert (run.created_count, run.updated_count, run.errors) == (1, 1, [])
    assert run.started and run.finished
    assert Commitment.objects.get(key="existing").title == "Renamed"
    assert Commitment.objects.get(key="new-one").history.latest().history_user == editor
    assert import_run_execute(run_id=run.pk) is None
    assert Commitment.objects.count() == 2


def test_a_refused_run_lists_every_error_and_writes_nothing(agreement, japan, editor):
    data = as_csv([row("a"), row("b", obligor="atlantis"), row("a")]).encode()
    run = ImportRun.objects.create(file_name="c.csv", file_data=data, user=editor)
    import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportRunStatus.FAILED
    assert [(e["line"], e["column"]) for e in run.errors] == [(3, "obligor"), (4, "key")]
    assert "No party has the key 'atlantis'." in run.errors[0]["message"]
    assert run.rows_done == 0
    assert not Commitment.objects.exists()


def test_an_unreadable_file_fails_its_run_with_the_reason(editor):
    run = ImportRun.objects.create(file_name="c.xlsx", file_data=b"PK\x03\x04junk", user=editor)
    import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportRunStatus.FAILED
    assert run.errors == [
        {"line": None, "column": None,
         "message": "The file is not an Excel workbook (.xlsx) that can be read."}
    ]


def test_a_run_left_running_by_a_dead_worker_is_claimed_again_only_when_stale(editor):
    run = ImportRun.objects.create(
        file_name="c.csv", file_data=b"", user=editor, status=ImportRunStatus.RUNNING,
        started=dt.datetime.now(dt.UTC),
    )
    assert import_run_execute(run_id=run.pk) is None
    ImportRun.objects.filter(pk=run.pk).update(
        started=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    )
    assert import_run_execute(run_id=run.pk) is not None
    run.refresh_from_db()
    assert run.status == ImportRunStatus.FAILED  # the empty file, read again


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_template_example_row_imports_as_the_eu_us_review_due_90_days_later(
    editor, file_format
):
    """The template's example is the EU–US joint statement's review "within 90 days"."""
    eu = factories.party_make(key="european-union", name="European Union")
    us = factories.party_make(key="united-states", name="United States")
    factories.agreement_make(key="eu-us-2025-08-21", parties=[eu, us],
                             date=dt.date(2025, 8, 21), time_zone="Europe/Brussels")
    factories.source_make(key="eu-us-joint-statement-2025-08-21", language="en")
    data = import_template(file_format=file_format)
    if file_format == "csv":
        assert data.startswith(b"\xef\xbb\xbf")
    dataset = table_read(data=data, filename=f"template.{file_format}")
    assert list(dataset.headers[:-1]) == list(TEMPLATE_COLUMNS)
    report = commitments_import(dataset=dataset, user=editor)
    assert report.ok, report.errors
    review = Commitment.objects.get(key="eu-us-review-90-days")
    assert review.due_date == dt.date(2025, 11, 19)
    assert [p.key for p in review.obligor_list] == ["european-union", "united-states"]
    citation = Citation.objects.get(commitment=review)
    assert citation.locator == "§ 19" and citation.translation_language == "fr"


def test_a_run_stopped_by_a_transient_database_error_is_queued_again_for_the_retry(
    agreement, japan, editor, monkeypatch
):
    """The task is retried on such errors: the retry must find the run to claim, not a run
    "running" that nobody runs."""
    from django.db import OperationalError

    from commitments.services import imports

    def dropped(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(imports, "commitments_import", dropped)
    run = ImportRun.objects.create(
        file_name="c.csv", file_data=as_csv([row("a")]).encode(), user=editor
    )
    with pytest.raises(OperationalError):
        import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportRunStatus.QUEUED
    monkeypatch.undo()
    assert import_run_execute(run_id=run.pk) is not None
    run.refresh_from_db()
    assert run.status == ImportRunStatus.DONE
    assert Commitment.objects.filter(key="a").exists()


def test_a_run_stopped_by_an_unexpected_error_says_so_and_imported_nothing(
    agreement, japan, editor, monkeypatch
):
    from commitments.services import imports

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(imports, "commitments_import", broken)
    run = ImportRun.objects.create(
        file_name="c.csv", file_data=as_csv([row("a")]).encode(), user=editor
    )
    with pytest.raises(RuntimeError):
        import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportRunStatus.FAILED
    assert run.finished is not None
    assert "stopped on an unexpected error and nothing was imported" in run.errors[0]["message"]
    assert not Commitment.objects.exists()


def test_a_header_without_rows_is_refused_with_its_reason(editor):
    run = ImportRun.objects.create(
        file_name="c.csv", file_data=",".join(TEMPLATE_COLUMNS).encode() + b"\n", user=editor
    )
    import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportRunStatus.FAILED
    assert "no rows" in run.errors[0]["message"]


def test_a_run_sent_from_a_french_page_lists_its_errors_in_french(agreement, japan, editor):
    from django.utils import translation

    data = as_csv([row("a", obligor="atlantis", target_amount="750 billion")]).encode()
    with translation.override("fr"):
        run = import_run_start(file_name="c.csv", data=data, user=editor)
    assert run.language == "fr"
    import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    messages = " ".join(error["message"] for error in run.errors)
    assert "Aucun" in messages and "atlantis" in messages
    assert "pas le même nombre en anglais et en français" in messages
    assert not Commitment.objects.exists()


def test_amounts_are_read_as_the_forms_read_them(agreement, japan, editor):
    data = as_csv([row("a", target_amount="750 bn", target_unit="USD")]).encode()
    run = ImportRun.objects.create(file_name="c.csv", file_data=data, user=editor)
    import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportRunStatus.DONE, run.errors
    assert Commitment.objects.get(key="a").target_amount == 750_000_000_000
