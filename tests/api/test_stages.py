"""The API's ``stages`` object: written with the commitment, errors nested where it shows them."""

from __future__ import annotations

import datetime as dt

import pytest

from commitments.models import Commitment

pytestmark = pytest.mark.django_db

URL = "/api/v1/commitments/"


def _body(agreement, party, **overrides):
    return {
        "key": "tariff-15",
        "agreement": agreement.pk,
        "title": "Tariffs cut to 15 %",
        "category": "tariff",
        "obligor": party.pk,
        "deadline_rule": {"kind": "none"},
        "effective_from": "2025-08-07",
        **overrides,
    }


STAGES = {
    "announced_on": "2025-07-22",
    "signed_on": "2025-09-04",
    "instrument": {
        "title": "Executive Order 14345",
        "url": "https://www.federalregister.gov/d/2025-17254",
    },
    "effective_from_precision": "month",
    "in_force_on": "2025-09-16",
}


def test_stages_are_written_and_shown_with_a_retroactive_month(editor_api, agreement, usa):
    response = editor_api.post(URL, _body(agreement, usa, stages=STAGES), format="json")
    assert response.status_code == 201, response.json()
    stages = response.json()["stages"]
    assert stages == {
        "announced_on": "2025-07-22",
        "signed_on": "2025-09-04",
        "instrument": STAGES["instrument"],
        "effective_from": "2025-08-01",
        "effective_from_precision": "month",
        "retroactive": True,
        "in_force_on": "2025-09-16",
        "ended_on": None,
        "ended_reason": "",
        "replaced_by": None,
    }
    stored = Commitment.objects.get(key="tariff-15")
    assert (stored.effective_from, stored.instrument_title) == (
        dt.date(2025, 8, 1),
        "Executive Order 14345",
    )
    assert stored.history.count() == 1
    [row] = editor_api.get(URL).json()["results"]
    assert row["stages"] == stages


@pytest.mark.parametrize(
    ("stages", "errors"),
    [
        (
            {"announced_on": "2025-09-05", "signed_on": "2025-09-04"},
            {"stages": {"signed_on": [...]}},
        ),
        ({"ended_on": "2026-01-01"}, {"stages": {"ended_reason": [...]}}),
        (
            {"instrument": {"url": "https://example.org/eo"}},
            {"stages": {"instrument": {"title": [...]}}},
        ),
        ({"effective_from_precision": "week"}, {"stages": {"effective_from_precision": None}}),
        ({"instrument": {"pages": 3}}, {"stages": {"instrument": {"pages": None}}}),
    ],
)
def test_stages_out_of_order_are_a_400_nested_under_stages_and_nothing_is_written(
    editor_api, agreement, usa, stages, errors
):
    response = editor_api.post(URL, _body(agreement, usa, stages=stages), format="json")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == list(errors)

    def same_shape(got, want):
        assert isinstance(got, (dict, list))
        if isinstance(want, dict):
            assert list(got) == list(want)
            for key in want:
                same_shape(got[key], want[key])
        else:
            assert got and all(isinstance(message, str) and message for message in got)

    same_shape(body, errors)
    assert not Commitment.objects.filter(key="tariff-15").exists()


def test_a_patch_ends_a_commitment_replaced_by_another(editor_api, make_commitment):
    old, new = make_commitment(title="Old tariff"), make_commitment(title="New tariff")
    stages = {"ended_on": "2026-02-01", "ended_reason": "replaced", "replaced_by": new.pk}
    response = editor_api.patch(f"{URL}{old.pk}/", {"stages": stages}, format="json")
    assert response.status_code == 200, response.json()
    old.refresh_from_db()
    assert (old.ended_reason, old.replaced_by_id) == ("replaced", new.pk)
    itself = {"replaced_by": old.pk}
    response = editor_api.patch(f"{URL}{old.pk}/", {"stages": itself}, format="json")
    assert response.status_code == 400
    assert list(response.json()["stages"]) == ["replaced_by"]
    old.refresh_from_db()
    assert old.replaced_by_id == new.pk


def test_readers_cannot_write_stages(viewer_api, make_commitment):
    commitment = make_commitment()
    response = viewer_api.patch(
        f"{URL}{commitment.pk}/", {"stages": {"signed_on": "2025-10-28"}}, format="json"
    )
    assert response.status_code == 403
    commitment.refresh_from_db()
    assert commitment.signed_on is None


def test_a_patch_of_the_precision_alone_stores_the_date_it_shows(editor_api, make_commitment):
    """Effective 7 August, then "August" (month): stored as 1 August, as the answer says."""
    commitment = make_commitment(effective_from=dt.date(2025, 8, 7))
    response = editor_api.patch(
        f"/api/v1/commitments/{commitment.pk}/",
        {"stages": {"effective_from_precision": "month"}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["effective_from"] == "2025-08-01"
    commitment.refresh_from_db()
    assert (commitment.effective_from, commitment.effective_from_precision) == (
        dt.date(2025, 8, 1),
        "month",
    )
