"""Every public page and feed runs a fixed number of queries, whatever the number of rows.

Each page is read uncached with ``N`` more commitments in the published agreement (each rated
with evidence, cited, one in two revised, one in three bound to a co-obligor, with a status
change in the log), then with ``3 × N``: the counts must be equal, and within the page's
budget (:data:`BUDGET`). The agreement page is also read in French.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commitments.services.assessments import assessment_record
from commitments.services.commitments import commitment_change_status
from tests import factories

from .conftest import NOW, Site

pytestmark = pytest.mark.django_db

N = 3

#: Each page's most queries: the counts measured when the budgets were set (2026-12-06).
BUDGET = {
    "overview": 6,
    "agreement": 10,
    "agreement-fr": 10,
    "commitment": 10,
    "party": 3,
    "source": 3,
    "report": 5,
    "methodology": 0,
    "search": 3,
    "corrections": 2,
    "week": 5,
    "feed": 5,
    "feed-agreement": 6,
    "feed-party": 5,
    "feed-commitment": 5,
    "embed-agreement": 6,
    "embed-commitment": 3,
    "oembed": 1,
    "sitemap": 5,
}


def _paths(site: Site) -> dict[str, str]:
    key, commitment = site.agreement.key, site.commitment.key
    permalink = f"{settings.SITE_URL.rstrip('/')}/public/en/commitments/{commitment}/"
    return {
        "overview": "/public/en/",
        "agreement": f"/public/en/agreements/{key}/",
        "agreement-fr": f"/public/fr/agreements/{key}/",
        "commitment": f"/public/en/commitments/{commitment}/",
        "party": f"/public/en/parties/{site.japan.key}/",
        "source": f"/public/en/sources/{site.source.key}/",
        "report": f"/public/en/agreements/{key}/reports/{site.report.pk}/",
        "methodology": "/public/en/methodology/",
        "search": "/public/en/search/?" + urlencode({"q": "Grown"}),
        "corrections": "/public/en/corrections/",
        "week": "/public/en/changes/",
        "feed": "/public/en/feeds/changes.atom",
        "feed-agreement": f"/public/en/feeds/agreements/{key}.atom",
        "feed-party": f"/public/en/feeds/parties/{site.japan.key}.atom",
        "feed-commitment": f"/public/en/feeds/commitments/{commitment}.atom",
        "embed-agreement": f"/public/en/embed/agreements/{key}/",
        "embed-commitment": f"/public/en/embed/commitments/{commitment}/",
        "oembed": "/public/en/oembed?" + urlencode({"url": permalink, "format": "json"}),
        "sitemap": "/sitemap.xml",
    }


def _grow(site: Site, start: int, count: int) -> None:
    """Add ``count`` commitments to the published agreement, each with a public history."""
    for n in range(start, start + count):
        commitment = factories.commitment_make(
            agreement=site.agreement,
            obligor=site.japan,
            key=f"grown-{n}",
            title=f"Grown commitment {n}",
            title_fr=f"Engagement ajouté {n}" if n % 2 else "",
        )
        if n % 3 == 0:
            commitment.co_obligors.add(site.usa)
        citation = factories.citation_make(
            source=site.source, commitment=commitment, quote=f"Item {n} is agreed."
        )
        assessment_record(
            commitment=commitment,
            party=site.japan,
            rating=("kept", "broken", "in_the_works")[n % 3],
            justification=f"What was done on item {n}.",
            assessed_on=dt.date(2026, 1, 10),
            evidence=citation,
            now=NOW,
        )
        if n % 2 == 0:
            factories.deadline_revision_make(
                commitment=commitment,
                source=site.source,
                revised_on=dt.date(2026, 1, 20),
                new_due_date=dt.date(2030, 1, 1),
            )
        commitment_change_status(commitment=commitment, status="in_progress", note=f"Begun {n}.")
    # The commitment the commitment pages show gets more history too.
    assessment_record(
        commitment=site.commitment,
        party=site.japan,
        rating=("kept", "broken")[start % 2],
        justification=f"Reassessed after {start + count} commitments.",
        assessed_on=dt.date(2026, 1, 11),
        evidence=site.citation,
        now=NOW + dt.timedelta(minutes=start),
    )


def _counts(client: Any, site: Site) -> dict[str, int]:
    counts = {}
    for name, path in _paths(site).items():
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(captured.captured_queries)
    return counts


def test_every_public_page_runs_the_same_queries_for_n_and_3n_rows(client, site):
    """No page's query count grows with its rows, and each stays within its budget."""
    _grow(site, 0, N)
    few = _counts(client, site)
    _grow(site, N, 2 * N)
    many = _counts(client, site)
    assert many == few
    over = {name: count for name, count in many.items() if count > BUDGET[name]}
    assert not over, f"over budget: {over} (budgets {BUDGET})"
    assert set(many) == set(BUDGET)
