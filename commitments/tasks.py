"""Celery tasks of the domain: thin, named, taking ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from core.outbox import SAFE_TO_REPEAT


# A 20,000-row file (the most one import takes) runs for minutes, not hours.
@shared_task(
    name="commitments.import_commitments", soft_time_limit=3600, time_limit=3700, **SAFE_TO_REPEAT
)
def import_commitments(run_id: int) -> str:
    """Import the file of one queued :class:`~commitments.models.ImportRun`."""
    from commitments.services.imports import import_run_execute

    run = import_run_execute(run_id=run_id)
    return "already claimed" if run is None else run.status
