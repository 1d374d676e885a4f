"""The commitments import: read a CSV or XLSX file, check it, plan its rows, write them all.

One engine for every interface (the admin's import, the dashboard's import page, the Celery
task behind it):

1. :func:`table_read` turns the uploaded bytes into a :class:`tablib.Dataset` whose hidden
   :data:`LINE_COLUMN` holds each row's line in the file (the header is line 1, as in a
   spreadsheet). CSV is read as UTF-8 with or without a byte-order mark, else as
   Windows-1252 (what Excel writes on Windows), with ``,``, ``;`` or tab between cells.
2. :func:`plan_rows` checks the header (computed and unknown columns are refused, by name),
   finds keys given twice, reads a ``deadline_phrase`` given without rule fields through the
   parser, and orders the rows so that a commitment anchored on another one of the file comes
   after it, wherever it stands in the file; a cycle of anchors is an error naming its lines.
3. :class:`commitments.resources.CommitmentResource` imports the planned rows through
   ``commitment_save`` in one transaction, with each row's citations
   (:func:`citations_import`); one error anywhere rolls back every row. A file whose rows
   are all new commitments (the first import of a file, the dashboard's large files) is
   written in batches instead (:func:`_new_rows_import`): the same resource reads the cells,
   the same model checks judge each row (their queries gathered per batch,
   :func:`core.constraints.full_clean_many`), and
   :func:`~commitments.services.commitments.commitments_create_many` and
   :func:`citations_create_many` write a batch with one insert per table, history included.
   The two ways write the same rows and history and give the same errors
   (``tests/commitments/test_import_bulk.py``).

:func:`commitments_import` runs the three steps and answers an :class:`ImportReport`: counts,
and every error as a :class:`LineError` (line, column, reason in plain words).
"""

from __future__ import annotations

import contextvars
import csv
import datetime as dt
import io
import logging
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import tablib
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from import_export.results import Result

from commitments import deadlines
from commitments.models import (
    Agreement,
    Citation,
    Commitment,
    ImportRun,
    ImportRunStatus,
    Party,
    Source,
)
from commitments.services import hooks
from commitments.services.deadlines import User, attach_user
from commitments.services.sources import citation_place
from core.constraints import full_clean_many
from core.text import NUL

#: The hidden column holding each row's line in the file; never a column of the file itself.
LINE_COLUMN = "__line__"
#: Files larger than this are refused before they are read.
MAX_FILE_BYTES = 25 * 1024 * 1024
#: Rows beyond this are refused: one import is one transaction.
MAX_ROWS = 20_000
#: Citations a row may carry: ``citation_…``, then ``citation_2_…`` up to this number.
MAX_CITATIONS = 9
CITATION_PARTS = ("source", "quote", "translation", "translation_language", "locator")

#: The commitment's own columns, in the order the template and the export write them.
COMMITMENT_COLUMNS = (
    "key",
    "agreement",
    "title",
    "description",
    # The French texts, human translations (a machine's are not imported).
    "title_fr",
    "description_fr",
    "obligor",
    "co_obligors",
    "beneficiaries",
    "category",
    "target_amount",
    "target_unit",
    "effective_from",
    *deadlines.RULE_FIELD_NAMES,
)
#: The language of ``deadline_phrase`` when no cited source gives it.
LANGUAGE_COLUMN = "language"
#: Columns the export writes for reading only: the tracker computes or keeps them.
COMPUTED_COLUMNS = (
    "due_date",
    "due_at",
    "status",
    "deadline_state",
    "page_url",
    "source_urls",
)
_CITATION_COLUMN = re.compile(
    r"^citation(?:_(?P<number>[2-9]))?_(?P<part>" + "|".join(CITATION_PARTS) + r")$"
)
#: The rule's parameters: when none is given, ``deadline_phrase`` is read by the parser.
_RULE_PARAMETERS = tuple(name for name in deadlines.RULE_FIELD_NAMES if name != "deadline_phrase")


#: The rows an import names by key and never writes: each key is read once per import.
KEYED_MODELS = (Agreement, Party, Source)
_keyed: contextvars.ContextVar[dict[tuple[type, str], Any] | None] = contextvars.ContextVar(
    "import_keyed", default=None
)


