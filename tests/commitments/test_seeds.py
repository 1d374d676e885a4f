"""Loading the seed files: the real data, idempotence, updates, and every kind of bad file."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from commitments import choices
from commitments.models import (
    Agreement,
    Citation,
    Commitment,
    CommitmentRelation,
    Party,
    ProgressUpdate,
    Source,
)
from commitments.services.seeds.schema import default_seeds_dir, schema_path
from core import codes, dates

pytestmark = pytest.mark.django_db

SUMMIT = "japan-us-summit-2025-10-28"
MINERALS = "japan-us-critical-minerals-framework-2025-10-28"
MODELS = (Party, Source, Agreement, Commitment, Citation, CommitmentRelation, ProgressUpdate)


def load(*args: str) -> str:
    out = StringIO()
    call_command("loadseeds", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, Any]:
    """Return row counts of every seeded table and its history, and each row's last change."""
    state: dict[str, Any] = {}
    for model in MODELS:
        state[model.__name__] = model.objects.count()
        state[f"{model.__name__} history"] = model.history.count()  # type: ignore[attr-defined]
    state["agreement parties"] = Agreement.parties.through.objects.count()
    state["beneficiaries"] = Commitment.beneficiaries.through.objects.count()
    state["co-obligors"] = Commitment.co_obligors.through.objects.count()
    state["commitments updated"] = sorted(Commitment.objects.values_list("key", "updated"))
    state["agreements updated"] = sorted(Agreement.objects.values_list("key", "updated"))
    return state


