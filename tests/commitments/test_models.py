"""One-row rules: each model's clean() names the field at fault, and the database backs it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from commitments.choices import Category, Status
from commitments.models import Agreement, Citation, Commitment, ProgressUpdate
from commitments.services import commitments as svc

pytestmark = pytest.mark.django_db


@pytest.fixture
def unsaved(agreement, japan):
    """Build an unsaved commitment with no deadline, overriding any field."""

    def build(**overrides) -> Commitment:
        fields = {
            "agreement": agreement,
            "key": "unsaved",
            "title": "An unsaved commitment",
            "obligor": japan,
            "category": Category.INVESTMENT,
            "deadline_kind": "none",
        }
        fields.update(overrides)
        return Commitment(**fields)

    return build


def field_errors(instance) -> dict[str, list[str]]:
    """Return ``full_clean()``'s errors by field; fail if it raises none."""
    with pytest.raises(ValidationError) as exc:
        instance.full_clean()
    return exc.value.message_dict


def rejected_by_database(update) -> None:
    """Assert that ``update()`` breaks a constraint, keeping the test's transaction usable."""
    with pytest.raises(IntegrityError), transaction.atomic():
        update()


# Targets.


def test_negative_amount_is_rejected_by_full_clean(unsaved):
    errors = field_errors(unsaved(target_amount=Decimal("-1"), target_unit="USD"))
    assert list(errors) == ["target_amount"]


def test_negative_amount_is_rejected_by_the_database(make_commitment):
    commitment = make_commitment(target_amount=Decimal(15), target_unit="percent")
    rows = Commitment.objects.filter(pk=commitment.pk)
    rejected_by_database(lambda: rows.update(target_amount=Decimal("-0.5")))
    commitment.target_amount = Decimal(-1)
    rejected_by_database(lambda: commitment.save(update_fields=["target_amount"]))
    assert rows.get().target_amount == Decimal(15)


def test_non_numeric_amount_is_an_error_on_the_amount(unsaved):
    assert "target_amount" in field_errors(unsaved(target_amount="lots", target_unit="USD"))


def test_amount_without_unit_is_an_error_on_the_unit(unsaved):
    errors = field_errors(unsaved(target_amount=Decimal(550_000_000_000)))
    assert list(errors) == ["target_unit"]


def test_amount_without_unit_is_rejected_by_the_database(make_commitment):
    commitment = make_commitment(target_amount=Decimal(2), target_unit="percent_gdp")
    rows = Commitment.objects.filter(pk=commitment.pk)
    rejected_by_database(lambda: rows.update(target_unit=""))


def test_unit_without_amount_is_an_error_on_the_amount(unsaved):
    assert list(field_errors(unsaved(target_unit="USD"))) == ["target_amount"]


def test_unknown_unit_is_an_error_on_the_unit(unsaved):
    errors = field_errors(unsaved(target_amount=Decimal(1), target_unit="bushels"))
    assert list(errors) == ["target_unit"]


def test_unknown_category_is_an_error_on_the_category(unsaved):
    assert list(field_errors(unsaved(category="espionage"))) == ["category"]


def test_unknown_unit_and_category_are_rejected_by_the_database(make_commitment):
    rows = Commitment.objects.filter(pk=make_commitment().pk)
    rejected_by_database(lambda: rows.update(category="espionage"))
    rejected_by_database(lambda: rows.update(target_amount=Decimal(1), target_unit="bushels"))


def test_a_complete_commitment_passes(unsaved):
    unsaved(target_amount=Decimal(550_000_000_000), target_unit="USD").full_clean()


# Deadline rules.