@contextmanager
def keys_remembered() -> Iterator[None]:
    """Within, :func:`keyed` reads each agreement, party and source once (an import's span).

    What it remembers lives as long as the block, inside the import's transaction, and the
    import writes none of these rows; nested blocks share the outer one's memory.
    """
    if _keyed.get() is not None:
        yield
        return
    token = _keyed.set({})
    try:
        yield
    finally:
        _keyed.reset(token)


def keyed(model: type[Any], key: str) -> Any:
    """Return the ``model`` row whose key is ``key``, or ``None``; remembered in an import."""
    cache = _keyed.get()
    if cache is None or model not in KEYED_MODELS:
        return model.objects.filter(key=key).first()
    if (model, key) not in cache:
        cache[(model, key)] = model.objects.filter(key=key).first()
    return cache[(model, key)]


def citation_column(number: int, part: str) -> str:
    """Return the column of ``part`` of a row's ``number``-th citation (1 has no number)."""
    return f"citation_{part}" if number == 1 else f"citation_{number}_{part}"


class ImportFileError(Exception):
    """The file cannot be read as a table; the message says why in plain words."""


@dataclass(frozen=True)
class LineError:
    """One reason the file was refused: where (line and column, when known) and why."""

    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.line is not None and self.column:
            return _("Line %(line)s, column %(column)s: %(message)s") % self.as_dict()
        if self.line is not None:
            return _("Line %(line)s: %(message)s") % self.as_dict()
        if self.column:
            return _("Column %(column)s: %(message)s") % self.as_dict()
        return self.message

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass
class ImportReport:
    """What an import did: rows read, created and updated, or every error (nothing written)."""

    total: int = 0
    created: int = 0
    updated: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- 1. Reading the file -------------------------------------------------------------------


