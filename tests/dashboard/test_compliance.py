"""The agreement page's compliance as of a date, its comparison, reports and the methodology."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from commitments.assessment import SCALE
from commitments.assessment.pace import TOLERANCE
from commitments.models import Assessment, Commitment, Report, ReportCorrection
from commitments.services.reports import report_freeze
from tests.support.assessment_history import at, rating_history


@pytest.fixture
def history(agreement, japan, usa, source, editor):
    return rating_history(agreement=agreement, japan=japan, usa=usa, source=source, user=editor)


def _page(client, agreement, **query):
    return client.get(reverse("dashboard:agreement", args=[agreement.pk]), query)


def _text(response) -> str:
    return " ".join(response.content.decode().split())


def test_the_table_as_of_a_date_is_the_history_at_that_date(editor_client, agreement, history):
    before = _page(editor_client, agreement, as_of="2026-02-28")
    assert before.status_code == 200
    rows = {(r.commitment.key, r.party.key): r.rating for r in before.context["compliance"].rows}
    assert rows == {("meet", "japan"): "in_the_works", ("meet", "united-states"): "not_rated",
                    ("invest", "japan"): "stalled"}
    body = _text(before)
    assert "Compliance as of Feb. 28, 2026" in body
    assert "Not yet rated: 1 — not in the average" in body
    today = _page(editor_client, agreement)
    assert {r.rating for r in today.context["compliance"].rows} == {"kept", "not_rated", "stalled"}


def test_what_changed_since_shows_from_to_and_why(editor_client, agreement, history):
    response = _page(editor_client, agreement, as_of="2026-03-31", since="2026-01-15")
    assert response.status_code == 200
    changes = {(c.commitment.key, c.rating_before, c.rating_after) for c in
               response.context["changes"]}
    assert changes == {("meet", "in_the_works", "kept"), ("invest", "not_rated", "stalled")}
    body = _text(response)
    assert "What changed since Jan. 15, 2026" in body
    assert "They met in Tokyo." in body and "Les deux pays se sont réunis." in body


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"as_of": "2025-10-27"}, "as_of"),
        ({"as_of": "FUTURE"}, "as_of"),
        ({"since": "2026-03-01", "as_of": "2026-02-01"}, "since"),
        ({"since": "nope"}, "since"),
    ],
)
def test_a_bad_date_is_a_field_error_with_a_400(editor_client, agreement, history, query, field):
    if query.get("as_of") == "FUTURE":
        query["as_of"] = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = _page(editor_client, agreement, **query)
    assert response.status_code == 400
    assert field in response.context["dates_form"].errors
    # The error sits at its field above today's table, which is still shown.
    assert response.context["compliance"].as_of is None
    assert response.context["compliance"].rows
    assert 'class="errorlist"' in response.content.decode()


def test_an_editor_freezes_a_report_and_corrects_it(editor_client, agreement, history):
    url = reverse("dashboard:report_freeze", args=[agreement.pk])
    response = editor_client.post(url, {"title": "Interim 2026", "cutoff": "2026-03-31"})
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:report", args=[agreement.pk, report.pk])
    assert report.rows.count() == 3
    page = editor_client.get(response["Location"])
    assert page.status_code == 200
    assert "Interim 2026" in _text(_page(editor_client, agreement))
    row = report.rows.get(commitment_key="invest")
    corrected = editor_client.post(response["Location"], {
        "row": row.pk, "field": "rating", "new_value": "compromise",
        "note": "A project was named on 20 March.", "corrected_on": "2026-04-02"})
    assert corrected.status_code == 302
    correction = ReportCorrection.objects.get()
    assert (correction.old_value, correction.new_value) == ("stalled", "compromise")
    body = _text(editor_client.get(response["Location"]))
    assert "<del>Stalled</del>" in body and "A project was named on 20 March." in body


@pytest.mark.parametrize(
    ("data", "field"),
    [({"title": "", "cutoff": "2026-03-31"}, "title"),
     ({"title": "Interim", "cutoff": "2025-01-01"}, "cutoff"),
     ({"title": "Interim", "cutoff": "31/03/2026"}, "cutoff"),
     ({"title": "Interim", "cutoff": "FUTURE"}, "cutoff")],
)
def test_a_refused_freeze_shows_the_field_and_writes_nothing(editor_client, agreement, history,
                                                             data, field):
    if data["cutoff"] == "FUTURE":
        data["cutoff"] = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = editor_client.post(reverse("dashboard:report_freeze", args=[agreement.pk]), data)
    assert response.status_code == 400
    assert field in response.context["freeze_form"].errors
    assert not Report.objects.exists()


def test_a_viewer_reads_reports_but_cannot_freeze_or_correct(viewer_client, agreement, history,
                                                             editor):
    report = report_freeze(agreement=agreement, title="Interim", cutoff=dt.date(2026, 3, 31),
                           user=editor, now=at("2026-12-06"))
    assert viewer_client.get(reverse("dashboard:report", args=[agreement.pk, report.pk])
                             ).status_code == 200
    assert viewer_client.post(reverse("dashboard:report_freeze", args=[agreement.pk]),
                              {"title": "Mine", "cutoff": "2026-03-31"}).status_code == 403
    assert viewer_client.post(reverse("dashboard:report", args=[agreement.pk, report.pk]),
                              {"field": "report", "new_value": "x", "note": "y"}).status_code == 403
    assert Report.objects.count() == 1 and not ReportCorrection.objects.exists()
    assert "Freeze a report" not in _text(_page(viewer_client, agreement))


def test_the_csv_has_a_bom_one_row_per_commitment_and_party_and_says_corrected(
    editor_client, agreement, history, editor
):
    from commitments.services.reports import report_correct

    report = report_freeze(agreement=agreement, title="Final 2026", cutoff=dt.date(2026, 3, 31),
                           user=editor, now=at("2026-12-06"))
    report_correct(report=report, row=report.rows.get(commitment_key="invest"),
                   field="justification", new_value="No project named by the cut-off.",
                   note="Clearer.", user=editor, now=at("2026-12-06"))
    response = editor_client.get(reverse("dashboard:report_csv", args=[agreement.pk, report.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["commitment_key"], r["party"], r["rating"], r["score"], r["corrected"])
            for r in rows] == [
        ("meet", "Japan", "kept", "1", "no"),
        ("meet", "United States", "not_rated", "", "no"),
        ("invest", "Japan", "stalled", "-1", "yes"),
    ]
    assert rows[2]["justification"] == "No project named by the cut-off."
    assert rows[0]["evidence_quote"] == "Les deux pays se sont réunis."


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_pdf_is_a_real_pdf(editor_client, agreement, history, editor, language):
    report = report_freeze(agreement=agreement, title="Final 2026", cutoff=dt.date(2026, 3, 31),
                           user=editor, now=at("2026-12-06"))
    response = editor_client.get(reverse("dashboard:report_pdf", args=[agreement.pk, report.pk]),
                                 HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")
    # pypdf and pdftotext are not installed here: WeasyPrint's own layout of the same page
    # counts its pages (a title page, the tables and sources, then the methodology).
    from weasyprint import HTML

    from commitments.report_files import report_html
    from commitments.selectors import report_reading

    with translation.override(language):
        document = HTML(string=report_html(report_reading(report=report))).render()
    assert len(document.pages) >= 3


def test_the_report_html_behind_the_pdf_holds_the_method_and_sources(agreement, history, editor):
    from commitments.report_files import report_html
    from commitments.selectors import report_reading

    report = report_freeze(agreement=agreement, title="Final 2026", cutoff=dt.date(2026, 3, 31),
                           user=editor, now=at("2026-12-06"))
    with translation.override("fr"):
        html = " ".join(report_html(report_reading(report=report)).split())
    assert "Final 2026" in html and "Les deux pays se sont réunis." in html
    assert "Méthodologie" in html and "Tenu" in html


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_methodology_is_generated_from_the_scale(client, viewer, language):
    client.force_login(viewer)
    response = client.get(reverse("dashboard:methodology"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    body = _text(response)
    with translation.override(language):
        for rule in SCALE:
            for text in (rule.label, rule.meaning, rule.why_unscored):
                if text:
                    assert escape(" ".join(translation.gettext(text).split())) in body
    assert str(int(TOLERANCE * 100)) in body and "180" in body
    assert reverse("dashboard:methodology") in _text(client.get(reverse("dashboard:overview")))


def _bulk_rated(agreement, party, editor, n, start=0):
    commitments = Commitment.objects.bulk_create(
        Commitment(agreement=agreement, key=f"bulk-{start + i}", title=f"Bulk {start + i}",
                   obligor=party, category="meeting", deadline_kind="none")
        for i in range(n)
    )
    rows = []
    for i, commitment in enumerate(commitments):
        for day, rating in ((dt.date(2026, 1, 5), "in_the_works"),
                            (dt.date(2026, 2, 5), "stalled")):
            rows.append(Assessment(commitment=commitment, party=party, rating=rating,
                                   assessed_on=day, reviewed_on=day, justification=f"Row {i}",
                                   current=day.month == 2, author=editor))
    Assessment.objects.bulk_create(rows)


def test_the_as_of_page_runs_the_same_queries_for_10_and_1000_commitments(
    editor_client, agreement, japan, editor
):
    url = reverse("dashboard:agreement", args=[agreement.pk])
    query = {"as_of": "2026-01-31", "since": "2026-01-01"}
    _bulk_rated(agreement, japan, editor, 10)
    with CaptureQueriesContext(connection) as small:
        assert editor_client.get(url, query).status_code == 200
    _bulk_rated(agreement, japan, editor, 990, start=10)
    with CaptureQueriesContext(connection) as large:
        response = editor_client.get(url, query)
    assert response.status_code == 200
    assert len(response.context["compliance"].rows) == 1000
    assert len(response.context["changes"]) == 1000
    assert len(small.captured_queries) == len(large.captured_queries)


def test_a_rating_correction_is_written_as_its_name_on_the_scale(editor_client, agreement,
                                                                   history):
    """The editor types what the page shows ("Compromise", or « Compromis » in French), not
    an internal code; the code is still accepted (the API's clients send it)."""
    editor_client.post(reverse("dashboard:report_freeze", args=[agreement.pk]),
                       {"title": "Interim 2026", "cutoff": "2026-03-31"})
    report = Report.objects.get()
    url = reverse("dashboard:report", args=[agreement.pk, report.pk])
    page = editor_client.get(url)
    assert "Compromise" in str(page.context["correct_form"].fields["new_value"].help_text)
    row = report.rows.get(commitment_key="invest")
    response = editor_client.post(url, {
        "row": row.pk, "field": "rating", "new_value": "In the works",
        "note": "A project was named on 20 March.", "corrected_on": "2026-04-02"})
    assert response.status_code == 302
    assert ReportCorrection.objects.get().new_value == "in_the_works"
    response = editor_client.post(url, {
        "row": row.pk, "field": "rating", "new_value": "compromise",
        "note": "Half the project is done.", "corrected_on": "2026-04-03"})
    assert response.status_code == 302
    assert list(ReportCorrection.objects.order_by("id").values_list("new_value", flat=True)) == [
        "in_the_works", "compromise"]