@pytest.fixture(scope="module", autouse=True)
def seeded(django_db_setup, django_db_blocker) -> Iterator[str]:
    """Load the real seeds once for this module, in a transaction rolled back at its end.

    Each test runs in a savepoint inside it (the ``db`` fixture), so tests still cannot see
    each other's writes; loading once keeps the module fast on a busy database.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield load()
        transaction.set_rollback(True)


def commitment(key: str) -> Commitment:
    return Commitment.objects.select_related("agreement", "obligor").get(key=key)


def test_real_seeds_create_every_agreement_with_its_parties(seeded):
    parties = {
        a.key: {p.key for p in a.parties.all()}
        for a in Agreement.objects.prefetch_related("parties")
    }
    assert parties == {
        SUMMIT: {"japan", "united-states"},
        "japan-us-golden-age-implementation-2025-10-28": {"japan", "united-states"},
        MINERALS: {"japan", "united-states"},
        "japan-nato-2025-04-09": {"japan", "nato"},
        "japan-us-iwaya-blinken-2024-11-14": {"japan", "united-states"},
        "japan-south-korea-iwaya-cho-2024-11-14": {"japan", "south-korea"},
    }
    summit = Agreement.objects.get(key=SUMMIT)
    assert (summit.date, summit.place, summit.time_zone) == (
        dt.date(2025, 10, 28),
        "Tokyo",
        "Asia/Tokyo",
    )
    lima = Agreement.objects.get(key="japan-us-iwaya-blinken-2024-11-14")
    assert (lima.date, lima.place, lima.kind) == (
        dt.date(2024, 11, 14),
        "Lima",
        "ministerial_meeting",
    )


def test_sources_are_french_with_publisher_date_and_kind(seeded):
    sources = {s.key: s for s in Source.objects.all()}
    assert len(sources) == 5
    assert {s.language for s in sources.values()} == {"fr"}
    assert sources["gate-2025-10-28-us-japan-alliance-china"].publisher == "Gate"
    assert sources["gate-2025-10-28-us-japan-alliance-china"].kind == "press"
    assert sources["gov-jp-2025-04-09-ishiba-rutte"].kind == "official"
    assert sources["gov-jp-2025-04-09-ishiba-rutte"].published_on == dt.date(2025, 4, 9)


@pytest.mark.parametrize(
    ("key", "due_date"),
    [
        ("minerals-ministerial-180-days-by-japan", dt.date(2026, 4, 26)),
        ("minerals-project-financing-six-months-by-japan", dt.date(2026, 4, 28)),
        ("japan-defence-spending-2-percent-gdp", dt.date(2026, 3, 31)),
        ("us-independence-250th-celebration-by-japan", dt.date(2026, 12, 31)),
    ],
)
def test_key_commitments_get_computed_due_dates_ending_in_tokyo(seeded, key, due_date):
    c = commitment(key)
    assert c.due_date == due_date
    end_of_day_tokyo = dt.datetime.combine(due_date, dt.time(14, 59, 59, 999999), tzinfo=dt.UTC)
    assert c.due_at == end_of_day_tokyo


def test_minerals_ministerial_counts_from_the_framework_signing(seeded):
    c = commitment("minerals-ministerial-180-days-by-japan")
    assert c.agreement.key == MINERALS
    assert (c.category, c.deadline_kind, c.offset_amount, c.offset_unit, c.anchor_kind) == (
        "meeting",
        "relative",
        180,
        "days",
        "agreement",
    )
    assert c.deadline_phrase == "dans les 180 jours"


def test_investment_of_550_billion_dollars_by_japan_for_the_us(seeded):
    c = commitment("japan-investment-550-billion-usd")
    assert c.target_amount == Decimal("550000000000")
    assert c.target_unit == "USD"
    assert c.obligor.key == "japan"
    assert [p.key for p in c.beneficiaries.all()] == ["united-states"]
    assert c.category == "investment"
    assert c.due_date is None


def test_tariff_of_15_percent_retroactive_to_august_in_exchange_for_investment(seeded):
    c = commitment("us-tariff-japanese-exports-15-percent")
    assert (c.target_amount, c.target_unit, c.category) == (Decimal(15), "percent", "tariff")
    assert c.effective_from == dt.date(2025, 8, 1)
    assert c.obligor.key == "united-states"
    relation = CommitmentRelation.objects.get(from_commitment=c)
    assert relation.kind == "reciprocal_of"
    assert relation.to_commitment.key == "japan-investment-550-billion-usd"


def test_defence_spending_target_is_2_percent_of_gdp_by_march(seeded):
    c = commitment("japan-defence-spending-2-percent-gdp")
    assert (c.target_amount, c.target_unit) == (Decimal(2), "percent_gdp")
    assert (c.deadline_kind, c.period_unit, c.period_number) == ("period_end", "month", 3)
    assert c.citations.count() == 2


def test_by_march_is_march_2026_with_month_precision(seeded):
    """ "D’ici mars", said in October 2025: due 31 March 2026, known to the month."""
    c = commitment("japan-defence-spending-2-percent-gdp")
    assert (c.due_date, c.due_precision) == (dt.date(2026, 3, 31), "month")
    assert (c.original_due_date, c.original_due_precision) == (dt.date(2026, 3, 31), "month")


def test_retroactive_tariff_takes_effect_from_august_2025_known_to_the_month(seeded):
    c = commitment("us-tariff-japanese-exports-15-percent")
    assert (c.effective_from, c.effective_from_precision) == (dt.date(2025, 8, 1), "month")
    # The sources give no announcement or signature date: none is recorded.
    assert (c.announced_on, c.signed_on, c.in_force_on) == (None, None, None)


@pytest.mark.parametrize(
    ("key", "instrument"),
    [
        (
            "tariff-agreement-swift-implementation-by-japan",
            "Implementation of the Agreement toward a New Golden Age of the Japan–US Alliance",
        ),
        (
            "minerals-ministerial-180-days-by-japan",
            "Japan–US Framework for Securing the Supply of Critical Minerals and Rare Earths "
            "through Mining and Processing",
        ),
    ],
)
def test_the_two_documents_signed_at_the_summit_are_the_commitments_instrument(
    seeded, key, instrument
):
    c = commitment(key)
    assert (c.signed_on, c.instrument_title, c.instrument_url) == (
        dt.date(2025, 10, 28),
        instrument,
        "",
    )


def test_disagreeing_sources_on_yokosuka_and_yokohama_are_both_cited(seeded):
    summit = Agreement.objects.get(key=SUMMIT)
    yokosuka = summit.citations.get(quote__contains="Yokosuka")
    yokohama = summit.citations.get(quote__contains="Yokohama")
    assert yokosuka.source.key == "press-2025-10-28-trump-takaichi-tokyo"
    assert yokohama.source.key == "gate-2025-10-28-us-japan-alliance-china"
    assert "Yokosuka" in summit.summary and "Yokohama" in summit.summary
    assert "Yokohama" in yokosuka.translation and "Yokosuka" in yokohama.translation


@pytest.mark.parametrize(
    ("key", "category", "obligor"),
    [
        ("japan-purchase-us-soybeans", "purchase", "japan"),
        ("japan-purchase-us-natural-gas", "purchase", "japan"),
        ("japan-purchase-us-vehicles", "purchase", "japan"),
        ("minerals-rapid-response-group-by-japan", "institution", "japan"),
        ("japan-nato-cybersecurity-cooperation-by-japan", "cooperation", "japan"),
        ("japan-nato-maritime-security-cooperation-by-japan", "cooperation", "japan"),
        ("japan-nato-strategic-communication-cooperation-by-japan", "cooperation", "japan"),
        ("japan-nato-interoperability-cooperation-by-japan", "cooperation", "japan"),
        ("japan-nato-defence-industry-cooperation-by-japan", "cooperation", "japan"),
        ("alliance-deterrence-collaboration-by-japan", "cooperation", "japan"),
        ("alliance-under-new-governments-by-japan", "cooperation", "japan"),
    ],
)
def test_named_commitments_are_seeded(seeded, key, category, obligor):
    c = commitment(key)
    assert (c.category, c.obligor.key, c.deadline_kind, c.due_date) == (
        category,
        obligor,
        "none",
        None,
    )


def test_every_commitment_cites_a_french_source(seeded):
    uncited = Commitment.objects.exclude(citations__source__language="fr")
    assert not uncited.exists()
    assert Commitment.objects.count() >= 40


def test_every_seed_agreement_and_commitment_has_its_french_title_in_the_files():
    """The files themselves carry both languages, checked apart from the loader."""
    for path in sorted((default_seeds_dir() / "agreements").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        agreement = doc["agreement"]
        assert agreement.get("title_fr", "").strip(), f"{path.name}: agreement title_fr"
        assert agreement.get("summary_fr", "").strip(), f"{path.name}: agreement summary_fr"
        for record in doc["commitments"]:
            assert record.get("title_fr", "").strip(), f"{path.name}: {record['key']} title_fr"
            if record.get("description"):
                assert record.get("description_fr", "").strip(), (
                    f"{path.name}: {record['key']} description_fr"
                )
            assert record["title_fr"] != record["title"], record["key"]


def test_the_loader_stores_the_french_texts(seeded):
    assert not Agreement.objects.filter(title_fr="").exists()
    assert not Agreement.objects.filter(summary_fr="").exclude(summary="").exists()
    assert not Commitment.objects.filter(title_fr="").exists()
    assert not Commitment.objects.filter(description_fr="").exclude(description="").exists()
    invest = commitment("japan-investment-550-billion-usd")
    assert invest.title_fr == "Le Japon investit 550 milliards de dollars aux États-Unis"
    assert invest.machine_translations == {}
    assert Agreement.objects.get(key=SUMMIT).title_fr.startswith("Sommet Japon–États-Unis")
    assert Party.objects.get(key="japan").name_fr == "Japon"


def test_an_edited_french_title_in_a_seed_file_updates_the_row(seeded, tmp_path):
    """A French title changed in a file is a change like any other: the row is updated."""
    seeds = tmp_path / "seeds"
    shutil.copytree(default_seeds_dir(), seeds)
    minerals = seeds / "agreements" / "2025-10-28-japan-us-critical-minerals-framework.yaml"
    doc = yaml.safe_load(minerals.read_text(encoding="utf-8"))
    doc["commitments"][0]["title_fr"] = "Outils de politique économique (titre revu)"
    minerals.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

    output = load(str(seeds))

    assert "commitments: 0 created, 1 updated" in output
    key = doc["commitments"][0]["key"]
    assert commitment(key).title_fr == "Outils de politique économique (titre revu)"


def test_second_load_changes_nothing(seeded):
    before = snapshot()
    output = load()
    assert snapshot() == before
    for kind in ("parties", "sources", "agreements", "commitments", "citations", "relations"):
        assert f"{kind}: 0 created, 0 updated," in output
    assert "40 unchanged" in output


def test_first_load_reports_what_it_created(seeded):
    assert "agreements: 6 created, 0 updated, 0 unchanged" in seeded
    assert "commitments: 40 created" in seeded


def test_dry_run_validates_and_writes_nothing(tmp_path):
    path = write(tmp_path / "valid.yaml", VALID)
    before = snapshot()
    output = load("--dry-run", str(path))
    assert snapshot() == before
    assert "commitments: 2 would be created, 0 would be updated, 0 unchanged" in output
    assert "parties: 1 would be created" in output


def test_changed_seed_updates_the_record_and_recomputes_due_dates(seeded, tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(default_seeds_dir(), seeds)
    minerals = seeds / "agreements" / "2025-10-28-japan-us-critical-minerals-framework.yaml"
    text = minerals.read_text(encoding="utf-8")
    minerals.write_text(text.replace("date: 2025-10-28", "date: 2025-11-01"), encoding="utf-8")

    output = load(str(seeds))

    assert "agreements: 0 created, 1 updated, 5 unchanged" in output
    assert commitment("minerals-ministerial-180-days-by-japan").due_date == dt.date(2026, 4, 30)
    assert commitment("minerals-project-financing-six-months-by-japan").due_date == dt.date(
        2026, 5, 1
    )
    assert load(str(seeds)).count(" 0 created, 0 updated,") == 6


def test_schema_enumerations_match_the_domain_choices():
    defs = json.loads(schema_path().read_text(encoding="utf-8"))["$defs"]
    commitment_props = defs["commitment"]["properties"]
    assert commitment_props["category"]["enum"] == choices.Category.values
    assert commitment_props["target_unit"]["enum"] == choices.Unit.values
    assert commitment_props["deadline_kind"]["enum"] == choices.DeadlineKind.values
    assert commitment_props["offset_unit"]["enum"] == choices.OffsetUnitChoice.values
    assert commitment_props["anchor_kind"]["enum"] == choices.AnchorKind.values
    assert commitment_props["period_unit"]["enum"] == choices.PeriodUnitChoice.values
    assert commitment_props["deadline_precision"]["enum"] == choices.PrecisionChoice.values
    assert commitment_props["effective_from_precision"]["enum"] == choices.PrecisionChoice.values
    assert commitment_props["ended_reason"]["enum"] == choices.EndReason.values
    assert defs["relation"]["properties"]["kind"]["enum"] == choices.RelationKind.values
    assert defs["agreement"]["properties"]["kind"]["enum"] == choices.AgreementKind.values
    assert defs["party"]["properties"]["kind"]["enum"] == choices.PartyKind.values
    assert defs["source"]["properties"]["kind"]["enum"] == choices.SourceKind.values


def test_schema_dates_and_codes_match_the_core_rules():
    """The schema checks seeds as the models do: the same years, tags and country codes."""
    defs = json.loads(schema_path().read_text(encoding="utf-8"))["$defs"]
    year = defs["commitment"]["properties"]["period_year"]
    assert (year["minimum"], year["maximum"]) == (dates.YEAR_MIN, dates.YEAR_MAX)
    assert defs["source"]["properties"]["language"]["pattern"] == codes.LANGUAGE_TAG_PATTERN
    translation = defs["citation"]["properties"]["translation_language"]["pattern"]
    assert translation == "^(" + codes.LANGUAGE_TAG_PATTERN[1:-1] + ")?$"
    country = defs["party"]["properties"]["country_code"]["pattern"]
    assert country == "^(" + codes.COUNTRY_CODE_PATTERN[1:-1] + ")?$"


# Bad files. Each starts from a valid file that adds a party, a source, an agreement and two
# commitments (the second anchored on the first), then breaks one thing.

VALID: dict[str, Any] = {
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
            "key": "test-first",
            "title": "First",
            "obligor": "testland",
            "beneficiaries": ["japan"],
            "category": "meeting",
            "deadline_kind": "relative",
            "offset_amount": 180,
            "offset_unit": "days",
            "anchor_kind": "agreement",
            "citations": [{"source": "test-source", "quote": "dans les 180 jours"}],
        },
        {
            "key": "test-second",
            "title": "Second",
            "obligor": "japan",
            "category": "financing",
            "target_amount": 1000,
            "target_unit": "USD",
            "deadline_kind": "relative",
            "offset_amount": 6,
            "offset_unit": "months",
            "anchor_kind": "commitment",
            "anchor_commitment": "test-first",
            "citations": [{"source": "test-source", "quote": "dans les six mois"}],
        },
    ],
}


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_valid_test_file_loads(seeded, tmp_path):
    path = write(tmp_path / "valid.yaml", VALID)
    assert "commitments: 2 created" in load(str(path))
    assert commitment("test-second").due_date is None


def _missing_title(doc):
    del doc["commitments"][0]["title"]


def _unknown_obligor(doc):
    doc["commitments"][0]["obligor"] = "atlantis"


def _unknown_beneficiary(doc):
    doc["commitments"][0]["beneficiaries"] = ["japan", "atlantis"]


def _unknown_agreement_party(doc):
    doc["agreement"]["parties"] = ["testland", "atlantis"]


def _unknown_unit(doc):
    doc["commitments"][1]["target_unit"] = "dollars"


def _negative_amount(doc):
    doc["commitments"][1]["target_amount"] = -5


def _non_numeric_amount(doc):
    doc["commitments"][1]["target_amount"] = "lots"


def _unknown_category(doc):
    doc["commitments"][0]["category"] = "bribery"


def _relative_without_anchor(doc):
    del doc["commitments"][0]["anchor_kind"]


def _anchor_cycle(doc):
    first = doc["commitments"][0]
    first.update(anchor_kind="commitment", anchor_commitment="test-second")


def _fixed_before_agreement(doc):
    first = doc["commitments"][0]
    for name in ("offset_amount", "offset_unit", "anchor_kind"):
        del first[name]
    first.update(deadline_kind="fixed", deadline_date="2025-01-01")


def _period_year_out_of_range(doc):
    first = doc["commitments"][0]
    for name in ("offset_amount", "offset_unit", "anchor_kind"):
        del first[name]
    first.update(deadline_kind="period_end", period_unit="year", period_year=20288)


def _unknown_source(doc):
    doc["commitments"][1]["citations"][0]["source"] = "nowhere"


def _unknown_anchor(doc):
    doc["commitments"][1]["anchor_commitment"] = "test-nothing"


def _impossible_date(doc):
    doc["agreement"]["date"] = "2025-02-30"


def _agreement_date_out_of_range(doc):
    doc["agreement"]["date"] = "9999-12-31"


def _translation_language_not_a_tag(doc):
    doc["commitments"][0]["citations"][0]["translation_language"] = "NaN"


def _country_code_lowercase(doc):
    doc["parties"][0]["country_code"] = "tl"


def _unknown_field(doc):
    doc["commitments"][0]["deadline"] = "soon"


def _signed_before_announced(doc):
    doc["commitments"][0].update(announced_on="2025-11-01", signed_on="2025-10-01")


def _ended_without_reason(doc):
    doc["commitments"][0]["ended_on"] = "2026-01-01"


def _replaced_by_without_replaced_reason(doc):
    doc["commitments"][1].update(
        ended_on="2026-01-01", ended_reason="expired", replaced_by="test-first"
    )


def _unknown_precision(doc):
    doc["commitments"][0]["effective_from_precision"] = "week"


@pytest.mark.parametrize(
    ("break_it", "record", "field"),
    [
        (_missing_title, "commitment 'test-first'", "title"),
        (_unknown_obligor, "commitment 'test-first'", "obligor"),
        (_unknown_beneficiary, "commitment 'test-first'", "beneficiaries[1]"),
        (_unknown_agreement_party, "agreement 'test-agreement'", "parties[1]"),
        (_unknown_unit, "commitment 'test-second'", "target_unit"),
        (_negative_amount, "commitment 'test-second'", "target_amount"),
        (_non_numeric_amount, "commitment 'test-second'", "target_amount"),
        (_unknown_category, "commitment 'test-first'", "category"),
        (_relative_without_anchor, "commitment 'test-first'", "anchor_kind"),
        (_anchor_cycle, "commitment 'test-first'", "anchor_commitment"),
        (_fixed_before_agreement, "commitment 'test-first'", "deadline_date"),
        (_period_year_out_of_range, "commitment 'test-first'", "period_year"),
        (_unknown_source, "commitment 'test-second'", "citations[0].source"),
        (_unknown_anchor, "commitment 'test-second'", "anchor_commitment"),
        (_impossible_date, "agreement 'test-agreement'", "date"),
        (_unknown_field, "commitment 'test-first'", "deadline"),
        (_agreement_date_out_of_range, "agreement 'test-agreement'", "date"),
        (
            _translation_language_not_a_tag,
            "commitment 'test-first'",
            "citations[0].translation_language",
        ),
        (_country_code_lowercase, "party 'testland'", "country_code"),
        (_signed_before_announced, "commitment 'test-first'", "signed_on"),
        (_ended_without_reason, "commitment 'test-first'", "ended_reason"),
        (_replaced_by_without_replaced_reason, "commitment 'test-second'", "replaced_by"),
        (_unknown_precision, "commitment 'test-first'", "effective_from_precision"),
    ],
)
def test_bad_file_fails_naming_file_record_and_field_and_writes_nothing(
    seeded, tmp_path, break_it, record, field
):
    doc = copy.deepcopy(VALID)
    break_it(doc)
    path = write(tmp_path / "bad.yaml", doc)
    before = snapshot()

    with pytest.raises(CommandError) as exc:
        load(str(path))

    assert exc.value.returncode == 1
    line = next(line for line in str(exc.value).splitlines() if line.startswith(str(path)))
    assert f": {record}: field {field}: " in line
    assert snapshot() == before
    assert not Party.objects.filter(key="testland").exists()


def test_a_quote_not_in_its_sources_document_fails_and_writes_nothing(seeded, tmp_path):
    """A source with its document must hold each quote (placed by the one rule, with the
    document's own apostrophes); one that is not there fails the file."""
    (tmp_path / "test.txt").write_text(
        "Une réunion se tiendra dans les 180 jours. Le Japon l’a confirmé.", encoding="utf-8"
    )
    doc = copy.deepcopy(VALID)
    doc["sources"][0]["text_file"] = "test.txt"
    path = write(tmp_path / "bad.yaml", doc)
    before = snapshot()

    with pytest.raises(CommandError) as exc:
        load(str(path))

    line = next(line for line in str(exc.value).splitlines() if line.startswith(str(path)))
    assert ": commitment 'test-second': field citations[0].quote: " in line
    assert "is not in the archived text of" in line
    assert snapshot() == before

    doc["commitments"][1]["citations"][0]["quote"] = "Le Japon l'a confirmé"
    load(str(write(tmp_path / "good.yaml", doc)))
    cite = Citation.objects.get(commitment__key="test-second")
    assert cite.quote == "Le Japon l’a confirmé"
    assert cite.source.text[cite.start:cite.end] == cite.quote
    load(str(write(tmp_path / "good.yaml", doc)))  # a second load finds it by either form
    assert Citation.objects.filter(commitment__key="test-second").count() == 1


def test_malformed_yaml_fails_naming_the_file_and_line(seeded, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("agreement:\n  key: x\n  parties: [japan\n", encoding="utf-8")
    before = snapshot()

    with pytest.raises(CommandError) as exc:
        load(str(path))

    assert str(path) in str(exc.value)
    assert "malformed YAML at line" in str(exc.value)
    assert snapshot() == before


def test_one_bad_file_among_good_ones_loads_none_of_them(tmp_path):
    """The good files differ from what is stored, so a partial write would show."""
    seeds = tmp_path / "seeds"
    shutil.copytree(default_seeds_dir(), seeds)
    minerals = seeds / "agreements" / "2025-10-28-japan-us-critical-minerals-framework.yaml"
    text = minerals.read_text(encoding="utf-8")
    minerals.write_text(text.replace("date: 2025-10-28", "date: 2025-11-01"), encoding="utf-8")
    doc = copy.deepcopy(VALID)
    _fixed_before_agreement(doc)
    write(seeds / "zz-bad.yaml", doc)
    before = snapshot()

    with pytest.raises(CommandError) as exc:
        load(str(seeds))

    assert "zz-bad.yaml: commitment 'test-first': field deadline_date:" in str(exc.value)
    assert snapshot() == before
    assert Agreement.objects.get(key=MINERALS).date == dt.date(2025, 10, 28)
    assert commitment("minerals-ministerial-180-days-by-japan").due_date == dt.date(2026, 4, 26)


def test_duplicate_key_across_files_is_refused(tmp_path):
    write(tmp_path / "a.yaml", {"parties": VALID["parties"]})
    write(tmp_path / "b.yaml", {"parties": VALID["parties"]})

    with pytest.raises(CommandError) as exc:
        load(str(tmp_path))

    assert "b.yaml: party 'testland': field key: duplicate key" in str(exc.value)
    assert not Party.objects.filter(key="testland").exists()


def test_every_source_archives_its_document_and_every_quote_points_at_its_span(seeded):
    """The five documents are archived byte for byte; each citation's quote is their text."""
    shared = sorted((default_seeds_dir() / "sources").glob("*.txt"))
    assert len(shared) == Source.objects.count() == 5
    hashes = {hashlib.sha256(file.read_bytes()).hexdigest() for file in shared}
    assert set(Source.objects.values_list("sha256", flat=True)) == hashes
    assert not Source.objects.filter(text="").exists()
    citations = Citation.objects.select_related("source")
    assert citations.count() > 50
    for citation in citations:
        assert citation.start is not None, citation.quote
        assert citation.source.text[citation.start : citation.end] == citation.quote


def test_a_missing_source_text_file_is_named_and_nothing_is_written(tmp_path):
    (tmp_path / "sources.yaml").write_text(
        "sources:\n"
        "  - key: lost-document\n"
        "    title: Lost\n"
        "    publisher: Nobody\n"
        "    language: fr\n"
        "    published_on: 2025-10-28\n"
        "    kind: press\n"
        "    text_file: sources/missing.txt\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as caught:
        call_command("loadseeds", str(tmp_path), stdout=StringIO())
    assert "lost-document" in str(caught.value) and "text_file" in str(caught.value)
    assert not Source.objects.filter(key="lost-document").exists()
