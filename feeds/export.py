"""Stream any filtered commitment list as CSV, without loading the rows into memory.

The export takes the same filters, ordering and permissions as ``GET /api/v1/commitments/``
(the one :class:`~commitments.filtersets.CommitmentFilterSet`) and reads the rows through a
server-side cursor in chunks, so its memory use does not grow with the number of rows.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db.models import QuerySet

from commitments.models import Commitment
from core.spreadsheet import formula_escape

#: The export's columns, in order; a stable contract for spreadsheets and scripts. The texts
#: are in English whatever page asked for the file; their French versions come in their own
#: columns, added at the end so that no column moves.
COLUMNS = (
    "id",
    "key",
    "agreement",
    "title",
    "obligor",
    "co_obligors",
    "category",
    "target_amount",
    "target_unit",
    "effective_from",
    "deadline_kind",
    "deadline_phrase",
    "due_date",
    "due_at",
    "status",
    "deadline_state",
    "flagged_at",
    "updated",
    "title_fr",
)
#: Where each column comes from; the agreement and the obligor are given by their keys.
SOURCE_FIELDS = {"agreement": "agreement__key", "obligor": "obligor__key"}
#: The other obligors, by their keys separated by ``;`` (as the admin's CSV): read per chunk.
_CO_OBLIGORS = COLUMNS.index("co_obligors")
#: Rows fetched from the database per round trip.
CHUNK_SIZE = 2000
#: Rows whose other obligors are read in one query (one CSV chunk's worth).
CO_OBLIGORS_BATCH = 500


class _Echo:
    """A file-like object whose ``write`` returns what it was given, for ``csv.writer``."""

    def write(self, value: str) -> str:
        return value


def cell(value: Any) -> str:
    """Return a value as CSV text; text that a spreadsheet would run as a formula is quoted.

    Dates and instants are ISO 8601 (instants in UTC); a leading ``'`` defuses formulas.
    """
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date | Decimal | int):
        return str(value)
    return formula_escape(str(value))


def export_rows(queryset: QuerySet[Commitment]) -> Iterator[tuple[Any, ...]]:
    """Yield the export's rows of ``queryset`` (already filtered and ordered), chunk by chunk.

    The other obligors are read in one query per :data:`CO_OBLIGORS_BATCH` rows.
    """
    fields = [SOURCE_FIELDS.get(column, column) for column in COLUMNS if column != "co_obligors"]
    rows = queryset.values_list(*fields).iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(islice(rows, CO_OBLIGORS_BATCH)):
        others = _co_obligor_keys([row[0] for row in chunk])
        for row in chunk:
            keys = ";".join(others.get(row[0], ()))
            yield (*row[:_CO_OBLIGORS], keys, *row[_CO_OBLIGORS:])


def _co_obligor_keys(commitment_ids: list[int]) -> dict[int, list[str]]:
    """Return the keys of each commitment's other obligors, by name (the pages' order)."""
    links = (
        Commitment.co_obligors.through.objects.filter(commitment_id__in=commitment_ids)
        .order_by("party__name", "party_id")
        .values_list("commitment_id", "party__key")
    )
    keys: dict[int, list[str]] = {}
    for commitment_id, key in links:
        keys.setdefault(commitment_id, []).append(key)
    return keys


def csv_chunks(rows: Iterable[tuple[Any, ...]], *, rows_per_chunk: int = 500) -> Iterator[str]:
    """Yield the CSV text, header first, a few hundred rows per chunk."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    lines: list[str] = []
    for row in rows:
        lines.append(writer.writerow([cell(value) for value in row]))
        if len(lines) >= rows_per_chunk:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)
