"""Load the seed files: validate them against ``seeds/schema.json``, then upsert them by key.

A seed directory holds YAML files (any depth); each file may list ``parties`` and
``sources`` and may hold one ``agreement`` with its ``commitments``. Records refer to each
other by key. Loading is all or nothing: every file is validated against the schema first,
then every record is written in one transaction through the domain services, and the first
problem (an unknown key, a model rule, an anchor cycle) rolls everything back. A record equal
to what is stored is not saved, so a second load writes nothing and adds no history.

Citations are matched by their target, source and quote; relations by both ends and kind.
Seeds add and update them but never delete any: people add evidence citations and relations
of their own. Statuses and owners are not seeded; they belong to the people using the tracker.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q

from commitments import deadlines
from commitments.choices import AnchorKind
from commitments.models import (
    DUE_DATE_RELATIONS,
    Agreement,
    Citation,
    Commitment,
    CommitmentRelation,
    Party,
    Source,
)
from commitments.services.commitments import (
    agreement_create,
    agreement_update,
    commitment_create,
    commitment_update,
)

KINDS = ("parties", "sources", "agreements", "commitments", "citations", "relations")
_SECTION_RECORD = {"parties": "party", "sources": "source", "commitments": "commitment"}
_RULE_DATE_FIELDS = (
    name
    for name in deadlines.RULE_FIELD_NAMES
    if isinstance(Commitment._meta.get_field(name), models.DateField)
)
_DATE_FIELDS = frozenset({"published_on", "date", "effective_from", *_RULE_DATE_FIELDS})
_COMMITMENT_DEFAULTS: dict[str, Any] = {
    "description": "",
    "target_amount": None,
    "target_unit": "",
    "effective_from": None,
    **deadlines.RULE_EMPTY_VALUES,
}
#: A seed names its anchor commitment by key, under the rule's own field names.
_ANCHOR = deadlines.ANCHOR_COMMITMENT_FIELD.name
_ANCHOR_KIND = deadlines.ANCHOR_KIND_FIELD.name


def default_seeds_dir() -> Path:
    """Return the project's ``seeds/`` directory."""
    return Path(settings.BASE_DIR) / "seeds"


def schema_path() -> Path:
    """Return the JSON Schema every seed file is validated against."""
    return default_seeds_dir() / "schema.json"


@dataclass(frozen=True, slots=True)
class SeedProblem:
    """One reason a seed load fails: where (file, record, field) and why."""

    file: str
    record: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.record}: field {self.field}: {self.reason}"