def test_relative_rule_without_anchor_is_an_error_on_the_anchor(unsaved):
    commitment = unsaved(deadline_kind="relative", offset_amount=180, offset_unit="days")
    assert "anchor_kind" in field_errors(commitment)


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"deadline_kind": "fixed"}, "deadline_date"),
        (
            {"deadline_kind": "relative", "offset_unit": "days", "anchor_kind": "agreement"},
            "offset_amount",
        ),
        (
            {"deadline_kind": "relative", "offset_amount": 6, "anchor_kind": "agreement"},
            "offset_unit",
        ),
        ({"deadline_kind": "period_end"}, "period_unit"),
        ({"deadline_kind": "period_end", "period_unit": "month"}, "period_number"),
        (
            {"deadline_kind": "period_end", "period_unit": "quarter", "period_number": 5},
            "period_number",
        ),
        ({"deadline_kind": "sometime"}, "deadline_kind"),
    ],
)
def test_incomplete_rule_is_an_error_on_the_missing_part(unsaved, rule, field):
    assert field in field_errors(unsaved(**rule))


def test_commitment_anchor_without_its_commitment_is_an_error_on_the_anchor_commitment(unsaved):
    commitment = unsaved(
        deadline_kind="relative", offset_amount=30, offset_unit="days", anchor_kind="commitment"
    )
    assert list(field_errors(commitment)) == ["anchor_commitment"]


def test_commitment_anchor_without_its_commitment_is_an_error_whatever_the_rule(unsaved):
    commitment = unsaved(
        deadline_kind="fixed", deadline_date=dt.date(2026, 3, 31), anchor_kind="commitment"
    )
    assert list(field_errors(commitment)) == ["anchor_commitment"]


def test_offset_past_the_year_9999_is_an_error_on_the_offset(unsaved):
    commitment = unsaved(
        deadline_kind="relative",
        offset_amount=8000,
        offset_unit="years",
        anchor_kind="agreement",
    )
    assert list(field_errors(commitment)) == ["offset_amount"]


@pytest.mark.parametrize("year", [99999, 20288, 10000, 2200, 1899])
def test_period_year_out_of_range_is_an_error_on_the_year(unsaved, year):
    """An impossible year is a field error, not a crash in the period arithmetic."""
    commitment = unsaved(deadline_kind="period_end", period_unit="year", period_year=year)
    errors = field_errors(commitment)
    assert "The year must be between 1900 and 2199." in errors["period_year"]


def test_commitment_anchor_without_its_commitment_is_rejected_by_the_database(make_commitment):
    rows = Commitment.objects.filter(pk=make_commitment().pk)
    rejected_by_database(lambda: rows.update(anchor_kind="commitment"))


def test_relative_rule_with_zero_offset_is_rejected_by_the_database(make_commitment):
    rows = Commitment.objects.filter(pk=make_commitment().pk)
    rejected_by_database(lambda: rows.update(offset_amount=0))


def test_commitment_anchored_on_itself_is_rejected_by_the_database(make_commitment):
    commitment = make_commitment()
    rows = Commitment.objects.filter(pk=commitment.pk)
    rejected_by_database(
        lambda: rows.update(anchor_kind="commitment", anchor_commitment=commitment)
    )


def test_commitment_anchored_on_itself_is_an_error_on_the_anchor_commitment(make_commitment):
    commitment = make_commitment()
    commitment.anchor_kind = "commitment"
    commitment.anchor_commitment = commitment
    assert list(field_errors(commitment)) == ["anchor_commitment"]


def _anchor_on(commitment: Commitment, anchor: Commitment) -> Commitment:
    return svc.commitment_update(
        commitment=commitment, anchor_kind="commitment", anchor_commitment=anchor
    )


def test_anchor_cycle_of_two_is_an_error_on_the_anchor_commitment(make_commitment):
    first = make_commitment()
    second = make_commitment(anchor_kind="commitment", anchor_commitment=first)
    with pytest.raises(ValidationError) as exc:
        _anchor_on(first, second)
    assert list(exc.value.message_dict) == ["anchor_commitment"]
    first.refresh_from_db()
    assert first.anchor_commitment is None


