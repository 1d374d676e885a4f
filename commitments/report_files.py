"""A frozen report as files: CSV for spreadsheets, PDF for reading and printing.

Both read :func:`commitments.selectors.report_reading`, so they show the corrected values and
say which rows were corrected. The dashboard and the API answer with these bytes.
"""

from __future__ import annotations

import csv
import io

from django.template.loader import render_to_string
from django.utils.text import slugify

from core.spreadsheet import formula_escape

from .choices import rating_label
from .selectors import ReportReading, methodology

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
    report = reading.report
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