def table_read(*, data: bytes, filename: str = "") -> tablib.Dataset:
    """Return the file's rows with their lines; raise :class:`ImportFileError` if unreadable.

    An XLSX file (a zip archive) is read from its first sheet; anything else as CSV text.
    Rows whose cells are all empty are skipped (their lines still count).
    """
    if not data:
        raise ImportFileError(_("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is larger than %(size)s MB; split it into several files.")
            % {"size": MAX_FILE_BYTES // (1024 * 1024)}
        )
    if data.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx"):
        records = _xlsx_records(data)
    else:
        records = _csv_records(data)
    dataset = _dataset(records)
    if not len(dataset):
        raise ImportFileError(_("The file has its header but no rows: there is nothing to import."))
    return dataset


def _decode(data: bytes) -> str:
    """Decode CSV bytes: a BOM means UTF-8; valid UTF-8 is UTF-8; else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            _("The file is in UTF-16; save it as CSV UTF-8 (or as an Excel workbook).")
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file is not text in UTF-8 or Windows-1252: is it really a CSV file?")
        ) from None


def _csv_records(data: bytes) -> list[tuple[int, list[str]]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    if NUL in first_line:
        # A NUL in a cell is that cell's error; in the header, the file is not text.
        raise ImportFileError(_("The file holds binary data: is it really a CSV file?"))
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records = []
    try:
        for cells in reader:
            records.append((reader.line_num, cells))
    except csv.Error as exc:
        raise ImportFileError(
            _("Line %(line)s cannot be read as CSV (%(reason)s).")
            % {"line": reader.line_num, "reason": exc}
        ) from None
    return _numbered_by_record(records)


def _numbered_by_record(records: list[tuple[int, list[str]]]) -> list[tuple[int, list[str]]]:
    """Number CSV records as a spreadsheet numbers rows: a cell holding a newline is one row."""
    return [(number, cells) for number, (_line, cells) in enumerate(records, start=1)]


def _xlsx_records(data: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise ImportFileError(
            _("The file is not an Excel workbook (.xlsx) that can be read.")
        ) from None
    try:
        sheet = workbook.worksheets[0]
        return [
            (number, [_xlsx_cell(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()


def _xlsx_cell(value: Any) -> str:
    """Return a spreadsheet cell as the text a CSV file would hold."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _dataset(records: Iterable[tuple[int, list[str]]]) -> tablib.Dataset:
    rows = [(line, cells) for line, cells in records if any(cell.strip() for cell in cells)]
    if not rows:
        raise ImportFileError(_("The file has no header row."))
    (_header_line, header), body = rows[0], rows[1:]
    if len(body) > MAX_ROWS:
        raise ImportFileError(
            _("The file has %(count)s rows; at most %(max)s can be imported at once.")
            % {"count": len(body), "max": MAX_ROWS}
        )
    header = [name.strip() for name in header]
    width = len(header)
    dataset = tablib.Dataset(headers=[*header, LINE_COLUMN])
    for line, cells in body:
        cells = [cell.strip() for cell in cells]
        if len(cells) > width and any(cells[width:]):
            raise ImportFileError(
                _("Line %(line)s has more cells than the header has columns.") % {"line": line}
            )
        cells = (cells + [""] * width)[:width]
        dataset.append([*cells, line])
    return dataset


# --- 2. Planning the rows -------------------------------------------------------------------


@dataclass
class PlannedRow:
    """A row of the file, its line, and the rule fields read from its phrase (if any)."""

    line: int
    values: dict[str, str]
    rule: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """The rows in the order they can be saved, and what is wrong with the file."""

    header: list[str]
    rows: list[PlannedRow]
    header_errors: list[LineError]
    row_errors: list[LineError]


def header_errors(header: Sequence[str]) -> list[LineError]:
    """Return the errors of a header: computed, unknown, repeated or missing columns."""
    errors = []
    names = [name for name in header if name != LINE_COLUMN]
    computed = [name for name in names if name in COMPUTED_COLUMNS]
    if computed:
        errors.append(
            LineError(
                1,
                ", ".join(computed),
                _(
                    "these columns are computed by the tracker and cannot be imported; "
                    "delete them from the file."
                ),
            )
        )
    known = {*COMMITMENT_COLUMNS, LANGUAGE_COLUMN}
    unknown = [
        name
        for name in names
        if name not in known and name not in COMPUTED_COLUMNS and not _CITATION_COLUMN.match(name)
    ]
    if unknown:
        errors.append(
            LineError(
                1,
                ", ".join(repr(name) for name in unknown),
                _("unknown columns; the columns are those of the template.")
                if any(unknown)
                else _("a column has no name."),
            )
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        errors.append(LineError(1, ", ".join(repeated), _("this column is given twice.")))
    if "key" not in names:
        errors.append(LineError(1, "key", _("the file has no key column.")))
    return errors


def plan_rows(dataset: tablib.Dataset) -> Plan:
    """Check the file's header and rows and return them in an order they can be saved in."""
    header = list(dataset.headers or [])
    if LINE_COLUMN not in header:
        # A dataset not read by table_read (the admin's own readers): number rows as lines.
        header.append(LINE_COLUMN)
        rows_in = [[*cells, number] for number, cells in enumerate(dataset, start=2)]
    else:
        rows_in = [list(cells) for cells in dataset]
    rows = [
        PlannedRow(
            line=int(cells[-1]),
            values={
                name: str(value if value is not None else "").strip()
                for name, value in zip(header[:-1], cells[:-1], strict=True)
            },
        )
        for cells in rows_in
    ]
    found = header_errors(header)
    if found:
        return Plan(header=header, rows=[], header_errors=found, row_errors=[])
    errors: list[LineError] = []
    bad: set[int] = set()
    first_line: dict[str, int] = {}
    for row in rows:
        key = row.values.get("key", "")
        if not key:
            continue
        if key in first_line:
            errors.append(
                LineError(
                    row.line,
                    "key",
                    _("the key %(key)r is also on line %(other)s; a key may appear once.")
                    % {"key": key, "other": first_line[key]},
                )
            )
            bad.add(row.line)
        else:
            first_line[key] = row.line
    for row in rows:
        if row.line not in bad:
            error = _phrase_read(row)
            if error:
                errors.append(error)
                bad.add(row.line)
    ordered, cycle_errors = _anchor_order([row for row in rows if row.line not in bad])
    errors.extend(cycle_errors)
    errors.sort(key=lambda error: (error.line or 0, error.column or ""))
    return Plan(header=header, rows=ordered, header_errors=[], row_errors=errors)


def _anchor_order(rows: list[PlannedRow]) -> tuple[list[PlannedRow], list[LineError]]:
    """Order rows so each comes after the row of the file it is anchored on (file order else).

    Rows on a cycle of anchors are left out and each gets an error naming the cycle's lines.
    """
    by_key = {row.values["key"]: row for row in rows if row.values.get("key")}

    def anchor_of(row: PlannedRow) -> PlannedRow | None:
        anchor_key = row.values.get("anchor_commitment", "") or row.rule.get("anchor_commitment")
        anchor = by_key.get(anchor_key or "")
        return anchor if anchor is not None and anchor is not row else None

    ordered: list[PlannedRow] = []
    placed: set[int] = set()
    errors: list[LineError] = []
    on_cycle: set[int] = set()
    for row in rows:
        chain: list[PlannedRow] = []
        current: PlannedRow | None = row
        while current is not None and current.line not in placed and current.line not in on_cycle:
            if current in chain:
                cycle = chain[chain.index(current) :]
                path = " → ".join(
                    _("line %(line)s (%(key)s)") % {"line": r.line, "key": r.values["key"]}
                    for r in [*cycle, current]
                )
                for member in cycle:
                    errors.append(
                        LineError(
                            member.line,
                            "anchor_commitment",
                            _("the anchors form a cycle: %(path)s.") % {"path": path},
                        )
                    )
                    on_cycle.add(member.line)
                chain = chain[: chain.index(current)]
                break
            chain.append(current)
            current = anchor_of(current)
        if current is not None and current.line in on_cycle:
            # Rows anchored on a cycle cannot be saved either; the cycle's errors say why.
            on_cycle.update(r.line for r in chain)
            continue
        for member in reversed(chain):
            if member.line not in placed:
                placed.add(member.line)
                ordered.append(member)
    return ordered, errors


def _phrase_read(row: PlannedRow) -> LineError | None:
    """Read a ``deadline_phrase`` given without rule fields into ``row.rule``.

    Explicit rule fields win: with any of them given, the phrase is kept as the rule's words
    and not read. The phrase is read in the ``language`` column's language, else in the
    language of the row's first cited source, with the agreement's date as the anchor.
    """
    phrase = row.values.get("deadline_phrase", "")
    if not phrase or any(row.values.get(name) for name in _RULE_PARAMETERS):
        return None
    agreement = _row_agreement(row)
    if agreement is None:
        return None  # the resource names the missing or unknown agreement
    language = row.values.get(LANGUAGE_COLUMN, "")
    if not language:
        source_key = row.values.get(citation_column(1, "source"), "")
        source = keyed(Source, source_key) if source_key else None
        language = source.language if source is not None else ""
    if not language:
        return LineError(
            row.line,
            LANGUAGE_COLUMN,
            _(
                "give the language of the deadline phrase %(phrase)r (en or fr) in a "
                "language column, or cite a source in citation_source."
            )
            % {"phrase": phrase},
        )
    from commitments.parsing import propose

    proposals = propose(phrase, lang=language.split("-")[0].lower(), anchor=agreement.date)
    if proposals.deadline is None:
        return LineError(
            row.line,
            "deadline_phrase",
            _("could not read a deadline from %(phrase)r: give deadline_kind and its fields.")
            % {"phrase": phrase},
        )
    rule = dict(proposals.deadline.stored())
    rule["deadline_phrase"] = phrase
    row.rule = rule
    return None


def _row_agreement(row: PlannedRow) -> Agreement | None:
    key = row.values.get("agreement", "")
    if key:
        return keyed(Agreement, key)
    commitment = (
        Commitment.objects.select_related("agreement").filter(key=row.values.get("key")).first()
    )
    return commitment.agreement if commitment else None


# --- 3. Citations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CitationInput:
    """One citation of a row: its number (1, 2, …) and its cells."""

    number: int
    source: Source
    quote: str
    translation: str
    translation_language: str
    locator: str


def citations_read(values: Mapping[str, Any]) -> tuple[list[CitationInput], dict[str, list[str]]]:
    """Return a row's citations and the errors of their cells, keyed by column."""
    citations: list[CitationInput] = []
    errors: dict[str, list[str]] = {}
    for number in range(1, MAX_CITATIONS + 1):
        cells = {
            part: str(values.get(citation_column(number, part)) or "").strip()
            for part in CITATION_PARTS
        }
        if not any(cells.values()):
            continue
        source_column = citation_column(number, "source")
        quote_column = citation_column(number, "quote")
        if not cells["source"]:
            errors[source_column] = [_("A citation needs the key of its source.")]
            continue
        source = keyed(Source, cells["source"])
        if source is None:
            errors[source_column] = [_("No source has the key %(key)r.") % {"key": cells["source"]}]
            continue
        if not cells["quote"]:
            errors[quote_column] = [_("A citation needs a quote from its source.")]
            continue
        citations.append(
            CitationInput(
                number=number,
                source=source,
                quote=cells["quote"],
                translation=cells["translation"],
                translation_language=cells["translation_language"],
                locator=cells["locator"],
            )
        )
    return citations, errors


def citations_import(
    *,
    commitment: Commitment,
    citations: Sequence[CitationInput],
    user: User,
    created: bool = False,
) -> None:
    """Add ``citations`` to ``commitment``; a citation it already has is updated, not repeated.

    A citation is the same when it has the same source and quote, so importing a file twice
    adds nothing the second time. Errors are named by the row's columns.

    Quotes are placed with ``required=True``, as in the forms: a source whose text is
    archived must hold the quote (a paraphrase belongs in the translation column), and a
    file is no reason to keep a quote that nobody can check. A commitment ``created`` by this
    import has no citation yet: none is looked for.
    """
    for given in citations:
        citation = _citation_prepared(commitment=commitment, given=given, created=created)
        if citation is None:
            continue
        try:
            citation.full_clean()
        except ValidationError as exc:
            raise _citation_error(given, exc) from None
        attach_user(citation, user)
        citation.save()


def _citation_prepared(
    *, commitment: Commitment, given: CitationInput, created: bool
) -> Citation | None:
    """Return the citation ``given`` asks for, placed in its source's text, not yet saved.

    ``None`` when the commitment already has it as given. A quote the source's archived
    text does not hold is refused on the row's quote column.
    """
    new = Citation(commitment=commitment, source=given.source, quote=given.quote)
    # The quote as the source's text has it (its spaces, its apostrophes), at its span.
    try:
        citation_place(new, required=True)
    except ValidationError as exc:
        raise ValidationError(
            {citation_column(given.number, "quote"): exc.message_dict["quote"]}
        ) from None
    citation = (
        None
        if created
        else Citation.objects.filter(
            commitment=commitment, source=given.source, quote__in={given.quote, new.quote}
        ).first()
    )
    values = {
        "translation": given.translation,
        "translation_language": given.translation_language,
        "locator": given.locator,
    }
    if citation is None:
        citation = new
    elif all(getattr(citation, name) == value for name, value in values.items()):
        return None
    for name, value in values.items():
        setattr(citation, name, value)
    if citation.start is None:
        # An earlier import's citation found by the quote as given: now at its span.
        citation.quote, citation.start, citation.end = new.quote, new.start, new.end
    return citation


def _citation_error(given: CitationInput, error: ValidationError) -> ValidationError:
    """Name a citation's errors by the row's columns of that citation."""
    return ValidationError(
        {
            citation_column(given.number, name if name != "commitment" else "source"): messages
            for name, messages in error.message_dict.items()
        }
    )


def citations_create_many(
    *, cited: Sequence[tuple[Commitment, Sequence[CitationInput]]], user: User
) -> dict[int, ValidationError]:
    """Add the citations of commitments this import just created, one insert for them all.

    The checks of :func:`citations_import` (for a commitment ``created`` by the import), with
    the queries gathered per batch; a row's refusal is its first citation's error, as
    :func:`citations_import` stops at it. Answer the refusals by index in ``cited``; nothing
    is written if there is one.
    """
    built: list[tuple[int, CitationInput, Citation]] = []
    refused: dict[int, tuple[int, ValidationError]] = {}
    for number, (commitment, citations) in enumerate(cited):
        for given in citations:
            try:
                placed = _citation_prepared(commitment=commitment, given=given, created=True)
            except ValidationError as exc:
                refused[number] = (given.number, exc)
                break
            if placed is not None:
                built.append((number, given, placed))
    found = full_clean_many([placed for _number, _given, placed in built])
    for (number, given, _citation), error in zip(built, found, strict=True):
        if error is not None and (number not in refused or refused[number][0] > given.number):
            refused[number] = (given.number, _citation_error(given, error))
    if refused:
        return {number: error for number, (_given, error) in refused.items()}
    created = [placed for _number, _given, placed in built]
    for placed in created:
        attach_user(placed, user)
    Citation.objects.bulk_create(created)
    # As save() writes it: no reason given is NULL, not "".
    Citation.history.bulk_history_create(created, default_change_reason=None)  # type: ignore[attr-defined]
    return {}


# --- The template ---------------------------------------------------------------------------

#: The template's columns: the commitment's, the phrase's language, one citation.
TEMPLATE_COLUMNS = (
    *COMMITMENT_COLUMNS,
    LANGUAGE_COLUMN,
    *(citation_column(1, part) for part in CITATION_PARTS),
)
#: The template's example row: the review clause of the EU–US joint statement of 21 August 2025.
TEMPLATE_EXAMPLE = {
    "key": "eu-us-review-90-days",
    "agreement": "eu-us-2025-08-21",
    "title": "Review of the framework agreement",
    "description": "The EU and the US review the implementation of the joint statement.",
    "title_fr": "Réexamen de l'accord-cadre",
    "description_fr": "L'UE et les États-Unis réexaminent la mise en œuvre de la déclaration "
    "commune.",
    "obligor": "european-union",
    "co_obligors": "united-states",
    "beneficiaries": "",
    "category": "meeting",
    "deadline_phrase": "within 90 days",
    "language": "en",
    "citation_source": "eu-us-joint-statement-2025-08-21",
    "citation_quote": "The European Union and the United States will review this framework "
    "within 90 days.",
    "citation_translation": "L'Union européenne et les États-Unis réexamineront ce cadre dans "
    "les 90 jours.",
    "citation_translation_language": "fr",
    "citation_locator": "§ 19",
}
TEMPLATE_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def import_template(*, file_format: str) -> bytes:
    """Return the import template (header and example row) as CSV with a BOM, or as XLSX."""
    dataset = tablib.Dataset(headers=list(TEMPLATE_COLUMNS))
    dataset.append([TEMPLATE_EXAMPLE.get(name, "") for name in TEMPLATE_COLUMNS])
    if file_format == "xlsx":
        return bytes(dataset.export("xlsx"))
    return str(dataset.export("csv")).encode("utf-8-sig")


# --- The whole import -----------------------------------------------------------------------


def commitments_import(
    *,
    dataset: tablib.Dataset,
    user: User,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the rows of ``dataset`` (from :func:`table_read`): all of them, or none.

    ``progress(done, total)`` is called as rows are saved. With ``dry_run`` every row is
    checked and saved, then rolled back.
    """
    from commitments.resources import CommitmentResource

    with keys_remembered():
        plan = plan_rows(dataset)
        if not plan.header_errors and not _any_stored(plan.rows):
            return _new_rows_import(
                plan=plan, total=len(dataset), user=user, dry_run=dry_run, progress=progress
            )
    resource = CommitmentResource(progress=progress)
    result = resource.import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
        user=user,
    )
    report = ImportReport(total=len(dataset))
    report.errors = result_errors(result)
    if report.ok:
        report.created = result.totals.get("new", 0)
        report.updated = result.totals.get("update", 0) + result.totals.get("skip", 0)
    return report


#: Rows checked and written together by an import of new commitments.
BATCH_ROWS = 500


def _any_stored(rows: Sequence[PlannedRow]) -> bool:
    """Return whether a row of the file names a commitment already stored (an update)."""
    keys = {row.values.get("key", "") for row in rows} - {""}
    return Commitment.objects.filter(key__in=keys).exists()


def _levels(rows: Sequence[PlannedRow]) -> list[list[PlannedRow]]:
    """Group rows planned in order so that a row comes a level after its anchor in the file.

    A level's rows are written before the next level is read: a row's anchor is then stored
    when the row is checked, as it is when the rows are saved one by one.
    """
    depth: dict[str, int] = {}
    levels: list[list[PlannedRow]] = []
    for row in rows:
        anchor = row.values.get("anchor_commitment", "") or row.rule.get("anchor_commitment")
        level = depth[anchor] + 1 if anchor and anchor in depth else 0
        depth[row.values.get("key", "")] = level
        if level == len(levels):
            levels.append([])
        levels[level].append(row)
    return levels


def _new_rows_import(
    *,
    plan: Plan,
    total: int,
    user: User,
    dry_run: bool,
    progress: Callable[[int, int], None] | None,
) -> ImportReport:
    """Import a file whose rows are all new commitments, in batches: all of them, or none.

    Every row goes through the checks the row-by-row import runs (the resource's cells and
    validation, then :func:`~commitments.services.commitments.commitments_create_many` and
    :func:`citations_create_many`), with the errors of every row, each by line and column;
    the rows are written with one insert per table and batch. With ``dry_run`` or any error,
    everything is rolled back.
    """
    from commitments.resources import CommitmentResource

    resource = CommitmentResource()
    resource.plan_taken(plan)
    refused: dict[int, ValidationError] = {}
    created = done = 0
    with transaction.atomic(), hooks.batched(), keys_remembered():
        for level in _levels(plan.rows):
            for start in range(0, len(level), BATCH_ROWS):
                batch = level[start : start + BATCH_ROWS]
                created += _batch_create(resource=resource, rows=batch, user=user, refused=refused)
                done += len(batch)
                if progress is not None:
                    progress(done, len(plan.rows))
        if refused or plan.row_errors or dry_run:
            transaction.set_rollback(True)
    result = Result()
    for line, error in refused.items():
        result.append_invalid_row(line, {}, error)
    for planned in plan.row_errors:
        result.append_invalid_row(
            planned.line, {}, ValidationError({planned.column or "key": [planned.message]})
        )
    report = ImportReport(total=total, errors=result_errors(result))
    if report.ok:
        report.created = created
    return report


def _batch_create(
    *, resource: Any, rows: Sequence[PlannedRow], user: User, refused: dict[int, ValidationError]
) -> int:
    """Check and create a batch of new rows; add each refused row's error by its line.

    Return how many commitments were written.
    """
    from commitments.services.commitments import NewCommitment, commitments_create_many

    read: list[tuple[PlannedRow, Commitment, dict[str, Any]]] = []
    for planned in rows:
        row = {**planned.values, LINE_COLUMN: planned.line}
        commitment = Commitment()
        try:
            resource.before_import_row(row)
        except ValidationError as exc:
            refused[planned.line] = exc
            continue
        errors: dict[str, Any] = {}
        try:
            resource.import_instance(commitment, row, row_number=planned.line)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        read.append((planned, commitment, errors))
    checked = resource.validate_instances(
        [commitment for _planned, commitment, _errors in read],
        [errors for _planned, _commitment, errors in read],
    )
    new: list[NewCommitment] = []
    lines: list[int] = []
    citations: list[Sequence[CitationInput]] = []
    for (planned, commitment, _errors), error in zip(read, checked, strict=True):
        cited = resource.citations_taken(planned.line)
        if error is not None:
            refused[planned.line] = error
            continue
        lists = resource.party_lists(planned.values)
        new.append(
            NewCommitment(commitment, lists["beneficiaries"] or [], lists["co_obligors"] or [])
        )
        lines.append(planned.line)
        citations.append(cited)
    failed = commitments_create_many(new=new, user=user)
    for number, error in failed.items():
        refused[lines[number]] = error
    kept = [number for number in range(len(new)) if number not in failed]
    cited_rows = [(new[number].commitment, citations[number]) for number in kept]
    for number, error in citations_create_many(cited=cited_rows, user=user).items():
        refused[lines[kept[number]]] = error
    return len(kept)


def result_errors(result: Any) -> list[LineError]:
    """Return every error of an import-export ``Result`` as line errors, in line order."""
    errors: list[LineError] = [
        error.error
        if isinstance(error.error, LineError)
        else LineError(None, None, _plain(error.error))
        for error in result.base_errors
    ]
    for row in result.invalid_rows:
        for column, messages in row.field_specific_errors.items():
            errors.extend(LineError(row.number, column, str(message)) for message in messages)
        errors.extend(
            LineError(row.number, None, str(message)) for message in row.non_field_specific_errors
        )
    for number, row_errors in result.row_errors():
        errors.extend(LineError(number, None, _plain(error.error)) for error in row_errors)
    errors.sort(key=lambda error: (error.line or 0, error.column or ""))
    return errors


def _plain(error: BaseException | str) -> str:
    """Say an unexpected error in plain words, without its Python type or traceback."""
    text = str(error).strip()
    return text or _("this row could not be saved.")


# --- In the background -------------------------------------------------------------------

logger = logging.getLogger(__name__)
#: A run still "running" after this long was left by a worker that died; it may be re-claimed.
RUN_STALE_AFTER = dt.timedelta(hours=2)
#: The fewest seconds between two progress writes.
PROGRESS_EVERY_SECONDS = 1.0


def import_run_start(*, file_name: str, data: bytes, user: User) -> ImportRun:
    """Keep the file as a queued run and have a worker import it once this transaction commits.

    Every file goes to the background, whatever its size: the request answers at once, the
    run's page shows the progress and then every error, and there is one path to test.
    """
    run = ImportRun.objects.create(
        file_name=file_name[:255],
        file_data=data,
        user=user if isinstance(user, get_user_model()) else None,
        language=(translation.get_language() or "")[:8],
    )
    transaction.on_commit(lambda: _enqueue(run.pk), robust=True)
    return run


def _enqueue(run_id: int) -> None:
    from commitments.tasks import import_commitments

    try:
        import_commitments.apply_async(args=[run_id], retry=False)
    except Exception:  # a broker that is down: the run stays queued and says so
        logger.exception("Could not enqueue the import run %s", run_id)


def import_run_execute(*, run_id: int) -> ImportRun | None:
    """Import a queued run's file: all rows or none; record the outcome and every error.

    Safe to run twice: a run is claimed once (a run left running by a dead worker is
    claimed again after :data:`RUN_STALE_AFTER`); a second call returns ``None``.
    """
    now = timezone.now()
    claimable = Q(status=ImportRunStatus.QUEUED) | Q(
        status=ImportRunStatus.RUNNING, started__lt=now - RUN_STALE_AFTER
    )
    claimed = ImportRun.objects.filter(claimable, pk=run_id).update(
        status=ImportRunStatus.RUNNING, started=now, rows_done=0
    )
    if not claimed:
        return None
    run = ImportRun.objects.get(pk=run_id)
    # The errors are written in the language of the page the file was sent from.
    with translation.override(run.language or None):
        return _run_execute(run)


def _run_execute(run: ImportRun) -> ImportRun:
    run_id = run.pk
    try:
        try:
            dataset = table_read(data=bytes(run.file_data), filename=run.file_name)
        except ImportFileError as exc:
            return _run_finish(run, ImportReport(errors=[LineError(None, None, str(exc))]))
        run.rows_total = len(dataset)
        run.save(update_fields=["rows_total"])
        report = commitments_import(
            dataset=dataset, user=run.user, progress=_progress_writer(run_id=run.pk)
        )
    except (OperationalError, InterfaceError):
        # A transient database error: the task is retried, and must find the run queued.
        ImportRun.objects.filter(pk=run_id).update(status=ImportRunStatus.QUEUED, rows_done=0)
        raise
    except BaseException:
        # Anything else (a bug, the hour's time limit): nothing was imported (the rows'
        # transaction rolled back); the run says so instead of showing "running" forever.
        logger.exception("Import run %s stopped on an unexpected error", run_id)
        failed = ImportReport(errors=[LineError(None, None, _(_STOPPED))])
        _run_finish(ImportRun.objects.get(pk=run_id), failed)
        raise
    return _run_finish(run, report)


_STOPPED = gettext_noop(
    "The import stopped on an unexpected error and nothing was imported. Import the file "
    "again; if it stops again, tell an administrator (the server's log has the details)."
)


def _run_finish(run: ImportRun, report: ImportReport) -> ImportRun:
    run.status = ImportRunStatus.DONE if report.ok else ImportRunStatus.FAILED
    run.rows_done = run.rows_total if report.ok else 0
    run.created_count, run.updated_count = report.created, report.updated
    run.errors = [error.as_dict() for error in report.errors]
    run.finished = timezone.now()
    run.save(
        update_fields=[
            "status",
            "rows_done",
            "created_count",
            "updated_count",
            "errors",
            "finished",
        ]
    )
    return run


def _progress_writer(*, run_id: int) -> Callable[[int, int], None] | None:
    """Return what writes a run's progress while its rows are saved in one open transaction.

    The rows' transaction must not be committed early, so progress is written on another
    database connection (Django gives each thread its own), at most once a second. SQLite
    allows one writer at a time: there the page shows the run as running, without a count.
    """
    if connection.vendor != "postgresql":
        return None
    last = [0.0]

    def write(done: int, total: int) -> None:
        if time.monotonic() - last[0] < PROGRESS_EVERY_SECONDS and done < total:
            return
        last[0] = time.monotonic()
        thread = threading.Thread(target=_progress_write, args=(run_id, done), daemon=True)
        thread.start()
        thread.join(timeout=5)

    return write


def _progress_write(run_id: int, done: int) -> None:
    try:
        ImportRun.objects.filter(pk=run_id, rows_total__gte=done).update(rows_done=done)
    except Exception:  # progress is a courtesy; the import goes on
        logger.exception("Could not write the progress of import run %s", run_id)
    finally:
        connection.close()
