"""Query budgets of the overview and the agreement page (issue 16), and the shared reads they
rely on giving the same answers as the reads they replace.

Each budget is built with N and with 3N commitments (shared with a co-obligor, rated twice):
the number of queries is the same, and at most the bound stated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments.models import Assessment, Commitment, ProgressUpdate
from commitments.selectors import (
    COMPLIANCE_ORDER,
    compliance_table,
    obligors_prefetch,
)
from dashboard import charts
from dashboard.views import commitment_urls

AS_OF = dt.date(2026, 1, 31)


def _rated(agreement, obligor, co_obligor, editor, n: int, start: int = 0) -> None:
    """Add ``n`` shared commitments, each rated by date twice for its obligor and with a
    progress update."""
    commitments = Commitment.objects.bulk_create(
        Commitment(
            agreement=agreement,
            key=f"budget-{start + i}",
            title=f"Budget {start + i}",
            obligor=obligor,
            category="meeting",
            deadline_kind="fixed",
            deadline_date=dt.date(2026, 1, 1) + dt.timedelta(days=(start + i) % 300),
            due_date=dt.date(2026, 1, 1) + dt.timedelta(days=(start + i) % 300),
            due_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC) + dt.timedelta(days=(start + i) % 300),
            deadline_state="overdue" if (start + i) % 3 == 0 else "on_track",
        )
        for i in range(n)
    )
    link = Commitment.co_obligors.through
    link.objects.bulk_create(link(commitment_id=c.pk, party_id=co_obligor.pk) for c in commitments)
    Assessment.objects.bulk_create(
        Assessment(
            commitment=c,
            party=obligor,
            rating=rating,
            assessed_on=day,
            reviewed_on=day,
            justification=f"Row {i}",
            current=day.month == 2,
            author=editor,
        )
        for i, c in enumerate(commitments)
        for day, rating in ((dt.date(2026, 1, 5), "in_the_works"), (dt.date(2026, 2, 5), "stalled"))
    )
    # A progress update each, which the overview's recent list shows with its commitment.
    ProgressUpdate.objects.bulk_create(
        ProgressUpdate(
            commitment=c,
            occurred_on=dt.date(2026, 1, 6),
            status_from="not_started",
            status_to="in_progress",
            note=f"Update {start + i}",
            author=editor,
        )
        for i, c in enumerate(commitments)
    )


def _commitment_instances(agreement) -> list[Commitment]:
    """Return the agreement's commitments as model instances, in the table's order, with
    their obligors loaded: what the table read before the briefs (the reference)."""
    return list(
        agreement.commitments.select_related("obligor")
        .prefetch_related(obligors_prefetch())
        .order_by(*COMPLIANCE_ORDER)
    )


def _queries(client, url: str, query: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, query or {}).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("page", "query", "bound"),
    [
        ("dashboard:overview", None, 15),
        # The version of the agreement's rows (core.fragments), then its sections rendered.
        ("dashboard:agreement", None, 17),
        ("dashboard:agreement", {"as_of": AS_OF.isoformat()}, 18),
        # The comparison is rendered each time: no version.
        ("dashboard:agreement", {"as_of": AS_OF.isoformat(), "since": "2026-01-01"}, 18),
    ],
)
def test_the_pages_queries_are_the_same_for_n_and_3n_commitments_and_bounded(
    editor_client, editor, agreement, japan, usa, page, query, bound
):
    """The session, the user, then a fixed number of reads whatever the number of rows."""
    url = reverse(page, args=[agreement.pk] if page == "dashboard:agreement" else [])
    _rated(agreement, japan, usa, editor, 20)
    small = _queries(editor_client, url, query)
    _rated(agreement, japan, usa, editor, 40, start=20)
    large = _queries(editor_client, url, query)
    assert small == large
    assert large <= bound


def test_compliance_as_of_reads_three_queries_for_n_and_3n_commitments(
    editor, agreement, japan, usa
):
    _rated(agreement, japan, usa, editor, 20)
    with CaptureQueriesContext(connection) as small:
        compliance_table(agreement=agreement, as_of=AS_OF).parties  # noqa: B018
    _rated(agreement, japan, usa, editor, 40, start=20)
    with CaptureQueriesContext(connection) as large:
        table = compliance_table(agreement=agreement, as_of=AS_OF)
        table.parties  # noqa: B018
    assert len(table.rows) == 120
    assert len(small.captured_queries) == len(large.captured_queries) == 3


def _table_key(table) -> list[tuple[str, str, int | None]]:
    return [(r.commitment.key, r.party.key, r.assessment and r.assessment.pk) for r in table.rows]


@pytest.mark.parametrize("as_of", [None, AS_OF])
def test_the_table_from_the_pages_commitments_is_the_table_the_selector_reads(
    editor, agreement, japan, usa, make_commitment, as_of
):
    """Handing the page's commitments to ``compliance_table`` changes nothing but the queries:
    same rows, same order (undated last), same ratings; only the ratings are read again."""
    _rated(agreement, japan, usa, editor, 5)
    make_commitment(title="Undated")
    loaded = _commitment_instances(agreement)
    with CaptureQueriesContext(connection) as captured:
        given = compliance_table(agreement=agreement, as_of=as_of, commitments=loaded)
    assert len(captured.captured_queries) == 1
    alone = compliance_table(agreement=agreement, as_of=as_of)
    assert _table_key(given) == _table_key(alone)
    assert given.rows[-1].commitment.title == "Undated"
    assert given.tally == alone.tally
    assert [(p.party.pk, p.tally) for p in given.parties] == [
        (p.party.pk, p.tally) for p in alone.parties
    ]


@pytest.mark.parametrize("as_of", [None, dt.date(2026, 3, 31)])
def test_a_table_read_without_evidence_is_the_table_with_its_evidence_left_out(
    agreement, japan, usa, source, editor, as_of
):
    """``with_evidence=False`` (the agreement page's tables, except for the comparison that
    shows the evidence) reads the same rows and ratings, each without its evidence, in as
    many queries."""
    from tests.support.assessment_history import rating_history

    rating_history(agreement=agreement, japan=japan, usa=usa, source=source, user=editor)
    with CaptureQueriesContext(connection) as with_evidence:
        full = compliance_table(agreement=agreement, as_of=as_of)
    with CaptureQueriesContext(connection) as without:
        bare = compliance_table(agreement=agreement, as_of=as_of, with_evidence=False)
    assert len(without.captured_queries) == len(with_evidence.captured_queries)
    assert any(row.assessment and row.assessment.evidence for row in full.rows)
    assert [
        (row.commitment.pk, row.party.pk, row.assessment and replace(row.assessment, evidence=None))
        for row in full.rows
    ] == [(row.commitment.pk, row.party.pk, row.assessment) for row in bare.rows]


def test_the_briefs_are_the_commitments_the_table_reads(
    editor, agreement, japan, usa, make_commitment
):
    """The page's briefs hold each commitment's fields and obligors as the model instances
    hold them, in the same order, in two queries for N and 3N commitments; the tables built
    from them are the selector's (rows, ratings, changes)."""
    from commitments.selectors import BRIEF_FIELDS, compliance_briefs, compliance_changes
    from tests import factories

    _rated(agreement, japan, usa, editor, 4)
    third = factories.party_make(key="france", name="France", country_code="FR")
    shared = make_commitment(
        obligor=usa,
        title="Shared by three",
        title_fr="Partagé par trois",
        machine_translations={"fr": {"title": "Traduit"}},
        announced_on=dt.date(2025, 7, 22),
    )
    shared.co_obligors.add(japan, third)
    make_commitment(title="Undated", deadline_kind="none", offset_amount=None)
    with CaptureQueriesContext(connection) as small:
        compliance_briefs(agreement)
    _rated(agreement, japan, usa, editor, 8, start=4)
    with CaptureQueriesContext(connection) as large:
        briefs = compliance_briefs(agreement)
    assert len(small.captured_queries) == len(large.captured_queries) == 2
    loaded = _commitment_instances(agreement)
    assert [b.pk for b in briefs] == [c.pk for c in loaded]
    for brief, commitment in zip(briefs, loaded, strict=True):
        for name in ("obligor_id", *BRIEF_FIELDS):
            assert getattr(brief, name) == getattr(commitment, name), name
        assert brief.obligor_list == commitment.obligor_list
        assert brief.obligor == commitment.obligor
        assert brief.get_status_display() == commitment.get_status_display()
    assert next(b for b in briefs if b.pk == shared.pk).obligor_list == [usa, third, japan]
    for as_of in (None, AS_OF):
        given = compliance_table(agreement=agreement, as_of=as_of, commitments=briefs)
        alone = compliance_table(agreement=agreement, as_of=as_of)
        assert _table_key(given) == _table_key(alone)
        assert [
            (ch.commitment.pk, ch.party.pk, ch.before, ch.after)
            for ch in compliance_changes(table=given, since=dt.date(2026, 1, 10))
        ] == [
            (ch.commitment.pk, ch.party.pk, ch.before, ch.after)
            for ch in compliance_changes(table=alone, since=dt.date(2026, 1, 10))
        ]


