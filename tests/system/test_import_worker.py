"""A large import through the real queue: a Celery worker on Redis imports a file in
one transaction while its progress is visible to other connections, as the run page reads it."""

from __future__ import annotations

import pytest

from commitments.models import Commitment, ImportRun, ImportRunStatus
from tests.commitments.test_import_engine import as_csv, row
from tests.support.smtp_server import smtp_server_fixture  # noqa: F401
from tests.support.worker_harness import celery_harness_fixture, wait_for  # noqa: F401

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

REDIS_DB = 15
ROWS = 300  # 2,000 rows take about 8 minutes at today's pace (see README)


def test_a_worker_imports_a_large_file_showing_progress_then_every_row_at_once(
    celery_harness, smtp_server, agreement, japan, editor
):
    rows = [row(f"c-{n:04d}", description="x" * 2000) for n in range(ROWS)]
    # Half the rows anchor on a row further down the file.
    for n in range(0, ROWS, 2):
        rows[n].update(anchor_kind="commitment", anchor_commitment=f"c-{n + 1:04d}")
    data = as_csv(rows).encode()
    run = ImportRun.objects.create(file_name="big.csv", file_data=data, user=editor)
    harness = celery_harness(redis_db=REDIS_DB, email_url=smtp_server.url)
    harness.start_workers("importer")
    harness.send("commitments.import_commitments", run_id=run.pk)

    seen_progress = []

    def finished() -> bool:
        current = ImportRun.objects.defer("file_data").get(pk=run.pk)
        if current.status == ImportRunStatus.RUNNING and 0 < current.rows_done < ROWS:
            seen_progress.append((current.rows_done, Commitment.objects.count()))
        return current.finished_running

    wait_for(finished, timeout=240, what="the import run to finish")
    run.refresh_from_db()
    assert run.status == ImportRunStatus.DONE, run.errors
    assert run.created_count == ROWS and run.rows_done == ROWS
    assert Commitment.objects.count() == ROWS
    # Progress was visible while the rows were not: one transaction, all at once.
    assert seen_progress, "no progress was seen while the run was running"
    assert all(count == 0 for _done, count in seen_progress)
    assert run.finished is not None and run.started is not None
    seconds = (run.finished - run.started).total_seconds()
    print(f"\n{ROWS} rows ({len(data) / 1e6:.1f} MB) in {seconds:.1f} s: "
          f"{ROWS / seconds:.0f} rows/s")
