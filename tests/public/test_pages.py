"""The public pages: anonymous, in the URL's language, published content only, permalinks."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from commitments.models import Agreement, Commitment
from commitments.services.publishing import agreement_publish_unreviewed
from tests import factories

pytestmark = pytest.mark.django_db


def url(name: str, lang: str = "en", **kwargs) -> str:
    return reverse(f"public:{name}", kwargs={"lang": lang, **kwargs})


def pages(site) -> dict[str, dict]:
    return {
        "overview": {},
        "agreement": {"key": site.agreement.key},
        "commitment": {"key": site.commitment.key},
        "party": {"key": site.japan.key},
        "source": {"key": site.source.key},
        "report": {"key": site.agreement.key, "report_id": site.report.pk},
        "methodology": {},
    }


def test_every_page_answers_anonymous_readers_in_each_language_without_cookies(site, client):
    """Each page is 200 to a reader with no login, in the URL's language, and sets nothing
    that would make it differ between readers (no Set-Cookie, no Vary: Cookie)."""
    for name, kwargs in pages(site).items():
        for lang in ("en", "fr"):
            response = client.get(url(name, lang, **kwargs))
            assert response.status_code == 200, (name, lang)
            assert f'<html lang="{lang}">' in response.content.decode()
            assert response["Content-Language"] == lang
            assert "Cookie" not in response.get("Vary", ""), (name, response.get("Vary"))
            assert not response.cookies, (name, lang)


def test_french_pages_show_french_texts_and_mark_the_fallbacks(site, client):
    """A French page shows the stored French title and party name; an untranslated title is
    shown in English, marked as such with its own language."""
    page = client.get(url("agreement", "fr", key=site.agreement.key)).content.decode()
    assert "Sommet Japon–États-Unis" in page
    assert "Japon" in page
    assert "Engagements" in page
    assert "Pas encore évalué" in page
    # The English fallback is marked, in its own language.
    assert '<span lang="en">Cut tariffs to 15%</span> <small class="translation-note">' in page
    english = client.get(url("agreement", "en", key=site.agreement.key)).content.decode()
    assert "Japan–US summit" in english
    assert "Sommet Japon" not in english


def test_agreement_page_shows_commitments_ratings_compliance_sources_reports_corrections(
    site, client
):
    page = client.get(url("agreement", key=site.agreement.key)).content.decode()
    commitment_url = url("commitment", key=site.commitment.key)
    assert f'href="{commitment_url}"' in page
    assert f'href="{url("party", key=site.japan.key)}"' in page
    assert "Kept" in page and "Not yet rated" in page
    # The score is averaged over the rated row only; the unrated ones are said apart.
    assert "over 1 rated row" in page
    assert "not in the average" in page
    assert f'href="{url("source", key=site.source.key)}"' in page
    report_url = url("report", key=site.agreement.key, report_id=site.report.pk)
    assert f'href="{report_url}"' in page
    assert "The amount was misread from the statement." in page
    assert '<svg class="timeline"' in page


def test_commitment_page_shows_deadline_ratings_evidence_history_and_corrections(site, client):
    page = client.get(url("commitment", key=site.commitment.key)).content.decode()
    assert "How the due date was reached:" in page
    assert "180 days after" in page
    assert "The fund was set up." in page
    # The quote in its own language, marked so; the translation beside it.
    assert '<blockquote lang="fr">Le Japon investira 550 milliards de dollars.</blockquote>' in page
    assert "Japan will invest $550 billion." in page
    assert "The amount was misread from the statement." in page
    assert "<del>Invest $500 billion</del>" in page or "Invest $500 billion" in page
    assert f'href="{url("party", key=site.usa.key)}"' in page  # a co-obligor
    assert "History" in page


def test_party_page_lists_its_commitments_as_obligor_and_co_obligor(site, client):
    page = client.get(url("party", key=site.usa.key)).content.decode()
    assert "Invest $550 billion in the United States" in page
    assert "co-obligor" in page
    assert "Cut tariffs to 15%" in page
    assert "Not yet rated" in page


def test_source_page_shows_the_quotes_but_not_the_archived_text(site, client):
    site.source.text = "THE FULL ARCHIVED TEXT OF THE SOURCE"
    site.source.save(update_fields=["text"])
    page = client.get(url("source", key=site.source.key)).content.decode()
    assert "Le Japon investira 550 milliards de dollars." in page
    assert "archived copy for its editors" in page
    assert "THE FULL ARCHIVED TEXT" not in page
    assert f'href="{url("commitment", key=site.commitment.key)}"' in page


def test_report_page_shows_the_frozen_report_and_its_dated_corrections(site, client):
    page = client.get(
        url("report", key=site.agreement.key, report_id=site.report.pk)
    ).content.decode()
    assert "Interim 2026" in page
    assert "A party was missing from the summary." in page
    assert "Correct the report" not in page
    assert 'method="post"' not in page


def test_methodology_page_states_the_scale_deadlines_unrated_and_corrections_policy(client, db):
    page = client.get(url("methodology")).content.decode()
    for text in (
        "The rating scale",
        "How deadlines are computed",
        "not yet rated",
        "Corrections policy",
    ):
        assert text in page


def test_drafts_are_404_on_every_page_and_never_listed(site, client):
    """A draft agreement, its commitment, its only party and its only source are 404, in a
    page in the URL's language that names nothing of them; nothing public links to them."""
    for name, key in (
        ("agreement", site.draft.key),
        ("commitment", site.draft_commitment.key),
        ("party", site.draft_party.key),
        ("source", site.draft_source.key),
    ):
        for lang in ("en", "fr"):
            response = client.get(url(name, lang, key=key))
            assert response.status_code == 404, (name, lang)
            body = response.content.decode()
            assert "Secret" not in body
            assert f'<html lang="{lang}">' in body
            assert "noindex" in body
    french_404 = client.get(url("agreement", "fr", key="no-such-agreement")).content.decode()
    assert "<h1>Page non trouvée</h1>" in french_404
    draft_report = factories.agreement_make(parties=[site.draft_party])
    response = client.get(url("report", key=draft_report.key, report_id=site.report.pk))
    assert response.status_code == 404
    for name, kwargs in pages(site).items():
        body = client.get(url(name, **kwargs)).content.decode()
        assert "secret" not in body.lower(), name


