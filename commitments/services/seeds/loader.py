"""Write validated seed records through the domain services, all or nothing, by key.

A record equal to what is stored is not saved, so a second load writes nothing and adds no
history; citations and relations are added and updated but never deleted. Nor are commitments:
one whose key left the seeds (two per-party halves merged into one shared commitment keep one
key) stays as it is, with its history, statuses and ratings, and the summary names it so that an
editor can close or rate it by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q

from commitments import deadlines
from commitments.choices import PrecisionChoice
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
from commitments.services.publishing import agreement_publish_unreviewed
from commitments.services.sources import citation_place

from .problems import SeedError
from .reader import SeedRecord, SeedRecords, anchor_order, seeds_read
from .schema import default_seeds_dir

KINDS = ("parties", "sources", "agreements", "commitments", "citations", "relations")
_RULE_DATE_FIELDS = (
    name
    for name in deadlines.RULE_FIELD_NAMES
    if isinstance(Commitment._meta.get_field(name), models.DateField)
)
#: The implementation stages a seed may state (issue 12), with their values when it does not;
#: ``replaced_by`` names a commitment by key, loaded earlier in the run or already stored.
_STAGE_DEFAULTS: dict[str, Any] = {
    "effective_from_precision": PrecisionChoice.DAY,
    "announced_on": None,
    "signed_on": None,
    "instrument_title": "",
    "instrument_url": "",
    "in_force_on": None,
    "ended_on": None,
    "ended_reason": "",
}
_STAGE_DATE_FIELDS = ("announced_on", "signed_on", "in_force_on", "ended_on")
_DATE_FIELDS = frozenset(
    {"published_on", "date", "effective_from", *_RULE_DATE_FIELDS, *_STAGE_DATE_FIELDS}
)
_COMMITMENT_DEFAULTS: dict[str, Any] = {
    "description": "",
    "title_fr": "",
    "description_fr": "",
    "target_amount": None,
    "target_unit": "",
    "effective_from": None,
    **deadlines.RULE_EMPTY_VALUES,
    **_STAGE_DEFAULTS,
}
#: A seed names its anchor commitment by key, under the rule's own field names.
_ANCHOR = deadlines.ANCHOR_COMMITMENT_FIELD.name


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
    #: Stored commitments of the seeded agreements that no seed names (added by hand, or dropped
    #: from the seeds), left untouched.
    not_in_seeds: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Return one human-readable line per kind, then the commitments the seeds dropped."""
        verb = "would be " if self.dry_run else ""
        lines = [
            f"{kind}: {c.created} {verb}created, {c.updated} {verb}updated, {c.unchanged} unchanged"
            for kind, c in self.counts.items()
        ]
        if self.not_in_seeds:
            lines.append(
                "commitments of these agreements not in the seeds, left as they are: "
                + ", ".join(self.not_in_seeds)
            )
        return lines


def seeds_load(*, path: Path | None = None, dry_run: bool = False) -> SeedSummary:
    """Validate and load the seed files under ``path`` (a directory or one file).

    With ``dry_run`` everything is checked, including the model rules, and then rolled back.
    Raise :class:`SeedError` naming file, record and field if anything is wrong; the database
    is then left as it was.
    """
    seeds = seeds_read(path=path or default_seeds_dir())
    summary = SeedSummary(dry_run=dry_run)
    with transaction.atomic():
        writer = _Writer(summary=summary)
        writer.write(seeds)
        if dry_run:
            transaction.set_rollback(True)
    return summary


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


