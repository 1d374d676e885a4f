"""Fixtures of the public site's tests: a published agreement with a rated commitment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from commitments.models import Agreement, Commitment
from commitments.services.assessments import assessment_record
from commitments.services.publishing import agreement_publish_unreviewed
from tests import factories
from tests.public import page_urls


@pytest.fixture(autouse=True)
def _empty_cache():
    """Start each test with an empty cache (a rolled-back test bumps no generation)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _permalink_routes(settings):
    """Use tests/public/page_urls.py where the public pages' routes are missing."""
    page_urls.use_where_missing(settings)


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
