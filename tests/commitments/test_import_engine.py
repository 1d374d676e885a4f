"""The commitments import engine: reading files, checking headers, planning rows, citations."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import Workbook

from commitments.models import Citation, Commitment
from commitments.services.imports import (
    ImportFileError,
    LineError,
    commitments_import,
    table_read,
)

pytestmark = pytest.mark.django_db

COLUMNS = [
    "key", "agreement", "title", "obligor", "category", "deadline_phrase", "deadline_kind",
    "offset_amount", "offset_unit", "anchor_kind", "anchor_commitment",
]


def row(key: str, **values: str) -> dict[str, str]:
    base = {
        "key": key, "agreement": "summit-2025-10-28", "title": f"Commitment {key}",
        "obligor": "japan", "category": "meeting", "deadline_phrase": "",
        "deadline_kind": "relative", "offset_amount": "180", "offset_unit": "days",
        "anchor_kind": "agreement", "anchor_commitment": "",
    }
    base.update(values)
    return base


def as_csv(rows: list[dict[str, str]], columns: list[str] | None = None, delimiter=",") -> str:
    columns = columns or list(rows[0])
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for values in rows:
        writer.writerow([values.get(name, "") for name in columns])
    return out.getvalue()


def run(data: bytes, user=None, filename="commitments.csv"):
    return commitments_import(dataset=table_read(data=data, filename=filename), user=user)


def errors_of(report) -> list[tuple[int | None, str | None]]:
    return [(error.line, error.column) for error in report.errors]


# --- Reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")],
    ids=["utf-8", "utf-8 with BOM", "windows-1252"],
)
def test_csv_in_utf8_with_or_without_bom_and_in_windows_1252_reads_the_same_text(
    agreement, japan, encoding, prefix
):
    """Excel on Windows saves CSV in Windows-1252; "Réunion à Tōkyō" must not come back as
    mojibake."""
    title = "Réunion ministérielle « minéraux » – 2 €"
    data = prefix + as_csv([row("meeting", title=title)]).encode(encoding)
    report = run(data)
    assert report.ok, report.errors
    assert Commitment.objects.get(key="meeting").title == title


def test_semicolon_separated_csv_as_french_excel_writes_it_is_read(agreement, japan):
    report = run(as_csv([row("meeting")], delimiter=";").encode("cp1252"))
    assert report.ok, report.errors
    assert Commitment.objects.get(key="meeting").due_date == dt.date(2026, 4, 26)


def test_xlsx_is_read_from_its_first_sheet_with_numbers_and_dates_as_cells(agreement, japan):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["key", "agreement", "title", "obligor", "category", "target_amount",
                  "target_unit", "deadline_kind", "deadline_date"])
    sheet.append(["financing", "summit-2025-10-28", "Financing", "japan", "financing",
                  550000000000, "USD", "fixed", dt.datetime(2026, 3, 31)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run(buffer.getvalue(), filename="c.xlsx")
    assert report.ok, report.errors
    financing = Commitment.objects.get(key="financing")
    assert financing.target_amount == 550_000_000_000
    assert financing.due_date == dt.date(2026, 3, 31)


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "c.csv", "The file is empty."),
        (b"\x00\x01\x02\xff\xfe binary", "c.csv", "is it really a CSV file?"),
        (b"\x81\x8d\x8f garbage", "c.csv", "not text in UTF-8 or Windows-1252"),
        (b"\xff\xfek\x00e\x00y\x00", "c.csv", "UTF-16"),
        (b"PK\x03\x04 not really a zip", "c.xlsx", "not an Excel workbook"),
        (b"\n\n", "c.csv", "no header row"),
        (b'key,title\n"open quote,x\n', "c.csv", "cannot be read as CSV"),
        (b"key,title\na,b,c\n", "c.csv", "Line 2 has more cells than the header"),
    ],
)
def test_unreadable_files_are_refused_in_plain_words(data, filename, message):
    with pytest.raises(ImportFileError) as raised:
        table_read(data=data, filename=filename)
    assert message in str(raised.value)


def test_lines_are_counted_from_the_header_and_blank_lines_keep_their_number(agreement, japan):
    text = as_csv([row("first")]) + "\r\n" + as_csv([row("bad", obligor="atlantis")]).split(
        "\r\n", 1
    )[1]
    report = run(text.encode())
    assert [(e.line, e.column) for e in report.errors] == [(4, "obligor")]
    assert "No party has the key 'atlantis'." in str(report.errors[0])
    assert str(report.errors[0]).startswith("Line 4, column obligor: ")
    assert not Commitment.objects.exists()


# --- The header -------------------------------------------------------------------------------


def test_computed_columns_are_refused_by_name_and_nothing_is_written(agreement, japan):
    values = row("meeting", due_date="2026-01-01", deadline_state="overdue")
    report = run(as_csv([values]).encode())
    assert errors_of(report) == [(1, "due_date, deadline_state")]
    assert "computed by the tracker" in report.errors[0].message
    assert not Commitment.objects.exists()


def test_unknown_and_repeated_columns_are_refused_by_name(agreement, japan):
    data = as_csv([row("meeting", deadline="soon")]).replace(
        "anchor_commitment,deadline", "anchor_commitment,Deadline"
    )
    report = run(data.encode())
    assert errors_of(report) == [(1, "'Deadline'")]
    assert "unknown columns" in report.errors[0].message

    report = run(b"key,title,title\nmeeting,a,b\n")
    assert errors_of(report) == [(1, "title")]
    assert not Commitment.objects.exists()


# --- Rows that refer to each other ---------------------------------------------------------------


def test_a_key_given_twice_is_an_error_naming_both_lines(agreement, japan):
    report = run(as_csv([row("a"), row("b"), row("a", title="Again")]).encode())
    assert errors_of(report) == [(4, "key")]
    assert "also on line 2" in report.errors[0].message
    assert not Commitment.objects.exists()


def test_an_anchor_defined_further_down_the_file_is_saved_first(agreement, japan):
    rows = [
        row("follow-up", anchor_kind="commitment", anchor_commitment="meeting",
            offset_amount="30"),
        row("meeting"),
    ]
    report = run(as_csv(rows).encode())
    assert report.ok, report.errors
    assert report.created == 2
    follow_up = Commitment.objects.get(key="follow-up")
    assert follow_up.anchor_commitment == Commitment.objects.get(key="meeting")


def test_a_cycle_of_anchors_across_rows_is_an_error_naming_its_lines(agreement, japan):
    rows = [
        row("fine"),
        row("a", anchor_kind="commitment", anchor_commitment="b"),
        row("b", anchor_kind="commitment", anchor_commitment="c"),
        row("c", anchor_kind="commitment", anchor_commitment="a"),
        row("hangs-on-cycle", anchor_kind="commitment", anchor_commitment="a"),
    ]
    report = run(as_csv(rows).encode())
    assert errors_of(report) == [
        (3, "anchor_commitment"), (4, "anchor_commitment"), (5, "anchor_commitment")
    ]
    assert "line 3 (a) → line 4 (b) → line 5 (c) → line 3 (a)" in report.errors[0].message
    assert not Commitment.objects.exists()


def test_an_error_in_one_row_writes_none_of_the_rows(agreement, japan):
    report = run(as_csv([row("fine"), row("bad", offset_amount="lots")]).encode())
    assert set(errors_of(report)) == {(3, "offset_amount")}
    assert "'lots' is not a whole number." in [error.message for error in report.errors]
    assert not Commitment.objects.exists()
    assert not Commitment.history.exists()


# --- Citations ---------------------------------------------------------------------------------


CITED = ["key", "agreement", "title", "obligor", "category", "deadline_kind", "citation_source",
         "citation_quote", "citation_translation", "citation_locator", "citation_2_source",
         "citation_2_quote"]


def cited_row(**values: str) -> dict[str, str]:
    return {
        "key": "meeting", "agreement": "summit-2025-10-28", "title": "Meeting",
        "obligor": "japan", "category": "meeting", "deadline_kind": "none",
        "citation_source": "mofa-2025-10-28", "citation_quote": "dans un délai de 180 jours",
        "citation_translation": "within 180 days", "citation_locator": "§ 3",
        "citation_2_source": "", "citation_2_quote": "", **values,
    }


def test_citations_are_imported_with_the_row_and_not_repeated_on_a_second_import(
    agreement, japan, source, editor
):
    from tests import factories

    factories.source_make(key="nikkei")
    data = as_csv(
        [cited_row(citation_2_source="nikkei", citation_2_quote="180日以内")], CITED
    ).encode()
    assert run(data, user=editor).ok
    assert run(data, user=editor).ok
    meeting = Commitment.objects.get(key="meeting")
    citations = list(meeting.citations.order_by("id"))
    assert [(c.source.key, c.quote, c.translation, c.locator) for c in citations] == [
        ("mofa-2025-10-28", "dans un délai de 180 jours", "within 180 days", "§ 3"),
        ("nikkei", "180日以内", "", ""),
    ]
    assert citations[0].history.latest().history_user == editor

    run(as_csv([cited_row(citation_locator="§ 4")], CITED).encode(), user=editor)
    assert Citation.objects.filter(commitment=meeting).count() == 2
    assert meeting.citations.get(source__key="mofa-2025-10-28").locator == "§ 4"


@pytest.mark.parametrize(
    ("values", "column", "message"),
    [
        ({"citation_source": "no-such-source"}, "citation_source",
         "No source has the key 'no-such-source'."),
        ({"citation_quote": ""}, "citation_quote", "A citation needs a quote"),
        ({"citation_source": ""}, "citation_source", "A citation needs the key of its source."),
        ({"citation_2_quote": "orphan quote"}, "citation_2_source",
         "A citation needs the key of its source."),
    ],
)
def test_a_bad_citation_is_an_error_on_its_column_and_nothing_is_written(
    agreement, japan, source, values, column, message
):
    report = run(as_csv([cited_row(**values)], CITED).encode())
    assert [(e.line, e.column) for e in report.errors] == [(2, column)]
    assert message in report.errors[0].message
    assert not Commitment.objects.exists()
    assert not Citation.objects.exists()


def test_line_error_reads_as_a_sentence():
    assert str(LineError(3, "key", "bad.")) == "Line 3, column key: bad."
    assert str(LineError(None, None, "bad.")) == "bad."


def test_an_imported_citation_points_at_its_quote_in_the_sources_archived_text(
    agreement, japan, editor
):
    from tests import factories

    text = "Préambule. Une réunion se tiendra dans un délai de 180 jours. Fin."
    factories.source_make(key="mofa-2025-10-28", text=text)
    assert run(as_csv([cited_row()], CITED).encode(), user=editor).ok
    citation = Citation.objects.get()
    assert text[citation.start:citation.end] == "dans un délai de 180 jours"


def test_an_imported_quote_is_placed_with_the_texts_own_apostrophes(agreement, japan, editor):
    from tests import factories

    text = "Préambule. L’examen aura lieu dans un délai de 180 jours. Fin."
    factories.source_make(key="mofa-2025-10-28", text=text)
    row = cited_row(citation_quote="L'examen aura lieu dans un délai de 180 jours")
    assert run(as_csv([row], CITED).encode(), user=editor).ok
    citation = Citation.objects.get()
    assert citation.quote == "L’examen aura lieu dans un délai de 180 jours"
    assert text[citation.start:citation.end] == citation.quote
    # A second import of the same file finds the citation by the quote as typed.
    assert run(as_csv([row], CITED).encode(), user=editor).ok
    assert Citation.objects.count() == 1


def test_an_imported_quote_not_in_the_sources_archived_text_is_refused(
    agreement, japan, editor
):
    """A source with its archived text must hold the quote; a paraphrase is a translation."""
    from tests import factories

    factories.source_make(key="mofa-2025-10-28", text="Préambule. Rien sur les délais. Fin.")
    report = run(as_csv([cited_row()], CITED).encode(), user=editor)
    assert [(e.line, e.column) for e in report.errors] == [(2, "citation_quote")]
    assert "is not in the archived text of" in report.errors[0].message
    assert not Commitment.objects.exists()
    assert not Citation.objects.exists()
