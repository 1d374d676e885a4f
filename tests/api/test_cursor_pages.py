"""Keyset (cursor) pages of the commitment list (issue 16).

``?cursor=`` starts a walk; each page's ``next`` and ``previous`` carry the position of its
last and first row. A walk gives every row once, in the list's ordering (ties broken by id,
undated rows where PostgreSQL puts NULLs), whatever is inserted or deleted meanwhile; the
count stops at a bound and says so; a cursor that is not one the list gave is a 400 naming
``cursor``. Page numbers keep working beside them (tests/api/test_commitments.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commitments.models import Commitment
from commitments.services import commitments as svc
from core.rest.pagination import CursorOrPageNumberPagination
from tests.factories import citation_make

pytestmark = pytest.mark.django_db

LIST = "/api/v1/commitments/"

#: Every ordering the list offers, each way (the filter's names, then the model's paths).
ORDERINGS = [
    ("due_date", "due_date"),
    ("-due_date", "-due_date"),
    ("due_at", "due_at"),
    ("-due_at", "-due_at"),
    ("title", "title"),
    ("-title", "-title"),
    ("key", "key"),
    ("-updated", "-updated"),
    ("created", "created"),
    ("status", "status"),
    ("-deadline_state", "-deadline_state"),
    ("agreement_date", "agreement__date"),
    ("-agreement_date", "-agreement__date"),
    ("status,-due_date", "status,-due_date"),
    ("-id", "-id"),
]


@pytest.fixture
def listed(make_commitment, usa, japan, source, editor):
    """Thirteen commitments: due dates with ties, three undated, repeated titles and states."""
    made = []
    for n in range(13):
        undated = n % 5 == 4
        deadline: dict[str, Any] = (
            {"deadline_kind": "none"} if undated else {"offset_amount": 30 * (n % 3 + 1)}
        )
        commitment = make_commitment(
            title=f"Listed {n % 4}", beneficiaries=[usa, japan][: n % 3], **deadline
        )
        if n % 3 == 0:
            citation_make(source=source, commitment=commitment, quote=f"Quote {n}")
            svc.commitment_change_status(commitment=commitment, status="in_progress", user=editor)
        made.append(commitment)
    assert Commitment.objects.filter(due_date__isnull=True).count() == 2
    return made


def _walk(client, params: dict, *, backwards_from_end: bool = False) -> list[dict]:
    """Follow ``next`` from ``?cursor=``; return every page's body."""
    bodies = []
    response = client.get(LIST, {**params, "cursor": ""})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        bodies.append(body)
        if body["next"] is None:
            return bodies
        response = client.get(body["next"])


def _expected(ordering: str, **filters) -> list[int]:
    rows = Commitment.objects.filter(**filters).order_by(*ordering.split(","), "id")
    return list(rows.values_list("id", flat=True))


@pytest.mark.parametrize(("asked", "path"), ORDERINGS)
def test_a_walk_gives_every_row_once_in_the_ordering(viewer_api, listed, asked, path):
    """Each ordering, walked by cursor 3 at a time, gives every row once, in the order the
    database gives for that ordering and then id (undated rows last ascending, first
    descending), each row as its detail answers it, and the same rows as the page numbers."""
    bodies = _walk(viewer_api, {"ordering": asked, "page_size": 3})
    rows = [row for body in bodies for row in body["results"]]
    ids = [row["id"] for row in rows]
    assert ids == _expected(path)
    assert len(bodies) == 5 and [len(body["results"]) for body in bodies] == [3, 3, 3, 3, 1]
    assert {(body["count"], body["count_exact"]) for body in bodies} == {(13, True)}
    assert bodies[0]["previous"] is None
    assert all(body["previous"] for body in bodies[1:])
    by_number = []
    for number in range(1, 6):
        page = viewer_api.get(LIST, {"ordering": asked, "page_size": 3, "page": number}).json()
        by_number.extend(page["results"])
    assert rows == by_number
    for row in rows[:3]:
        assert row == viewer_api.get(row["url"]).json()


@pytest.mark.parametrize(("asked", "path"), ORDERINGS[:4] + ORDERINGS[-2:])
def test_previous_walks_back_through_the_same_pages(viewer_api, listed, asked, path):
    """From the last page, ``previous`` gives the pages ``next`` gave, in reverse."""
    forward = _walk(viewer_api, {"ordering": asked, "page_size": 3})
    back = [forward[-1]]
    while back[-1]["previous"] is not None:
        response = viewer_api.get(back[-1]["previous"])
        assert response.status_code == 200, response.content
        back.append(response.json())
    assert [body["results"] for body in reversed(back)] == [body["results"] for body in forward]
    # Back at the first page, whose next is the second's start again.
    assert back[-1]["next"] == forward[0]["next"]


def test_filters_and_cursor_walk_together(viewer_api, listed):
    """The filters narrow the walk as they narrow a page; the links keep them."""
    bodies = _walk(
        viewer_api, {"deadline_state": "overdue", "ordering": "due_date", "page_size": 2}
    )
    ids = [row["id"] for body in bodies for row in body["results"]]
    assert ids == _expected("due_date", deadline_state="overdue")
    assert 2 < len(ids) == Commitment.objects.filter(deadline_state="overdue").count() < 13
    assert all("deadline_state=overdue" in body["next"] for body in bodies[:-1])


