"""Migrations stop on data they cannot keep, naming the rows, and apply on data they can."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.slow  # started first in the parallel pass (tests/conftest.py)

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


AT_0004 = [("commitments", "0004_date_range_and_codes")]
AT_0005 = [("commitments", "0005_deadlines_as_they_happen")]


def _stored_fields(model, data):
    """Return the seed's values for the columns ``model`` had then (dates parsed)."""
    values = {}
    for field in model._meta.concrete_fields:
        if field.is_relation or field.name not in data:
            continue
        value = data[field.name]
        if isinstance(field, models.DateField) and isinstance(value, str):
            value = dt.date.fromisoformat(value)
        values[field.name] = value
    return values


@pytest.mark.django_db(transaction=True)
def test_the_current_seeds_keep_every_due_date_through_0005():
    """The seeds stored as 0004 stored them keep their due dates; precision comes from the rule.

    Every due date and due instant is unchanged, the original due date is the due date, a
    period rule's dates are known to its period ("by March": month) and the others to the day;
    the engine, run again on the migrated rows, changes nothing.
    """
    from commitments import deadlines
    from commitments.services.seeds.reader import anchor_order, seeds_read
    from commitments.services.seeds.schema import default_seeds_dir

    seeds = seeds_read(path=default_seeds_dir())
    executor = _executor()
    executor.migrate(AT_0004)
    apps = executor.loader.project_state(AT_0004).apps
    party_model = apps.get_model("commitments", "Party")
    agreement_model = apps.get_model("commitments", "Agreement")
    commitment_model = apps.get_model("commitments", "Commitment")
    try:
        parties = {
            r.key: party_model.objects.create(**_stored_fields(party_model, r.data))
            for r in seeds.parties
        }
        agreements = {
            r.key: agreement_model.objects.create(**_stored_fields(agreement_model, r.data))
            for r in seeds.agreements
        }
        before = {}
        for record in anchor_order(seeds.commitments):
            values = _stored_fields(commitment_model, record.data)
            agreement = agreements[record.agreement_key]
            rule = deadlines.rule_from_stored(
                {f.name: values.get(f.name) for f in deadlines.RULE_FIELDS if f.attribute}
            )
            # A commitment-anchored rule waits for a fulfilment no seed records.
            due_date = (
                None
                if values.get("anchor_kind") == "commitment"
                else deadlines.compute_due_date(rule, agreement.date)
            )
            due_at = deadlines.due_instant(due_date, agreement.time_zone) if due_date else None
            commitment_model.objects.create(
                **values,
                agreement=agreement,
                obligor=parties[record.data["obligor"]],
                due_date=due_date,
                due_at=due_at,
            )
            before[record.key] = (due_date, due_at)
        # Four dated promises since the per-party halves were merged (issue 13).
        assert sum(1 for due_date, _ in before.values() if due_date) >= 4
        # Two fulfilled before the upgrade, on the day and a day late (none anchors another).
        anchors = commitment_model.objects.exclude(anchor_commitment=None).values(
            "anchor_commitment"
        )
        kept, missed = (
            commitment_model.objects.filter(due_date__isnull=False)
            .exclude(pk__in=anchors)
            .order_by("key")[:2]
        )
        for row, late_by in ((kept, 0), (missed, 1)):
            commitment_model.objects.filter(pk=row.pk).update(
                status="fulfilled", fulfilled_on=row.due_date + dt.timedelta(days=late_by)
            )

        _executor().migrate(AT_0005)

        after = (
            _executor().loader.project_state(AT_0005).apps.get_model("commitments", "Commitment")
        )
        rows = {
            row["key"]: row
            for row in after.objects.values(
                "key",
                "deadline_kind",
                "period_unit",
                "due_date",
                "due_at",
                "original_due_date",
                "due_precision",
                "original_due_precision",
            )
        }
        assert rows.keys() == before.keys()
        for key, (due_date, due_at) in before.items():
            row = rows[key]
            assert (row["due_date"], row["due_at"]) == (due_date, due_at), key
            assert row["original_due_date"] == due_date, key
            if due_date is None:
                expected = ""
            elif row["deadline_kind"] == "period_end":
                expected = row["period_unit"]
            else:
                expected = "day"
            assert (row["due_precision"], row["original_due_precision"]) == (expected,) * 2, key
        assert rows["japan-defence-spending-2-percent-gdp"]["due_precision"] == "month"
        timing = dict(
            after.objects.exclude(fulfilment_timing="").values_list("key", "fulfilment_timing")
        )
        assert timing == {kept.key: "on_time", missed.key: "late"}

        _executor().migrate(_executor().loader.graph.leaf_nodes())
        from commitments.models import DUE_DATE_RELATIONS, Commitment
        from commitments.services.deadlines import commitment_apply_rule

        for commitment in Commitment.objects.select_related(*DUE_DATE_RELATIONS):
            assert commitment_apply_rule(commitment=commitment) == [], commitment.key
    finally:
        _executor().migrate(_executor().loader.graph.leaf_nodes())


AT_0006 = [("commitments", "0006_h2")]
AT_0007 = [("commitments", "0007_assessment")]


