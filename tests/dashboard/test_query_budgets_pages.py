"""Query budgets of the dashboard pages of issues 12–14 (issue 16).

Each page is asked with its rows built at N and again at 3N (occurrences, revisions,
ratings, obligors, updates, report rows, citations, sources, commitments): it must run the
same number of queries both times, and no more than its budget. The budgets count everything
a request runs (session, user, the page's reads); ``bench/pages.py`` times the same pages.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments.models import (
    Assessment,
    Citation,
    Commitment,
    CommitmentRelation,
    DeadlineRevision,
    Occurrence,
    ProgressUpdate,
    Report,
)
from commitments.services.reports import report_freeze
from tests import factories

_serial = itertools.count(1)


def _queries(
    client, url: Callable[[], str], *, method: str = "get", data=None, expect: int = 200
) -> int:
    """Return how many queries one request to ``url()`` ran (after one warming request)."""
    ask = client.post if method == "post" else client.get
    target = url()
    if method == "get":
        ask(target)
    with CaptureQueriesContext(connection) as captured:
        response = ask(target, data() if callable(data) else data or {})
    assert response.status_code == expect, response.content[:500]
    return len(captured.captured_queries)


def _constant(client, url, grow: Callable[[int], None], budget: int, **request) -> None:
    """Assert the page's queries are the same with N and 3N rows, and within ``budget``."""
    grow(3)
    small = _queries(client, url, **request)
    grow(6)
    large = _queries(client, url, **request)
    assert small == large, f"{small} queries with N rows, {large} with 3N"
    assert large <= budget, f"{large} queries, budget {budget}"


@pytest.fixture
def recurring(agreement, japan):
    return factories.recurring_commitment_make(
        agreement=agreement, obligor=japan, recurrence_count=3, recurrence_unit="months"
    )


def _grow_commitment(commitment, source, author) -> Callable[[int], None]:
    """Return a grower of everything the commitment page lists."""

    def grow(n: int) -> None:
        last = commitment.occurrences.order_by("sequence").last()
        first = commitment.occurrences.order_by("sequence").first()
        Occurrence.objects.bulk_create(
            Occurrence(
                commitment=commitment,
                sequence=last.sequence + i,
                due_date=last.due_date + dt.timedelta(days=31 * i),
                due_at=last.due_at + dt.timedelta(days=31 * i),
            )
            for i in range(1, n + 1)
        )
        citations = Citation.objects.bulk_create(
            Citation(source=source, commitment=commitment, quote=f"Quote {next(_serial)}")
            for _ in range(n)
        )
        DeadlineRevision.objects.bulk_create(
            DeadlineRevision(
                commitment=commitment,
                kind="extended",
                revised_on=dt.date(2026, 1, 1),
                new_due_date=commitment.due_date,
                old_due_date=commitment.due_date,
                reason="Bench",
                evidence=citation,
                author=author,
            )
            for citation in citations
        )
        ProgressUpdate.objects.bulk_create(
            ProgressUpdate(
                commitment=commitment,
                occurrence=first,
                occurred_on=dt.date(2026, 1, 2),
                note="Note",
                evidence=citation,
                author=author,
            )
            for citation in citations
        )
        for _ in range(n):
            party = factories.party_make()
            commitment.co_obligors.add(party)
            Assessment.objects.bulk_create(
                Assessment(
                    commitment=commitment,
                    party=party,
                    rating=rating,
                    assessed_on=day,
                    reviewed_on=day,
                    justification="J",
                    evidence=citations[0],
                    author=author,
                    current=current,
                )
                for rating, day, current in (
                    ("stalled", dt.date(2026, 1, 5), False),
                    ("in_the_works", dt.date(2026, 2, 5), True),
                )
            )
            other = factories.commitment_make(
                agreement=commitment.agreement, obligor=commitment.obligor
            )
            CommitmentRelation.objects.create(
                from_commitment=commitment, to_commitment=other, kind="related"
            )

    return grow


def test_the_commitment_page(editor_client, recurring, source, editor):
    url = reverse("dashboard:commitment", args=[recurring.pk])
    _constant(editor_client, lambda: url, _grow_commitment(recurring, source, editor), 26)


def test_the_commitment_page_for_a_reader(viewer_client, recurring, source, editor):
    url = reverse("dashboard:commitment", args=[recurring.pk])
    _constant(viewer_client, lambda: url, _grow_commitment(recurring, source, editor), 20)


def test_the_occurrence_page(editor_client, recurring, source, editor):
    url = reverse("dashboard:occurrence", args=[recurring.pk, 1])
    _constant(editor_client, lambda: url, _grow_commitment(recurring, source, editor), 10)


def test_the_revise_form(editor_client, recurring, source, editor):
    url = reverse("dashboard:commitment_revise", args=[recurring.pk])
    _constant(editor_client, lambda: url, _grow_commitment(recurring, source, editor), 18)


def test_the_rating_form(editor_client, recurring, source, editor):
    url = reverse("dashboard:commitment_rate", args=[recurring.pk])
    _constant(editor_client, lambda: url, _grow_commitment(recurring, source, editor), 21)