def test_a_walk_is_stable_under_inserts_and_deletes(viewer_api, listed, make_commitment):
    """Rows inserted before the position are not seen, those after it are, a deleted one is
    skipped, and no other row repeats or goes missing."""
    first = viewer_api.get(LIST, {"ordering": "due_date", "page_size": 4, "cursor": ""}).json()
    seen = [row["id"] for row in first["results"]]
    last_due = first["results"][-1]["due_date"]
    earlier = make_commitment(title="Inserted before", offset_amount=1)
    later = make_commitment(title="Inserted after", offset_amount=400)
    undated = make_commitment(title="Inserted undated", deadline_kind="none")
    ahead = Commitment.objects.filter(due_date__gt=last_due).order_by("due_date", "id").first()
    assert ahead is not None and earlier.due_date is not None
    assert earlier.due_date < dt.date.fromisoformat(last_due)
    ahead_pk = ahead.pk
    ahead.delete()
    response = viewer_api.get(first["next"])
    while True:
        body = response.json()
        seen.extend(row["id"] for row in body["results"])
        if body["next"] is None:
            break
        response = viewer_api.get(body["next"])
    assert len(seen) == len(set(seen))
    # The undated row sorts after the dated ones on PostgreSQL, before them on SQLite: there
    # it was inserted before the position too.
    nulls_last = connection.features.nulls_order_largest
    before = {earlier.pk} if nulls_last else {earlier.pk, undated.pk}
    expected = [pk for pk in _expected("due_date") if pk not in before]
    assert seen == expected
    assert later.pk in seen and (undated.pk in seen) == nulls_last and ahead_pk not in seen


def test_the_count_stops_at_its_bound_and_says_so(viewer_api, listed, monkeypatch):
    """Past the bound ``count`` is the bound and ``count_exact`` false; at or under, exact."""
    monkeypatch.setattr(CursorOrPageNumberPagination, "count_bound", 5)
    body = viewer_api.get(LIST, {"cursor": "", "page_size": 2}).json()
    assert (body["count"], body["count_exact"]) == (5, False)
    body = viewer_api.get(LIST, {"cursor": "", "q": "Listed 1"}).json()
    assert (body["count"], body["count_exact"]) == (3, True)
    monkeypatch.setattr(CursorOrPageNumberPagination, "count_bound", 13)
    body = viewer_api.get(LIST, {"cursor": ""}).json()
    assert (body["count"], body["count_exact"]) == (13, True)
    # Page numbers still count every row.
    assert viewer_api.get(LIST, {"page_size": 2}).json()["count"] == 13


def test_an_empty_list_by_cursor(viewer_api, listed):
    body = viewer_api.get(LIST, {"cursor": "", "q": "nothing matches this"}).json()
    assert body == {"count": 0, "count_exact": True, "next": None, "previous": None, "results": []}


def _token(body: object) -> str:
    text = json.dumps(body) if not isinstance(body, str) else body
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !",
        "abc",
        _token("not json"),
        _token([1, 2]),
        _token({"o": ["due_date", "id"]}),
        _token({"o": ["due_date", "id"], "p": ["2026-01-01"]}),
        _token({"o": ["due_date", "id"], "p": ["yesterday", 3]}),
        _token({"o": ["due_date", "id"], "p": ["2026-01-01", "three"]}),
        _token({"o": ["due_date", "id"], "p": ["2026-01-01", None]}),
        _token({"o": ["due_date", "id"], "p": [{"a": 1}, 3]}),
        _token({"o": "due_date", "p": ["2026-01-01", 3]}),
        _token({"o": ["due_date", "id"], "p": ["2026-01-01", 3], "r": "x"}),
        "\u00e9t\u00e9",
    ],
)
def test_a_cursor_the_list_did_not_give_is_a_400_naming_it(viewer_api, listed, cursor):
    response = viewer_api.get(LIST, {"cursor": cursor})
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["cursor"]


def test_a_cursor_of_another_ordering_is_a_400_naming_it(viewer_api, listed):
    first = viewer_api.get(LIST, {"cursor": "", "ordering": "title", "page_size": 2}).json()
    token = first["next"].split("cursor=")[1].split("&")[0]
    response = viewer_api.get(LIST, {"cursor": token, "ordering": "-title"})
    assert response.status_code == 400
    assert "another ordering" in response.json()["cursor"][0]
    assert viewer_api.get(LIST, {"cursor": token, "ordering": "title"}).status_code == 200


def test_a_deep_page_costs_the_queries_of_the_first(viewer_api, listed):
    """The first cursor page and a deep one run the same statements (count and page; the
    page reached past the dated rows reads the undated ones with one more)."""
    viewer_api.get(LIST)  # the token's first use is written once
    costs = []
    bodies = _walk(viewer_api, {"page_size": 2, "ordering": "title"})
    for url in [f"{LIST}?page_size=2&ordering=title&cursor=", bodies[3]["previous"]]:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_api.get(url).status_code == 200
        costs.append(len(captured))
    assert costs[0] == costs[1]


def test_the_schema_documents_the_cursor_and_the_bounded_count(viewer_api):
    schema = viewer_api.get("/api/v1/schema/", {"format": "json"}).json()
    listing = schema["paths"]["/api/v1/commitments/"]["get"]
    names = {parameter["name"] for parameter in listing["parameters"]}
    assert {"cursor", "page", "page_size"} <= names
    cursor = next(p for p in listing["parameters"] if p["name"] == "cursor")
    assert "count_exact" in cursor["description"]
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][page.rsplit("/", 1)[1]]
    assert "count_exact" in component["properties"]
    assert "count_exact" not in component.get("required", [])
    # Other lists have page numbers only.
    parties = schema["paths"]["/api/v1/parties/"]["get"]
    assert "cursor" not in {parameter["name"] for parameter in parties["parameters"]}
