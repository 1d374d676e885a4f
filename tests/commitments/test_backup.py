"""``export_all`` / ``import_all``: a JSON backup that restores the database without loss."""

from __future__ import annotations

import copy
import datetime as dt
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import models

from accounts.models import Profile
from accounts.services import user_set_language
from alerts.models import Alert, ScanRun, Subscription, SubscriptionLead, SubscriptionScope
from alerts.services.scan import scan
from alerts.services.subscriptions import subscription_create
from commitments.choices import Status
from commitments.models import (
    Agreement,
    Assessment,
    Citation,
    Commitment,
    CommitmentRelation,
    DeadlineRevision,
    Occurrence,
    Party,
    ProgressUpdate,
    Report,
    ReportCorrection,
    ReportRow,
    Source,
)
from commitments.services.assessments import assessment_record, assessment_review, review_due_flag
from commitments.services.commitments import commitment_change_status, commitment_update
from commitments.services.revisions import revision_create
from core.roles import EDITORS
from feeds.models import CalendarFeed, FeedScope
from feeds.services import calendar_feed_create
from tests import factories
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)

#: Every table the backup covers, the many-to-many ones included, in deletion-safe order.
TABLES: list[type[models.Model]] = [
    ReportCorrection,
    ReportRow,
    Report,
    Assessment,
    WebhookDelivery,
    WebhookEvent,
    WebhookEndpoint,
    CalendarFeed,
    Alert,
    ScanRun,
    SubscriptionLead,
    Subscription,
    ProgressUpdate,
    DeadlineRevision,
    CommitmentRelation,
    Citation,
    Occurrence,
    Commitment.beneficiaries.through,
    Commitment.co_obligors.through,
    Commitment,
    Agreement.parties.through,
    Agreement,
    Source,
    Party,
]


def canonical_dump() -> dict[str, Any]:
    """Return every row and field of the covered tables, users by username, ids kept."""
    user_model = get_user_model()
    usernames = dict(user_model.objects.values_list("pk", "username"))
    dump: dict[str, Any] = {}
    for model in TABLES:
        user_columns = [
            f.attname
            for f in model._meta.concrete_fields
            if f.is_relation and f.related_model is user_model
        ]
        auto_created = model._meta.auto_created  # a many-to-many table: its own id is noise
        rows = []
        for row in model._default_manager.order_by("pk").values():
            for column in user_columns:
                row[column] = usernames.get(row[column])
            if auto_created:
                del row["id"]
            rows.append(row)
        if auto_created:
            rows.sort(key=lambda r: tuple(sorted(r.items())))
        dump[model._meta.label] = rows
    users = []
    for user in user_model.objects.order_by("username"):
        entry = {
            f.attname: getattr(user, f.attname)
            for f in user_model._meta.concrete_fields
            if f.attname not in {"id", "password"}
        }
        entry["groups"] = sorted(user.groups.values_list("name", flat=True))
        entry["language"] = (
            Profile.objects.filter(user=user).values_list("language", flat=True).first()
        )
        users.append(entry)
    dump["users"] = users
    return dump


