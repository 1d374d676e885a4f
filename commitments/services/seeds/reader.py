"""Read the seed files into records: YAML parsed, validated against the schema, cross-checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError

from commitments import deadlines
from commitments.choices import AnchorKind
from commitments.services.sources import archive_file
from core.text import NUL, NUL_REFUSED

from .problems import SeedError, SeedProblem, record_label
from .schema import schema_problem, schema_validator

#: A seed names its anchor commitment by key, under the rule's own field names.
_ANCHOR = deadlines.ANCHOR_COMMITMENT_FIELD.name
_ANCHOR_KIND = deadlines.ANCHOR_KIND_FIELD.name


@dataclass(slots=True)
class SeedRecord:
    """A record read from a seed file, with where it came from."""

    file: str
    label: str
    key: str
    data: dict[str, Any]
    agreement_key: str = ""
    #: A source's archived text, read from its ``text_file`` (``sources.Archive``).
    archive: Any = None

    def problem(self, field_name: str, reason: str) -> SeedProblem:
        return SeedProblem(file=self.file, record=self.label, field=field_name, reason=reason)


@dataclass(slots=True)
class SeedRecords:
    """The records read from all the seed files, by kind, in file order."""

    parties: list[SeedRecord] = field(default_factory=list)
    sources: list[SeedRecord] = field(default_factory=list)
    agreements: list[SeedRecord] = field(default_factory=list)
    commitments: list[SeedRecord] = field(default_factory=list)


_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SeedYamlLoader(_SafeLoader):
    """A safe loader that keeps dates as ISO strings, so the schema checks them as text."""


_SeedYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _seed_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())
    raise SeedError([SeedProblem(str(path), "(path)", "-", "no such file or directory")])


def seeds_read(*, path: Path) -> SeedRecords:
    """Read and validate every seed file under ``path`` (a directory or one file).

    Raise :class:`SeedError` listing every problem found (malformed YAML, schema errors,
    duplicate keys, anchor cycles) before anything is written.
    """
    files = _seed_files(path)
    if not files:
        raise SeedError([SeedProblem(str(path), "(path)", "-", "no .yaml seed files found")])
    validator = schema_validator()
    problems: list[SeedProblem] = []
    seeds = SeedRecords()
    for file in files:
        name = str(file)
        try:
            text = file.read_text(encoding="utf-8")
            # A SafeLoader subclass (dates kept as text), so as safe as yaml.safe_load.
            data = yaml.load(text, Loader=_SeedYamlLoader)  # noqa: S506
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            reason = getattr(exc, "problem", None) or str(exc)
            problems.append(SeedProblem(name, "(file)", "-", f"malformed YAML{where}: {reason}"))
            continue
        except UnicodeDecodeError as exc:
            problems.append(SeedProblem(name, "(file)", "-", f"not UTF-8 text: {exc.reason}"))
            continue
        errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            problems.extend(schema_problem(name, data, error) for error in errors)
            continue
        nul = _nul_problems(name, data)
        if nul:
            problems.extend(nul)
            continue
        _collect(seeds, name, data)
    problems.extend(_cross_file_problems(seeds))
    problems.extend(_archive_problems(seeds))
    if problems:
        raise SeedError(problems)
    return seeds


def _archive_problems(seeds: SeedRecords) -> list[SeedProblem]:
    """Read each source's ``text_file`` (beside its seed file) into the record's archive."""
    problems = []
    for record in seeds.sources:
        name = record.data.get("text_file")
        if not name:
            continue
        file = Path(record.file).parent / name
        try:
            record.archive = archive_file(file.read_bytes(), field="text_file")
        except OSError as exc:
            problems.append(record.problem("text_file", f"cannot read {file}: {exc.strerror}"))
        except ValidationError as exc:
            problems.extend(
                record.problem("text_file", message) for message in exc.message_dict["text_file"]
            )
    return problems


def _nul_problems(file: str, data: dict[str, Any]) -> list[SeedProblem]:
    """Name each field of ``data`` whose text holds a NUL, which the database cannot store."""
    found = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str) and NUL in value:
            found.append(path)
        elif isinstance(value, dict):
            stack.extend((item, (*path, str(key))) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(value))
    problems = []
    for path in sorted(found, key=lambda p: list(map(str, p))):
        record, where = "(file)", ".".join(map(str, path)) or "-"
        if len(path) >= 2 and isinstance(path[1], int):
            section = str(path[0])
            record = record_label(section, data[section][path[1]], path[1])
            where = ".".join(map(str, path[2:])) or "-"
        problems.append(SeedProblem(file, record, where, str(NUL_REFUSED)))
    return problems


def _collect(seeds: SeedRecords, file: str, data: dict[str, Any]) -> None:
    for index, item in enumerate(data.get("parties", [])):
        seeds.parties.append(
            SeedRecord(file, record_label("parties", item, index), item["key"], item)
        )
    for index, item in enumerate(data.get("sources", [])):
        seeds.sources.append(
            SeedRecord(file, record_label("sources", item, index), item["key"], item)
        )
    agreement = data.get("agreement")
    if agreement is None:
        return
    seeds.agreements.append(
        SeedRecord(file, record_label("agreement", agreement, 0), agreement["key"], agreement)
    )
    for index, item in enumerate(data.get("commitments", [])):
        seeds.commitments.append(
            SeedRecord(
                file,
                record_label("commitments", item, index),
                item["key"],
                item,
                agreement_key=agreement["key"],
            )
        )


def _cross_file_problems(seeds: SeedRecords) -> list[SeedProblem]:
    problems: list[SeedProblem] = []
    for records in (seeds.parties, seeds.sources, seeds.agreements, seeds.commitments):
        first: dict[str, SeedRecord] = {}
        for record in records:
            if record.key in first:
                problems.append(
                    record.problem(
                        "key", f"duplicate key, also defined in {first[record.key].file}"
                    )
                )
            else:
                first[record.key] = record
    problems.extend(_anchor_cycle_problems(seeds.commitments))
    return problems


def _anchor_cycle_problems(commitments: list[SeedRecord]) -> list[SeedProblem]:
    anchors = {
        r.key: r.data[_ANCHOR]
        for r in commitments
        if r.data.get(_ANCHOR_KIND) == AnchorKind.COMMITMENT and _ANCHOR in r.data
    }
    by_key = {r.key: r for r in commitments}
    problems: list[SeedProblem] = []
    reported: set[str] = set()
    for start in anchors:
        chain = [start]
        current = anchors.get(start)
        while current is not None and current not in chain:
            chain.append(current)
            current = anchors.get(current)
        if current == start and not reported.intersection(chain):
            reported.update(chain)
            path = " -> ".join([*chain, start])
            problems.append(by_key[start].problem(_ANCHOR, f"anchor cycle: {path}"))
    return problems


def anchor_order(commitments: list[SeedRecord]) -> list[SeedRecord]:
    """Order commitments so that each comes after the seeded commitment it is anchored on."""
    by_key = {r.key: r for r in commitments}
    ordered: list[SeedRecord] = []
    placed: set[str] = set()

    def place(record: SeedRecord) -> None:
        if record.key in placed:
            return
        placed.add(record.key)
        anchor = record.data.get(_ANCHOR)
        if record.data.get(_ANCHOR_KIND) == AnchorKind.COMMITMENT and anchor in by_key:
            place(by_key[anchor])
        ordered.append(record)

    for record in commitments:
        place(record)
    return ordered