def _grow_agreement(agreement, party, author) -> Callable[[int], None]:
    """Return a grower of the agreement's rated commitments."""

    def grow(n: int) -> None:
        commitments = Commitment.objects.bulk_create(
            Commitment(
                agreement=agreement,
                key=f"bulk-{next(_serial)}",
                title="Bulk",
                obligor=party,
                category="meeting",
                deadline_kind="none",
            )
            for _ in range(n)
        )
        Assessment.objects.bulk_create(
            Assessment(
                commitment=c,
                party=party,
                rating="in_the_works",
                assessed_on=dt.date(2026, 1, 5),
                reviewed_on=dt.date(2026, 1, 5),
                justification="J",
                author=author,
            )
            for c in commitments
        )

    return grow


def _latest_report(agreement, suffix: str = "") -> Callable[[], str]:
    """Return a function freezing a new report of ``agreement`` and naming its page."""

    def url() -> str:
        report = report_freeze(
            agreement=agreement, title=f"Report {next(_serial)}", cutoff=dt.date(2026, 2, 1)
        )
        return reverse(f"dashboard:report{suffix}", args=[agreement.pk, report.pk])

    return url


@pytest.mark.parametrize(("suffix", "budget"), [("", 9), ("_csv", 7), ("_pdf", 7)])
def test_the_report_pages(editor_client, agreement, japan, editor, suffix, budget):
    _constant(
        editor_client,
        _latest_report(agreement, suffix),
        _grow_agreement(agreement, japan, editor),
        budget,
    )


def test_the_report_freeze(editor_client, agreement, japan, editor):
    url = reverse("dashboard:report_freeze", args=[agreement.pk])
    _constant(
        editor_client,
        lambda: url,
        _grow_agreement(agreement, japan, editor),
        22,
        method="post",
        expect=302,
        data=lambda: {"title": f"Frozen {next(_serial)}", "cutoff": "2026-02-01"},
    )
    assert Report.objects.filter(agreement=agreement).count() == 2


def _grow_source(source, agreement, party) -> Callable[[int], None]:
    """Return a grower of the source's citations and the agreement's parties."""

    def grow(n: int) -> None:
        commitment = factories.commitment_make(agreement=agreement, obligor=party)
        Citation.objects.bulk_create(
            Citation(
                source=source,
                commitment=commitment,
                quote="Paragraph",
                start=i * 20,
                end=i * 20 + 9,
            )
            for i in range(n)
        )
        agreement.parties.add(*(factories.party_make() for _ in range(n)))

    return grow


@pytest.fixture
def long_source(db):
    text = "\n\n".join(
        f"Paragraph {i}: the parties shall meet by 31 March 2027." for i in range(40)
    )
    return factories.source_make(text=text, language="en")


def test_the_workbench(editor_client, long_source, agreement, japan):
    url = reverse("dashboard:workbench", args=[long_source.pk]) + f"?agreement={agreement.pk}"
    _constant(editor_client, lambda: url, _grow_source(long_source, agreement, japan), 8)


def test_the_workbench_preview(editor_client, long_source, agreement, japan):
    url = reverse("dashboard:workbench_preview", args=[long_source.pk])
    data = {
        "agreement": str(agreement.pk),
        "prefix": "c-0",
        "c-0-deadline_kind": "fixed",
        "c-0-deadline_date": "2027-03-31",
    }
    _constant(
        editor_client,
        lambda: url,
        _grow_source(long_source, agreement, japan),
        7,
        method="post",
        data=data,
    )


def test_the_source_pages(editor_client, long_source, agreement, japan):
    detail = reverse("dashboard:source", args=[long_source.pk])
    grow = _grow_source(long_source, agreement, japan)
    _constant(editor_client, lambda: detail, grow, 7)

    def more_sources(n: int) -> None:
        grow(n)
        for _ in range(n):
            factories.source_make()

    _constant(editor_client, lambda: reverse("dashboard:sources"), more_sources, 7)


def _grow_list(agreement, party, author) -> Callable[[int], None]:
    """Return a grower of commitments (ten at a time: pages of 25 fill up), each with an
    other obligor and a rating."""
    rated = _grow_agreement(agreement, party, author)

    def grow(n: int) -> None:
        rated(10 * n)
        co_obligor = factories.party_make()
        for commitment in Commitment.objects.filter(co_obligors=None)[:n]:
            commitment.co_obligors.add(co_obligor)

    return grow


@pytest.mark.parametrize("query", ["", "?status=not_started", "?page=2", "?page=last"])
def test_the_commitment_list(editor_client, agreement, japan, editor, query):
    url = reverse("dashboard:commitments") + query
    _constant(editor_client, lambda: url, _grow_list(agreement, japan, editor), 12)


def test_the_commitment_list_filtered_by_obligor(editor_client, agreement, japan, editor):
    url = reverse("dashboard:commitments") + f"?obligor={japan.pk}"
    _constant(editor_client, lambda: url, _grow_list(agreement, japan, editor), 12)
