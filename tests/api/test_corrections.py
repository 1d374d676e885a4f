"""``POST /api/v1/{commitments|agreements}/{id}/corrections/``: a correction with its public
note through the service; 400s naming the field, nothing written; editors only."""

from __future__ import annotations

import datetime as dt

import pytest

from commitments.models import Agreement, Commitment, Correction
from commitments.services.publishing import agreement_publish_unreviewed

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(agreement: Agreement) -> Agreement:
    agreement_publish_unreviewed(agreement=agreement)
    agreement.refresh_from_db()
    return agreement


def test_a_commitment_is_corrected(editor_api, published, make_commitment):
    commitment = make_commitment(title="Hold a meting")
    response = editor_api.post(
        f"/api/v1/commitments/{commitment.pk}/corrections/",
        {"changes": {"title": "Hold a meeting", "offset_amount": 90}, "note": "A typo."},
        format="json",
    )
    assert response.status_code == 201, response.content
    by_field = {row["field"]: row for row in response.json()}
    assert by_field["title"]["old_value"] == "Hold a meting"
    assert by_field["offset_amount"]["new_value"] == "90"
    stored = Commitment.objects.get(pk=commitment.pk)
    assert (stored.title, stored.due_date) == ("Hold a meeting", dt.date(2026, 1, 26))
    assert Correction.objects.filter(commitment=commitment, note="A typo.").count() == 2


def test_an_agreement_is_corrected(editor_api, published):
    response = editor_api.post(
        f"/api/v1/agreements/{published.pk}/corrections/",
        {"changes": {"date": "2025-10-27"}, "note": "The summit ended a day earlier."},
        format="json",
    )
    assert response.status_code == 201, response.content
    [row] = response.json()
    assert (row["field"], row["old_value"], row["new_value"]) == (
        "date", "2025-10-28", "2025-10-27"
    )
    assert Agreement.objects.get(pk=published.pk).date == dt.date(2025, 10, 27)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"changes": {"title": "New"}, "note": ""}, "note"),
        ({"changes": {"title": "New"}}, "note"),
        ({"changes": {}, "note": "Why."}, "changes"),
        ({"changes": "title", "note": "Why."}, "changes"),
        ({"changes": {"offset_amount": "many"}, "note": "Why."}, "offset_amount"),
        ({"changes": {"obligor": 1}, "note": "Why."}, "obligor"),
        ({"changes": {"nonsense": 1}, "note": "Why."}, "nonsense"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(editor_api, published, make_commitment, body, field):
    commitment = make_commitment(title="Hold a meting")
    response = editor_api.post(
        f"/api/v1/commitments/{commitment.pk}/corrections/", body, format="json"
    )
    assert response.status_code == 400, response.content
    # Named where the API shows the field (a rule's fields within deadline_rule).
    detail = response.json()
    assert field in detail or field in detail.get("deadline_rule", {})
    assert not Correction.objects.exists()
    assert Commitment.objects.get(pk=commitment.pk).title == "Hold a meting"


def test_a_draft_is_refused_with_a_reason(editor_api, agreement):
    response = editor_api.post(
        f"/api/v1/agreements/{agreement.pk}/corrections/",
        {"changes": {"title": "New"}, "note": "Why."},
        format="json",
    )
    assert response.status_code == 400
    assert "not published" in " ".join(response.json()["agreement"])
    assert not Correction.objects.exists()


def test_a_viewer_may_not_correct(viewer_api, published):
    response = viewer_api.post(
        f"/api/v1/agreements/{published.pk}/corrections/",
        {"changes": {"title": "New"}, "note": "Why."},
        format="json",
    )
    assert response.status_code == 403
    assert not Correction.objects.exists()
