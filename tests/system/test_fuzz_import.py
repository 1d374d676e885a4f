"""Hostile input through the admin's commitment import (CSV, the one format it reads).

The file is the world's commitment as the import's resource exports it, under a new key,
with one column made hostile; broken files too (truncated, not UTF-8, binary, header only).
A preview must show errors naming the column and write nothing; a clean preview is confirmed,
and what it imported must display.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from commitments.models import Commitment
from tests.support.fuzzing import (
    HOSTILE_TEXT,
    Finding,
    Tally,
    World,
    build_world,
    check_display,
    client_for,
    display_urls,
    full_walk,
    print_report,
    rolled_back,
    row_counts,
    sample,
    server_error,
)

INTERFACE = "csv import"
IMPORT_URL = "admin:commitments_commitment_import"
CONFIRM_URL = "admin:commitments_commitment_process_import"

#: Server errors explained by an open class of issue 11, by their signature; none is open.
KNOWN: dict[int, Callable[[Finding], bool]] = {}


@pytest.fixture
def world(db: None, django_user_model: Any) -> World:
    return build_world(django_user_model)


def exported(world: World) -> tuple[list[str], list[str]]:
    """Return the header and the row of the world's commitment, as the import reads them
    (without the export's computed columns, which the import refuses)."""
    from commitments.resources import CommitmentResource
    from commitments.services.imports import COMPUTED_COLUMNS

    data = CommitmentResource().export(Commitment.objects.filter(pk=world.commitment.pk))
    header, row = list(csv.reader(io.StringIO(data.csv)))[:2]
    kept = [i for i, name in enumerate(header) if name not in COMPUTED_COLUMNS]
    return [header[i] for i in kept], [row[i] for i in kept]


def as_csv(header: list[str], row: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, row])
    return out.getvalue().encode("utf-8", "surrogatepass")


class ImportWalk:
    def __init__(self, world: World, tally: Tally) -> None:
        self.world, self.tally = world, tally
        self.client = client_for(world.admin)

    def upload(self, request: str, content: bytes, column: str | None) -> None:
        self.tally.count(INTERFACE, "requests")
        before = row_counts()
        with rolled_back():
            upload = SimpleUploadedFile("commitments.csv", content, content_type="text/csv")
            response = self.client.post(reverse(IMPORT_URL),
                                        {"import_file": upload, "format": "0"})
            if response.status_code >= 500:
                self.tally.count(INTERFACE, "5xx")
                self.tally.find(INTERFACE, request, server_error(response))
                return
            context = response.context or {}
            result, confirm = context.get("result"), context.get("confirm_form")
            if result is not None and confirm is not None and not (
                    result.has_errors() or result.has_validation_errors()):
                self.confirm(request, confirm)
                return
            self.tally.count(INTERFACE, "refused")
            if row_counts() != before:
                self.tally.find(INTERFACE, request, "refused, but rows were written")
            if column and result is not None and result.has_validation_errors():
                named = {f for row in result.invalid_rows for f in row.field_specific_errors}
                if column not in named:
                    self.tally.find(INTERFACE, request,
                                    f"refusal does not name {column}: {sorted(named)}")

    def confirm(self, request: str, confirm: Any) -> None:
        data = {name: confirm[name].value() for name in confirm.fields}
        self.tally.count(INTERFACE, "requests")
        response = self.client.post(reverse(CONFIRM_URL), data)
        if response.status_code >= 500:
            self.tally.count(INTERFACE, "5xx")
            self.tally.find(INTERFACE, f"{request} (confirm)", server_error(response))
            return
        self.tally.count(INTERFACE, "accepted")
        check_display(self.client, display_urls(self.world), self.tally, INTERFACE, request)


def test_csv_import_refuses_hostile_columns_naming_them(world, pytestconfig):
    header, row = exported(world)
    row[header.index("key")] = "imported-by-the-walk"
    tally = Tally()
    walk = ImportWalk(world, tally)
    walk.upload("the exported row under a new key", as_csv(header, row), None)
    assert tally.counts[INTERFACE]["accepted"] == 1, tally.findings
    for index, column in enumerate(header):
        for value in sample(HOSTILE_TEXT, f"csv.{column}", full=full_walk(pytestconfig)):
            hostile = list(row)
            hostile[index] = value
            walk.upload(f"{column}={value[:20]!r}", as_csv(header, hostile), column)
    whole = as_csv(header, row)
    for name, content in (("truncated in a quote", whole[: whole.index(b",") + 1] + b'"abc'),
                          ("cut in half", whole[: len(whole) // 2]),
                          ("header only", whole.split(b"\n")[0] + b"\n"),
                          ("empty", b""), ("not UTF-8", b"\xff\xfe\x00k\x00e\x00y"),
                          ("binary", bytes(range(256))),
                          ("a spreadsheet's bytes", b"PK\x03\x04" + b"\x00" * 64)):
        walk.upload(f"file {name}", content, None)
    print_report(tally, "csv import", KNOWN)
    problems = tally.unexplained(KNOWN)
    assert not problems, "\n".join(map(str, problems[:40]))
