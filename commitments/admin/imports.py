"""The commitments' import (CSV and XLSX) and export in the admin (all rows or none).

The admin keeps django-import-export's preview and confirm steps, on the engine every import
uses (:mod:`commitments.services.imports`): the same file reader (UTF-8 with or without BOM,
Windows-1252, Excel workbooks), the same checks and the same errors, numbered by the file's
lines. The import page links the template files.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.results import Result

from commitments.resources import CommitmentResource
from commitments.services.imports import (
    TEMPLATE_FORMATS,
    ImportFileError,
    import_template,
    result_errors,
    table_read,
)


class _EngineFormat:
    """A format whose file is read by the import engine's reader, as bytes."""

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: bytes) -> Any:
        return table_read(data=in_stream, filename=f"file.{self.get_extension()}")  # type: ignore[attr-defined]


class EngineCSV(_EngineFormat, base_formats.CSV):
    """CSV in UTF-8 (with or without BOM) or Windows-1252, separated by ``,``, ``;`` or tab."""


class EngineXLSX(_EngineFormat, base_formats.XLSX):
    """An Excel workbook, read from its first sheet."""


class CommitmentImportExportMixin(ImportExportMixin):
    """Import and export commitments through :class:`CommitmentResource`."""

    resource_classes = [CommitmentResource]
    import_formats = [EngineCSV, EngineXLSX]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    import_template_name = "admin/commitments/commitment/import.html"
    import_error_display = ("message",)
    #: Excel opens a CSV file as UTF-8 only when it starts with a byte-order mark.
    to_encoding = "utf-8-sig"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "import/template.<str:file_format>",
                self.admin_site.admin_view(self.import_template_view),
                name="commitments_commitment_import_template",
            ),
            *super().get_urls(),
        ]

    def import_template_view(self, request: HttpRequest, file_format: str) -> HttpResponse:
        """Download the import template with its example row, as CSV or XLSX."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        if file_format not in TEMPLATE_FORMATS:
            raise Http404
        response = HttpResponse(
            import_template(file_format=file_format), content_type=TEMPLATE_FORMATS[file_format]
        )
        response["Content-Disposition"] = (
            f'attachment; filename="commitments-template.{file_format}"'
        )
        return response

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        """Import all rows or none: one bad row rolls the whole file back."""
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def add_data_read_fail_error_to_form(self, form: Any, e: Exception) -> None:
        """Say why the file cannot be read, in plain words, on the file field."""
        if isinstance(e, ImportFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        """After the confirm step, report rows that failed (the data changed since the preview)."""
        if not result.has_errors() and not result.has_validation_errors():
            return super().process_result(result, request)
        for error in result_errors(result):
            self.message_user(request, str(error), messages.ERROR)
        self.message_user(
            request,
            _("Nothing was imported; correct the file and import it again."),
            messages.ERROR,
        )
        return HttpResponseRedirect(reverse("admin:commitments_commitment_import"))

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)
