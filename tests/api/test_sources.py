"""Sources in the API: the archived copy's facts, its text, its original, and adding one."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from commitments.models import Citation, Source
from commitments.services import sources as svc
from commitments.services.publishing import agreement_publish_unreviewed
from tests.commitments.test_sources import PAGE, STATEMENT, _blank_pdf, _pdf

pytestmark = pytest.mark.django_db

LIST = "/api/v1/sources/"
FIELDS: dict[str, Any] = {
    "title": "Joint Statement on a United States–European Union framework",
    "publisher": "European Commission",
    "language": "en",
    "published_on": "2025-08-21",
    "kind": "official",
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_an_editor_adds_a_pasted_text_by_json(editor_api, editor):
    response = editor_api.post(LIST, {**FIELDS, "text": STATEMENT, "retrieved_on": "2025-08-22",
                                      "link": "https://ec.europa.eu/s"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    source = Source.objects.get()
    assert body["id"] == source.pk
    assert body["key"] == source.key
    assert source.key == "joint-statement-on-a-united-states-european-union-framework"
    assert body["text"] == source.text == STATEMENT
    assert body["sha256"] == hashlib.sha256(STATEMENT.encode()).hexdigest()
    assert body["retrieved_on"] == "2025-08-22" and body["content_type"] == "text/plain"
    assert body["link"] == source.url == "https://ec.europa.eu/s"
    assert body["original"].endswith(f"{LIST}{source.pk}/original/")
    assert source.history.first().history_user == editor


def test_an_editor_uploads_a_pdf_by_multipart(editor_api):
    data = _pdf(STATEMENT)
    upload = SimpleUploadedFile("statement.pdf", data, content_type="application/octet-stream")
    response = editor_api.post(LIST, {**FIELDS, "original": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["content_type"] == "application/pdf" and body["original_name"] == "statement.pdf"
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert "$750 billion" in body["text"]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({}, "text", "Paste the source's text, or upload its file"),
        ({"text": "   "}, "text", "Paste the source's text"),
        ({"original": ("x.bin", bytes(range(256)) * 40)}, "original", "not a PDF, a web page"),
        ({"original": ("scan.pdf", "BLANK")}, "original", "no text layer"),
        ({"original": ("empty.txt", b"")}, "original", "empty"),
        ({"text": "x", "original": ("a.txt", b"text")}, "text", "not both"),
        ({"text": STATEMENT, "key": "taken"}, "key", "already exists"),
        ({"text": STATEMENT, "language": "english!"}, "language", ""),
        ({"text": STATEMENT, "kind": "blog"}, "kind", "valid choice"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_written(
    editor_api, tmp_path, body, field, reason
):
    Source.objects.create(key="taken", title="T", publisher="P", language="en",
                          published_on="2025-01-01", kind="press")
    data = {**FIELDS, **body}
    if "original" in data:
        name, raw = data["original"]
        data["original"] = SimpleUploadedFile(name, _blank_pdf() if raw == "BLANK" else raw)
    response = editor_api.post(LIST, data, format="multipart")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert reason in " ".join(errors[field])
    assert Source.objects.count() == 1
    assert not any(tmp_path.rglob("*.*"))


def test_an_oversized_file_is_a_400_with_the_limit(editor_api, settings):
    settings.TRACKER_SOURCE_MAX_BYTES = 1024
    upload = SimpleUploadedFile("big.txt", b"word " * 1000)
    response = editor_api.post(LIST, {**FIELDS, "original": upload}, format="multipart")
    assert response.status_code == 400
    assert "larger than 1 KB, the largest accepted." in " ".join(response.json()["original"])
    assert not Source.objects.exists()


def test_viewers_read_but_cannot_add(viewer_api):
    assert viewer_api.get(LIST).status_code == 200
    response = viewer_api.post(LIST, {**FIELDS, "text": STATEMENT}, format="json")
    assert response.status_code == 403
    assert not Source.objects.exists()


def test_the_list_leaves_the_text_out_and_the_detail_carries_it(viewer_api, editor):
    source = svc.source_create(user=editor, text=STATEMENT, key="s", **{
        k: v for k, v in FIELDS.items() if k != "published_on"}, published_on="2025-08-21")
    listed = viewer_api.get(LIST).json()["results"][0]
    assert "text" not in listed
    assert listed["sha256"] == source.sha256
    detail = viewer_api.get(f"{LIST}{source.pk}/").json()
    assert detail["text"] == STATEMENT


def test_citations_carry_their_span(viewer_api, editor, make_commitment):
    source = svc.source_create(user=editor, text=STATEMENT, key="s", **{
        k: v for k, v in FIELDS.items() if k != "published_on"}, published_on="2025-08-21")
    commitment = make_commitment()
    cite = Citation(source=source, commitment=commitment, quote="$750 billion")
    svc.citation_place(cite, required=True)
    cite.save()
    for url in (f"/api/v1/commitments/{commitment.pk}/", "/api/v1/commitments/"):
        body = viewer_api.get(url).json()
        row = body if "citations" in body else body["results"][0]
        (citation,) = row["citations"]
        assert STATEMENT[citation["start"]:citation["end"]] == "$750 billion"


@pytest.mark.parametrize("kind", ["pdf", "html"])
def test_the_original_downloads_safely_for_readers_only(
    viewer_api, editor, settings, kind, agreement
):
    data = _pdf(STATEMENT) if kind == "pdf" else PAGE.encode()
    source = svc.source_create(user=editor, upload=data, upload_name=f"s.{kind}", key="s",
                               **{**FIELDS, "published_on": "2025-08-21"})
    url = viewer_api.get(f"{LIST}{source.pk}/").json()["original"]
    response = viewer_api.get(url)
    assert response.status_code == 200
    expected = "application/pdf" if kind == "pdf" else "text/plain; charset=utf-8"
    assert response["Content-Type"] == expected
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == data
    # Not for anonymous callers, even when the API is publicly readable and the source public
    # (cited by a published agreement: issue 15).
    settings.API_PUBLIC_READ = True
    assert APIClient().get(f"{LIST}{source.pk}/").status_code == 404
    Citation.objects.create(source=source, agreement=agreement, quote="15 percent")
    agreement_publish_unreviewed(agreement=agreement)
    assert APIClient().get(f"{LIST}{source.pk}/").status_code == 200
    assert APIClient().get(url).status_code == 401


def test_a_source_with_no_copy_has_no_download(viewer_api, source):
    body = viewer_api.get(f"{LIST}{source.pk}/").json()
    assert body["original"] is None
    assert viewer_api.get(f"{LIST}{source.pk}/original/").status_code == 404


# A status change that adds its source (issue 14, item 3) -----------------------------------

NEW = {**FIELDS, "text": STATEMENT}


def test_a_status_change_adds_its_new_source_in_the_same_request(editor_api, make_commitment):
    from commitments.models import ProgressUpdate

    commitment = make_commitment()
    response = editor_api.post(
        f"/api/v1/commitments/{commitment.pk}/status/",
        {"status": "fulfilled", "occurred_on": "2026-01-10",
         "evidence": {"new_source": NEW, "quote": "15 percent"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    cite = ProgressUpdate.objects.get().evidence
    assert cite.source.text == STATEMENT and STATEMENT[cite.start:cite.end] == "15 percent"


@pytest.mark.parametrize(
    ("evidence", "path", "reason"),
    [
        ({"new_source": {**NEW, "text": ""}, "quote": "x"}, ("new_source", "text"), "Paste"),
        ({"new_source": {**NEW, "kind": "blog"}, "quote": "15 percent"}, ("new_source", "kind"),
         "valid choice"),
        ({"new_source": {**NEW, "extra": 1}, "quote": "15 percent"}, ("new_source", "extra"),
         "Unknown field"),
        ({"new_source": NEW, "quote": "20 percent"}, ("quote",), "not in the archived text"),
        ({"new_source": "a source", "quote": "x"}, ("new_source", "non_field_errors"),
         "Expected an object"),
    ],
)
def test_a_refused_new_source_is_a_400_under_evidence_and_nothing_is_written(
    editor_api, make_commitment, evidence, path, reason
):
    from commitments.models import ProgressUpdate

    commitment = make_commitment()
    response = editor_api.post(
        f"/api/v1/commitments/{commitment.pk}/status/",
        {"status": "fulfilled", "occurred_on": "2026-01-10", "evidence": evidence},
        format="json",
    )
    assert response.status_code == 400, response.content
    detail = response.json()["evidence"]
    for key in path:
        detail = detail[key]
    assert reason in " ".join(detail)
    assert not Source.objects.exists() and not ProgressUpdate.objects.exists()
    assert not Citation.objects.exists()