def test_anchor_cycle_of_three_is_an_error_on_the_anchor_commitment(make_commitment):
    first = make_commitment()
    second = make_commitment(anchor_kind="commitment", anchor_commitment=first)
    third = make_commitment(anchor_kind="commitment", anchor_commitment=second)
    with pytest.raises(ValidationError) as exc:
        _anchor_on(first, third)
    assert list(exc.value.message_dict) == ["anchor_commitment"]


def test_anchor_chain_without_cycle_is_accepted(make_commitment):
    first = make_commitment()
    second = make_commitment(anchor_kind="commitment", anchor_commitment=first)
    third = make_commitment()
    assert _anchor_on(third, second).anchor_commitment == second


def test_fixed_date_before_the_agreement_is_an_error_on_the_date(unsaved):
    commitment = unsaved(deadline_kind="fixed", deadline_date=dt.date(2025, 10, 27))
    errors = field_errors(commitment)
    assert list(errors) == ["deadline_date"]
    assert "2025-10-28" in errors["deadline_date"][0]


def test_fixed_date_on_the_agreement_date_is_accepted(unsaved):
    unsaved(deadline_kind="fixed", deadline_date=dt.date(2025, 10, 28)).full_clean()


def test_period_year_that_ends_before_the_agreement_is_an_error_on_the_year(unsaved):
    commitment = unsaved(
        deadline_kind="period_end", period_unit="month", period_number=3, period_year=2025
    )
    assert list(field_errors(commitment)) == ["period_year"]


def test_period_year_that_ends_after_the_agreement_is_accepted(unsaved):
    unsaved(
        deadline_kind="period_end", period_unit="month", period_number=3, period_year=2026
    ).full_clean()


# Agreements, citations and progress.


def test_agreement_with_an_invalid_time_zone_is_an_error_on_the_zone(agreement):
    agreement.time_zone = "Asia/Atlantis"
    assert list(field_errors(agreement)) == ["time_zone"]


def test_agreement_time_zone_is_an_iana_name(agreement):
    agreement.time_zone = "Europe/Paris"
    agreement.full_clean()
    assert Agreement.objects.get(pk=agreement.pk).time_zone == "Asia/Tokyo"


def test_citation_of_nothing_or_of_two_things_is_invalid(agreement, make_commitment, source):
    commitment = make_commitment()
    for target in ({}, {"agreement": agreement, "commitment": commitment}):
        citation = Citation(source=source, quote="«Le Japon investira»", **target)
        assert "__all__" in field_errors(citation)


def test_citation_of_nothing_or_of_two_things_is_rejected_by_the_database(
    agreement, make_commitment, source
):
    commitment = make_commitment()
    citation = Citation.objects.create(source=source, quote="«investira»", commitment=commitment)
    rows = Citation.objects.filter(pk=citation.pk)
    rejected_by_database(lambda: rows.update(commitment=None))
    rejected_by_database(lambda: rows.update(agreement=agreement))


def test_citation_of_one_thing_is_valid(agreement, source):
    Citation(source=source, quote="«Le sommet»", agreement=agreement).full_clean()


def test_citation_needs_a_quote(agreement, source):
    assert "quote" in field_errors(Citation(source=source, quote="", agreement=agreement))


@pytest.mark.parametrize("status", [Status.FULFILLED, Status.PARTIALLY_FULFILLED, Status.MISSED])
def test_progress_to_a_judged_status_without_evidence_is_rejected_by_the_database(
    make_commitment, status
):
    commitment = make_commitment()
    rejected_by_database(
        lambda: ProgressUpdate.objects.create(
            commitment=commitment, occurred_on=dt.date(2026, 1, 5), status_to=status
        )
    )
    assert not ProgressUpdate.objects.exists()


def test_progress_to_in_progress_needs_no_evidence(make_commitment):
    commitment = make_commitment()
    update = ProgressUpdate(
        commitment=commitment, occurred_on=dt.date(2026, 1, 5), status_to=Status.IN_PROGRESS
    )
    update.full_clean()
    update.save()
    assert update.pk is not None
