"""The commitment admin's recurrence fieldset and read-only occurrences."""

from __future__ import annotations

import pytest
from django.urls import reverse

from commitments.models import Commitment, Occurrence
from tests import factories
from tests.commitments.test_admin import _add_commitment_data, form_errors

pytestmark = pytest.mark.django_db


def test_add_a_recurring_commitment_writes_its_occurrences(editor_client, agreement, japan):
    data = _add_commitment_data(
        editor_client,
        agreement,
        japan,
        recurrence="every",
        recurrence_interval="6",
        recurrence_unit="months",
        recurrence_count="4",
    )
    response = editor_client.post(reverse("admin:commitments_commitment_add"), data)
    assert response.status_code == 302, form_errors(response)
    commitment = Commitment.objects.get(key="minerals-ministerial")
    assert [o.isoformat() for o in commitment.occurrences.values_list("due_date", flat=True)] == [
        "2026-04-26",
        "2026-10-26",
        "2027-04-26",
        "2027-10-26",
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {"recurrence": "every", "recurrence_interval": "0", "recurrence_unit": "days"},
            "recurrence_interval",
        ),
        ({"recurrence": "month_end", "recurrence_until": "2026-01-01"}, "recurrence_until"),
        ({"recurrence": "month_end", "recurrence_count": "501"}, "recurrence_count"),
    ],
)
def test_a_bad_recurrence_is_an_error_on_its_field(
    editor_client, agreement, japan, overrides, field
):
    data = _add_commitment_data(editor_client, agreement, japan, **overrides)
    response = editor_client.post(reverse("admin:commitments_commitment_add"), data)
    assert response.status_code == 200
    assert field in form_errors(response)
    assert not Commitment.objects.exists()
    assert not Occurrence.objects.exists()


def test_the_change_page_lists_the_occurrences_read_only(editor_client, agreement, japan):
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    page = editor_client.get(reverse("admin:commitments_commitment_change", args=[commitment.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Oct. 28, 2027" in text
    assert 'name="occurrences-0-status"' not in text
    assert 'name="recurrence_count"' in text
