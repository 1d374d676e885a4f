"""``POST /api/v1/commitments/{id}/revisions/``, the revisions in the representation, and the
timeliness filter.

The default commitment (agreement 2025-10-28 in Asia/Tokyo, +180 days) is due 2026-04-26.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commitments.choices import Status
from commitments.models import Citation, Commitment, DeadlineRevision
from commitments.services import commitments as svc
from tests import factories
from tests.support.api_support import results

pytestmark = pytest.mark.django_db

LIST = "/api/v1/commitments/"


def body(source, **overrides):
    data = {
        "kind": "extended",
        "new_due_date": "2026-07-01",
        "new_precision": "month",
        "revised_on": "2026-03-02",
        "reason": "Les parties ont prorogé le délai.",
        "evidence": {"source": source.pk, "quote": "Le délai est prorogé.", "locator": "§ 4"},
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def test_an_editor_revises_the_deadline_and_gets_the_updated_commitment(
    editor_api, editor, make_commitment, source
):
    commitment = make_commitment()
    response = editor_api.post(f"{LIST}{commitment.pk}/revisions/", body(source), format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert response["Location"] == data["url"] == f"http://testserver{LIST}{commitment.pk}/"
    assert (data["original_due_date"], data["due_date"], data["due_precision"]) == (
        "2026-04-26",
        "2026-07-31",
        "month",
    )
    (revision,) = data["revisions"]
    assert revision["kind"] == "extended"
    assert (revision["old_due_date"], revision["new_due_date"]) == ("2026-04-26", "2026-07-31")
    assert (revision["new_precision"], revision["revised_on"]) == ("month", "2026-03-02")
    assert revision["evidence"]["quote"] == "Le délai est prorogé."
    assert revision["evidence"]["locator"] == "§ 4"
    assert revision["author"] == editor.username
    assert data["fulfilment_timing"] is None
    stored = Commitment.objects.get(pk=commitment.pk)
    assert (stored.original_due_date, stored.due_date) == (
        dt.date(2026, 4, 26),
        dt.date(2026, 7, 31),
    )
    assert DeadlineRevision.objects.get().evidence.commitment_id == commitment.pk


def test_a_suspension_needs_no_date_and_shows_the_state(editor_api, make_commitment, source):
    commitment = make_commitment()
    response = editor_api.post(
        f"{LIST}{commitment.pk}/revisions/",
        body(source, kind="suspended", new_due_date=None, new_precision=None, revised_on=None),
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["deadline_state"] == "suspended"
    assert data["revisions"][0]["new_due_date"] is None
    assert data["revisions"][0]["new_precision"] is None
    listed = results(editor_api.get(LIST, {"deadline_state": "suspended"}))
    assert [row["id"] for row in listed] == [commitment.pk]


@pytest.mark.parametrize(
    ("overrides", "path", "reason"),
    [
        ({"reason": ""}, ["reason"], "required"),
        ({"evidence": None}, ["evidence"], "needs an evidence"),
        ({"evidence": {"quote": "x"}}, ["evidence", "source"], "required"),
        ({"kind": "postponed"}, ["kind"], "not a valid choice"),
        ({"new_due_date": None}, ["new_due_date"], "required"),
        ({"new_due_date": "2026-01-01", "new_precision": None}, ["new_due_date"], "after"),
        ({"new_due_date": "2025-01-01", "kind": "renegotiated"}, ["new_due_date"], "agreement"),
        ({"new_due_date": "soon"}, ["new_due_date"], "wrong format"),
        ({"new_precision": "week"}, ["new_precision"], "not a valid choice"),
        ({"revised_on": "2025-01-01"}, ["revised_on"], "before the agreement"),
        ({"revised_on": "2100-01-01"}, ["revised_on"], "future"),
        ({"kind": "resumed", "new_due_date": None}, ["kind"], "not suspended"),
        ({"reason": ["a"]}, ["reason"], "expected text"),
        ({"author": 1}, ["author"], "Unknown field"),
    ],
)
def test_bad_revisions_are_400_on_their_field_and_write_nothing(
    editor_api, make_commitment, source, overrides, path, reason
):
    commitment = make_commitment()
    response = editor_api.post(
        f"{LIST}{commitment.pk}/revisions/", body(source, **overrides), format="json"
    )
    assert response.status_code == 400, response.content
    detail = response.json()
    for name in path:
        detail = detail[name]
    assert reason in " ".join(detail)
    assert not DeadlineRevision.objects.exists()
    assert not Citation.objects.exists()
    assert Commitment.objects.get(pk=commitment.pk).due_date == dt.date(2026, 4, 26)


def test_a_viewer_cannot_revise(viewer_api, make_commitment, source):
    commitment = make_commitment()
    response = viewer_api.post(f"{LIST}{commitment.pk}/revisions/", body(source), format="json")
    assert response.status_code == 403
    assert not DeadlineRevision.objects.exists()


def test_a_closed_commitment_is_a_400_naming_the_reason(editor_api, make_commitment, source):
    commitment = make_commitment()
    svc.commitment_change_status(commitment=commitment, status=Status.CANCELLED)
    response = editor_api.post(f"{LIST}{commitment.pk}/revisions/", body(source), format="json")
    assert response.status_code == 400
    assert "closed commitment" in " ".join(response.json()["non_field_errors"])
    assert not DeadlineRevision.objects.exists()


def test_the_list_filters_on_timeliness(viewer_api, make_commitment, source):
    on_time, extended, open_one = make_commitment(), make_commitment(), make_commitment()
    factories.revision_make(commitment=extended, source=source, new_due_date=dt.date(2026, 8, 1))
    for commitment, day in ((on_time, dt.date(2026, 4, 1)), (extended, dt.date(2026, 7, 1))):
        svc.commitment_change_status(
            commitment=commitment,
            status=Status.FULFILLED,
            occurred_on=day,
            evidence_source=source,
            evidence_quote="Tenu.",
        )

    def ids(**params):
        return sorted(row["id"] for row in results(viewer_api.get(LIST, params)))

    assert ids(fulfilment_timing="on_time") == [on_time.pk]
    assert ids(fulfilment_timing="after_extension") == [extended.pk]
    assert ids(fulfilment_timing="late") == []
    assert viewer_api.get(LIST, {"fulfilment_timing": "early"}).status_code == 400
    assert open_one.pk not in ids(fulfilment_timing=["on_time", "after_extension"])


def test_the_lists_queries_do_not_grow_with_revisions(viewer_api, make_commitment, source):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert viewer_api.get(LIST).status_code == 200
        return len(queries)

    first = make_commitment()
    factories.revision_make(commitment=first, source=source, new_due_date=dt.date(2026, 8, 1))
    count()  # The first request of a token also records its use.
    baseline = count()
    for _ in range(3):
        commitment = make_commitment()
        factories.revision_make(
            commitment=commitment, source=source, new_due_date=dt.date(2026, 8, 1)
        )
        factories.revision_make(commitment=commitment, kind="suspended", source=source)
    assert count() == baseline
