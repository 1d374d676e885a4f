"""Hostile input through the management commands that read files or instants.

``import_all`` gets an ``export_all`` document of the world with one field of one record made
hostile, and truncated or broken files; ``loadseeds`` gets a seed file likewise, and YAML that
attacks the parser; ``scan_deadlines --now`` gets instants that are not ones. Each run either
succeeds or stops with a ``CommandError`` (what ``manage.py`` turns into a message and a
non-zero exit, no traceback) naming the record and field, and writes nothing.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.core.management.color import no_style
from django.db import connection
from django.test import Client

from commitments.models import Agreement, Commitment, Party
from tests.support.fuzzing import (
    HOSTILE_JSON,
    Finding,
    Tally,
    World,
    build_world,
    check_display,
    client_for,
    full_walk,
    our_models,
    print_report,
    rolled_back,
    row_counts,
    sample,
)

INTERFACE = "commands"

#: Server errors explained by an open class of issue 11, by their signature; none is open.
KNOWN: dict[int, Callable[[Finding], bool]] = {}


@pytest.fixture
def world(db: None, django_user_model: Any) -> World:
    return build_world(django_user_model)


def run(tally: Tally, request: str, command: str, *args: str,
        names: tuple[str, ...] = (), display: Client | None = None) -> None:
    """Run a command in a savepoint; record a traceback, a refusal that does not say where,
    a refusal that wrote rows, or accepted data a page then fails to show."""
    tally.count(INTERFACE, "requests")
    before = row_counts()
    with rolled_back():
        try:
            call_command(command, *args, verbosity=0)
        except CommandError as exc:
            tally.count(INTERFACE, "refused")
            message = str(exc)
            if row_counts() != before:
                tally.find(INTERFACE, request, "refused, but rows were written")
            # The record and field at fault: the one made hostile, or one it broke (a
            # renamed user leaves "progress_updates pk=3: field 'author'" without its user).
            missing = [n for n in names if n not in message]
            if missing and not re.search(r"\bfield '?\w+", message):
                tally.find(INTERFACE, request, f"refusal does not name {missing}: {message[:300]}")
        except Exception as exc:
            tally.count(INTERFACE, "5xx")
            tally.find(INTERFACE, request, f"traceback: {type(exc).__name__}: {str(exc)[:200]}")
        else:
            tally.count(INTERFACE, "accepted")
            if display is not None:
                check_display(display, pages_now(), tally, INTERFACE, request)


def pages_now() -> list[str]:
    """Return the lists, the export and the page of each agreement and commitment there is."""
    return [
        "/", "/commitments/", "/api/v1/commitments/", "/api/v1/commitments/export.csv",
        *(f"/commitments/{pk}/" for pk in Commitment.objects.values_list("pk", flat=True)),
        *(f"/agreements/{pk}/" for pk in Agreement.objects.values_list("pk", flat=True)),
        *(f"/admin/commitments/party/{pk}/change/"
          for pk in Party.objects.values_list("pk", flat=True)[:20]),
    ]


def empty_domain() -> None:
    """Remove every row of our apps (users stay), as on a new database import_all restores to."""
    names = [m._meta.db_table for m in our_models()]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            for statement in connection.ops.sql_flush(no_style(), names, allow_cascade=True):
                cursor.execute(statement)
            return
        tables = ", ".join(connection.ops.quote_name(name) for name in names)
        # The world's deferred foreign-key checks must run before their tables go.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {tables} CASCADE")


def test_import_all_refuses_hostile_records_naming_record_and_field(world, tmp_path,
                                                                    pytestconfig):
    full = full_walk(pytestconfig)
    export = tmp_path / "export.json"
    call_command("export_all", output=str(export), verbosity=0)
    document = json.loads(export.read_text())
    empty_domain()
    tally = Tally()
    display = client_for(world.admin)
    run(tally, "import_all of the export", "import_all", str(export), display=display)
    assert tally.counts[INTERFACE]["accepted"] == 1, tally.findings
    for section, records in document.items():
        if not isinstance(records, list) or not records or not isinstance(records[0], dict):
            continue
        for field in records[0]:
            for value in sample(HOSTILE_JSON, f"{section}.{field}", full=full):
                hostile = copy.deepcopy(document)
                hostile[section][0][field] = value
                path = tmp_path / "hostile.json"
                path.write_text(json.dumps(hostile))
                run(tally, f"import_all {section}[0].{field}={str(value)[:20]!r}",
                    "import_all", str(path), names=(field,), display=display)
    text = export.read_text()
    for cut in (0, 1, len(text) // 3, len(text) // 2, len(text) - 2):
        path = tmp_path / "truncated.json"
        path.write_text(text[:cut])
        run(tally, f"import_all truncated at {cut}", "import_all", str(path))
    for name, raw in (("not UTF-8", b"\xff\xfe{\x00"), ("NUL", b'{"format": "\x00"}'),
                      ("nested", b"[" * 100_000), ("a list", b"[]")):
        path = tmp_path / "broken.json"
        path.write_bytes(raw)
        run(tally, f"import_all {name}", "import_all", str(path))
    run(tally, "import_all of a missing file", "import_all", str(tmp_path / "missing.json"))
    print_report(tally, "import_all", KNOWN)
    problems = tally.unexplained(KNOWN)
    assert not problems, "\n".join(map(str, problems[:40]))


HOSTILE_YAML = {
    "python object": "!!python/object/apply:os.system ['true']\n",
    "billion laughs": "a: &a ['x','x','x','x','x','x','x','x','x']\n"
                      + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},"
                                f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
                                f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
                                for i in range(8)),
    "truncated": "parties:\n  - key: japan\n    name: \"Jap",
    "nested": "[" * 10_000,
    "tabs": "parties:\n\t- key: japan\n",
    "not a mapping": "- 1\n- 2\n",
    "empty": "",
    "NUL": "parties:\n  - key: \"a\\0b\"\n    name: x\n    kind: state\n",
}


def test_loadseeds_refuses_hostile_files_naming_record_and_field(world, tmp_path,
                                                                  pytestconfig):
    full = full_walk(pytestconfig)
    parties = Path(__file__).resolve().parents[2] / "seeds" / "parties.yaml"
    document = yaml.safe_load(parties.read_text())
    empty_domain()
    tally = Tally()
    display = client_for(world.admin)
    path = tmp_path / "parties.yaml"
    path.write_text(yaml.safe_dump(document))
    run(tally, "loadseeds of the project's parties", "loadseeds", str(path))
    assert tally.counts[INTERFACE]["accepted"] == 1, tally.findings
    for field in document["parties"][0]:
        for value in sample(HOSTILE_JSON, f"parties.{field}", full=full):
            hostile = copy.deepcopy(document)
            hostile["parties"][0][field] = value
            path.write_text(yaml.safe_dump(hostile, allow_unicode=False))
            run(tally, f"loadseeds parties[0].{field}={str(value)[:20]!r}", "loadseeds",
                str(path), names=(field,), display=display)
    for name, text in HOSTILE_YAML.items():
        path.write_text(text)
        run(tally, f"loadseeds {name}", "loadseeds", str(path))
    path.write_bytes(b"parties:\n  - key: \xff\xfe\n")
    run(tally, "loadseeds not UTF-8", "loadseeds", str(path))
    run(tally, "loadseeds of a missing file", "loadseeds", str(Path(tmp_path, "missing.yaml")))
    print_report(tally, "loadseeds", KNOWN)
    problems = tally.unexplained(KNOWN)
    assert not problems, "\n".join(map(str, problems[:40]))


BAD_INSTANTS = ("abc", "", "\x00", "1e30", "NaN", "²", "2026-02-30T00:00:00Z",
                "31/12/2026", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-04-27T25:00:00Z",
                "x" * 10_000)


def test_scan_deadlines_refuses_instants_that_are_not_ones(world):
    tally = Tally()
    for value in BAD_INSTANTS:
        run(tally, f"scan_deadlines --now={value[:20]!r}", "scan_deadlines", f"--now={value}",
            names=("--now",))
    print_report(tally, "scan_deadlines", KNOWN)
    # An instant at the calendar's edge may be a valid scan: only a traceback, or a refusal
    # that does not name --now, is a finding.
    problems = tally.unexplained(KNOWN)
    assert not problems, "\n".join(map(str, problems[:40]))
