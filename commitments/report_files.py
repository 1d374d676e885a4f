"""A frozen report as files: CSV for spreadsheets, PDF for reading and printing.

Both read :func:`commitments.selectors.report_reading`, so they show the corrected values and
say which rows were corrected. The dashboard and the API answer with these bytes.

A report's rows never change (:class:`commitments.models.FrozenModel`), so what is rendered
from them is cached (:func:`report_cached`) under a key that holds everything else it reads:
the report's own fields, its agreement's title and date, its corrections, the language, the
time zone and the templates and catalogues it is rendered with. A correction, a renamed
agreement or a new translation makes a new key; the old entry is never read again.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import cache
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify

from core.spreadsheet import formula_escape

from .choices import rating_label
from .models import Report
from .selectors import ReportReading, methodology, report_reading

T = TypeVar("T")

#: How long a rendering stays cached. Its key changes with every input, so this only bounds
#: the memory held for reports no one reads any more.
CACHE_SECONDS = 24 * 3600

#: The templates a report is rendered with (the pages' and the files').
REPORT_TEMPLATES = (
    "commitments/_report_body.html",
    "commitments/_methodology.html",
    "commitments/report_print.html",
)

#: The Python modules that write parts of a report's HTML (its rows and their filters): as
#: much a part of how it reads as the templates.
REPORT_MODULES = (
    "commitments.templatetags.report_rows",
    "commitments.templatetags.assessment",
    "core.html_rows",
)

#: The CSV's columns, one row per commitment × obligor.
CSV_COLUMNS = (
    "report",
    "cutoff",
    "commitment_key",
    "commitment_title",
    "party",
    "rating",
    "rating_label",
    "score",
    "justification",
    "assessed_on",
    "reviewed_on",
    "evidence_quote",
    "evidence_locator",
    "source_title",
    "source_url",
    "source_published_on",
    "corrected",
    "last_corrected_on",
)


def report_filename(reading: ReportReading, extension: str) -> str:
    """Return a download name: the agreement's key, the report's title and the cut-off."""
    return report_file_name(reading.report, extension)


def report_file_name(report: Report, extension: str) -> str:
    """Return a download name: the agreement's key, the report's title and the cut-off."""
    stem = slugify(f"{report.agreement.key}-{report.title}") or "report"
    return f"{stem}-{report.cutoff.isoformat()}.{extension}"


def _date(value: object) -> str:
    return value.isoformat() if value else ""  # type: ignore[attr-defined]


def report_csv(reading: ReportReading) -> bytes:
    """Return the report as CSV in UTF-8 with a byte-order mark, so Excel reads the accents."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    report = reading.report
    for line in reading.lines:
        row = line.row
        score = line.score
        writer.writerow(
            [
                formula_escape(report.title),
                report.cutoff.isoformat(),
                formula_escape(row.commitment_key),
                formula_escape(row.commitment_title),
                formula_escape(row.party_name),
                line.rating,
                rating_label(line.rating),
                "" if score is None else str(score),
                formula_escape(line.justification),
                _date(row.assessed_on),
                _date(row.reviewed_on),
                formula_escape(line.evidence),
                formula_escape(row.evidence_locator),
                formula_escape(row.source_title),
                formula_escape(row.source_url),
                _date(row.source_published_on),
                "yes" if line.corrected else "no",
                _date(line.corrections[-1].corrected_on) if line.corrections else "",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_html(reading: ReportReading) -> str:
    """Return the report's printable page, in the active language."""
    return render_to_string(
        "commitments/report_print.html",
        {
            "report": reading.report,
            "reading": reading,
            "method": methodology(scale=reading.report.method),
        },
    )


def report_pdf(reading: ReportReading) -> bytes:
    """Return the report as a PDF (WeasyPrint): title page, tables, sources, corrections, method."""
    from weasyprint import HTML  # imported here: loading it takes a while and most requests skip it

    return HTML(string=report_html(reading)).write_pdf()


@functools.cache
def _rendering_version() -> str:
    """Return a digest of the report templates, the modules that write its rows and the
    translation catalogues (once a process): a deployment that changes how reports read
    changes every key."""
    digest = hashlib.sha256()
    for name in REPORT_TEMPLATES:
        origin = cast(Any, get_template(name)).origin
        digest.update(Path(origin.name).read_bytes())
    for module in REPORT_MODULES:
        digest.update(Path(cast(str, importlib.import_module(module).__file__)).read_bytes())
    for folder in settings.LOCALE_PATHS:
        for catalogue in sorted(Path(folder).glob("*/LC_MESSAGES/*.mo")):
            stat = catalogue.stat()
            digest.update(f"{catalogue}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def report_cache_key(report: Report, variant: str) -> str:
    """Return the cache key of ``report`` rendered as ``variant``, in the active language.

    One query (the report's corrections, whole); ``report`` comes with its agreement and
    author loaded. Everything a rendering reads besides the frozen rows is in the key.
    """
    agreement = report.agreement
    corrections = list(
        report.corrections.order_by("id").values_list(
            "id", "row_id", "corrected_on", "field", "old_value", "new_value", "note"
        )
    )
    parts = (
        variant,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        _rendering_version(),
        (report.pk, report.title, report.cutoff, report.created, report.method),
        report.created_by.get_username() if report.created_by else "",
        (agreement.key, agreement.title, agreement.title_fr, agreement.date),
        sorted(agreement.machine_translations.items()) if agreement.machine_translations else (),
        corrections,
    )
    return f"report:{report.pk}:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def report_cached(report: Report, variant: str, render: Callable[[ReportReading], T]) -> T:
    """Return ``render(report_reading(report))``, cached under :func:`report_cache_key`.

    A hit reads the corrections only; a miss reads the rows too and renders.
    """
    key = report_cache_key(report, variant)
    value = cache.get(key)
    if value is None:
        value = render(report_reading(report=report))
        cache.set(key, value, CACHE_SECONDS)
    return value


#: Each download's media type and how it is made.
FILES: dict[str, tuple[str, Callable[[ReportReading], bytes]]] = {
    "csv": ("text/csv; charset=utf-8", report_csv),
    "pdf": ("application/pdf", report_pdf),
}


def report_file(report: Report, extension: str) -> tuple[bytes, str, str]:
    """Return ``report`` as a file: its bytes (cached), media type and download name."""
    content_type, render = FILES[extension]
    return (
        report_cached(report, extension, render),
        content_type,
        report_file_name(report, extension),
    )
