"""The commitments list, read as plain rows, answers what the serializer-backed detail answers.

The list builds its rows without the serializer (``commitments.api.readers``); the detail still
goes through it. Walking every page of the list and comparing each row with its detail holds
the two equal through the whole HTTP stack: filters, ordering, paging links, URL formats,
ETags.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commitments.models import Commitment
from commitments.services import commitments as svc
from tests.factories import citation_make
from tests.support.api_support import results

pytestmark = pytest.mark.django_db

LIST = "/api/v1/commitments/"


@pytest.fixture
def tracked(make_commitment, usa, japan, source, editor):
    """Seven commitments; some with beneficiaries, citations, progress and an overdue flag."""
    made = []
    for n in range(7):
        commitment = make_commitment(
            title=f"Tracked {n}",
            offset_amount=30 * (7 - n),
            beneficiaries=[usa, japan][: n % 3],
            owner=editor if n % 2 else None,
            target_amount=Decimal(n) * Decimal("1.25") if n % 3 else None,
            target_unit="USD" if n % 3 else "",
        )
        if n % 2:
            citation_make(source=source, commitment=commitment, quote=f"Quote {n}")
            svc.commitment_change_status(
                commitment=commitment,
                status="partially_fulfilled",
                user=editor,
                occurred_on=dt.date(2026, 1, n),
                measured_value=Decimal(n),
                evidence_source=source,
                evidence_quote=f"Evidence {n}",
            )
        made.append(commitment)
    Commitment.objects.filter(pk__in=[c.pk for c in made[:3]]).update(deadline_state="overdue")
    return made


def _walk(client, url: str, params: dict) -> tuple[list[dict], list[dict]]:
    """Follow ``next`` from the first page; return the pages' bodies and all their rows."""
    bodies, rows = [], []
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        bodies.append(body)
        rows.extend(body["results"])
        if body["next"] is None:
            return bodies, rows
        response = client.get(body["next"])


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": 3},
        {"page_size": 2, "ordering": "-title"},
        {"page_size": 2, "deadline_state": "overdue", "ordering": "due_date"},
        {"page_size": 500, "status": "partially_fulfilled"},
    ],
)
def test_every_listed_row_equals_its_detail(viewer_api, tracked, params):
    """Each row of each page is the detail's body for that commitment, in the asked order."""
    bodies, rows = _walk(viewer_api, LIST, params)
    expected = Commitment.objects.all()
    if "deadline_state" in params:
        expected = expected.filter(deadline_state=params["deadline_state"])
    if "status" in params:
        expected = expected.filter(status=params["status"])
    ordering = params.get("ordering", "due_date")
    assert [row["id"] for row in rows] == list(
        expected.order_by(ordering, "id").values_list("id", flat=True)
    )
    assert {body["count"] for body in bodies} == {len(rows)}
    assert bodies[0]["previous"] is None
    for row in rows:
        detail = viewer_api.get(row["url"])
        assert detail.status_code == 200
        assert row == detail.json()
    assert any(row["progress_updates"] for row in rows)


@pytest.mark.parametrize(
    ("list_path", "detail_end"),
    [("/api/v1/commitments.json", ".json"), ("/api/v1/commitments/?format=json", "/?format=json")],
)
def test_url_formats_reach_the_rows_and_match_the_detail(
    viewer_api, tracked, list_path, detail_end
):
    """A format suffix or ``?format=json`` shapes the rows' URLs as it shapes the detail's."""
    rows = results(viewer_api.get(list_path))
    assert len(rows) == len(tracked)
    for row in rows:
        assert row["url"].endswith(f"/{row['id']}{detail_end}")
        assert row == viewer_api.get(row["url"]).json()


def test_an_empty_list_and_a_page_past_the_end(viewer_api, tracked):
    """No match is an empty first page; a page past the last is a 404 naming the page."""
    body = viewer_api.get(LIST, {"q": "nothing matches this"}).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}
    response = viewer_api.get(LIST, {"page_size": 5, "page": 3})
    assert response.status_code == 404
    assert "Page 3" in response.json()["detail"]


def test_the_etag_changes_when_a_nested_row_changes(viewer_api, tracked, editor, source):
    """A new progress update changes the list's body, so a poller's ETag no longer matches."""
    etag = viewer_api.get(LIST)["ETag"]
    assert viewer_api.get(LIST, HTTP_IF_NONE_MATCH=etag).status_code == 304
    svc.commitment_change_status(
        commitment=tracked[0], status="in_progress", user=editor, note="Started."
    )
    changed = viewer_api.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    row = next(r for r in changed.json()["results"] if r["id"] == tracked[0].pk)
    assert row["progress_updates"][0]["note"] == "Started."


def test_the_list_costs_the_same_queries_for_3_or_30_rich_rows(
    viewer_api, make_commitment, usa, japan, source, editor
):
    """Beneficiaries, citations and progress updates with evidence cost one query each."""
    for n in range(30):
        commitment = make_commitment(beneficiaries=[usa, japan], owner=editor)
        citation_make(source=source, commitment=commitment, quote=f"Quote {n}")
        svc.commitment_change_status(
            commitment=commitment,
            status="fulfilled",
            user=editor,
            evidence_source=source,
            evidence_quote=f"Done {n}",
        )
    viewer_api.get(LIST)  # the token's last_used_at is written once, on first use
    counts = []
    for size in (3, 30):
        with CaptureQueriesContext(connection) as captured:
            rows = results(viewer_api.get(LIST, {"page_size": size}))
        assert len(rows) == size
        assert all(row["progress_updates"][0]["evidence"] for row in rows)
        counts.append(len(captured))
    assert counts[0] == counts[1]