def test_a_report_of_another_agreement_is_404(site, client, usa):
    other = factories.agreement_make(parties=[usa])
    agreement_publish_unreviewed(agreement=other)
    response = client.get(url("report", key=other.key, report_id=site.report.pk))
    assert response.status_code == 404


def test_old_keys_redirect_permanently_to_the_current_key(site, client):
    for model, row, name in (
        (Agreement, site.agreement, "agreement"),
        (Commitment, site.commitment, "commitment"),
    ):
        old = row.key
        row.key = f"{old}-renamed"
        row.save(update_fields=["key"])
        for lang in ("en", "fr"):
            response = client.get(url(name, lang, key=old))
            assert response.status_code == 301
            assert response["Location"] == url(name, lang, key=row.key)
        assert model.objects.filter(key=old).count() == 0
    response = client.get(url("report", "fr", key="summit-2025-10-28", report_id=site.report.pk))
    assert response.status_code == 301
    assert response["Location"] == url(
        "report", "fr", key=site.agreement.key, report_id=site.report.pk
    )


def test_unpublishing_takes_the_pages_down(site, client):
    Agreement.objects.filter(pk=site.agreement.pk).update(publication_state="draft")
    assert client.get(url("agreement", key=site.agreement.key)).status_code == 404
    assert client.get(url("commitment", key=site.commitment.key)).status_code == 404
    assert site.agreement.key not in client.get(url("overview")).content.decode()


def test_overview_lists_published_agreements_with_meter_and_score(site, client, usa):
    agreement_publish_unreviewed(
        agreement=factories.agreement_make(
            parties=[usa], title="Later deal", date=site.agreement.date.replace(year=2026)
        )
    )
    page = client.get(url("overview")).content.decode()
    assert page.index("Later deal") < page.index("Japan–US summit")
    assert "2 commitments" in page
    assert "Not started: <strong>2</strong>" in page
    assert "over 1 rated row" in page


