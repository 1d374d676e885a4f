"""The agreement page's sections kept rendered under a version of their rows (issue 16).

The page's sections of rows (facts, timeline, compliance tables, charts, commitments,
sources) are stored once rendered, under ``commitments.selectors.agreement_rows_version``,
which PostgreSQL computes from the row versions of every table they read. These tests hold
that a kept page is the page, that every table the sections read is in the version, and that
every kind of writer (the ORM, a queryset update, raw SQL as the scan writes, a delete, a
many-to-many link, two changes in one transaction) shows at once. Without PostgreSQL there is
no version: the sections are rendered every time.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments.models import Agreement, Commitment, Party, Source
from commitments.selectors import AGREEMENT_ROWS, agreement_rows_version
from commitments.services.assessments import assessment_record
from core.fragments import FRAGMENTS
from dashboard import views
from tests import factories

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row versions (xmin, cmin) are PostgreSQL's; elsewhere nothing is kept",
)

TODAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _empty_sections_cache():
    caches[FRAGMENTS].clear()
    yield
    caches[FRAGMENTS].clear()


@pytest.fixture
def rated(agreement, japan, usa, editor, source):
    """Three commitments, one shared with the United States, rated, cited and with a source."""
    commitments = [
        factories.commitment_make(agreement=agreement, obligor=japan, title=f"Ship aid {n}")
        for n in range(3)
    ]
    commitments[0].co_obligors.add(usa)
    citation = factories.citation_make(source=source, commitment=commitments[0])
    factories.citation_make(source=source, agreement=agreement, quote="Un accord a été conclu.")
    assessment_record(
        commitment=commitments[0],
        party=japan,
        rating="kept",
        justification="Delivered in full.",
        assessed_on=dt.date(2026, 1, 10),
        user=editor,
        evidence=citation,
    )
    assessment_record(
        commitment=commitments[1],
        party=japan,
        rating="in_the_works",
        justification="Tender launched.",
        assessed_on=dt.date(2026, 1, 12),
        user=editor,
    )
    return commitments


def _page(client, agreement: Agreement, query: str = "") -> tuple[str, list[str]]:
    """Return the page's HTML (its CSRF tokens blanked) and the SQL of its queries."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("dashboard:agreement", args=[agreement.pk]) + query)
    assert response.status_code == 200
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return html, [q["sql"] or "" for q in captured.captured_queries]


def _reads_rows(sql: list[str]) -> bool:
    return any('FROM "commitments_commitment"' in q and " xmin " not in q for q in sql)


@postgres_only
def test_a_kept_page_is_the_page_byte_for_byte_and_skips_the_rows(editor_client, agreement, rated):
    first, first_sql = _page(editor_client, agreement)
    kept, kept_sql = _page(editor_client, agreement)
    assert kept == first
    assert "Ship aid 2" in kept and "Delivered in full." in kept
    assert _reads_rows(first_sql)
    assert not _reads_rows(kept_sql)
    assert len(kept_sql) < len(first_sql)
    # The version is read on every request, kept or not, and before any row it covers: the
    # agreement's own row is read after it, so a section kept under it is never older.
    assert sum(" xmin " in q for q in kept_sql) == 1
    for sql in (first_sql, kept_sql):
        version = next(i for i, q in enumerate(sql) if " xmin " in q)
        reads = [i for i, q in enumerate(sql) if 'FROM "commitments_' in q and " xmin " not in q]
        assert reads and version < min(reads)


@postgres_only
def test_a_kept_page_equals_one_rendered_without_keeping(
    editor_client, agreement, rated, monkeypatch
):
    kept_en, _ = _page(editor_client, agreement)
    kept_en, _ = _page(editor_client, agreement)  # from the cache
    monkeypatch.setattr(views, "agreement_rows_version", lambda pk: None)
    rendered, rendered_sql = _page(editor_client, agreement)
    assert rendered == kept_en
    assert _reads_rows(rendered_sql)


@postgres_only
def test_languages_dates_and_days_are_kept_apart(editor_client, agreement, rated):
    en, _ = _page(editor_client, agreement)
    editor_client.cookies["django_language"] = "fr"
    fr, _ = _page(editor_client, agreement)
    assert "Conformité aujourd’hui" in fr or "Conformité aujourd'hui" in fr
    assert fr != en
    as_of, _ = _page(editor_client, agreement, "?as_of=2026-01-11")
    # As of 11 January the second rating (12 January) did not exist yet.
    assert "Delivered in full." in as_of and "Tender launched." not in as_of
    today, _ = _page(editor_client, agreement)
    assert "Tender launched." in today
    with time_machine.travel(TODAY + dt.timedelta(days=1), tick=False):
        _, later_sql = _page(editor_client, agreement)
    assert _reads_rows(later_sql)  # another day: rendered afresh (the timeline's today moves)


