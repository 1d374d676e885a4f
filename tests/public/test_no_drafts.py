"""Nothing unpublished is ever visible publicly: a walk over every public route.

A draft agreement, with everything that can hang off it (a commitment, a party and a source
of its own, a status change, a rating, a deadline revision, a correction, a frozen report),
sits beside a published one. Every route of the public site (found from the URL resolver, so
a new route is walked without being listed here), the sitemap, robots.txt, the oEmbed
endpoint and the read API opened to anonymous callers (``API_PUBLIC_READ``) are read: the
draft's keys and texts never appear, and every route that names the draft answers 404.
Then the draft is published, read (and so cached), and unpublished: it is gone at once.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from commitments.models import Correction
from commitments.services.assessments import assessment_record
from commitments.services.commitments import commitment_change_status
from commitments.services.publishing import publication_change
from commitments.services.reports import report_freeze
from commitments.services.revisions import revision_create
from commitments.translations import LANGUAGES
from tests import factories

pytestmark = pytest.mark.django_db

#: Every draft text and key carries this mark; no public answer may contain it.
MARK = "zzq"
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def _public_routes() -> list[tuple[str, list[str]]]:
    """Return ``(name, parameters)`` of every route in the ``public`` namespace."""
    found: list[tuple[str, list[str]]] = []

    def walk(patterns: list[Any], params: list[str]) -> None:
        for pattern in patterns:
            names = [*params, *re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))]
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, names)
            elif isinstance(pattern, URLPattern) and pattern.name:
                found.append((pattern.name, names))

    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and pattern.namespace == "public":
            walk(pattern.url_patterns, [])
    return found


def _kind(name: str) -> str | None:
    for kind in ("commitment", "agreement", "party", "source", "report"):
        if kind in name:
            return kind
    return None


@pytest.fixture
def world(editor):
    """A published agreement and a draft one, each with everything that hangs off it."""
    shared = factories.party_make(key="japan", name="Japan")
    rows: dict[str, Any] = {}
    for label, mark in (("public", "pub"), ("draft", MARK)):
        own = factories.party_make(key=f"{mark}-party", name=f"Party {mark}")
        source = factories.source_make(key=f"{mark}-source", title=f"Source {mark}")
        agreement = factories.agreement_make(
            key=f"{mark}-agreement",
            title=f"Agreement {mark}",
            summary=f"Summary {mark}",
            parties=[shared, own],
            date=dt.date(2025, 10, 28),
        )
        commitment = factories.commitment_make(
            agreement=agreement, obligor=own, key=f"{mark}-commitment", title=f"Commitment {mark}"
        )
        citation = factories.citation_make(source=source, commitment=commitment)
        commitment_change_status(
            commitment=commitment, status="in_progress", note=f"Note {mark}", now=NOW
        )
        assessment_record(
            commitment=commitment,
            party=own,
            rating="in_the_works",
            justification=f"Justification {mark}",
            now=NOW,
            evidence=citation,
        )
        revision_create(
            commitment=commitment,
            kind="extended",
            new_due_date=dt.date(2026, 12, 31),
            reason=f"Reason {mark}",
            evidence=citation,
            now=NOW,
        )
        Correction.objects.create(
            agreement=agreement,
            commitment=commitment,
            field="title",
            old_value=f"Old {mark}",
            new_value=f"New {mark}",
            note=f"Correction {mark}",
            corrected_at=NOW,
        )
        report = report_freeze(
            agreement=agreement, title=f"Report {mark}", cutoff=dt.date(2026, 3, 1), now=NOW
        )
        if label == "public":
            publication_change(agreement=agreement, action="publish", user=editor)
        rows[label] = {
            "agreement": agreement,
            "commitment": commitment,
            "party": own,
            "source": source,
            "report": report,
        }
    return rows


def _url(name: str, params: list[str], row: dict[str, Any], lang: str) -> str:
    kwargs: dict[str, Any] = {}
    for param in params:
        if param == "lang":
            kwargs[param] = lang
        elif param == "report_id":
            kwargs[param] = row["report"].pk
        elif param == "key":
            kind = _kind(name)
            assert kind is not None, f"route {name} takes a key but names no kind"
            kwargs[param] = row["agreement" if kind == "report" else kind].key
        else:
            pytest.fail(f"the walk does not know the route parameter {param!r}: teach it")
    return reverse(f"public:{name}", kwargs=kwargs)


def _assert_clean(response: Any, url: str) -> None:
    assert response.status_code < 500, url
    body = response.content.decode("utf-8", "replace")
    assert MARK not in body, f"{url} shows the draft"
    location = response.headers.get("Location", "")
    assert MARK not in location, f"{url} redirects to the draft"


def test_the_walk_finds_the_public_site():
    names = {name for name, _params in _public_routes()}
    assert {"overview", "agreement", "commitment", "feed", "week", "corrections"} <= names
    assert {"embed_commitment", "embed_agreement", "oembed", "party", "source"} <= names


def test_no_public_route_shows_or_names_a_draft(client, settings, world):
    settings.API_PUBLIC_READ = True
    walked = 0
    for name, params in _public_routes():
        for lang in LANGUAGES:
            public_url = _url(name, params, world["public"], lang)
            response = client.get(public_url)
            _assert_clean(response, public_url)
            if "key" in params or "report_id" in params:
                assert response.status_code == 200, public_url
                draft_url = _url(name, params, world["draft"], lang)
                assert client.get(draft_url).status_code == 404, draft_url
            walked += 1
    assert walked >= 2 * 14
    for url in ("/robots.txt", "/sitemap.xml"):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_clean(response, url)


def test_oembed_answers_no_draft(client, settings, world):
    draft = world["draft"]
    for kind in ("agreement", "commitment"):
        page = settings.SITE_URL + reverse(
            f"public:{kind}", kwargs={"lang": "en", "key": draft[kind].key}
        )
        response = client.get(reverse("public:oembed", kwargs={"lang": "en"}), {"url": page})
        assert response.status_code == 404
        _assert_clean(response, page)


def test_the_anonymous_api_shows_no_draft(client, settings, world):
    settings.API_PUBLIC_READ = True
    draft = world["draft"]
    for url in (
        "/api/v1/parties/",
        "/api/v1/sources/",
        "/api/v1/agreements/",
        "/api/v1/commitments/",
        "/api/v1/progress-updates/",
        f"/api/v1/agreements/{world['public']['agreement'].pk}/compliance/",
        f"/api/v1/agreements/{world['public']['agreement'].pk}/reports/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_clean(response, url)
    for url in (
        f"/api/v1/agreements/{draft['agreement'].pk}/",
        f"/api/v1/commitments/{draft['commitment'].pk}/",
        f"/api/v1/parties/{draft['party'].pk}/",
        f"/api/v1/sources/{draft['source'].pk}/",
        f"/api/v1/agreements/{draft['agreement'].pk}/compliance/",
        f"/api/v1/agreements/{draft['agreement'].pk}/reports/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url


def test_unpublishing_takes_a_page_off_at_once(client, editor, world):
    draft = world["draft"]
    publication_change(agreement=draft["agreement"], action="publish", user=editor)
    pages = [
        reverse("public:agreement", kwargs={"lang": "en", "key": draft["agreement"].key}),
        reverse("public:commitment", kwargs={"lang": "fr", "key": draft["commitment"].key}),
        reverse("public:overview", kwargs={"lang": "en"}),
        reverse("public:feed", kwargs={"lang": "en"}),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert MARK in response.content.decode(), url  # published: shown (and now cached)
    publication_change(
        agreement=draft["agreement"], action="unpublish", user=editor, note="Not checked yet."
    )
    assert client.get(pages[0]).status_code == 404
    assert client.get(pages[1]).status_code == 404
    for url in pages[2:]:
        _assert_clean(client.get(url), url)