class SeedError(Exception):
    """The seeds cannot be loaded; ``problems`` says where and why. Nothing was written."""

    def __init__(self, problems: list[SeedProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(slots=True)
class KindCounts:
    """How many records of one kind a load created, updated or left unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(slots=True)
class SeedSummary:
    """The outcome of a load, per kind of record."""

    dry_run: bool
    counts: dict[str, KindCounts] = field(default_factory=lambda: {k: KindCounts() for k in KINDS})

    def lines(self) -> list[str]:
        """Return one human-readable line per kind."""
        verb = "would be " if self.dry_run else ""
        return [
            f"{kind}: {c.created} {verb}created, {c.updated} {verb}updated, {c.unchanged} unchanged"
            for kind, c in self.counts.items()
        ]


@dataclass(slots=True)
class _Record:
    """A record read from a seed file, with where it came from."""

    file: str
    label: str
    key: str
    data: dict[str, Any]
    agreement_key: str = ""

    def problem(self, field_name: str, reason: str) -> SeedProblem:
        return SeedProblem(file=self.file, record=self.label, field=field_name, reason=reason)


@dataclass(slots=True)
class _Seeds:
    parties: list[_Record] = field(default_factory=list)
    sources: list[_Record] = field(default_factory=list)
    agreements: list[_Record] = field(default_factory=list)
    commitments: list[_Record] = field(default_factory=list)


_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SeedYamlLoader(_SafeLoader):
    """A safe loader that keeps dates as ISO strings, so the schema checks them as text."""


_SeedYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def seeds_load(*, path: Path | None = None, dry_run: bool = False) -> SeedSummary:
    """Validate and load the seed files under ``path`` (a directory or one file).

    With ``dry_run`` everything is checked, including the model rules, and then rolled back.
    Raise :class:`SeedError` naming file, record and field if anything is wrong; the database
    is then left as it was.
    """
    seeds = _read_and_validate(path or default_seeds_dir())
    summary = SeedSummary(dry_run=dry_run)
    with transaction.atomic():
        writer = _Writer(summary=summary)
        writer.write(seeds)
        if dry_run:
            transaction.set_rollback(True)
    return summary


def _seed_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())
    raise SeedError([SeedProblem(str(path), "(path)", "-", "no such file or directory")])


def _read_and_validate(path: Path) -> _Seeds:
    files = _seed_files(path)
    if not files:
        raise SeedError([SeedProblem(str(path), "(path)", "-", "no .yaml seed files found")])
    validator = jsonschema.Draft202012Validator(
        json.loads(schema_path().read_text(encoding="utf-8")),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    problems: list[SeedProblem] = []
    seeds = _Seeds()
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
            problems.extend(_schema_problem(name, data, error) for error in errors)
            continue
        _collect(seeds, name, data)
    problems.extend(_cross_file_problems(seeds))
    if problems:
        raise SeedError(problems)
    return seeds


def _record_label(section: str, item: Any, index: int) -> str:
    kind = _SECTION_RECORD.get(section, section)
    key = item.get("key") if isinstance(item, dict) else None
    return f"{kind} {key!r}" if isinstance(key, str) else f"{kind} #{index + 1}"


def _schema_problem(file: str, data: Any, error: jsonschema.ValidationError) -> SeedProblem:
    parts = list(error.absolute_path)
    record, rest = "(file)", parts
    if parts and parts[0] == "agreement" and isinstance(data, dict):
        record, rest = _record_label("agreement", data.get("agreement"), 0), parts[1:]
    elif len(parts) >= 2 and parts[0] in _SECTION_RECORD and isinstance(parts[1], int):
        record = _record_label(str(parts[0]), data[parts[0]][parts[1]], parts[1])
        rest = parts[2:]
    field_name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".")
    reason = error.message
    instance: Any = error.instance
    expected: Any = error.validator_value
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in expected if name not in instance]
        field_name = _join(field_name, missing[0])
        reason = "missing required field"
    elif error.validator == "dependentRequired" and isinstance(instance, dict):
        missing = [name for name in expected if name not in instance]
        field_name = _join(field_name, missing[0])
        reason = f"required because another field is set ({error.message})"
    elif error.validator == "additionalProperties" and isinstance(instance, dict):
        schema: Any = error.schema
        allowed = set(schema.get("properties", {}))
        unknown = sorted(str(name) for name in instance if name not in allowed)
        field_name = _join(field_name, ", ".join(unknown))
        reason = "unknown field"
    return SeedProblem(file, record, field_name or "-", reason)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _collect(seeds: _Seeds, file: str, data: dict[str, Any]) -> None:
    for index, item in enumerate(data.get("parties", [])):
        seeds.parties.append(
            _Record(file, _record_label("parties", item, index), item["key"], item)
        )
    for index, item in enumerate(data.get("sources", [])):
        seeds.sources.append(
            _Record(file, _record_label("sources", item, index), item["key"], item)
        )
    agreement = data.get("agreement")
    if agreement is None:
        return
    seeds.agreements.append(
        _Record(file, _record_label("agreement", agreement, 0), agreement["key"], agreement)
    )
    for index, item in enumerate(data.get("commitments", [])):
        seeds.commitments.append(
            _Record(
                file,
                _record_label("commitments", item, index),
                item["key"],
                item,
                agreement_key=agreement["key"],
            )
        )


def _cross_file_problems(seeds: _Seeds) -> list[SeedProblem]:
    problems: list[SeedProblem] = []
    for records in (seeds.parties, seeds.sources, seeds.agreements, seeds.commitments):
        first: dict[str, _Record] = {}
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


def _anchor_cycle_problems(commitments: list[_Record]) -> list[SeedProblem]:
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


def _anchor_order(commitments: list[_Record]) -> list[_Record]:
    """Order commitments so that each comes after the seeded commitment it is anchored on."""
    by_key = {r.key: r for r in commitments}
    ordered: list[_Record] = []
    placed: set[str] = set()

    def place(record: _Record) -> None:
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


def _as_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value is not None else None


def _differs(instance: models.Model, data: dict[str, Any]) -> dict[str, Any]:
    """Return the entries of ``data`` whose value differs from ``instance``'s."""
    changed = {}
    for name, value in data.items():
        model_field = instance._meta.get_field(name)
        if isinstance(model_field, models.ForeignKey):
            current = getattr(instance, model_field.attname)
            new = value.pk if value is not None else None
        else:
            current, new = getattr(instance, name), value
        if current != new:
            changed[name] = value
    return changed


def _problems_from(record: _Record, exc: ValidationError, prefix: str = "") -> SeedError:
    if hasattr(exc, "error_dict"):
        problems = [
            record.problem(prefix + (name if name != "__all__" else "-"), "; ".join(messages))
            for name, messages in exc.message_dict.items()
        ]
    else:
        problems = [record.problem(prefix.rstrip(".") or "-", "; ".join(exc.messages))]
    return SeedError(problems)


class _Writer:
    """Write validated seeds, reading what is stored in bulk and counting what changed."""

    def __init__(self, *, summary: SeedSummary) -> None:
        self.summary = summary
        self.parties: dict[str, Party] = {}
        self.sources: dict[str, Source] = {}
        self.commitments: dict[str, Commitment] = {}

    def count(self, kind: str, outcome: str) -> None:
        counts = self.summary.counts[kind]
        setattr(counts, outcome, getattr(counts, outcome) + 1)

    def write(self, seeds: _Seeds) -> None:
        stored_parties = Party.objects.in_bulk([r.key for r in seeds.parties], field_name="key")
        for record in seeds.parties:
            self.upsert_plain(
                Party, "parties", record, stored_parties.get(record.key), _party_fields(record)
            )
        stored_sources = Source.objects.in_bulk([r.key for r in seeds.sources], field_name="key")
        for record in seeds.sources:
            self.upsert_plain(
                Source, "sources", record, stored_sources.get(record.key), _source_fields(record)
            )
        self.parties = Party.objects.in_bulk(_party_keys(seeds), field_name="key")
        self.sources = Source.objects.in_bulk(_source_keys(seeds), field_name="key")
        stored_agreements = Agreement.objects.prefetch_related("parties").in_bulk(
            [r.key for r in seeds.agreements], field_name="key"
        )
        agreements = {
            r.key: self.upsert_agreement(r, stored_agreements.get(r.key)) for r in seeds.agreements
        }
        # Read after the agreements: a changed agreement date has just recomputed due dates.
        self.commitments = (
            Commitment.objects.select_related(*DUE_DATE_RELATIONS)
            .prefetch_related("beneficiaries")
            .in_bulk([r.key for r in seeds.commitments], field_name="key")
        )
        commitments = {
            r.key: self.upsert_commitment(r, agreements[r.agreement_key])
            for r in _anchor_order(seeds.commitments)
        }
        self.sync_citations(
            [(r, agreements[r.key]) for r in seeds.agreements],
            [(r, commitments[r.key]) for r in seeds.commitments],
        )
        self.sync_relations([(r, commitments[r.key]) for r in seeds.commitments])

    def upsert_plain(
        self,
        model: type[Party] | type[Source],
        kind: str,
        record: _Record,
        instance: Party | Source | None,
        data: dict[str, Any],
    ) -> None:
        if instance is None:
            instance = model(key=record.key, **data)
            fields = None
        else:
            changed = _differs(instance, data)
            if not changed:
                self.count(kind, "unchanged")
                return
            for name, value in changed.items():
                setattr(instance, name, value)
            fields = sorted({*changed, "updated"})
        try:
            instance.full_clean()
        except ValidationError as exc:
            raise _problems_from(record, exc) from exc
        instance.save(update_fields=fields)
        self.count(kind, "created" if fields is None else "updated")

    def party_list(self, record: _Record, field_name: str, keys: Iterable[str]) -> list[Party]:
        parties = []
        for index, key in enumerate(keys):
            if key not in self.parties:
                raise SeedError(
                    [record.problem(f"{field_name}[{index}]", f"unknown party {key!r}")]
                )
            parties.append(self.parties[key])
        return parties

    def commitment_by_key(self, record: _Record, field_name: str, key: str) -> Commitment:
        """Return a commitment loaded earlier in this run or already stored."""
        found = self.commitments.get(key) or Commitment.objects.filter(key=key).first()
        if found is None:
            raise SeedError([record.problem(field_name, f"unknown commitment {key!r}")])
        return found

    def upsert_agreement(self, record: _Record, agreement: Agreement | None) -> Agreement:
        data = record.data
        fields = {
            "title": data["title"],
            "kind": data["kind"],
            "date": _as_date(data["date"]),
            "place": data.get("place", ""),
            "time_zone": data["time_zone"],
            "summary": data.get("summary", ""),
        }
        parties = self.party_list(record, "parties", data["parties"])
        try:
            if agreement is None:
                agreement = agreement_create(key=record.key, parties=parties, **fields)
                self.count("agreements", "created")
                return agreement
            changed = _differs(agreement, fields)
            parties_changed = {p.pk for p in agreement.parties.all()} != {p.pk for p in parties}
            if not changed and not parties_changed:
                self.count("agreements", "unchanged")
                return agreement
            agreement_update(
                agreement=agreement, parties=parties if parties_changed else None, **changed
            )
        except ValidationError as exc:
            raise _problems_from(record, exc) from exc
        self.count("agreements", "updated")
        return agreement

    def upsert_commitment(self, record: _Record, agreement: Agreement) -> Commitment:
        data = record.data
        if data["obligor"] not in self.parties:
            raise SeedError([record.problem("obligor", f"unknown party {data['obligor']!r}")])
        fields: dict[str, Any] = {
            **_COMMITMENT_DEFAULTS,
            **{k: v for k, v in data.items() if k in _COMMITMENT_DEFAULTS},
            "agreement": agreement,
            "title": data["title"],
            "obligor": self.parties[data["obligor"]],
            "category": data["category"],
            _ANCHOR: None,
        }
        for name in _DATE_FIELDS & fields.keys():
            if isinstance(fields[name], str):
                fields[name] = _as_date(fields[name])
        if fields["target_amount"] is not None:
            fields["target_amount"] = Decimal(str(fields["target_amount"]))
        if _ANCHOR in data:
            fields[_ANCHOR] = self.commitment_by_key(record, _ANCHOR, data[_ANCHOR])
        beneficiaries = self.party_list(record, "beneficiaries", data.get("beneficiaries", []))
        commitment = self.commitments.get(record.key)
        try:
            if commitment is None:
                commitment = commitment_create(
                    key=record.key, beneficiaries=beneficiaries, **fields
                )
                self.commitments[record.key] = commitment
                self.count("commitments", "created")
                return commitment
            changed = _differs(commitment, fields)
            beneficiaries_changed = {p.pk for p in commitment.beneficiaries.all()} != {
                p.pk for p in beneficiaries
            }
            if not changed and not beneficiaries_changed:
                self.count("commitments", "unchanged")
                return commitment
            commitment_update(
                commitment=commitment,
                beneficiaries=beneficiaries if beneficiaries_changed else None,
                **changed,
            )
        except ValidationError as exc:
            raise _problems_from(record, exc) from exc
        self.count("commitments", "updated")
        return commitment

    def sync_citations(
        self,
        agreements: list[tuple[_Record, Agreement]],
        commitments: list[tuple[_Record, Commitment]],
    ) -> None:
        stored = {
            (c.agreement_id, c.commitment_id, c.source_id, c.quote): c
            for c in Citation.objects.filter(
                Q(agreement__in=[a for _, a in agreements])
                | Q(commitment__in=[c for _, c in commitments])
            )
        }
        targets: list[tuple[_Record, dict[str, Any], tuple[int | None, int | None]]] = [
            *((record, {"agreement": a}, (a.pk, None)) for record, a in agreements),
            *((record, {"commitment": c}, (None, c.pk)) for record, c in commitments),
        ]
        for record, target, target_ids in targets:
            for index, item in enumerate(record.data.get("citations", [])):
                source = self.sources.get(item["source"])
                if source is None:
                    problem = record.problem(
                        f"citations[{index}].source", f"unknown source {item['source']!r}"
                    )
                    raise SeedError([problem])
                new = Citation(source=source, quote=item["quote"], **target)
                citation = stored.get((*target_ids, source.pk, item["quote"]))
                self.upsert_citation(record, index, citation, new, item)

    def upsert_citation(
        self,
        record: _Record,
        index: int,
        citation: Citation | None,
        new: Citation,
        item: dict[str, Any],
    ) -> None:
        translation = item.get("translation", "")
        values = {
            "translation": translation,
            "translation_language": item.get("translation_language", "en" if translation else ""),
            "locator": item.get("locator", ""),
        }
        if citation is None:
            citation = new
            for name, value in values.items():
                setattr(citation, name, value)
            fields = None
        else:
            changed = _differs(citation, values)
            if not changed:
                self.count("citations", "unchanged")
                return
            for name, value in changed.items():
                setattr(citation, name, value)
            fields = sorted({*changed, "updated"})
        try:
            citation.full_clean()
        except ValidationError as exc:
            raise _problems_from(record, exc, f"citations[{index}].") from exc
        citation.save(update_fields=fields)
        self.count("citations", "created" if fields is None else "updated")

    def sync_relations(self, commitments: list[tuple[_Record, Commitment]]) -> None:
        stored = set(
            CommitmentRelation.objects.filter(
                from_commitment__in=[c for _, c in commitments]
            ).values_list("from_commitment_id", "to_commitment_id", "kind")
        )
        for record, commitment in commitments:
            for index, item in enumerate(record.data.get("relations", [])):
                to = self.commitment_by_key(record, f"relations[{index}].to", item["to"])
                if (commitment.pk, to.pk, item["kind"]) in stored:
                    self.count("relations", "unchanged")
                    continue
                relation = CommitmentRelation(
                    from_commitment=commitment, to_commitment=to, kind=item["kind"]
                )
                try:
                    relation.full_clean()
                except ValidationError as exc:
                    raise _problems_from(record, exc, f"relations[{index}].") from exc
                relation.save()
                stored.add((commitment.pk, to.pk, item["kind"]))
                self.count("relations", "created")


def _party_fields(record: _Record) -> dict[str, Any]:
    data = record.data
    return {
        "name": data["name"],
        "name_fr": data.get("name_fr", ""),
        "kind": data["kind"],
        "country_code": data.get("country_code", ""),
    }


def _source_fields(record: _Record) -> dict[str, Any]:
    data = record.data
    return {
        "title": data["title"],
        "publisher": data["publisher"],
        "url": data.get("url", ""),
        "language": data["language"],
        "published_on": _as_date(data["published_on"]),
        "kind": data["kind"],
    }


def _party_keys(seeds: _Seeds) -> set[str]:
    keys = {r.key for r in seeds.parties}
    for record in seeds.agreements:
        keys.update(record.data["parties"])
    for record in seeds.commitments:
        keys.add(record.data["obligor"])
        keys.update(record.data.get("beneficiaries", []))
    return keys


def _source_keys(seeds: _Seeds) -> set[str]:
    return {
        citation["source"]
        for record in (*seeds.agreements, *seeds.commitments)
        for citation in record.data.get("citations", [])
    }