def test_overview_queries_do_not_grow_with_agreements(
    site, client, usa, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        client.get(url("overview"))
    for _ in range(5):
        extra = factories.agreement_make(parties=[usa])
        factories.commitment_make(agreement=extra, obligor=usa)
        agreement_publish_unreviewed(agreement=extra)
    with django_assert_max_num_queries(6):
        assert client.get(url("overview")).status_code == 200


@pytest.mark.parametrize("count", [3, 30])
def test_agreement_and_party_queries_do_not_grow_with_commitments(
    count, agreement, japan, usa, client, django_assert_max_num_queries
):
    """Ten queries for the agreement page and three for a party's, with 3 or 30 commitments
    (each with a co-obligor, so every row has two ratings to look up)."""
    agreement_publish_unreviewed(agreement=agreement)
    for _ in range(count):
        commitment = factories.commitment_make(agreement=agreement, obligor=japan)
        commitment.co_obligors.add(usa)
    with django_assert_max_num_queries(10):
        response = client.get(url("agreement", "fr", key=agreement.key))
    assert response.status_code == 200
    assert response.content.decode().count('class="status status-') == count
    with django_assert_max_num_queries(3):
        response = client.get(url("party", "fr", key=usa.key))
    assert response.content.decode().count('class="status status-') == count


def test_metadata_is_present_and_escaped(site, client):
    """A title with quotes and a script tag is escaped in the title, the meta tags and the
    JSON-LD; the page carries Open Graph, Twitter card, canonical and hreflang links."""
    site.agreement.title = 'The "Big" </script><script>alert(1)</script> deal'
    site.agreement.title_fr = ""
    site.agreement.save(update_fields=["title", "title_fr"])
    response = client.get(url("agreement", key=site.agreement.key))
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    escaped = "The &quot;Big&quot; &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; deal"
    assert f'<meta property="og:title" content="{escaped}">' in page
    assert f"<title>{escaped} · " in page
    for tag in (
        "og:title",
        "og:description",
        "og:url",
        "og:type",
        "og:locale",
        "og:site_name",
        "og:locale:alternate",
    ):
        assert f'property="{tag}"' in page, tag
    assert '<meta name="twitter:card" content="summary">' in page
    assert '<link rel="canonical" href="http://' in page
    assert 'hreflang="fr"' in page and 'hreflang="en"' in page
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(scripts) == 1
    data = json.loads(scripts[0])
    assert data["@type"] == "Dataset"
    assert data["name"] == 'The "Big" </script><script>alert(1)</script> deal'
    assert data["url"].endswith(url("agreement", key=site.agreement.key))
    assert data["inLanguage"] == "en"
    assert None not in data.values()
    assert data["dateModified"] >= data["datePublished"]


def test_every_page_has_its_own_description(site, client):
    descriptions = set()
    for name, kwargs in pages(site).items():
        page = client.get(url(name, **kwargs)).content.decode()
        found = re.search(r'<meta name="description" content="([^"]+)">', page)
        assert found, name
        descriptions.add(found.group(1))
    assert len(descriptions) == len(pages(site))


def test_public_pages_refuse_writes(site, client):
    """The public pages are read-only: a POST is 405, with nothing rendered."""
    assert client.post(url("agreement", key=site.agreement.key)).status_code == 405


def test_a_logged_in_editor_gets_the_same_uncookied_page(site, client, editor):
    """The public page never reads the session: an editor's request gets the page a stranger
    gets, with no Vary: Cookie and no cookie set, so a cache may serve it to anyone."""
    anonymous = client.get(url("commitment", "fr", key=site.commitment.key))
    client.force_login(editor)
    response = client.get(url("commitment", "fr", key=site.commitment.key))
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies
    assert response.content == anonymous.content


def test_party_page_lists_the_newest_agreement_first(site, client, japan):
    later = factories.agreement_make(
        parties=[japan], title="Later deal", date=site.agreement.date.replace(year=2026)
    )
    factories.commitment_make(agreement=later, obligor=japan, title="A later promise")
    agreement_publish_unreviewed(agreement=later)
    page = client.get(url("party", key=japan.key)).content.decode()
    assert page.index("A later promise") < page.index("Invest $550 billion in the United States")
