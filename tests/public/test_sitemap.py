"""sitemap.xml and robots.txt: at the host's root, listing only published content."""

from __future__ import annotations

import importlib
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.urls import clear_url_caches, reverse

pytestmark = pytest.mark.django_db

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


def _entries(client) -> dict[str | None, dict[str | None, str | None]]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 (our own response)
    entries = {}
    for entry in root.findall("s:url", NS):
        location = entry.findtext("s:loc", namespaces=NS)
        alternates = {
            link.get("hreflang"): link.get("href") for link in entry.findall("x:link", NS)
        }
        entries[location] = {
            "lastmod": entry.findtext("s:lastmod", namespaces=NS) or "",
            **alternates,
        }
    return entries


def test_sitemap_lists_every_public_page_in_both_languages_with_alternates(site, client):
    """Each page in English and French, each with its hreflang alternates and lastmod."""
    entries = _entries(client)
    paths = {location.removeprefix(settings.SITE_URL.rstrip("/")) for location in entries}
    for lang in ("en", "fr"):
        for name, kwargs in (
            ("overview", {}),
            ("methodology", {}),
            ("agreement", {"key": site.agreement.key}),
            ("commitment", {"key": site.commitment.key}),
            ("commitment", {"key": site.other.key}),
            ("party", {"key": site.japan.key}),
            ("party", {"key": site.usa.key}),
            ("source", {"key": site.source.key}),
            ("report", {"key": site.agreement.key, "report_id": site.report.pk}),
        ):
            assert reverse(f"public:{name}", kwargs={"lang": lang, **kwargs}) in paths
    path = reverse("public:agreement", kwargs={"lang": "en", "key": site.agreement.key})
    english = f"{settings.SITE_URL.rstrip('/')}{path}"
    assert entries[english]["fr"].endswith(f"/fr/agreements/{site.agreement.key}/")
    assert entries[english]["en"] == english
    assert entries[english]["lastmod"]


def test_sitemap_leaves_out_drafts(site, client):
    body = client.get("/sitemap.xml").content.decode()
    for key in (
        site.draft.key,
        site.draft_commitment.key,
        site.draft_party.key,
        site.draft_source.key,
    ):
        assert key not in body


def test_robots_allows_the_public_site_and_keeps_crawlers_out_of_the_rest(client, db):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Allow: /public/" in lines
    for prefix in ("/admin/", "/api/", "/"):
        assert f"Disallow: {prefix}" in lines
    assert f"Sitemap: {settings.SITE_URL.rstrip('/')}/sitemap.xml" in lines


@pytest.fixture
def public_at_root(settings):
    """Mount the public site at the root (the dashboard at /dashboard/) for one test."""
    import tracker.urls

    settings.TRACKER_PUBLIC_AT_ROOT = True
    importlib.reload(tracker.urls)
    clear_url_caches()
    yield
    settings.TRACKER_PUBLIC_AT_ROOT = False
    importlib.reload(tracker.urls)
    clear_url_caches()


def test_at_the_root_robots_and_sitemap_stay_at_the_host_root(site, client, public_at_root):
    """With the public site at the root, the dashboard is disallowed and pages listed."""
    lines = client.get("/robots.txt").content.decode().splitlines()
    assert "Allow: /" in lines
    assert "Disallow: /dashboard/" in lines
    assert "Disallow: /admin/" in lines
    assert "Disallow: /" not in lines
    paths = {location.removeprefix(settings.SITE_URL.rstrip("/")) for location in _entries(client)}
    assert f"/en/agreements/{site.agreement.key}/" in paths
    assert f"/fr/commitments/{site.commitment.key}/" in paths
    assert client.get(f"/fr/agreements/{site.agreement.key}/").status_code == 200
