"""Migrations stop on data they cannot keep, naming the rows, and apply on data they can."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("commitments", "0003_scan_indexes")]


def _executor() -> MigrationExecutor:
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_the_date_and_code_rules_name_the_rows_that_break_them_before_adding_constraints():
    """A party with "jp" and an agreement dated 9999-12-31 stop 0004 with both named.

    Earlier versions accepted both; the constraints alone would fail with only their names.
    After the rows are corrected, the migration applies.
    """
    executor = _executor()
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    party_model = apps.get_model("commitments", "Party")
    agreement_model = apps.get_model("commitments", "Agreement")
    party = party_model.objects.create(key="japan", name="Japan", kind="state", country_code="jp")
    agreement = agreement_model.objects.create(
        key="far-future", title="Far", kind="other", date=dt.date(9999, 12, 31), time_zone="UTC"
    )
    latest = _executor().loader.graph.leaf_nodes("commitments")
    try:
        with pytest.raises(RuntimeError) as refused:
            _executor().migrate(latest)
        message = str(refused.value)
        assert "party japan: party_country_code_valid" in message
        assert "agreement far-future: agreement_date_in_range" in message
        party_model.objects.filter(pk=party.pk).update(country_code="JP")
        agreement_model.objects.filter(pk=agreement.pk).update(date=dt.date(2026, 1, 1))
        _executor().migrate(latest)
    finally:
        _executor().migrate(_executor().loader.graph.leaf_nodes())