@pytest.fixture
def dataset(django_user_model, agreement, japan, usa, source, make_commitment) -> dict[str, Any]:
    """Every kind of row: anchored and fixed deadlines, citations, relations, status changes,
    a user's language, group and subscription, alerts and a scan run, a webhook endpoint with
    its events and deliveries, and a calendar feed."""
    ana = django_user_model.objects.create_user(
        "ana", "ana@example.org", "pw-for-tests-only", first_name="Ana"
    )
    ana.groups.add(Group.objects.get(name=EDITORS))
    user_set_language(user=ana, language="fr")
    django_user_model.objects.create_user("bo", "bo@example.org", "pw-for-tests-only")
    funding = make_commitment(
        title="Invest 550 billion dollars",
        target_amount="550000000000.0000",
        target_unit="USD",
        beneficiaries=[usa],
        owner=ana,
    )
    fixed = make_commitment(
        deadline_kind="fixed",
        deadline_date=dt.date(2026, 6, 15),
        anchor_kind="",
        offset_amount=None,
        offset_unit="",
        obligor=usa,
        beneficiaries=[japan, usa],
    )
    anchored = make_commitment(anchor_kind="commitment", anchor_commitment=funding)
    CommitmentRelation.objects.create(
        from_commitment=anchored, to_commitment=funding, kind="conditional_on"
    )
    Citation.objects.create(source=source, agreement=agreement, quote="Les deux pays ...")
    subscription_create(
        user=ana, scope=SubscriptionScope.ALL, lead_days=[30, 7], notify_overdue=True
    )
    # Stored directly: the service would resolve the host name, which tests must not need.
    WebhookEndpoint.objects.create(
        owner=ana, target_url="https://hooks.example.org/x", secret="s" * 32
    )
    calendar_feed_create(user=ana, scope=FeedScope.AGREEMENT, agreement=agreement, now=NOW)
    commitment_change_status(
        commitment=funding,
        status=Status.PARTIALLY_FULFILLED,
        user=ana,
        now=NOW,
        note="Half the amount is disbursed.",
        measured_value="1234.5678",
        evidence_source=source,
        evidence_quote="La moitié a été versée.",
    )
    # A revision of the fixed deadline, and a recurring commitment with an occurrence's
    # status change (issue 12).
    revision_create(
        commitment=fixed,
        kind="extended",
        reason="Prorogé d'un mois.",
        user=ana,
        now=NOW,
        revised_on=NOW.date(),
        new_due_date=dt.date(2026, 7, 15),
        evidence_source=source,
        evidence_quote="Le délai est prorogé.",
    )
    yearly = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    commitment_change_status(
        commitment=yearly,
        occurrence=yearly.occurrences.get(sequence=1),
        status=Status.IN_PROGRESS,
        user=ana,
        now=NOW,
        note="Premiers achats.",
    )
    # A shared commitment rated per party: Japan's rating changed (two rows, one current),
    # reviewed, then flagged "review due"; a frozen report with a row and its correction.
    commitment_update(commitment=funding, co_obligors=[usa], user=ana)
    first = assessment_record(
        commitment=funding,
        party=japan,
        rating="in_the_works",
        justification="Les premiers versements sont annoncés.",
        assessed_on=dt.date(2026, 1, 10),
        user=ana,
        now=NOW,
    )
    assessment_record(
        commitment=funding,
        party=japan,
        rating="compromise",
        justification="La moitié seulement a été versée.",
        assessed_on=dt.date(2026, 3, 1),
        user=ana,
        now=NOW,
        evidence_source=source,
        evidence_quote="La moitié a été versée.",
    )
    us_rating = assessment_record(
        commitment=funding,
        party=usa,
        rating="not_verifiable",
        justification="Aucune source ne dit ce que les États-Unis ont fait.",
        assessed_on=dt.date(2025, 11, 1),
        user=ana,
        now=NOW,
    )
    assessment_review(assessment=us_rating, reviewed_on=dt.date(2025, 11, 20), user=ana, now=NOW)
    review_due_flag(now=NOW)
    report = Report.objects.create(
        agreement=agreement, title="Interim 2026", cutoff=dt.date(2026, 2, 1), created_by=ana
    )
    row = ReportRow.objects.create(
        report=report,
        position=1,
        commitment=funding,
        commitment_key=funding.key,
        commitment_title=funding.title,
        party=japan,
        party_name=japan.name,
        assessment=first,
        rating=first.rating,
        score=0,
        justification=first.justification,
        assessed_on=first.assessed_on,
        reviewed_on=first.reviewed_on,
    )
    ReportCorrection.objects.create(
        report=report,
        row=row,
        corrected_on=dt.date(2026, 3, 2),
        field="justification",
        old_value=first.justification,
        new_value="Les premiers versements ont eu lieu.",
        note="Erreur de lecture de la source.",
        author=ana,
    )
    scan(now=NOW)
    dump = canonical_dump()
    for label, rows in dump.items():
        assert rows, f"the dataset has no {label} rows, so the round trip would not test them"
    return dump


