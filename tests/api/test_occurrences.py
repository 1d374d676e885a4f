"""Recurrence in the API: the recurrence object, the occurrences, their status action."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers as drf
from rest_framework.test import APIRequestFactory

from commitments.api import readers, serializers
from commitments.models import Commitment, Occurrence, ProgressUpdate
from commitments.selectors import commitment_list
from commitments.services import commitments as svc
from tests import factories
from tests.support.api_support import results

pytestmark = pytest.mark.django_db

LIST = "/api/v1/commitments/"
YEARLY = {"kind": "every", "interval": 1, "unit": "years", "count": 3}


def _payload(agreement, japan, **overrides):
    data = {
        "key": "farm-purchases",
        "agreement": agreement.pk,
        "title": "Farm purchases, 8 billion USD a year",
        "category": "purchase",
        "obligor": japan.pk,
        "target_amount": "8000000000",
        "target_unit": "USD",
        "deadline_rule": {
            "kind": "relative",
            "offset_amount": 1,
            "offset_unit": "years",
            "anchor_kind": "agreement",
        },
        "recurrence": YEARLY,
    }
    data.update(overrides)
    return data


def test_create_a_recurring_commitment_and_read_its_occurrences(editor_api, agreement, japan):
    response = editor_api.post(LIST, _payload(agreement, japan), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["recurrence"] == {**YEARLY, "until": None}
    assert [(o["sequence"], o["due_date"], o["target_amount"]) for o in body["occurrences"]] == [
        (1, "2026-10-28", "8000000000.0000"),
        (2, "2027-10-28", "8000000000.0000"),
        (3, "2028-10-28", "8000000000.0000"),
    ]
    assert body["due_date"] == "2026-10-28"
    assert Occurrence.objects.filter(commitment_id=body["id"]).count() == 3
    page = editor_api.get(f"{LIST}{body['id']}/occurrences/", {"page_size": 2}).json()
    assert page["count"] == 3
    assert [o["sequence"] for o in page["results"]] == [1, 2]


def test_null_stops_the_recurrence(editor_api, agreement, japan):
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    response = editor_api.patch(f"{LIST}{commitment.pk}/", {"recurrence": None}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["recurrence"] is None
    assert response.json()["occurrences"] == []
    assert not commitment.occurrences.exists()


@pytest.mark.parametrize(
    ("recurrence", "rule", "errors"),
    [
        ({**YEARLY, "interval": 0}, None, {"interval"}),
        ({**YEARLY, "interval": -2}, None, {"interval"}),
        ({**YEARLY, "count": None, "until": "2026-01-01"}, None, {"until"}),
        ({**YEARLY, "count": 501}, None, {"count"}),
        ({"kind": "every", "interval": 1, "unit": "days", "until": "2199-12-31"}, None, {"until"}),
        ({"kind": "every", "interval": 1}, None, {"unit"}),
        (YEARLY, {"kind": "none"}, {"kind"}),
        ({"kind": "weekly"}, None, {"kind"}),
    ],
)
def test_bad_recurrences_are_400_on_the_nested_field_and_nothing_is_written(
    editor_api, agreement, japan, recurrence, rule, errors
):
    payload = _payload(agreement, japan, recurrence=recurrence)
    if rule is not None:
        payload["deadline_rule"] = rule
    response = editor_api.post(LIST, payload, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()["recurrence"]) == errors, response.json()
    assert not Commitment.objects.exists()
    assert not Occurrence.objects.exists()


def test_an_editor_records_an_occurrences_status(editor_api, agreement, japan, source):
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    url = f"{LIST}{commitment.pk}/occurrences/1/status/"
    refused = editor_api.post(url, {"status": "fulfilled"}, format="json")
    assert refused.status_code == 400
    assert "evidence" in refused.json()
    assert not ProgressUpdate.objects.exists()
    evidence = {"source": source.pk, "quote": "Achats de la première année réalisés."}
    response = editor_api.post(
        url,
        {"status": "fulfilled", "occurred_on": "2026-10-01", "evidence": evidence},
        format="json",
    )
    assert response.status_code == 201, response.content
    first = commitment.occurrences.get(sequence=1)
    assert (first.status, first.fulfilled_on) == ("fulfilled", dt.date(2026, 10, 1))
    assert ProgressUpdate.objects.get().occurrence == first
    assert response.json()["occurrence"] == 1
    detail = editor_api.get(f"{LIST}{commitment.pk}/").json()
    assert detail["progress_updates"][0]["occurrence"] == 1
    assert detail["due_date"] == "2027-10-28"
    assert detail["status"] == "not_started"
    assert detail["occurrences"][0]["status"] == "fulfilled"


def test_an_unknown_occurrence_is_404_and_viewers_may_not_write(
    editor_api, viewer_api, agreement, japan
):
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    body = {"status": "in_progress"}
    url = f"{LIST}{commitment.pk}/occurrences/"
    assert editor_api.post(f"{url}4/status/", body, format="json").status_code == 404
    assert viewer_api.post(f"{url}1/status/", body, format="json").status_code == 403
    assert not ProgressUpdate.objects.exists()


def test_the_list_reader_equals_the_serializer_for_recurring_rows(agreement, japan, source):
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    svc.commitment_change_status(
        commitment=commitment,
        occurrence=commitment.occurrences.get(sequence=2),
        status="in_progress",
        note="Begun",
    )
    factories.recurring_commitment_make(
        agreement=agreement,
        obligor=japan,
        recurrence="quarter_end",
        recurrence_unit="",
        recurrence_count=None,
        recurrence_until=dt.date(2036, 12, 31),
    )
    factories.commitment_make(agreement=agreement, obligor=japan)
    request = APIRequestFactory().get(LIST, HTTP_HOST="testserver")
    context = {"request": request}
    rows = commitment_list()
    listed = readers.commitment_representations(rows, request=request)
    for instance, row in zip(rows, listed, strict=True):
        expected = drf.Serializer.to_representation(
            serializers.CommitmentSerializer(context=context), instance
        )
        assert row == dict(expected)
    assert {len(row["occurrences"]) for row in listed} == {0, 3, serializers.OCCURRENCES_SHOWN}


def test_the_list_costs_the_same_queries_for_3_or_30_recurring_rows(viewer_api, agreement, japan):
    for _ in range(30):
        factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    viewer_api.get(LIST)
    counts = []
    for size in (3, 30):
        with CaptureQueriesContext(connection) as captured:
            rows = results(viewer_api.get(LIST, {"page_size": size}))
        assert all(len(row["occurrences"]) == 3 for row in rows)
        counts.append(len(captured))
    assert counts[0] == counts[1]