def test_the_charts_drawn_from_the_pages_table_are_the_charts_read_alone(
    editor, agreement, japan, usa
):
    _rated(agreement, japan, usa, editor, 6)
    today = dt.date(2026, 3, 1)
    table = compliance_table(agreement=agreement)
    assert charts.ratings_chart(agreement=agreement, table=table) == charts.ratings_chart(
        agreement=agreement
    )
    assert charts.compliance_history_chart(
        agreement=agreement, today=today, table=table
    ) == charts.compliance_history_chart(agreement=agreement, today=today)
    dated = compliance_table(agreement=agreement, as_of=AS_OF)
    assert charts.compliance_history_chart(
        agreement=agreement, today=today, table=dated
    ) == charts.compliance_history_chart(agreement=agreement, today=today)
    with pytest.raises(ValueError, match="today's ratings"):
        charts.ratings_chart(agreement=agreement, table=dated)


def test_the_charts_on_an_as_of_page_show_todays_ratings(
    editor_client, editor, agreement, japan, usa
):
    """The table is as of the date; the ratings chart stays today's (here: all stalled)."""
    _rated(agreement, japan, usa, editor, 4)
    url = reverse("dashboard:agreement", args=[agreement.pk])
    response = editor_client.get(url, {"as_of": AS_OF.isoformat()})
    assert {r.rating for r in response.context["compliance"].rows if r.party == japan} == {
        "in_the_works"
    }
    assert response.context["current_compliance"].as_of is None
    today = editor_client.get(url)
    assert today.context["current_compliance"] is today.context["compliance"]
    assert {r.rating for r in today.context["compliance"].rows if r.party == japan} == {"stalled"}