def wipe(django_user_model) -> None:
    Commitment.objects.filter(anchor_commitment__isnull=False).delete()  # anchors are protected
    for model in TABLES:
        # Frozen reports refuse ``delete()``; the test empties the database under them.
        models.QuerySet.delete(model._default_manager.all())
    Profile.objects.all().delete()
    django_user_model.objects.all().delete()


def export_to(path: Path) -> dict[str, Any]:
    call_command("export_all", output=str(path), stderr=StringIO())
    return json.loads(path.read_text(encoding="utf-8"))


def test_export_wipe_import_gives_back_every_row_and_field(dataset, tmp_path, django_user_model):
    path = tmp_path / "backup.json"
    export_to(path)
    wipe(django_user_model)
    assert canonical_dump() != dataset

    out = StringIO()
    call_command("import_all", str(path), stdout=out)

    assert canonical_dump() == dataset
    assert "Imported" in out.getvalue()


def test_restored_users_have_no_usable_password_and_keep_their_language(
    dataset, tmp_path, django_user_model
):
    path = tmp_path / "backup.json"
    document = export_to(path)
    wipe(django_user_model)
    call_command("import_all", str(path), stdout=StringIO())

    ana = django_user_model.objects.get(username="ana")
    assert not ana.has_usable_password()
    assert Profile.objects.get(user=ana).language == "fr"
    assert "password" not in json.dumps(document["users"])


def test_rows_added_after_a_restore_get_new_ids(dataset, tmp_path, django_user_model):
    path = tmp_path / "backup.json"
    export_to(path)
    wipe(django_user_model)
    call_command("import_all", str(path), stdout=StringIO())
    highest = max(Party.objects.values_list("pk", flat=True))

    party = Party.objects.create(key="new-party", name="New party", kind="state")

    assert party.pk > highest


def test_export_keeps_computed_fields_and_exact_values(dataset, tmp_path):
    document = export_to(tmp_path / "backup.json")
    updates = [u for u in document["progress_updates"] if u["fields"]["measured_value"]]
    assert updates[0]["fields"]["measured_value"] == "1234.5678"
    assert updates[0]["fields"]["author"] == "ana"
    fields = {c["fields"]["status"] for c in document["commitments"]}
    assert Status.PARTIALLY_FULFILLED in fields
    assert all(
        "due_date" in c["fields"] and "deadline_state" in c["fields"]
        for c in document["commitments"]
    )
    assert document["scan_runs"][0]["fields"]["now"] == NOW.isoformat()


def test_export_without_output_writes_the_document_to_stdout(dataset):
    out = StringIO()
    call_command("export_all", stdout=out)
    document = json.loads(out.getvalue())
    assert document["format"] == "commitment-tracker-backup"
    assert len(document["commitments"]) == Commitment.objects.count()


def test_import_into_a_database_with_data_refuses_and_changes_nothing(dataset, tmp_path):
    path = tmp_path / "backup.json"
    export_to(path)

    with pytest.raises(CommandError, match="already holds data"):
        call_command("import_all", str(path), stdout=StringIO())

    assert canonical_dump() == dataset


def _break_commitment(document: dict[str, Any], field: str, value: Any) -> str:
    record = document["commitments"][-1]
    record["fields"][field] = value
    return f"commitments pk={record['pk']}: field '{field}'"


def _drop_field(document: dict[str, Any], field: str, _value: Any) -> str:
    record = document["citations"][0]
    del record["fields"][field]
    return f"citations pk={record['pk']}: field '{field}'"


def _add_field(document: dict[str, Any], field: str, value: Any) -> str:
    record = document["parties"][0]
    record["fields"][field] = value
    return f"parties pk={record['pk']}: field '{field}'"


def _drop_pk(document: dict[str, Any], field: str, _value: Any) -> str:
    document["sources"][0].pop(field)
    return "sources[0]: field 'pk'"


