"""The API's compliance as of a date and its reports: contract, bad input, query budget."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments.models import Assessment, Commitment, Report, ReportCorrection
from tests.support.api_support import results
from tests.support.assessment_history import rating_history


@pytest.fixture
def history(agreement, japan, usa, source, editor):
    return rating_history(agreement=agreement, japan=japan, usa=usa, source=source, user=editor)


def _url(agreement, tail=""):
    return f"/api/v1/agreements/{agreement.pk}/{tail}"


def test_compliance_as_of_a_date_with_changes_since(viewer_api, agreement, history):
    response = viewer_api.get(_url(agreement, "compliance/"),
                              {"as_of": "2026-03-31", "since": "2026-01-15"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["as_of"] == "2026-03-31" and body["since"] == "2026-01-15"
    assert body["agreement"]["id"] == agreement.pk
    japan, usa = body["parties"]
    assert japan["party"]["key"] == "japan"
    assert [(r["commitment"]["key"], r["rating"], r["score"]) for r in japan["rows"]] == [
        ("meet", "kept", 1), ("invest", "stalled", -1)]
    assert japan["average"] == "0.00" and japan["percent"] == 50
    assert japan["rows"][0]["evidence"]["quote"] == "Les deux pays se sont réunis."
    assert japan["rows"][0]["assessed_on"] == "2026-03-01"
    assert usa["average"] is None and usa["counts"]["not_rated"] == 1 and usa["unscored"] == 1
    assert body["totals"]["scored"] == 2 and body["totals"]["unscored"] == 1
    changes = {(c["commitment"]["key"], c["rating_from"], c["rating_to"]) for c in body["changes"]}
    assert changes == {("meet", "in_the_works", "kept"), ("invest", "not_rated", "stalled")}
    earlier = viewer_api.get(_url(agreement, "compliance/"), {"as_of": "2026-02-28"}).json()
    assert earlier["parties"][0]["rows"][0]["rating"] == "in_the_works"
    assert "changes" not in earlier


@pytest.mark.parametrize(
    ("query", "field"),
    [({"as_of": "tomorrow"}, "as_of"), ({"as_of": "2026-13-01"}, "as_of"),
     ({"as_of": "2025-01-01"}, "as_of"), ({"as_of": "FUTURE"}, "as_of"),
     ({"since": "x"}, "since"), ({"as_of": "2026-02-01", "since": "2026-03-01"}, "since")],
)
def test_a_bad_date_is_a_400_naming_the_field(viewer_api, agreement, query, field):
    if query.get("as_of") == "FUTURE":
        query["as_of"] = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = viewer_api.get(_url(agreement, "compliance/"), query)
    assert response.status_code == 400
    assert field in response.json()


def test_an_unknown_agreement_is_a_404(viewer_api, agreement):
    assert viewer_api.get(f"/api/v1/agreements/{agreement.pk + 99}/compliance/").status_code == 404
    assert viewer_api.get(f"/api/v1/agreements/{agreement.pk + 99}/reports/").status_code == 404


def test_an_editor_freezes_lists_reads_corrects_and_downloads(editor_api, agreement, history):
    made = editor_api.post(_url(agreement, "reports/"),
                           {"title": "Interim 2026", "cutoff": "2026-03-31"}, format="json")
    assert made.status_code == 201, made.content
    report = Report.objects.get()
    assert made["Location"] == made.json()["url"]
    assert [r["title"] for r in results(editor_api.get(_url(agreement, "reports/")))] == [
        "Interim 2026"]
    row = report.rows.get(commitment_key="invest")
    corrected = editor_api.post(
        _url(agreement, f"reports/{report.pk}/corrections/"),
        {"row": row.pk, "field": "rating", "new_value": "compromise", "note": "Found later."},
        format="json")
    assert corrected.status_code == 201, corrected.content
    detail = editor_api.get(_url(agreement, f"reports/{report.pk}/")).json()
    line = next(r for r in detail["rows"] if r["id"] == row.pk)
    assert (line["rating"], line["score"], line["frozen"]["rating"], line["corrected"]) == (
        "compromise", 0, "stalled", True)
    assert line["corrections"][0]["old_value"] == "stalled"
    assert detail["method"][0]["rating"] == "kept"
    csv = editor_api.get(_url(agreement, f"reports/{report.pk}/csv/"))
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbfreport,cutoff,")
    pdf = editor_api.get(_url(agreement, f"reports/{report.pk}/pdf/"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert editor_api.get(_url(agreement, f"reports/{report.pk}/pdf/"),
                          HTTP_ACCEPT="application/pdf").status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [({"title": " ", "cutoff": "2026-03-31"}, "title"),
     ({"title": "A", "cutoff": "2024-01-01"}, "cutoff"),
     ({"title": "A", "cutoff": "FUTURE"}, "cutoff"),
     ({"title": "A", "cutoff": "March"}, "cutoff"),
     ({"title": "A", "cutoff": "2026-03-31", "rows": []}, "rows")],
)
def test_a_refused_freeze_names_the_field_and_writes_nothing(editor_api, agreement, history,
                                                             data, field):
    if data["cutoff"] == "FUTURE":
        data["cutoff"] = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = editor_api.post(_url(agreement, "reports/"), data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Report.objects.exists()


def test_a_correction_without_a_reason_is_refused(editor_api, agreement, history):
    editor_api.post(_url(agreement, "reports/"), {"title": "A", "cutoff": "2026-03-31"},
                    format="json")
    report = Report.objects.get()
    response = editor_api.post(
        _url(agreement, f"reports/{report.pk}/corrections/"),
        {"row": report.rows.get(commitment_key="invest").pk, "field": "justification",
         "new_value": "x", "note": ""},
        format="json")
    assert response.status_code == 400 and "note" in response.json()
    assert not ReportCorrection.objects.exists()


def test_a_viewer_reads_but_cannot_freeze(viewer_api, agreement, history):
    response = viewer_api.post(_url(agreement, "reports/"),
                               {"title": "A", "cutoff": "2026-03-31"}, format="json")
    assert response.status_code == 403
    assert not Report.objects.exists()
    assert viewer_api.get(_url(agreement, "reports/")).status_code == 200


def _bulk_rated(agreement, party, n, start=0):
    commitments = Commitment.objects.bulk_create(
        Commitment(agreement=agreement, key=f"bulk-{start + i}", title=f"Bulk {start + i}",
                   obligor=party, category="meeting", deadline_kind="none")
        for i in range(n)
    )
    Assessment.objects.bulk_create(
        Assessment(commitment=c, party=party, rating=rating, assessed_on=day, reviewed_on=day,
                   justification="Why.", current=current)
        for c in commitments
        for day, rating, current in ((dt.date(2026, 1, 5), "in_the_works", False),
                                     (dt.date(2026, 2, 5), "stalled", True))
    )


def test_the_compliance_endpoint_runs_the_same_queries_for_10_and_1000_commitments(
    viewer_api, agreement, japan
):
    url = _url(agreement, "compliance/")
    query = {"as_of": "2026-01-31", "since": "2026-01-01"}
    _bulk_rated(agreement, japan, 10)
    viewer_api.get(url, query)  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as small:
        assert viewer_api.get(url, query).status_code == 200
    _bulk_rated(agreement, japan, 990, start=10)
    with CaptureQueriesContext(connection) as large:
        response = viewer_api.get(url, query)
    assert len(response.json()["parties"][0]["rows"]) == 1000
    assert len(response.json()["changes"]) == 1000
    assert len(small.captured_queries) == len(large.captured_queries)


def test_a_viewer_cannot_correct_and_pages_are_capped(viewer_api, editor_api, agreement, history):
    from core.rest.pagination import PageNumberPagination

    editor_api.post(_url(agreement, "reports/"), {"title": "A", "cutoff": "2026-03-31"},
                    format="json")
    report = Report.objects.get()
    refused = viewer_api.post(_url(agreement, f"reports/{report.pk}/corrections/"),
                              {"field": "report", "new_value": "x", "note": "y"}, format="json")
    assert refused.status_code == 403
    assert not ReportCorrection.objects.exists()
    for method in ("put", "patch", "delete"):
        answer = getattr(editor_api, method)(_url(agreement, f"reports/{report.pk}/"))
        assert answer.status_code == 405
    assert Report.objects.get().title == "A"
    maximum = PageNumberPagination.max_page_size
    too_many = viewer_api.get(_url(agreement, "reports/"), {"page_size": maximum + 1})
    assert too_many.status_code == 400 and "page_size" in too_many.json()
    unknown = editor_api.post(_url(agreement, f"reports/{report.pk}/corrections/"),
                              {"field": "report", "new_value": "x", "note": "y", "author": 1},
                              format="json")
    assert unknown.status_code == 400 and "author" in unknown.json()