@pytest.mark.django_db(transaction=True)
def test_0007_keeps_each_commitments_latest_measurement_and_its_pace_band():
    """A database from before ratings gets each commitment's latest own measurement (not an
    occurrence's) and the pace band the services would store, and loses no row."""
    from decimal import Decimal

    from commitments.assessment import pace

    executor = _executor()
    executor.migrate(AT_0006)
    apps = executor.loader.project_state(AT_0006).apps
    party = apps.get_model("commitments", "Party").objects.create(
        key="japan", name="Japan", kind="state", country_code="JP"
    )
    agreement = apps.get_model("commitments", "Agreement").objects.create(
        key="a", title="A", kind="framework", date=dt.date(2025, 8, 21),
        time_zone="Asia/Tokyo",
    )
    commitment_model = apps.get_model("commitments", "Commitment")
    update_model = apps.get_model("commitments", "ProgressUpdate")
    due = dt.date(2028, 12, 31)
    measured = commitment_model.objects.create(
        agreement=agreement, obligor=party, key="energy", title="Energy", category="purchase",
        target_amount=750, target_unit="USD", deadline_kind="fixed", deadline_date=due,
        due_date=due, due_at=dt.datetime(2028, 12, 31, 15, tzinfo=dt.UTC),
    )
    plain = commitment_model.objects.create(
        agreement=agreement, obligor=party, key="plain", title="Plain", category="meeting",
    )
    for day, value in ((dt.date(2026, 3, 1), 100), (dt.date(2026, 9, 1), 260)):
        update_model.objects.create(commitment=measured, occurred_on=day, measured_value=value)
    try:
        _executor().migrate(AT_0007)
        after = _executor().loader.project_state(AT_0007).apps.get_model(
            "commitments", "Commitment"
        )
        row = after.objects.get(key="energy")
        band = pace.pace_band(
            measured=Decimal(260), target=Decimal(750), start=dt.date(2025, 8, 21), due=due
        )
        assert band is not None
        assert (row.progress_measured, row.progress_measured_on) == (
            Decimal(260), dt.date(2026, 9, 1))
        assert (row.pace_ahead_until, row.pace_behind_after) == (
            band.ahead_until, band.behind_after)
        untouched = after.objects.get(pk=plain.pk)
        assert untouched.progress_measured is None and untouched.pace_ahead_until is None
        assert after.objects.count() == 2
    finally:
        _executor().migrate(_executor().loader.graph.leaf_nodes())


AT_0007 = [("commitments", "0007_assessment")]


@pytest.mark.django_db(transaction=True)
def test_sources_and_citations_from_before_the_archive_keep_every_value():
    """0008-0010 add the archived copy, the span and import runs: an older source keeps its
    facts with no copy, and an older citation its quote with no span."""
    executor = _executor()
    executor.migrate(AT_0007)
    apps = executor.loader.project_state(AT_0007).apps
    source = apps.get_model("commitments", "Source").objects.create(
        key="gate", title="Gate", publisher="Gate", language="fr",
        published_on=dt.date(2025, 10, 28), kind="press",
    )
    party = apps.get_model("commitments", "Party").objects.create(
        key="japan", name="Japan", kind="state", country_code="JP"
    )
    agreement = apps.get_model("commitments", "Agreement").objects.create(
        key="summit", title="Summit", kind="other", date=dt.date(2025, 10, 28),
        time_zone="Asia/Tokyo",
    )
    agreement.parties.add(party)
    citation = apps.get_model("commitments", "Citation").objects.create(
        source=source, agreement=agreement, quote="Une démonstration de force en mer"
    )
    try:
        _executor().migrate(_executor().loader.graph.leaf_nodes("commitments"))
        from commitments.models import Citation, Source

        kept = Source.objects.get(pk=source.pk)
        assert (kept.key, kept.title, kept.published_on) == ("gate", "Gate", dt.date(2025, 10, 28))
        assert (kept.text, kept.sha256, kept.content_type, kept.retrieved_on) == ("", "", "", None)
        cited = Citation.objects.get(pk=citation.pk)
        assert cited.quote == "Une démonstration de force en mer"
        assert (cited.start, cited.end) == (None, None)
    finally:
        _executor().migrate(_executor().loader.graph.leaf_nodes())


AT_0010 = [("commitments", "0010_import_run_language")]


@pytest.mark.django_db(transaction=True)
def test_0011_keeps_agreements_as_drafts_and_parties_french_names():
    """0011 adds publishing and translations: an agreement from before is a draft (nothing
    becomes public without an editor's decision), every text is kept, a party's French name
    stays where it was, and no machine translation is invented."""
    executor = _executor()
    executor.migrate(AT_0010)
    apps = executor.loader.project_state(AT_0010).apps
    party = apps.get_model("commitments", "Party").objects.create(
        key="japan", name="Japan", name_fr="Japon", kind="state", country_code="JP"
    )
    agreement = apps.get_model("commitments", "Agreement").objects.create(
        key="summit", title="Summit", summary="Two leaders met.", kind="other",
        date=dt.date(2025, 10, 28), time_zone="Asia/Tokyo",
    )
    agreement.parties.add(party)
    try:
        _executor().migrate(_executor().loader.graph.leaf_nodes("commitments"))
        from commitments.models import Agreement, Party
        from commitments.visibility import public_agreements, public_parties

        kept = Agreement.objects.get(pk=agreement.pk)
        assert (kept.title, kept.summary) == ("Summit", "Two leaders met.")
        assert (kept.publication_state, kept.published_at) == ("draft", None)
        assert (kept.title_fr, kept.summary_fr, kept.machine_translations) == ("", "", {})
        assert not public_agreements().exists()
        assert not public_parties().exists()
        japan = Party.objects.get(pk=party.pk)
        assert (japan.name, japan.name_fr, japan.machine_translations) == ("Japan", "Japon", {})
    finally:
        _executor().migrate(_executor().loader.graph.leaf_nodes())
