"""The seeds' per-party halves of one shared promise became one commitment with co-obligors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.db import transaction

from commitments.models import Citation, Commitment, CommitmentRelation
from commitments.services.seeds.reader import seeds_read
from commitments.services.seeds.schema import default_seeds_dir

BEFORE = Path(__file__).parent / "data" / "seeds_per_party_da2e48d.yaml"
PER_PARTY = re.compile(r"^(?P<base>.+)-by-(?P<party>[a-z-]+)$")


def before() -> list[dict[str, Any]]:
    """Return the seeds' commitments as they were before the merge (key, obligor, citations)."""
    return yaml.safe_load(BEFORE.read_text(encoding="utf-8"))


def kept_key(old_key: str) -> str:
    """Return the key an old commitment lives on under: its own, or its Japanese half's."""
    match = PER_PARTY.match(old_key)
    return f"{match['base']}-by-japan" if match else old_key


def after() -> dict[str, dict[str, Any]]:
    return {record.key: record.data for record in seeds_read(path=default_seeds_dir()).commitments}


def load(*args: str) -> str:
    out = StringIO()
    call_command("loadseeds", *args, stdout=out)
    return out.getvalue()


def test_per_party_migration_of_the_seeds_loses_no_citation():
    """Every (source, quote) an old commitment cited is cited by the one that binds its party."""
    old, new = before(), after()
    assert len(old) == 66
    for item in old:
        merged = new[kept_key(item["key"])]
        assert item["obligor"] in [merged["obligor"], *merged.get("co_obligors", [])], item["key"]
        cited = {(c["source"], c["quote"]) for c in merged["citations"]}
        assert {tuple(c) for c in item["citations"]} <= cited, item["key"]
    old_citations = {tuple(c) for item in old for c in item["citations"]}
    new_citations = {(c["source"], c["quote"]) for data in new.values() for c in data["citations"]}
    assert new_citations == old_citations


def test_the_seeds_keep_separate_the_promises_that_differ():
    """Only the per-party halves were merged: every other commitment keeps its key and party."""
    new = after()
    for item in before():
        if not PER_PARTY.match(item["key"]):
            assert new[item["key"]]["obligor"] == item["obligor"]
            assert "co_obligors" not in new[item["key"]]
    assert len(new) == 40


def test_no_seed_refers_to_a_dropped_key():
    dropped = {i["key"] for i in before()} - after().keys()
    assert len(dropped) == 26
    for data in after().values():
        named = {r["to"] for r in data.get("relations", [])}
        named |= {data.get("anchor_commitment"), data.get("replaced_by")}
        assert not named & dropped


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[str]:
    """Load the real seeds once for this module, rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield load()
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_each_merged_commitment_binds_both_parties(seeded):
    halves: dict[str, set[str]] = {}
    for item in before():
        if PER_PARTY.match(item["key"]):
            halves.setdefault(kept_key(item["key"]), set()).add(item["obligor"])
    assert len(halves) == 26
    stored = {
        c.key: c
        for c in Commitment.objects.filter(key__in=halves).prefetch_related("co_obligors")
    }
    for key, parties in halves.items():
        assert len(parties) == 2
        assert {p.key for p in stored[key].obligor_list} == parties, key
        assert stored[key].obligor.key == "japan"
    dropped = {item["key"] for item in before()} - {kept_key(i["key"]) for i in before()}
    assert not Commitment.objects.filter(key__in=dropped).exists()
    # A commitment is not related to itself: the halves' "related" links went with them.
    assert not CommitmentRelation.objects.filter(
        from_commitment__key__in=halves, kind="related"
    ).exists()


PAIR_BEFORE: dict[str, Any] = {
    "parties": [{"key": "testland", "name": "Testland", "kind": "state"}],
    "sources": [
        {
            "key": "test-source",
            "title": "Test",
            "publisher": "Test",
            "language": "fr",
            "published_on": "2025-10-28",
            "kind": "press",
        }
    ],
    "agreement": {
        "key": "test-agreement",
        "title": "Test agreement",
        "kind": "framework",
        "date": "2025-10-28",
        "time_zone": "Asia/Tokyo",
        "parties": ["testland", "japan"],
    },
    "commitments": [
        {
            "key": f"meet-by-{party}",
            "title": f"{party} meets",
            "obligor": party,
            "category": "meeting",
            "deadline_kind": "none",
            "citations": [{"source": "test-source", "quote": quote}],
            "relations": [{"kind": "related", "to": f"meet-by-{other}"}],
        }
        for party, other, quote in (
            ("japan", "testland", "les deux pays se réuniront"),
            ("testland", "japan", "ils se réuniront"),
        )
    ],
}


def _merged() -> dict[str, Any]:
    doc = yaml.safe_load(yaml.safe_dump(PAIR_BEFORE))
    japan, testland = doc["commitments"]
    japan["title"] = "Japan and Testland meet"
    japan["co_obligors"] = ["testland"]
    japan["citations"] += testland["citations"]
    del japan["relations"]
    doc["commitments"] = [japan]
    return doc


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.django_db
def test_a_database_that_had_the_pair_gains_the_co_obligor_and_keeps_the_dropped_half(tmp_path):
    """The kept key is updated in place; the dropped half is left as it was, and named."""
    load(str(_write(tmp_path / "before.yaml", PAIR_BEFORE)))
    dropped = Commitment.objects.get(key="meet-by-testland")
    dropped_history = dropped.history.count()

    output = load(str(_write(tmp_path / "after.yaml", _merged())))

    kept = Commitment.objects.get(key="meet-by-japan")
    assert [p.key for p in kept.obligor_list] == ["japan", "testland"]
    assert kept.title == "Japan and Testland meet"
    assert set(Citation.objects.filter(commitment=kept).values_list("quote", flat=True)) == {
        "les deux pays se réuniront",
        "ils se réuniront",
    }
    assert Commitment.objects.get(key="meet-by-testland").history.count() == dropped_history
    assert "not in the seeds, left as they are: meet-by-testland" in output
    again = load(str(tmp_path / "after.yaml"))
    assert "commitments: 0 created, 0 updated, 1 unchanged" in again
