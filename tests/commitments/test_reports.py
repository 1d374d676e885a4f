"""Compliance compared between dates, frozen reports and their corrections, through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from commitments.models import Assessment, Report, ReportCorrection, ReportFrozenError, ReportRow
from commitments.selectors import (
    ASSESSMENT_BRIEF_FIELDS,
    EVIDENCE_FIELDS,
    EVIDENCE_SOURCE_FIELDS,
    assessments_as_of,
    compliance_changes,
    compliance_table,
    report_reading,
)
from commitments.services.assessments import assessment_record
from commitments.services.reports import report_correct, report_freeze
from tests.support.assessment_history import at as _at
from tests.support.assessment_history import rating_history

NOW = _at("2026-12-06")


@pytest.fixture
def history(agreement, japan, usa, source, editor):
    return rating_history(agreement=agreement, japan=japan, usa=usa, source=source, user=editor)


def test_changes_since_a_date_list_only_the_rows_whose_rating_moved(history, agreement):
    table = compliance_table(agreement=agreement, as_of=dt.date(2026, 3, 31))
    changes = compliance_changes(table=table, since=dt.date(2026, 1, 15))
    moved = [(c.commitment.key, c.party.key, c.rating_before, c.rating_after) for c in changes]
    assert moved == [
        ("meet", "japan", "in_the_works", "kept"),
        ("invest", "japan", "not_rated", "stalled"),
    ]
    kept = next(c for c in changes if c.commitment.key == "meet")
    assert kept.after is not None and kept.after.evidence is not None
    assert kept.after.justification == "They met in Tokyo."
    assert kept.after.evidence.quote == "Les deux pays se sont réunis."
    assert kept.after.assessed_on == dt.date(2026, 3, 1)
    # Nothing moved between two days after the last rating.
    later = compliance_table(agreement=agreement, as_of=dt.date(2026, 5, 1))
    assert compliance_changes(table=later, since=dt.date(2026, 4, 1)) == []


@pytest.mark.parametrize("as_of", [None, dt.date(2025, 12, 1), dt.date(2026, 3, 31)])
def test_the_rating_briefs_hold_what_the_ratings_hold(history, agreement, as_of):
    """Each brief the tables read holds its rating's fields, and its evidence's and source's,
    as the model instances hold them; the ratings are the ones that stood at the end of the
    date (the current ones without a date)."""
    Assessment.objects.filter(justification="They met in Tokyo.").update(
        justification_fr="Ils se sont réunis à Tokyo.",
        machine_translations={"fr": {"justification": "Traduit"}},
    )
    briefs = assessments_as_of(commitments=agreement.commitments.all(), as_of=as_of)
    instances = {
        a.pk: a
        for a in Assessment.objects.select_related("evidence__source").filter(
            pk__in=[b.pk for b in briefs]
        )
    }
    stood = {
        None: {("meet", "kept"), ("invest", "stalled")},
        dt.date(2025, 12, 1): {("meet", "in_the_works")},
        dt.date(2026, 3, 31): {("meet", "kept"), ("invest", "stalled")},
    }[as_of]
    assert {(instances[b.pk].commitment.key, b.rating) for b in briefs} == stood
    for brief in briefs:
        assessment = instances[brief.pk]
        for name in (*ASSESSMENT_BRIEF_FIELDS, "machine_translations"):
            assert getattr(brief, name) == getattr(assessment, name), name
        assert (brief.evidence is None) == (assessment.evidence is None)
        if brief.evidence is not None and assessment.evidence is not None:
            for name in EVIDENCE_FIELDS:
                assert getattr(brief.evidence, name) == getattr(assessment.evidence, name)
            for name in EVIDENCE_SOURCE_FIELDS:
                assert getattr(brief.evidence.source, name) == getattr(
                    assessment.evidence.source, name
                ), name
    assert any(b.evidence is not None for b in briefs) == (as_of != dt.date(2025, 12, 1))
    without = assessments_as_of(
        commitments=agreement.commitments.all(), as_of=as_of, with_evidence=False
    )
    assert sorted(b.pk for b in without) == sorted(b.pk for b in briefs)
    assert all(b.evidence is None for b in without)


def test_a_rating_changed_after_the_cutoff_does_not_change_the_report(
    history, agreement, japan, source, editor
):
    report = report_freeze(
        agreement=agreement, title="Interim 2026", cutoff=dt.date(2026, 3, 31), user=editor,
        now=NOW,
    )
    frozen = [(r.commitment_key, r.party_name, r.rating, r.score) for r in report.rows.all()]
    assert sorted(frozen) == sorted([
        ("meet", "Japan", "kept", 1),
        ("meet", "United States", "", None),
        ("invest", "Japan", "stalled", -1),
    ])
    # After the cut-off: a new rating, a renamed commitment, a retitled source.
    assessment_record(
        commitment=history["invest"], party=japan, rating="broken",
        justification="The deadline passed.", assessed_on=dt.date(2026, 6, 1), user=editor,
        now=_at("2026-06-02"), evidence_source=source, evidence_quote="Rien n'a été investi.",
    )
    history["meeting"].title = "Renamed"
    history["meeting"].save(update_fields=["title"])
    source.title = "Retitled"
    source.save(update_fields=["title"])
    again = [(r.commitment_key, r.party_name, r.rating, r.score)
             for r in Report.objects.get(pk=report.pk).rows.all()]
    assert again == frozen
    kept = report.rows.get(commitment_key="meet", party_name="Japan")
    assert kept.commitment_title == "Meet within 180 days"
    assert kept.justification == "They met in Tokyo."
    assert kept.evidence_quote == "Les deux pays se sont réunis."
    assert kept.evidence_locator == "§2"
    assert kept.source_title != "Retitled"
    assert kept.assessed_on == dt.date(2026, 3, 1)
    assert (report.method[0]["rating"], report.method[0]["score"]) == ("kept", 1)
    reading = report_reading(report=report)
    japan_part = next(p for p in reading.parties if p.party_name == "Japan")
    assert japan_part.tally.average == 0  # (+1 - 1) / 2
    assert reading.tally.unscored == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"cutoff": dt.date(2026, 12, 7)}, "cutoff"),
        ({"cutoff": dt.date(2025, 10, 27)}, "cutoff"),
    ],
)
def test_a_bad_report_names_its_field_and_writes_nothing(agreement, editor, data, field):
    args = {"title": "Interim 2026", "cutoff": dt.date(2026, 3, 31), **data}
    with pytest.raises(ValidationError) as caught:
        report_freeze(agreement=agreement, user=editor, now=NOW, **args)
    assert field in caught.value.message_dict
    assert not Report.objects.exists()
    assert not ReportRow.objects.exists()


def test_a_title_is_used_once_per_agreement(history, agreement, editor):
    report_freeze(agreement=agreement, title="Final 2026", cutoff=dt.date(2026, 3, 31),
                  user=editor, now=NOW)
    with pytest.raises(ValidationError) as caught:
        report_freeze(agreement=agreement, title="Final 2026", cutoff=dt.date(2026, 4, 30),
                      user=editor, now=NOW)
    assert "title" in caught.value.message_dict
    assert Report.objects.count() == 1


def test_the_cutoff_is_today_in_the_agreements_time_zone(agreement, editor):
    # 6 Dec 20:00 UTC is already 7 Dec in Tokyo: a cut-off of 7 Dec is not in the future there.
    report = report_freeze(agreement=agreement, title="Tokyo day", cutoff=dt.date(2026, 12, 7),
                           user=editor, now=_at("2026-12-06").replace(hour=20))
    assert report.cutoff == dt.date(2026, 12, 7)


def test_a_report_and_its_rows_never_change(history, agreement, editor):
    report = report_freeze(agreement=agreement, title="Interim 2026",
                           cutoff=dt.date(2026, 3, 31), user=editor, now=NOW)
    report.title = "Changed"
    with pytest.raises(ReportFrozenError):
        report.save()
    row = report.rows.get(commitment_key="invest")
    row.rating = "broken"
    with pytest.raises(ReportFrozenError):
        row.save()
    with pytest.raises(ReportFrozenError):
        row.delete()
    with pytest.raises(ReportFrozenError):
        report.delete()
    with pytest.raises(ReportFrozenError):
        ReportRow.objects.filter(report=report).update(rating="broken")
    with pytest.raises(ReportFrozenError):
        Report.objects.all().delete()
    assert Report.objects.get(pk=report.pk).title == "Interim 2026"
    assert set(ReportRow.objects.values_list("rating", flat=True)) == {"kept", "", "stalled"}


def test_corrections_keep_the_old_text_and_chain(history, agreement, editor):
    report = report_freeze(agreement=agreement, title="Interim 2026",
                           cutoff=dt.date(2026, 3, 31), user=editor, now=NOW)
    row = report.rows.get(commitment_key="invest")
    first = report_correct(
        report=report, row=row, field="rating", new_value="compromise",
        note="A first project was named on 20 March.", corrected_on=dt.date(2026, 4, 10),
        user=editor, now=NOW,
    )
    second = report_correct(
        report=report, row=row, field="rating", new_value="in_the_works",
        note="The project is planned, not begun.", corrected_on=dt.date(2026, 4, 20),
        user=editor, now=NOW,
    )
    assert (first.old_value, first.new_value) == ("stalled", "compromise")
    assert (second.old_value, second.new_value) == ("compromise", "in_the_works")
    assert ReportRow.objects.get(pk=row.pk).rating == "stalled"  # the frozen text stays
    reading = report_reading(report=report)
    line = next(line for line in reading.lines if line.row.pk == row.pk)
    assert line.rating == "in_the_works"
    assert line.score == 0
    assert line.corrected
    assert [c.note for c in reading.corrections] == [first.note, second.note]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"note": " "}, "note"),
        ({"new_value": "excellent"}, "new_value"),
        ({"new_value": "stalled"}, "new_value"),
        ({"field": "title"}, "field"),
        ({"corrected_on": dt.date(2026, 3, 1)}, "corrected_on"),
        ({"corrected_on": dt.date(2027, 1, 1)}, "corrected_on"),
        ({"row": None}, "row"),
    ],
)
def test_a_bad_correction_names_its_field_and_writes_nothing(history, agreement, editor, data,
                                                             field):
    report = report_freeze(agreement=agreement, title="Interim 2026",
                           cutoff=dt.date(2026, 3, 31), user=editor, now=NOW)
    args = {"row": report.rows.get(commitment_key="invest"), "field": "rating",
            "new_value": "compromise", "note": "Found later.", **data}
    with pytest.raises(ValidationError) as caught:
        report_correct(report=report, user=editor, now=NOW, **args)
    assert field in caught.value.message_dict
    assert not ReportCorrection.objects.exists()


def test_a_row_of_another_report_is_refused(history, agreement, editor):
    one = report_freeze(agreement=agreement, title="One", cutoff=dt.date(2026, 3, 31),
                        user=editor, now=NOW)
    two = report_freeze(agreement=agreement, title="Two", cutoff=dt.date(2026, 3, 31),
                        user=editor, now=NOW)
    with pytest.raises(ValidationError) as caught:
        report_correct(report=two, row=one.rows.first(), field="justification",
                       new_value="Other.", note="Wrong.", user=editor, now=NOW)
    assert "row" in caught.value.message_dict
    assert not ReportCorrection.objects.exists()


def test_the_admin_shows_a_report_and_changes_nothing(admin_client, history, agreement, editor):
    from django.urls import reverse

    report = report_freeze(agreement=agreement, title="Interim 2026",
                           cutoff=dt.date(2026, 3, 31), user=editor, now=NOW)
    change = reverse("admin:commitments_report_change", args=[report.pk])
    page = admin_client.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(change, {"title": "Changed"}).status_code == 403
    delete = reverse("admin:commitments_report_delete", args=[report.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:commitments_report_add")).status_code == 403
    assert Report.objects.get(pk=report.pk).title == "Interim 2026"


def test_a_deleted_commitment_leaves_its_frozen_rows_readable(history, agreement, editor):
    report = report_freeze(agreement=agreement, title="Interim 2026",
                           cutoff=dt.date(2026, 3, 31), user=editor, now=NOW)
    history["invest"].delete()
    row = ReportRow.objects.get(report=report, commitment_key="invest")
    assert row.commitment_id is None
    assert (row.commitment_title, row.rating, row.justification) == (
        "Invest $550 bn", "stalled", "No project named.")


def test_a_correction_dated_before_the_previous_one_is_refused(history, agreement, editor):
    """Corrections of one value read in date order: a backdated one would be hidden behind
    the later one and change nothing the reader sees."""
    report = report_freeze(agreement=agreement, title="Interim 2026",
                           cutoff=dt.date(2026, 3, 31), user=editor, now=NOW)
    row = report.rows.get(commitment_key="invest")
    report_correct(report=report, row=row, field="rating", new_value="broken",
                   note="No project.", corrected_on=dt.date(2026, 5, 10), user=editor, now=NOW)
    with pytest.raises(ValidationError) as caught:
        report_correct(report=report, row=row, field="rating", new_value="compromise",
                       note="One project.", corrected_on=dt.date(2026, 5, 1), user=editor,
                       now=NOW)
    assert "corrected_on" in caught.value.message_dict
    assert list(ReportCorrection.objects.values_list("new_value", flat=True)) == ["broken"]
    line = next(line for line in report_reading(report=report).lines if line.row.pk == row.pk)
    assert line.rating == "broken"