def test_commitment_urls_are_the_urls_reverse_gives(agreement, make_commitment):
    pks = [make_commitment().pk for _ in range(3)] + [1, 10, 123456789]
    assert commitment_urls(pks) == {pk: reverse("dashboard:commitment", args=[pk]) for pk in pks}


def test_the_agreement_pages_rows_show_every_obligor_and_link(
    editor_client, editor, agreement, japan, usa, make_commitment
):
    _rated(agreement, japan, usa, editor, 3)
    make_commitment(title="Japan alone")
    response = editor_client.get(reverse("dashboard:agreement", args=[agreement.pk]))
    for row in response.context["commitments"]:
        assert row.obligors == row.commitment.obligor_list
        assert row.url == reverse("dashboard:commitment", args=[row.commitment.pk])
        assert f'href="{row.url}"' in response.content.decode()


def test_the_overviews_one_scan_counts_what_each_grouping_counted(
    editor, agreement, japan, usa, make_commitment
):
    """Totals, per party (obligor or co-obligor), per agreement and the fulfilment timings,
    added up from the (obligor, agreement) pairs, are the counts each query made alone."""
    from commitments.selectors import fulfilment_timing_counts
    from dashboard import selectors
    from tests import factories

    other = factories.agreement_make(parties=[usa])
    _rated(agreement, japan, usa, editor, 7)
    late, on_time = make_commitment(obligor=usa), make_commitment()
    Commitment.objects.filter(pk=late.pk).update(status="fulfilled", fulfilment_timing="late")
    Commitment.objects.filter(pk=on_time.pk).update(status="fulfilled", fulfilment_timing="on_time")
    factories.commitment_make(agreement=other, obligor=usa, key="elsewhere", title="Elsewhere")
    now = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    data = selectors.overview(now=now, today=now.date())
    tally = selectors._tally(now=now)
    assert data.counts == Commitment.objects.aggregate(**tally)
    assert data.timing == fulfilment_timing_counts()
    for a, counts in data.by_agreement:
        assert vars(counts) == Commitment.objects.filter(agreement=a).aggregate(**tally)
    for party, counts in data.by_party:
        bound = Commitment.objects.filter(obligor=party) | Commitment.objects.filter(
            co_obligors=party
        )
        assert vars(counts) == bound.distinct().aggregate(**tally)
    assert {p.pk for p, _ in data.by_party} == {japan.pk, usa.pk}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_timelines_marks_are_titled_in_the_readers_language(
    editor_client, agreement, make_commitment, language
):
    from django.utils import translation
    from django.utils.formats import date_format
    from django.utils.html import escape

    due = dt.date(2026, 3, 31)
    make_commitment(deadline_kind="fixed", deadline_date=due)
    response = editor_client.get(
        reverse("dashboard:agreement", args=[agreement.pk]), HTTP_ACCEPT_LANGUAGE=language
    )
    with translation.override(language):
        expected = f"{translation.gettext('Due')} {date_format(due, 'DATE_FORMAT')}"
    assert f"<title>{escape(expected)}</title>" in response.content.decode()


def test_the_compliance_parties_are_the_tables_parties(
    editor, agreement, japan, usa, make_commitment
):
    from commitments.selectors import compliance_parties

    make_commitment(obligor=usa)
    _rated(agreement, japan, usa, editor, 3)
    with CaptureQueriesContext(connection) as captured:
        parties = compliance_parties(agreement=agreement)
    assert len(captured.captured_queries) == 2
    assert parties == [entry.party for entry in compliance_table(agreement=agreement).parties]
    assert set(parties) == {usa, japan}
