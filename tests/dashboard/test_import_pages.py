"""The dashboard's "Import commitments" pages: editors upload, follow the run, read errors."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from commitments.models import Commitment, ImportRun, ImportRunStatus
from commitments.services.imports import import_run_execute
from tests.commitments.test_import_engine import as_csv, row

pytestmark = pytest.mark.django_db


def upload(client, content: bytes, name="commitments.csv"):
    return client.post(reverse("dashboard:import"),
                       {"file": SimpleUploadedFile(name, content, content_type="text/csv")})


def test_viewers_cannot_import_or_see_runs(viewer_client, editor):
    assert viewer_client.get(reverse("dashboard:import")).status_code == 403
    assert upload(viewer_client, b"key\n").status_code == 403
    run = ImportRun.objects.create(file_name="c.csv", file_data=b"", user=editor)
    assert viewer_client.get(reverse("dashboard:import_run", args=[run.pk])).status_code == 403
    assert not Commitment.objects.exists()


def test_the_import_page_links_both_templates(editor_client):
    page = editor_client.get(reverse("dashboard:import")).content.decode()
    for file_format in ("csv", "xlsx"):
        url = reverse("dashboard:import_template", kwargs={"file_format": file_format})
        assert url in page
        response = editor_client.get(url)
        assert response.status_code == 200
        assert "attachment" in response["Content-Disposition"]


def test_an_upload_becomes_a_run_whose_page_refreshes_until_done(
    editor_client, agreement, japan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(editor_client, as_csv([row("meeting")]).encode("cp1252"))
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:import_run", args=[run.pk])
    assert len(callbacks) == 1
    page = editor_client.get(response["Location"]).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "<progress" in page and "Queued" in page

    import_run_execute(run_id=run.pk)
    page = editor_client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert "1 commitment created" in page
    assert Commitment.objects.filter(key="meeting").exists()


def test_a_refused_run_shows_every_error_with_line_and_column(editor_client, agreement, japan):
    response = upload(editor_client, as_csv([row("a", due_date="2026-01-01")]).encode())
    run = ImportRun.objects.get()
    import_run_execute(run_id=run.pk)
    page = editor_client.get(response["Location"]).content.decode()
    assert "Nothing was imported" in page
    assert "Line 1, column due_date: these columns are computed by the tracker" in page
    assert "Traceback" not in page and "import_id_fields" not in page
    assert not Commitment.objects.exists()


def test_a_file_over_the_limit_or_of_another_kind_is_refused_at_the_form(
    editor_client, monkeypatch
):
    monkeypatch.setattr("dashboard.imports.MAX_FILE_BYTES", 10)
    response = upload(editor_client, b"key,title\nlong,enough\n")
    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    monkeypatch.undo()
    response = upload(editor_client, b"%PDF-1.4", name="report.pdf")
    assert response.status_code == 400
    assert not ImportRun.objects.exists()


def test_the_french_page_says_the_errors_in_french(editor_client, agreement, japan):
    response = upload(editor_client, as_csv([row("a", obligor="atlantis")]).encode())
    import_run_execute(run_id=ImportRun.objects.get().pk)
    page = editor_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Ligne 2, colonne obligor" in page
    assert ImportRun.objects.get().status == ImportRunStatus.FAILED