def _constraint_breach(document: dict[str, Any], field: str, value: Any) -> str:
    record = next(c for c in document["commitments"] if c["fields"]["deadline_kind"] == "fixed")
    record["fields"][field] = value
    return f"commitments pk={record['pk']}: field '{field}'"


@pytest.mark.parametrize(
    ("breaker", "field", "value"),
    [
        (_break_commitment, "status", "bogus"),
        (_break_commitment, "due_date", "2025-13-40"),
        (_break_commitment, "target_amount", "a lot"),
        (_break_commitment, "agreement", 999_999),
        (_break_commitment, "owner", "nobody-of-that-name"),
        (_drop_field, "quote", None),
        (_add_field, "colour", "blue"),
        (_constraint_breach, "deadline_date", None),
        (_drop_pk, "pk", None),
    ],
)
def test_a_malformed_record_is_named_with_its_field_and_nothing_is_written(
    dataset, tmp_path, django_user_model, breaker, field, value
):
    document = export_to(tmp_path / "good.json")
    wipe(django_user_model)
    empty = canonical_dump()
    broken = copy.deepcopy(document)
    where = breaker(broken, field, value)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), encoding="utf-8")

    with pytest.raises(CommandError) as excinfo:
        call_command("import_all", str(path), stdout=StringIO())

    assert where in str(excinfo.value)
    assert str(excinfo.value).startswith("Nothing imported.")
    assert canonical_dump() == empty


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "Not JSON"),
        ('{"format": "something-else"}', "Not a backup"),
        ('{"format": "commitment-tracker-backup", "version": 99}', "version 99"),
        ('{"format": "commitment-tracker-backup", "version": 1, "users": []}', "'parties'"),
    ],
)
def test_a_file_that_is_not_a_backup_is_refused(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        call_command("import_all", str(path), stdout=StringIO())
    assert not Party.objects.exists()


def test_webhooks_and_calendar_feeds_are_in_the_backup(dataset, tmp_path, django_user_model):
    """They were left out silently; a restore now gives back endpoints, secrets and feeds."""
    document = export_to(tmp_path / "backup.json")
    wipe(django_user_model)
    call_command("import_all", str(tmp_path / "backup.json"), stdout=StringIO())

    assert document["version"] == 6
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.owner.username == "ana"
    assert endpoint.secret == "s" * 32  # needed in clear to go on signing
    assert (
        WebhookDelivery.objects.filter(endpoint=endpoint).count()
        == len(document["webhook_deliveries"])
        > 0
    )
    feed = CalendarFeed.objects.get()
    assert feed.secret_hash == document["calendar_feeds"][0]["fields"]["secret_hash"]
    assert feed.agreement_id == document["calendar_feeds"][0]["fields"]["agreement"]


def _without_review_alerts(document):
    """Make the alerts section as a document before version 4 wrote it: no review alerts,
    and no alert field naming a rating (ratings came with version 4)."""
    document["alerts"] = [r for r in document["alerts"] if r["fields"].get("kind") != "review_due"]
    for record in document["alerts"]:
        for name in ("kind", "assessment", "reviewed_on"):
            record["fields"].pop(name, None)


def test_a_version_1_backup_without_webhooks_or_feeds_still_imports(
    dataset, tmp_path, django_user_model
):
    document = export_to(tmp_path / "backup.json")
    for section in ("webhook_endpoints", "webhook_events", "webhook_deliveries", "calendar_feeds",
                    "occurrences", "deadline_revisions"):
        del document[section]
    # Nothing of version 1 names an occurrence: updates about one came with version 3.
    document["progress_updates"] = [
        r for r in document["progress_updates"] if r["fields"]["occurrence"] is None
    ]
    _without_review_alerts(document)
    document["version"] = 1
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    wipe(django_user_model)

    call_command("import_all", str(path), stdout=StringIO())

    assert Commitment.objects.count() == len(document["commitments"])
    assert not WebhookEndpoint.objects.exists()
    assert not CalendarFeed.objects.exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_all", str(tmp_path / "absent.json"), stdout=StringIO())


def test_revisions_and_occurrences_are_in_the_backup(dataset, tmp_path, django_user_model):
    """A restore gives back the revisions (the original and current dates with their reason
    and evidence) and the occurrences with the updates about them."""
    document = export_to(tmp_path / "backup.json")
    assert len(document["deadline_revisions"]) == 1 and len(document["occurrences"]) == 3
    wipe(django_user_model)
    call_command("import_all", str(tmp_path / "backup.json"), stdout=StringIO())

    revision = DeadlineRevision.objects.get()
    assert (revision.kind, revision.new_due_date) == ("extended", dt.date(2026, 7, 15))
    assert revision.commitment.original_due_date == dt.date(2026, 6, 15)
    assert revision.commitment.due_date == dt.date(2026, 7, 15)
    update = ProgressUpdate.objects.get(occurrence__isnull=False)
    assert update.occurrence is not None and update.occurrence.sequence == 1


def test_ratings_with_their_history_and_reports_are_in_the_backup(
    dataset, tmp_path, django_user_model
):
    """A restore gives back the co-obligors, every rating in order with its current flag and
    review dates, and the frozen reports with their rows and dated corrections."""
    document = export_to(tmp_path / "backup.json")
    ratings = [
        (r["fields"]["rating"], r["fields"]["current"], r["fields"]["review_due"])
        for r in document["assessments"]
    ]
    assert ratings == [
        ("in_the_works", False, False),
        ("compromise", True, False),
        ("not_verifiable", True, True),
    ]
    wipe(django_user_model)
    call_command("import_all", str(tmp_path / "backup.json"), stdout=StringIO())

    funding = Commitment.objects.get(title="Invest 550 billion dollars")
    assert [p.name for p in funding.obligor_list] == ["Japan", "United States"]
    history = list(
        Assessment.objects.filter(party__name="Japan").order_by("pk").values_list(
            "rating", "current", "assessed_on", "author__username"
        )
    )
    assert history == [
        ("in_the_works", False, dt.date(2026, 1, 10), "ana"),
        ("compromise", True, dt.date(2026, 3, 1), "ana"),
    ]
    us_rating = Assessment.objects.get(party__name="United States")
    assert (us_rating.reviewed_on, us_rating.review_due) == (dt.date(2025, 11, 20), True)
    correction = ReportCorrection.objects.get()
    assert correction.row is not None
    assert correction.row.justification == "Les premiers versements sont annoncés."
    assert correction.new_value == "Les premiers versements ont eu lieu."
    assert correction.report.title == "Interim 2026"
    assert correction.report.created_by is not None


def test_a_version_3_backup_imports_with_its_measured_progress(
    dataset, tmp_path, django_user_model
):
    """A document written before version 4 has no ratings, reports or co-obligors, and no
    stored measurement: the import keeps each commitment's latest one, as the migration did."""
    document = export_to(tmp_path / "backup.json")
    for section in ("assessments", "reports", "report_rows", "report_corrections"):
        del document[section]
    measured = {}
    for record in document["commitments"]:
        fields = record["fields"]
        measured[record["pk"]] = (fields["progress_measured"], fields["progress_measured_on"])
        for name in ("co_obligors", "progress_measured", "progress_measured_on",
                     "pace_ahead_until", "pace_behind_after"):
            del fields[name]
    _without_review_alerts(document)
    document["version"] = 3
    path = tmp_path / "v3.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    wipe(django_user_model)

    call_command("import_all", str(path), stdout=StringIO())

    assert not Assessment.objects.exists() and not Report.objects.exists()
    assert not Commitment.co_obligors.through.objects.exists()
    restored = {
        c.pk: (
            None if c.progress_measured is None else str(c.progress_measured),
            None if c.progress_measured_on is None else c.progress_measured_on.isoformat(),
        )
        for c in Commitment.objects.all()
    }
    assert restored == measured
    assert ("1234.5678", "2026-06-01") in restored.values()
