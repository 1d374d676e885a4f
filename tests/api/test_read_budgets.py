"""Every API read path costs a number of queries that does not grow with its rows (issue 16).

Each read is asked of a world built at a scale ``k`` (k commitments, each recurring k times,
with k ratings of its obligor, k progress updates; k sources; k reports of the agreement) and
of the same world at 3k: the endpoint must answer 3 times the rows with the same number of
queries, and within a stated budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from commitments.models import Agreement, Commitment
from commitments.services import commitments as svc
from commitments.services.assessments import assessment_record
from commitments.services.reports import report_freeze
from tests import factories

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _world(k: int, *, agreement: Agreement, japan, source, editor) -> dict[str, Any]:
    """Build the rows of every read at scale ``k``; return the ids the reads name."""
    made: list[Commitment] = []
    for n in range(k):
        commitment = factories.recurring_commitment_make(
            agreement=agreement,
            obligor=japan,
            key=f"budget-{k}-{n}",
            title=f"Budget {n}",
            recurrence_count=k,
        )
        factories.citation_make(source=source, commitment=commitment, quote=f"Quote {n}")
        for day in range(k):
            assessment_record(
                commitment=commitment,
                party=japan,
                rating="in_the_works" if day % 2 else "stalled",
                justification=f"Rating {day}",
                assessed_on=agreement.date + dt.timedelta(days=day + 1),
                user=editor,
            )
            svc.commitment_change_status(
                commitment=commitment,
                status="in_progress",
                user=editor,
                occurred_on=agreement.date + dt.timedelta(days=day + 1),
            )
        made.append(commitment)
    for n in range(k):
        factories.source_make(key=f"budget-source-{k}-{n}")
    for n in range(k):
        report = report_freeze(
            agreement=agreement,
            title=f"Report {k}-{n}",
            cutoff=agreement.date + dt.timedelta(days=k + 1),
            user=editor,
        )
    Agreement.objects.filter(pk=agreement.pk).update(publication_state="published")
    return {"agreement": agreement.pk, "commitment": made[0].pk, "report": report.pk}


#: Each read: its name, its path from the world's ids, what counts its rows, its budget (the
#: queries it makes today with a session login; a token adds its own look-up).
READS: list[tuple[str, Callable[[dict[str, Any]], str], Callable[[Any], int], int]] = [
    (
        "commitment list",
        lambda ids: f"{API}/commitments/?page_size=500",
        lambda body: len(body["results"]),
        3,
    ),
    (
        "commitment list by cursor (issue 16: the count bounded)",
        lambda ids: f"{API}/commitments/?page_size=500&cursor=",
        lambda body: len(body["results"]),
        3,
    ),
    (
        "commitment detail (revisions, stages, occurrences, ratings)",
        lambda ids: f"{API}/commitments/{ids['commitment']}/",
        lambda body: len(body["occurrences"]) + len(body["progress_updates"]),
        1,
    ),
    (
        "occurrences",
        lambda ids: f"{API}/commitments/{ids['commitment']}/occurrences/?page_size=500",
        lambda body: len(body["results"]),
        10,
    ),
    (
        "assessments (rating history)",
        lambda ids: f"{API}/commitments/{ids['commitment']}/assessments/?page_size=500",
        lambda body: len(body["results"]),
        10,
    ),
    (
        "compliance as of a date",
        lambda ids: f"{API}/agreements/{ids['agreement']}/compliance/?as_of=2025-11-30",
        lambda body: sum(len(party["rows"]) for party in body["parties"]),
        5,
    ),
    (
        "reports",
        lambda ids: f"{API}/agreements/{ids['agreement']}/reports/?page_size=500",
        lambda body: len(body["results"]),
        4,
    ),
    (
        "report with its corrections",
        lambda ids: f"{API}/agreements/{ids['agreement']}/reports/{ids['report']}/",
        lambda body: len(body["rows"]),
        5,
    ),
    (
        "sources",
        lambda ids: f"{API}/sources/?page_size=500",
        lambda body: len(body["results"]),
        3,
    ),
    (
        "progress updates",
        lambda ids: f"{API}/progress-updates/?page_size=500",
        lambda body: len(body["results"]),
        3,
    ),
    (
        "agreements",
        lambda ids: f"{API}/agreements/?page_size=500",
        lambda body: len(body["results"]),
        5,
    ),
]


def _cost(client: APIClient, path: str, rows: Callable[[Any], int]) -> tuple[int, int]:
    client.get(path)  # a token's first use is written once; caches warm
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.content[:300])
    return len(captured), rows(response.json())


@pytest.mark.parametrize("reader", ["viewer", "anonymous"])
def test_every_read_costs_the_same_queries_for_k_or_3k_rows(
    agreement, japan, usa, source, editor, viewer, settings, reader
):
    """Each API read answers 3 times the rows with the same number of queries, within budget.

    The world is built at scale 2 and read; then a second agreement's world at scale 6 is
    added and read (the lists of every agreement grow from 2 to 8 rows). Anonymously
    (``API_PUBLIC_READ``) too: the public read narrows the rows, not the cost.
    """
    settings.API_PUBLIC_READ = True
    # The reads are more than an anonymous caller's rate allows in a minute: the budget is
    # about queries, not the throttle (tests/api/test_auth.py holds that one).
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "anon": "100000/minute",
        },
    }
    client = APIClient()
    if reader == "viewer":
        client.force_authenticate(viewer)
    reads = [read for read in READS if reader == "viewer" or "report" not in read[0]]
    small = _world(2, agreement=agreement, japan=japan, source=source, editor=editor)
    costs_small = [_cost(client, path(small), rows) for _name, path, rows, _budget in reads]
    other = factories.agreement_make(parties=[japan, usa], key="budget-large")
    large = _world(6, agreement=other, japan=japan, source=source, editor=editor)
    costs_large = [_cost(client, path(large), rows) for _name, path, rows, _budget in reads]
    measured = [
        (name, rows_small, rows_large, cost_small, cost_large, budget)
        for (name, _path, _rows, budget), (cost_small, rows_small), (cost_large, rows_large) in zip(
            reads, costs_small, costs_large, strict=True
        )
    ]
    # Anonymous readers see only the sources cited in published agreements: the same one.
    grown = [m for m in measured if reader == "viewer" or m[0] != "sources"]
    assert all(m[2] > m[1] > 0 for m in grown), measured
    assert all(m[3] == m[4] <= m[5] for m in measured), measured


def test_a_deep_cursor_page_costs_what_the_first_costs_at_k_or_3k_rows(make_commitment, viewer):
    """The cursor page in the middle of the list runs the first page's statements (the page
    and a bounded count), at 8 and at 24 rows: its position is a bound on an index, not a
    count of rows to skip. Not the last dated page: the page that reaches the end of the
    dated rows looks for undated ones with one statement more (tests/api/test_cursor_pages.py)."""
    client = APIClient()
    client.force_authenticate(viewer)
    first = f"{API}/commitments/?page_size=2&cursor="
    costs = []
    for k in (8, 24):
        while Commitment.objects.count() < k:
            make_commitment(offset_amount=30 * (Commitment.objects.count() % 5 + 1))
        body = client.get(first).json()
        for _ in range(k // 8):
            body = client.get(body["next"]).json()
        deep = body["next"]
        assert deep is not None
        (first_cost, first_rows), (deep_cost, deep_rows) = (
            _cost(client, first, lambda body: len(body["results"])),
            _cost(client, deep, lambda body: len(body["results"])),
        )
        assert first_rows == deep_rows == 2
        costs.append((first_cost, deep_cost))
    assert costs[0] == costs[1], costs
    assert costs[0][0] == costs[0][1] <= 3, costs
