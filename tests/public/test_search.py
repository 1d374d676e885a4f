"""The public search finds published agreements, commitments and parties in both languages,
and never a draft."""

from __future__ import annotations

import pytest
from django.urls import reverse

from commitments.services.publishing import publication_change
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(editor):
    japan = factories.party_make(key="japan", name="Japan", name_fr="Japon")
    agreement = factories.agreement_make(
        key="minerals", title="Critical minerals framework", title_fr="Cadre sur les minéraux",
        parties=[japan],
    )
    factories.commitment_make(
        agreement=agreement, obligor=japan, key="stockpile", title="Joint stockpile",
        title_fr="Stock commun de minerais",
    )
    publication_change(agreement=agreement, action="publish", user=editor)
    draft = factories.agreement_make(key="secret-minerals", title="Minerals draft", parties=[japan])
    factories.commitment_make(agreement=draft, obligor=japan, key="secret", title="Minerals secret")
    return agreement


def _search(client, lang, q):
    return client.get(reverse("public:search", kwargs={"lang": lang}), {"q": q})


def test_an_english_word_finds_the_published_agreement_and_not_the_draft(client, published):
    response = _search(client, "en", "minerals")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Critical minerals framework" in body
    assert 'href="/public/en/agreements/minerals/"' in body
    assert "Minerals draft" not in body
    assert "secret" not in body


def test_a_french_word_finds_the_french_title_on_the_french_page(client, published):
    response = _search(client, "fr", "minerais")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Stock commun de minerais" in body
    assert "Japon" in body
    assert 'href="/public/fr/commitments/stockpile/"' in body


def test_no_match_says_so_and_a_query_too_long_is_refused_at_its_field(client, published):
    assert "Nothing published matches" in _search(client, "en", "zzz").content.decode()
    response = _search(client, "en", "x" * 201)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()


def test_the_search_page_is_public_and_sets_no_cookie(client, published):
    response = _search(client, "en", "Japan")
    assert response.status_code == 200
    assert "Japan" in response.content.decode()
    assert not response.cookies
    assert "Cookie" not in response.headers.get("Vary", "")
