"""The commitments' CSV import and export in the admin (all rows or none)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.results import Result

from commitments.resources import CommitmentResource


class CommitmentImportExportMixin(ImportExportMixin):
    """Import and export commitments as CSV through :class:`CommitmentResource`."""

    resource_classes = [CommitmentResource]
    import_formats = [base_formats.CSV]
    export_formats = [base_formats.CSV]

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        """Import all rows or none: one bad row rolls the whole file back."""
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        """After the confirm step, report rows that failed (the data changed since the preview)."""
        if not result.has_errors() and not result.has_validation_errors():
            return super().process_result(result, request)
        for row in result.invalid_rows:
            for field, errors in row.error_dict.items():
                self.message_user(
                    request,
                    _("Row %(number)s, %(field)s: %(errors)s")
                    % {"number": row.number, "field": field, "errors": " ".join(errors)},
                    messages.ERROR,
                )
        for number, errors in result.row_errors():
            for error in errors:
                self.message_user(
                    request,
                    _("Row %(number)s: %(error)s") % {"number": number, "error": error.error},
                    messages.ERROR,
                )
        for error in result.base_errors:
            self.message_user(request, str(error.error), messages.ERROR)
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
