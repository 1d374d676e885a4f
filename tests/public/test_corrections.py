"""The public corrections log: every public correction newest first (date, what, it said,
it says now, why, link), fifty to a page, any ``?page=`` answered, no draft's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from commitments.models import Agreement, Commitment, Correction
from commitments.services.corrections import correction_record
from commitments.services.publishing import agreement_publish_unreviewed
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/public/en/corrections/"
WHEN = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def site_url(settings: Any) -> None:
    settings.SITE_URL = "https://tracker.example.org"


@pytest.fixture
def meet(agreement: Agreement, japan: Any) -> Commitment:
    agreement_publish_unreviewed(agreement=agreement)
    return factories.commitment_make(
        agreement=agreement, obligor=japan, key="meet", title="Hold a meting"
    )


def _page(client: Any, url: str = URL) -> str:
    response = client.get(url)
    assert response.status_code == 200
    assert "Cookie" not in response.get("Vary", "")
    return response.content.decode()


def test_a_correction_made_by_the_service_is_listed(client, meet, editor):
    correction_record(
        target=meet, changes={"title": "Hold a meeting"}, note="A <typo> & more.", user=editor,
        now=WHEN,
    )
    page = _page(client)
    assert "we correct it and say so here" in page.lower()
    assert '<time datetime="2026-11-02">2 November 2026</time>' in page
    assert 'href="https://tracker.example.org/public/en/commitments/meet/">Hold a meeting</a>' in (
        page
    )
    assert "Correction: title" in page
    assert '<td class="change-old" data-label="It said">Hold a meting</td>' in page
    assert '<td class="change-new" data-label="It says now">Hold a meeting</td>' in page
    assert "A &lt;typo&gt; &amp; more." in page


def test_newest_first_and_an_agreements_own_corrections(client, meet):
    Correction.objects.create(
        agreement=meet.agreement, field="summary", old_value="", new_value="Now summarised.",
        note="Older.", corrected_at=WHEN,
    )
    Correction.objects.create(
        agreement=meet.agreement, commitment=meet, field="title", old_value="a",
        new_value="b", note="Newer.", corrected_at=WHEN + dt.timedelta(days=1),
    )
    page = _page(client)
    assert page.index("Newer.") < page.index("Older.")
    assert "/public/en/agreements/summit-2025-10-28/" in page
    assert "(empty)" in page  # the summary said nothing before


def test_fifty_to_a_page_and_any_page_number_answered(client, meet):
    Correction.objects.bulk_create(
        Correction(
            agreement=meet.agreement, commitment=meet, field="title", old_value="a",
            new_value="b", note=f"Note {n:03d}.", corrected_at=WHEN + dt.timedelta(minutes=n),
        )
        for n in range(120)
    )
    first = _page(client)
    assert first.count("<tr>") == 51  # the header and fifty rows
    assert "Note 119." in first and "Note 070." in first and "Note 069." not in first
    assert "Page 1 of 3" in first
    assert 'href="/public/en/corrections/?page=2"' in first
    last = _page(client, f"{URL}?page=3")
    assert last.count("<tr>") == 21
    assert "Note 000." in last
    assert _page(client, f"{URL}?page=99") == last  # past the end: the last page
    assert _page(client, f"{URL}?page=junk") == first  # not a number: the first page
    assert _page(client, f"{URL}?page=-1") == last


def test_no_corrections_yet(client):
    assert "No corrections have been made." in _page(client)


def test_a_drafts_corrections_are_not_listed(client, japan):
    draft = factories.agreement_make(parties=[japan], key="draft")
    Correction.objects.create(
        agreement=draft, field="title", old_value="a", new_value="b", note="Secret.",
        corrected_at=WHEN,
    )
    page = _page(client)
    assert "Secret." not in page
    assert "No corrections have been made." in page


def test_the_french_log(client, meet, editor):
    correction_record(
        target=meet, changes={"title_fr": "Tenir une réunion"}, note="Traduction.",
        user=editor, now=WHEN,
    )
    page = _page(client, "/public/fr/corrections/")
    assert '<html lang="fr">' in page
    assert "2 novembre 2026" in page
    assert "Tenir une réunion" in page
    assert "/public/fr/commitments/meet/" in page
