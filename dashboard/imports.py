"""The dashboard's "Import commitments" pages (editors): upload a file, follow its run.

Every file is imported in the background by a Celery task (``commitments.tasks``); the run's
page refreshes itself (no JavaScript needed) until the run is done, then lists every error.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commitments.models import ImportRun
from commitments.services.imports import (
    MAX_FILE_BYTES,
    TEMPLATE_FORMATS,
    LineError,
    import_run_start,
    import_template,
)
from core.roles import can_write

#: Seconds between two refreshes of a run's page while it runs.
REFRESH_SECONDS = 2


class ImportUploadForm(forms.Form):
    """The file to import: CSV or Excel, within the size limit."""

    file = forms.FileField(
        label=gettext_lazy("File (CSV or Excel .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB; split it into several files.")
                % {"size": MAX_FILE_BYTES // (1024 * 1024)}
            )
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Give a CSV file (.csv) or an Excel workbook (.xlsx)."))
        return upload


def _editor(request: HttpRequest) -> None:
    if not can_write(request.user):
        raise PermissionDenied


@login_required
def import_start(request: HttpRequest) -> HttpResponse:
    """Show the upload form and recent runs; a posted file becomes a queued run."""
    _editor(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        run = import_run_start(file_name=upload.name, data=upload.read(), user=request.user)
        return HttpResponseRedirect(reverse("dashboard:import_run", args=[run.pk]))
    runs = ImportRun.objects.defer("file_data").select_related("user")[:10]
    return render(
        request,
        "dashboard/import_start.html",
        {"form": form, "runs": runs, "max_mb": MAX_FILE_BYTES // (1024 * 1024)},
        status=400 if form.errors else 200,
    )


@login_required
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a run: a progress bar refreshing itself while it runs, then its outcome."""
    _editor(request)
    run = get_object_or_404(ImportRun.objects.defer("file_data"), pk=pk)
    errors = [LineError(**error) for error in run.errors]
    return render(
        request,
        "dashboard/import_run.html",
        {
            "run": run,
            "errors": errors,
            "refresh": None if run.finished_running else REFRESH_SECONDS,
        },
    )


@login_required
def import_template_download(request: HttpRequest, file_format: str) -> HttpResponse:
    """Download the import template (header and one example row), as CSV or XLSX."""
    _editor(request)
    if file_format not in TEMPLATE_FORMATS:
        raise Http404
    response = HttpResponse(
        import_template(file_format=file_format), content_type=TEMPLATE_FORMATS[file_format]
    )
    response["Content-Disposition"] = f'attachment; filename="commitments-template.{file_format}"'
    return response