@postgres_only
@pytest.mark.parametrize(
    "change",
    [
        "orm_save",
        "queryset_update",
        "raw_sql_state",
        "delete",
        "co_obligor_link",
        "party_rename",
        "new_rating",
        "agreement_edit",
        "source_edit",
        "citation_edit",
        "two_changes_in_one_transaction",
    ],
)
def test_every_writer_shows_at_once(editor_client, editor, agreement, rated, usa, change):
    """Each change, by whatever writer, is on the next page; the kept sections are not."""
    before, _ = _page(editor_client, agreement)
    first = rated[0]
    if change == "orm_save":
        first.title = "Renamed by a save"
        first.save()
        expected = "Renamed by a save"
    elif change == "queryset_update":
        Commitment.objects.filter(pk=first.pk).update(title="Renamed by update()")
        expected = "Renamed by update()"
    elif change == "raw_sql_state":
        # As the deadline scan writes: raw SQL, no signal.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE commitments_commitment SET deadline_state = 'overdue' WHERE id = %s",
                [rated[2].pk],
            )
        expected = "state-overdue"
    elif change == "delete":
        rated[2].delete()
        expected = None
    elif change == "co_obligor_link":
        rated[1].co_obligors.add(usa)
        expected = None
    elif change == "party_rename":
        Party.objects.filter(pk=usa.pk).update(name="Renamed States")
        expected = "Renamed States"
    elif change == "new_rating":
        assessment_record(
            commitment=rated[2],
            party=rated[2].obligor,
            rating="stalled",
            justification="Nothing since the summit.",
            assessed_on=dt.date(2026, 2, 1),
            user=editor,
        )
        expected = "Nothing since the summit."
    elif change == "agreement_edit":
        Agreement.objects.filter(pk=agreement.pk).update(place="Osaka")
        expected = "Osaka"
    elif change == "source_edit":
        Source.objects.update(publisher="Renamed ministry")
        expected = "Renamed ministry"
    elif change == "citation_edit":
        agreement.citations.update(quote="Une citation corrigée.")
        expected = "Une citation corrigée."
    else:
        # Tests run in one transaction: every write here has the same xmin, as two changes
        # made by one request would; the statement number (cmin) tells them apart.
        Commitment.objects.filter(pk=first.pk).update(title="First of two")
        middle, _ = _page(editor_client, agreement)
        assert "First of two" in middle
        Commitment.objects.filter(pk=first.pk).update(title="Second of two")
        expected = "Second of two"
    after, after_sql = _page(editor_client, agreement)
    assert after != before
    assert _reads_rows(after_sql)
    if expected is not None:
        assert expected in after and expected not in before
    if change == "delete":
        assert "Ship aid 2" in before and "Ship aid 2" not in after
    # And the new page is kept in turn.
    again, again_sql = _page(editor_client, agreement)
    assert again == after and not _reads_rows(again_sql)


@pytest.mark.parametrize("query", ["", "?as_of=2026-01-11"])
def test_every_table_the_sections_read_is_in_the_version(editor_client, agreement, rated, query):
    """The sections' queries name only tables whose rows the version covers: a section that
    came to read another table would be kept past that table's changes, and fails here."""
    versioned = {model._meta.db_table for model, _ in AGREEMENT_ROWS}
    request = editor_client.get(reverse("dashboard:agreement", args=[agreement.pk]) + query)
    form = request.context["dates_form"]
    with CaptureQueriesContext(connection) as captured:
        views._agreement_sections(
            request.wsgi_request,
            Agreement.objects.get(pk=agreement.pk),
            today=TODAY.date(),
            dates_form=form,
            as_of=form.cleaned_data.get("as_of") if form.is_bound else None,
            since=None,
        )
    read = {
        table
        for q in captured.captured_queries
        for table in re.findall(r'(?:FROM|JOIN) "(\w+)"', q["sql"])
    }
    assert read  # the sections do read rows
    assert read <= versioned, read - versioned


def test_the_version_is_postgresql_s_alone(agreement, rated):
    version = agreement_rows_version(agreement.pk)
    if connection.vendor == "postgresql":
        assert version is not None and version == agreement_rows_version(agreement.pk)
        other = factories.agreement_make(parties=list(agreement.parties.all()))
        assert agreement_rows_version(other.pk) != version
    else:
        assert version is None


def test_without_a_version_the_sections_are_rendered_every_time(
    editor_client, agreement, rated, monkeypatch
):
    monkeypatch.setattr(views, "agreement_rows_version", lambda pk: None)
    _, first_sql = _page(editor_client, agreement)
    Commitment.objects.filter(pk=rated[0].pk).update(title="Seen at once")
    page, second_sql = _page(editor_client, agreement)
    assert _reads_rows(first_sql) and _reads_rows(second_sql)
    assert "Seen at once" in page


def test_the_sections_are_the_same_for_every_reader(client, editor, viewer, agreement, rated):
    """The kept sections are shared by every reader: nothing in them may depend on who reads
    (the forms, the watch button and the publication panel stay outside them)."""
    url = reverse("dashboard:agreement", args=[agreement.pk])
    sections = []
    for user in (editor, viewer):
        client.force_login(user)
        request = client.get(url).wsgi_request
        sections.append(
            views._agreement_sections(
                request,
                Agreement.objects.get(pk=agreement.pk),
                today=TODAY.date(),
                dates_form=client.get(url).context["dates_form"],
                as_of=None,
                since=None,
            )
        )
    assert sections[0] == sections[1]
    assert set(sections[0]) == set(views.AGREEMENT_SECTIONS)
