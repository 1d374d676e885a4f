"""Public content for the public site's tests: one published agreement with a commitment
rated with evidence, corrected and reported on, and one draft agreement that must never show
(``site``); a smaller published agreement for the embeds and the cache (``published``,
``commitment``, ``draft``), with the cache emptied around each test."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.utils import timezone

from commitments.models import Agreement, Citation, Commitment, Correction, Party, Report, Source
from commitments.services.assessments import assessment_record
from commitments.services.publishing import agreement_publish_unreviewed
from commitments.services.reports import report_correct, report_freeze
from tests import factories

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


@dataclass
class Site:
    agreement: Agreement
    commitment: Commitment
    other: Commitment
    japan: Party
    usa: Party
    source: Source
    citation: Citation
    correction: Correction
    report: Report
    draft: Agreement
    draft_commitment: Commitment
    draft_party: Party
    draft_source: Source


@pytest.fixture
def site(agreement, japan, usa, source) -> Site:
    agreement.title_fr = "Sommet Japon–États-Unis"
    agreement.summary = "Leaders met in Tokyo."
    agreement.save(update_fields=["title_fr", "summary"])
    japan.name_fr = "Japon"
    japan.save(update_fields=["name_fr"])
    commitment = factories.commitment_make(
        agreement=agreement,
        obligor=japan,
        key="invest-550",
        title="Invest $550 billion in the United States",
        title_fr="Investir 550 milliards de dollars aux États-Unis",
    )
    commitment.co_obligors.add(usa)
    other = factories.commitment_make(
        agreement=agreement, obligor=usa, key="cut-tariffs", title="Cut tariffs to 15%"
    )
    citation = factories.citation_make(
        source=source,
        commitment=commitment,
        quote="Le Japon investira 550 milliards de dollars.",
        translation="Japan will invest $550 billion.",
        translation_language="en",
    )
    assessment_record(
        commitment=commitment,
        party=japan,
        rating="kept",
        justification="The fund was set up.",
        assessed_on=dt.date(2026, 1, 10),
        evidence=citation,
        now=NOW,
    )
    correction = Correction.objects.create(
        agreement=agreement,
        commitment=commitment,
        field="title",
        old_value="Invest $500 billion",
        new_value="Invest $550 billion in the United States",
        note="The amount was misread from the statement.",
        corrected_at=NOW,
    )
    report = report_freeze(
        agreement=agreement, title="Interim 2026", cutoff=dt.date(2026, 2, 1), now=NOW
    )
    report_correct(
        report=report,
        row=None,
        field="report",
        new_value="Updated summary",
        note="A party was missing from the summary.",
        corrected_on=dt.date(2026, 2, 20),
        now=NOW,
    )
    agreement_publish_unreviewed(agreement=agreement, now=NOW)

    draft_party = factories.party_make(key="secret-party", name="Secret Party")
    draft_source = factories.source_make(key="secret-source", title="Secret source")
    draft = factories.agreement_make(key="secret-deal", title="Secret deal", parties=[draft_party])
    draft_commitment = factories.commitment_make(
        agreement=draft, obligor=draft_party, key="secret-promise", title="Secret promise"
    )
    factories.citation_make(source=draft_source, commitment=draft_commitment)
    assert timezone.now() > NOW
    return Site(
        agreement,
        commitment,
        other,
        japan,
        usa,
        source,
        citation,
        correction,
        report,
        draft,
        draft_commitment,
        draft_party,
        draft_source,
    )


@pytest.fixture(autouse=True)
def _empty_cache():
    """Start each test with an empty cache (a rolled-back test bumps no generation)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def published(agreement) -> Agreement:
    agreement_publish_unreviewed(agreement=agreement)
    agreement.refresh_from_db()
    return agreement


@pytest.fixture
def commitment(published, japan, usa, make_commitment) -> Commitment:
    """A published commitment of Japan and the United States; Japan's rating "in the works"."""
    commitment = make_commitment(
        key="open-consulate",
        title="Open a consulate",
        title_fr="Ouvrir un consulat",
        co_obligors=[usa],
    )
    assessment_record(
        commitment=commitment,
        party=japan,
        rating="in_the_works",
        justification="A site was chosen.",
        assessed_on=dt.date(2025, 11, 3),
    )
    return commitment


@pytest.fixture
def draft(japan, usa) -> Agreement:
    """A draft agreement (never published) with one commitment keyed ``secret-commitment``."""
    agreement = factories.agreement_make(
        key="secret-agreement", title="Secret agreement", parties=[japan, usa]
    )
    factories.commitment_make(
        agreement=agreement, obligor=japan, key="secret-commitment", title="Secret commitment"
    )
    return agreement