def _problems_from(record: SeedRecord, exc: ValidationError, prefix: str = "") -> SeedError:
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

    def write(self, seeds: SeedRecords) -> None:
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
            .prefetch_related("beneficiaries", "co_obligors")
            .in_bulk([r.key for r in seeds.commitments], field_name="key")
        )
        commitments = {
            r.key: self.upsert_commitment(r, agreements[r.agreement_key])
            for r in anchor_order(seeds.commitments)
        }
        self.sync_citations(
            [(r, agreements[r.key]) for r in seeds.agreements],
            [(r, commitments[r.key]) for r in seeds.commitments],
        )
        self.sync_relations([(r, commitments[r.key]) for r in seeds.commitments])
        self.summary.not_in_seeds = sorted(
            Commitment.objects.filter(agreement__in=agreements.values())
            .exclude(key__in=commitments.keys())
            .values_list("key", flat=True)
        )

    def upsert_plain(
        self,
        model: type[Party] | type[Source],
        kind: str,
        record: SeedRecord,
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

    def party_list(self, record: SeedRecord, field_name: str, keys: Iterable[str]) -> list[Party]:
        parties = []
        for index, key in enumerate(keys):
            if key not in self.parties:
                raise SeedError(
                    [record.problem(f"{field_name}[{index}]", f"unknown party {key!r}")]
                )
            parties.append(self.parties[key])
        return parties

    def commitment_by_key(self, record: SeedRecord, field_name: str, key: str) -> Commitment:
        """Return a commitment loaded earlier in this run or already stored."""
        found = self.commitments.get(key) or Commitment.objects.filter(key=key).first()
        if found is None:
            raise SeedError([record.problem(field_name, f"unknown commitment {key!r}")])
        return found

    def upsert_agreement(self, record: SeedRecord, agreement: Agreement | None) -> Agreement:
        data = record.data
        fields = {
            "title": data["title"],
            "kind": data["kind"],
            "date": _as_date(data["date"]),
            "place": data.get("place", ""),
            "time_zone": data["time_zone"],
            "summary": data.get("summary", ""),
            "title_fr": data.get("title_fr", ""),
            "summary_fr": data.get("summary_fr", ""),
        }
        parties = self.party_list(record, "parties", data["parties"])
        try:
            if agreement is None:
                agreement = agreement_create(key=record.key, parties=parties, **fields)
                # The seeds load published, so a fresh tracker shows a public site at once;
                # an editor's later unpublishing is not undone by loading them again.
                agreement_publish_unreviewed(agreement=agreement)
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

    def upsert_commitment(self, record: SeedRecord, agreement: Agreement) -> Commitment:
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
        fields["replaced_by"] = (
            self.commitment_by_key(record, "replaced_by", data["replaced_by"])
            if "replaced_by" in data
            else None
        )
        beneficiaries = self.party_list(record, "beneficiaries", data.get("beneficiaries", []))
        co_obligors = self.party_list(record, "co_obligors", data.get("co_obligors", []))
        commitment = self.commitments.get(record.key)
        try:
            if commitment is None:
                commitment = commitment_create(
                    key=record.key, beneficiaries=beneficiaries, co_obligors=co_obligors, **fields
                )
                self.commitments[record.key] = commitment
                self.count("commitments", "created")
                return commitment
            changed = _differs(commitment, fields)
            beneficiaries_changed = {p.pk for p in commitment.beneficiaries.all()} != {
                p.pk for p in beneficiaries
            }
            co_obligors_changed = {p.pk for p in commitment.co_obligors.all()} != {
                p.pk for p in co_obligors
            }
            if not changed and not beneficiaries_changed and not co_obligors_changed:
                self.count("commitments", "unchanged")
                return commitment
            commitment_update(
                commitment=commitment,
                beneficiaries=beneficiaries if beneficiaries_changed else None,
                co_obligors=co_obligors if co_obligors_changed else None,
                **changed,
            )
        except ValidationError as exc:
            raise _problems_from(record, exc) from exc
        self.count("commitments", "updated")
        return commitment

    def sync_citations(
        self,
        agreements: list[tuple[SeedRecord, Agreement]],
        commitments: list[tuple[SeedRecord, Commitment]],
    ) -> None:
        stored = {
            (c.agreement_id, c.commitment_id, c.source_id, c.quote): c
            for c in Citation.objects.filter(
                Q(agreement__in=[a for _, a in agreements])
                | Q(commitment__in=[c for _, c in commitments])
            )
        }
        targets: list[tuple[SeedRecord, dict[str, Any], tuple[int | None, int | None]]] = [
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
                # Required, as in every interface: the seeds' sources carry their documents,
                # and a quote that is not in its document could not be checked against it.
                try:
                    citation_place(new, required=True)
                except ValidationError as exc:
                    raise _problems_from(record, exc, f"citations[{index}].") from exc
                citation = stored.get((*target_ids, source.pk, new.quote)) or stored.get(
                    (*target_ids, source.pk, item["quote"])
                )
                self.upsert_citation(record, index, citation, new, item)

    def upsert_citation(
        self,
        record: SeedRecord,
        index: int,
        citation: Citation | None,
        new: Citation,
        item: dict[str, Any],
    ) -> None:
        translation = item.get("translation", "")
        # ``new`` is placed: its quote as the source's text has it, at its span.
        values = {
            "quote": new.quote,
            "translation": translation,
            "translation_language": item.get("translation_language", "en" if translation else ""),
            "locator": item.get("locator", ""),
            "start": new.start,
            "end": new.end,
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

    def sync_relations(self, commitments: list[tuple[SeedRecord, Commitment]]) -> None:
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


def _party_fields(record: SeedRecord) -> dict[str, Any]:
    data = record.data
    return {
        "name": data["name"],
        "name_fr": data.get("name_fr", ""),
        "kind": data["kind"],
        "country_code": data.get("country_code", ""),
    }


def _source_fields(record: SeedRecord) -> dict[str, Any]:
    data = record.data
    archive = record.archive
    return {
        "title": data["title"],
        "publisher": data["publisher"],
        "url": data.get("url", ""),
        "language": data["language"],
        "published_on": _as_date(data["published_on"]),
        "kind": data["kind"],
        # The archived copy: the text file kept in the repository is the original.
        "text": archive.text if archive else "",
        "content_type": archive.kind if archive else "",
        "sha256": archive.sha256 if archive else "",
        "original_name": data.get("text_file", ""),
        "retrieved_on": _as_date(data.get("retrieved_on")),
    }


def _party_keys(seeds: SeedRecords) -> set[str]:
    keys = {r.key for r in seeds.parties}
    for record in seeds.agreements:
        keys.update(record.data["parties"])
    for record in seeds.commitments:
        keys.add(record.data["obligor"])
        keys.update(record.data.get("beneficiaries", []))
        keys.update(record.data.get("co_obligors", []))
    return keys


def _source_keys(seeds: SeedRecords) -> set[str]:
    return {
        citation["source"]
        for record in (*seeds.agreements, *seeds.commitments)
        for citation in record.data.get("citations", [])
    }
