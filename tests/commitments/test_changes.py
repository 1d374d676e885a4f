"""The public change log (``commitments.changes.public_changes``): each kind of change with
what, from, to and why; its scopes, bounds, order and limit; its French; no draft."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone, translation

from commitments import changes
from commitments.choices import rating_label
from commitments.models import (
    Agreement,
    Assessment,
    Commitment,
    Correction,
    DeadlineRevision,
    Party,
    ProgressUpdate,
    ReportCorrection,
)
from commitments.services.assessments import assessment_record
from commitments.services.commitments import commitment_change_status
from commitments.services.publishing import agreement_publish_unreviewed
from commitments.services.reports import report_correct, report_freeze
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)


def _at(model: Any, row: Any, when: dt.datetime, field: str = "created") -> None:
    """Date ``row``'s recording at ``when`` (the services stamp the real clock)."""
    model.objects.filter(pk=row.pk).update(**{field: when})


def _day(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def published(agreement: Agreement) -> Agreement:
    agreement_publish_unreviewed(agreement=agreement)
    agreement.refresh_from_db()
    return agreement


@pytest.fixture
def fixed(published: Agreement, japan: Party, usa: Party) -> Commitment:
    """A commitment due 31 March 2026, bound on Japan, with the US as co-obligor."""
    commitment = factories.commitment_make(
        agreement=published, obligor=japan, key="meet", title="Hold a meeting",
        title_fr="Tenir une réunion", deadline_kind="fixed", offset_amount=None,
        offset_unit="", anchor_kind="", deadline_date=dt.date(2026, 3, 31),
    )
    commitment.co_obligors.set([usa])
    return commitment


def _status(commitment: Commitment, status: str, note: str, when: dt.datetime) -> ProgressUpdate:
    update = commitment_change_status(
        commitment=commitment, status=status, note=note, now=NOW,
        occurred_on=when.date(),
    )
    _at(ProgressUpdate, update, when)
    return update


def _rate(
    commitment: Commitment, party: Party, rating: str, on: dt.date, when: dt.datetime, source: Any
) -> Assessment:
    evidence = {} if rating in {"in_the_works", "stalled", "not_rated"} else {
        "evidence_source": source, "evidence_quote": "Les deux pays se sont réunis.",
    }
    row = assessment_record(
        commitment=commitment, party=party, rating=rating, justification=f"Rated {rating}.",
        assessed_on=on, now=NOW, **evidence,
    )
    _at(Assessment, row, when)
    return row


def _only(kind: str, **scope: Any) -> list[changes.Change]:
    return [c for c in changes.public_changes(language="en", **scope) if c.kind == kind]


def test_a_status_change_says_from_what_to_what_and_why(fixed):
    _status(fixed, "in_progress", "Talks have begun.", _day(3))
    [change] = _only(changes.STATUS)
    assert (change.what, change.old, change.new, change.why) == (
        "Status", "Not started", "In progress", "Talks have begun."
    )
    assert (change.agreement_key, change.commitment_key) == ("summit-2025-10-28", "meet")
    assert change.subject == "Hold a meeting"
    assert change.at == _day(3)
    assert change.uid.startswith("status-")


def test_ratings_follow_each_obligor_apart(fixed, japan, usa, source):
    _rate(fixed, japan, "kept", dt.date(2026, 3, 1), _day(2), source)
    _rate(fixed, japan, "broken", dt.date(2026, 4, 1), _day(4), source)
    _rate(fixed, usa, "in_the_works", dt.date(2026, 4, 2), _day(5), source)
    rated = [(c.what, c.old, c.new, c.why, c.party_key) for c in _only(changes.RATING)]
    assert rated == [
        ("Rating of United States", "Not yet rated", "In the works", "Rated in_the_works.",
         "united-states"),
        ("Rating of Japan", "Kept", "Broken", "Rated broken.", "japan"),
        ("Rating of Japan", "Not yet rated", "Kept", "Rated kept.", "japan"),
    ]


def test_a_deadline_extension_and_a_suspension(fixed, source):
    extension = factories.revision_make(
        commitment=fixed, kind="extended", reason="More time agreed.", source=source,
        new_due_date=dt.date(2026, 6, 30), now=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
    )
    _at(DeadlineRevision, extension, _day(2))
    suspension = factories.revision_make(
        commitment=fixed, kind="suspended", reason="Talks suspended.", source=source,
        now=dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
    )
    _at(DeadlineRevision, suspension, _day(3))
    [suspended, extended] = _only(changes.DEADLINE)
    assert (extended.what, extended.old, extended.new, extended.why) == (
        "Deadline (extended)", "March 31, 2026", "June 30, 2026", "More time agreed."
    )
    assert (suspended.old, suspended.new, suspended.why) == (
        "June 30, 2026", "suspended", "Talks suspended."
    )
    assert suspended.what.startswith("Deadline (")


def _correction(agreement: Agreement, commitment: Commitment | None, **fields: Any) -> Correction:
    data = {"field": "title", "old_value": "Old", "new_value": "New", "note": "A typo.",
            "corrected_at": _day(6), **fields}
    return Correction.objects.create(agreement=agreement, commitment=commitment, **data)


def test_corrections_of_a_commitment_and_of_an_agreement(published, fixed):
    _correction(published, fixed, corrected_at=_day(6))
    _correction(published, None, field="summary", corrected_at=_day(7), note="Wrong summit.")
    [of_agreement, of_commitment] = _only(changes.CORRECTION)
    assert (of_commitment.what, of_commitment.old, of_commitment.new, of_commitment.why) == (
        "Correction: title", "Old", "New", "A typo."
    )
    assert of_commitment.commitment_key == "meet"
    assert (of_agreement.what, of_agreement.commitment_key, of_agreement.subject) == (
        "Correction: summary", None, "Japan–US summit"
    )


def test_a_report_correction_points_at_its_report(published, fixed, japan, source, editor):
    _rate(fixed, japan, "kept", dt.date(2026, 3, 1), _day(2), source)
    report = report_freeze(
        agreement=published, title="Interim 2026", cutoff=dt.date(2026, 3, 31), user=editor,
        now=NOW,
    )
    row = report.rows.get(party=japan)
    correction = report_correct(
        report=report, row=row, field="justification", new_value="They met in May.",
        note="The date was wrong.", user=editor, now=NOW,
    )
    _at(ReportCorrection, correction, _day(8))
    [change] = _only(changes.CORRECTION)
    assert change.report_id == report.pk
    assert change.what == "Correction of the report “Interim 2026”: justification"
    assert (change.new, change.why) == ("They met in May.", "The date was wrong.")
    assert change.commitment_key == "meet"
    # A party's or a commitment's log has no report corrections; the agreement's has.
    assert _only(changes.CORRECTION, agreement=published)
    assert not _only(changes.CORRECTION, commitment=fixed)


def test_scopes(published, fixed, japan, usa, make_commitment):
    other = make_commitment(key="other", obligor=usa)
    _status(fixed, "in_progress", "Fixed begun.", _day(3))
    _status(other, "in_progress", "Other begun.", _day(4))
    elsewhere = factories.agreement_make(parties=[japan], key="elsewhere")
    agreement_publish_unreviewed(agreement=elsewhere)
    far = factories.commitment_make(agreement=elsewhere, obligor=japan, key="far")
    _status(far, "in_progress", "Far begun.", _day(5))

    def keys(**scope: Any) -> list[str | None]:
        return [c.commitment_key for c in changes.public_changes(**scope)]

    assert keys() == ["far", "other", "meet"]
    assert keys(agreement=published) == ["other", "meet"]
    assert keys(commitment=fixed) == ["meet"]
    # Japan is the obligor of meet and far; the US the obligor of other, co-obligor of meet.
    assert keys(party=japan) == ["far", "meet"]
    assert keys(party=usa) == ["other", "meet"]


def test_bounds_order_and_limit(fixed):
    for day in (1, 2, 3, 4):
        _status(fixed, "in_progress" if day % 2 else "not_started", f"Day {day}.", _day(day))
    whys = [c.why for c in changes.public_changes(since=_day(2), until=_day(4))]
    assert whys == ["Day 3.", "Day 2."]  # since is included, until is not
    assert [c.why for c in changes.public_changes(limit=2)] == ["Day 4.", "Day 3."]


def test_the_texts_are_in_the_language_asked(fixed, japan, source):
    _status(fixed, "in_progress", "Les pourparlers ont commencé.", _day(3))
    _rate(fixed, japan, "kept", dt.date(2026, 3, 1), _day(4), source)
    japan.name_fr = "Japon"
    japan.save(update_fields=["name_fr"])
    rating, status = changes.public_changes(language="fr")
    assert (status.what, status.old, status.new) == ("Statut", "Non commencé", "En cours")
    assert status.subject == "Tenir une réunion"
    assert "Japon" in rating.what
    with translation.override("fr"):
        assert (rating.old, rating.new) == (rating_label(None), rating_label("kept"))
    assert rating.old != "Not yet rated"
    # The active language is left as it was.
    assert changes.public_changes(language="en")[1].subject == "Hold a meeting"


def test_a_draft_agreements_changes_are_never_listed(agreement, japan, source):
    draft = factories.agreement_make(parties=[japan], key="draft")
    hidden = factories.commitment_make(agreement=draft, obligor=japan, key="hidden")
    _status(hidden, "in_progress", "Secret.", _day(3))
    _correction(draft, hidden)
    assert changes.public_changes() == []
    assert changes.public_changes(agreement=draft) == []


def test_the_query_count_does_not_grow_with_the_changes(
    fixed, japan, source, django_assert_max_num_queries
):
    def add(n: int) -> None:
        for i in range(n):
            _status(fixed, "in_progress" if i % 2 == 0 else "not_started", "Step.", _day(1 + i))
            _correction(fixed.agreement, fixed, corrected_at=_day(1 + i))

    add(2)
    with django_assert_max_num_queries(5) as few:
        changes.public_changes(party=japan)
    add(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(changes.public_changes(party=japan)) == 24


def test_a_correction_is_dated_in_the_sites_time_zone(published, fixed, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    _correction(published, fixed, corrected_at=dt.datetime(2026, 11, 6, 20, tzinfo=dt.UTC))
    with timezone.override("Asia/Tokyo"):
        [change] = changes.public_changes()
    assert change.on == dt.date(2026, 11, 7)
