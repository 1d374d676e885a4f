"""The report pages and files are cached (issue 16): each change they show makes a new key."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from commitments.models import Assessment, Commitment
from commitments.report_files import report_cache_key
from commitments.services.reports import report_correct, report_freeze


@pytest.fixture
def report(agreement, japan, editor):
    commitment = Commitment.objects.create(
        agreement=agreement,
        key="cached-1",
        title="Hold the summit",
        obligor=japan,
        category="meeting",
        deadline_kind="none",
    )
    Assessment.objects.create(
        commitment=commitment,
        party=japan,
        rating="in_the_works",
        assessed_on=dt.date(2026, 1, 5),
        reviewed_on=dt.date(2026, 1, 5),
        justification="Talks have begun.",
        author=editor,
    )
    return report_freeze(agreement=agreement, title="Interim", cutoff=dt.date(2026, 2, 1))


def _get(client, report, name, language="en"):
    url = reverse(f"dashboard:{name}", args=[report.agreement_id, report.pk])
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return b"".join(response) if response.streaming else response.content


@pytest.mark.parametrize("name", ["report", "report_csv"])
def test_a_correction_shows_at_the_next_read_of_a_cached_report(
    editor_client, report, editor, name
):
    before = _get(editor_client, report, name)
    assert b"Talks have begun." in before and b"Talks stalled in March." not in before
    report_correct(
        report=report,
        user=editor,
        row=report.rows.get(),
        field="justification",
        new_value="Talks stalled in March.",
        note="A later source.",
    )
    after = _get(editor_client, report, name)
    assert b"Talks stalled in March." in after


def test_the_cached_page_reads_as_the_page_rendered_afresh(editor_client, report):
    cache.clear()
    fresh = _get(editor_client, report, "report").decode()
    cached = _get(editor_client, report, "report").decode()
    strip = lambda html: html.split('name="csrfmiddlewaretoken"')[0]  # noqa: E731
    assert strip(cached) == strip(fresh)
    assert "Talks have begun." in cached


def test_each_language_has_its_own_rendering(editor_client, report):
    assert "Methodology" in _get(editor_client, report, "report").decode()
    french = _get(editor_client, report, "report", "fr").decode()
    assert "Méthodologie" in french or "Méthode" in french
    assert "Methodology</h2>" not in french


def test_a_reader_does_not_get_the_editors_correct_links(editor_client, viewer, report):
    link = f'href="?row={report.rows.get().pk}#correct"'
    assert link in _get(editor_client, report, "report").decode()
    reader = Client()
    reader.force_login(viewer)
    assert link not in _get(reader, report, "report").decode()


def test_the_key_changes_with_what_the_pdf_reads_besides_the_rows(report):
    key = report_cache_key(report, "pdf")
    assert report_cache_key(report, "pdf") == key
    report.agreement.title = "Japan–US summit, renamed"
    report.agreement.save(update_fields=["title"])
    assert report_cache_key(report, "pdf") != key
    assert report_cache_key(report, "csv") != report_cache_key(report, "pdf")
