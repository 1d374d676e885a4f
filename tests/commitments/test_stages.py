"""Implementation stages: one rule across the dates, refused the same way everywhere."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from commitments.models import Commitment
from commitments.stages import is_retroactive, stage_errors
from tests.commitments.test_admin import change_form_data, form_errors

D = dt.date


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"announced_on": D(2025, 9, 5), "signed_on": D(2025, 9, 4)}, "signed_on"),
        ({"signed_on": D(2025, 9, 4), "in_force_on": D(2025, 9, 3)}, "in_force_on"),
        ({"announced_on": D(2025, 9, 4), "in_force_on": D(2025, 9, 3)}, "in_force_on"),
        (
            {"effective_from": D(2025, 8, 7), "ended_on": D(2025, 8, 6), "ended_reason": "expired"},
            "ended_on",
        ),
        (
            {"signed_on": D(2025, 9, 4), "ended_on": D(2025, 9, 3), "ended_reason": "withdrawn"},
            "ended_on",
        ),
        ({"ended_on": D(2026, 1, 1)}, "ended_reason"),
        ({"ended_reason": "expired"}, "ended_on"),
        ({"ended_on": D(2026, 1, 1), "ended_reason": "expired", "replaced_by": 7}, "replaced_by"),
        (
            {"ended_on": D(2026, 1, 1), "ended_reason": "replaced", "replaced_by": 7, "id": 7},
            "replaced_by",
        ),
        ({"instrument_url": "https://www.federalregister.gov/d/2025-17254"}, "instrument_title"),
    ],
)
def test_each_stage_rule_names_its_field(values, field):
    errors = stage_errors(values)
    assert list(errors) == [field]
    assert errors[field]


def test_stages_in_order_and_a_retroactive_effective_date_are_accepted():
    """The 15 % tariff: announced in July, effective 7 August, signed 4 September, in force."""
    values = {
        "announced_on": D(2025, 7, 22),
        "effective_from": D(2025, 8, 7),
        "signed_on": D(2025, 9, 4),
        "in_force_on": D(2025, 9, 16),
        "instrument_title": "Executive Order 14345",
        "ended_on": D(2026, 2, 1),
        "ended_reason": "replaced",
        "replaced_by": 8,
        "id": 7,
    }
    assert stage_errors(values) == {}
    assert is_retroactive(effective_from=D(2025, 8, 7), signed_on=D(2025, 9, 4), announced_on=None)
    assert not is_retroactive(
        effective_from=D(2025, 9, 4), signed_on=D(2025, 9, 4), announced_on=None
    )


def test_the_message_says_which_dates_in_french():
    with translation.override("fr"):
        errors = stage_errors({"announced_on": D(2025, 9, 5), "signed_on": D(2025, 9, 4)})
    assert errors["signed_on"] == (
        "La signature (4 septembre 2025) ne peut pas précéder l’annonce (5 septembre 2025)."
    )


@pytest.mark.django_db
def test_clean_refuses_stages_out_of_order_and_the_service_writes_nothing(make_commitment):
    commitment = make_commitment()
    from commitments.services import commitments as svc

    with pytest.raises(ValidationError) as refused:
        svc.commitment_update(
            commitment=commitment, signed_on=D(2025, 9, 4), in_force_on=D(2025, 9, 1)
        )
    assert list(refused.value.message_dict) == ["in_force_on"]
    stored = Commitment.objects.get(pk=commitment.pk)
    assert (stored.signed_on, stored.in_force_on) == (None, None)


@pytest.mark.django_db
def test_an_effective_month_is_stored_as_its_first_day(make_commitment):
    commitment = make_commitment(effective_from=D(2025, 8, 20), effective_from_precision="month")
    commitment.refresh_from_db()
    assert (commitment.effective_from, commitment.effective_from_precision) == (
        D(2025, 8, 1),
        "month",
    )
    quarter = make_commitment(effective_from=D(2025, 8, 20), effective_from_precision="quarter")
    quarter.refresh_from_db()
    assert quarter.effective_from == D(2025, 7, 1)


@pytest.mark.django_db
def test_the_admin_form_puts_the_stage_error_on_its_field_and_saves_nothing(
    editor_client, make_commitment
):
    commitment = make_commitment(title="Tariff")
    url = reverse("admin:commitments_commitment_change", args=[commitment.pk])
    data = change_form_data(editor_client.get(url))
    data.update({"announced_on": "2025-09-05", "signed_on": "2025-09-04"})
    response = editor_client.post(url, data)
    assert response.status_code == 200
    errors = form_errors(response)
    assert list(errors) == ["signed_on"], errors
    stored = Commitment.objects.get(pk=commitment.pk)
    assert (stored.announced_on, stored.signed_on) == (None, None)
