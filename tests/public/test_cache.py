"""The public cache: pages served from the cache, and never one change late."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.core.cache import cache
from django.urls import clear_url_caches, reverse
from django.utils.http import http_date

from commitments.services.assessments import assessment_record
from commitments.services.commitments import (
    agreement_update,
    commitment_change_status,
    commitment_update,
)
from commitments.services.deadline_states import deadline_states_flag
from commitments.services.publishing import publication_change
from publicsite.cache import GENERATION_KEY, generation
from tests import factories

pytestmark = pytest.mark.django_db


def card(kind: str, key: str, lang: str = "en") -> str:
    return reverse(f"public:embed_{kind}", kwargs={"lang": lang, "key": key})


def test_a_public_page_is_served_from_the_cache_with_its_headers(client, commitment, settings):
    settings.TRACKER_PUBLIC_CACHE_SECONDS = 90
    url = card("commitment", commitment.key)

    first = client.get(url)
    second = client.get(url)

    assert (first.status_code, second.status_code) == (200, 200)
    assert first["X-Public-Cache"] == "miss"
    assert second["X-Public-Cache"] == "hit"
    assert second.content == first.content
    for response in (first, second):
        assert response["Cache-Control"] == "public, max-age=90"
        assert response["ETag"] == first["ETag"]
        assert response["Last-Modified"] == first["Last-Modified"]
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert response["Content-Language"] == "en"
        # The card's own framing rules come back with the stored copy.
        assert "X-Frame-Options" not in response.headers
        assert "frame-ancestors *" in response["Content-Security-Policy"]
        assert "Cookie" not in response.get("Vary", "")
        assert not response.cookies


def test_the_parameters_pages_read_are_part_of_the_key(client, commitment, settings):
    url = card("commitment", commitment.key)
    page = settings.SITE_URL + reverse(
        "public:commitment", kwargs={"lang": "en", "key": commitment.key}
    )
    oembed = reverse("public:oembed", kwargs={"lang": "en"})

    client.get(url)

    assert client.get(oembed, {"url": page, "maxwidth": "300"})["X-Public-Cache"] == "miss"
    assert client.get(oembed, {"url": page, "maxwidth": "300"})["X-Public-Cache"] == "hit"
    assert client.get(oembed, {"url": page, "maxwidth": "400"})["X-Public-Cache"] == "miss"
    assert client.get(card("commitment", commitment.key, "fr"))["X-Public-Cache"] == "miss"


def test_a_stored_page_reads_no_database(client, commitment, django_assert_num_queries):
    url = card("commitment", commitment.key)
    client.get(url)

    with django_assert_num_queries(0):
        assert client.get(url)["X-Public-Cache"] == "hit"


def test_a_conditional_get_gets_304(client, commitment):
    url = card("commitment", commitment.key)
    first = client.get(url)

    by_tag = client.get(url, headers={"If-None-Match": first["ETag"]})
    by_date = client.get(url, headers={"If-Modified-Since": first["Last-Modified"]})
    stale_tag = client.get(url, headers={"If-None-Match": '"something-else"'})
    old_date = client.get(url, headers={"If-Modified-Since": http_date(0)})

    assert by_tag.status_code == 304
    assert by_tag.content == b""
    assert by_tag["ETag"] == first["ETag"]
    assert by_date.status_code == 304
    assert stale_tag.status_code == 200
    assert old_date.status_code == 200


def test_the_first_request_answers_304_too(client, commitment):
    url = card("commitment", commitment.key)
    etag = client.get(url)["ETag"]
    cache.clear()

    response = client.get(url, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response["X-Public-Cache"] == "miss"


def test_head_is_answered_from_the_cache_without_a_body(client, commitment):
    url = card("commitment", commitment.key)
    body = client.get(url).content

    response = client.head(url)

    assert response.status_code == 200
    assert response["X-Public-Cache"] == "hit"
    assert response.content == b""
    assert response["Content-Length"] == str(len(body))


def test_a_title_edit_appears_on_the_next_request(client, commitment, published):
    url = card("commitment", commitment.key)
    assert "Open a consulate" in client.get(url).content.decode()

    commitment_update(commitment=commitment, title="Open two consulates")
    agreement_update(agreement=published, title="Tokyo summit")

    response = client.get(url)
    assert response["X-Public-Cache"] == "miss"
    assert "Open two consulates" in response.content.decode()
    assert "Tokyo summit" in response.content.decode()


def test_a_status_change_appears_on_the_next_request(client, commitment):
    url = card("commitment", commitment.key)
    assert "Not started" in client.get(url).content.decode()

    commitment_change_status(commitment=commitment, status="in_progress", note="Site chosen.")

    assert "In progress" in client.get(url).content.decode()


def test_a_rating_appears_on_the_next_request(client, commitment, published, usa):
    urls = [card("commitment", commitment.key), card("agreement", published.key)]
    for url in urls:
        client.get(url)

    assessment_record(
        commitment=commitment,
        party=usa,
        rating="stalled",
        justification="Nothing since.",
        assessed_on=dt.date(2025, 12, 1),
    )

    assert "Stalled" in client.get(urls[0]).content.decode()
    assert "Stalled: 1" in client.get(urls[1]).content.decode()


def test_a_party_renamed_appears_on_the_next_request(client, commitment, japan):
    url = card("commitment", commitment.key)
    client.get(url)

    japan.name_fr = "Le Japon"
    japan.save(update_fields=["name_fr"])

    assert "Le Japon" in client.get(card("commitment", commitment.key, "fr")).content.decode()
    assert client.get(url)["X-Public-Cache"] == "miss"


def test_unpublishing_empties_the_page_at_once(client, commitment, published, editor):
    urls = [card("commitment", commitment.key), card("agreement", published.key)]
    for url in urls:
        client.get(url)
        assert client.get(url)["X-Public-Cache"] == "hit"

    publication_change(
        agreement=published, action="unpublish", user=editor, note="A figure is wrong."
    )

    for url in urls:
        assert client.get(url).status_code == 404


def test_a_draft_is_never_stored_and_appears_once_published(client, draft, editor):
    url = card("agreement", draft.key)
    assert client.get(url).status_code == 404
    assert client.get(url).status_code == 404

    publication_change(agreement=draft, action="publish", user=editor)

    response = client.get(url)
    assert response.status_code == 200
    assert "Secret agreement" in response.content.decode()


def test_the_deadline_scan_bumps_the_generation(commitment):
    before = generation()

    # Back before the due date: the overdue commitment is on track again (a set-based UPDATE,
    # which sends no signal; the scan's hook tells the cache).
    flagged = deadline_states_flag(now=dt.datetime(2025, 11, 1, tzinfo=dt.UTC))

    assert flagged["on_track"] == 1
    assert generation() > before


def test_a_change_outside_the_domain_keeps_the_pages(client, commitment):
    url = card("commitment", commitment.key)
    client.get(url)

    factories.user_make(username="someone")

    assert client.get(url)["X-Public-Cache"] == "hit"


def test_a_lost_generation_starts_above_every_stored_page(client, commitment):
    url = card("commitment", commitment.key)
    client.get(url)
    old = generation()

    cache.delete(GENERATION_KEY)  # evicted by a full cache, say

    assert generation() > old
    assert client.get(url)["X-Public-Cache"] == "miss"


def test_a_logged_in_reader_gets_the_same_public_page(admin_client, client, commitment):
    url = card("commitment", commitment.key)
    stored = client.get(url)

    response = admin_client.get(url)

    assert response["X-Public-Cache"] == "hit"
    assert response.content == stored.content
    assert "Cookie" not in response.get("Vary", "")


def test_only_public_pages_are_stored(admin_client, client, commitment):
    oembed = reverse("public:oembed", kwargs={"lang": "en"})
    for _ in range(2):
        assert "X-Public-Cache" not in admin_client.get("/").headers
        assert "X-Public-Cache" not in client.get(oembed).headers  # a 400
        assert "X-Public-Cache" not in client.get(card("commitment", "nothing")).headers


def test_writes_pass_through(client, commitment):
    url = card("commitment", commitment.key)
    client.get(url)

    response = client.post(url)

    assert response.status_code == 405
    assert "X-Public-Cache" not in response.headers


def test_the_generation_moves_again_when_the_change_commits(
    commitment, django_capture_on_commit_callbacks
):
    before = generation()
    with django_capture_on_commit_callbacks() as callbacks:
        commitment_update(commitment=commitment, title="Open two consulates")
    at_change = generation()

    for callback in callbacks:  # the commit
        callback()

    # Once at the change, again at the commit: a page rendered in between (from the state
    # before the commit) was stored under a generation nobody reads any more.
    assert at_change > before
    assert generation() > at_change


def test_the_agreement_page_is_cached_and_follows_changes(client, commitment, published, editor):
    url = reverse("public:agreement", kwargs={"lang": "en", "key": published.key})
    for state in ("miss", "hit"):
        response = client.get(url)
        assert response["X-Public-Cache"] == state
        assert response["Cache-Control"].startswith("public, max-age=")
        assert "Cookie" not in response.get("Vary", "")

    commitment_update(commitment=commitment, title="Open two consulates")
    assert "Open two consulates" in client.get(url).content.decode()

    publication_change(agreement=published, action="unpublish", user=editor, note="Wrong.")
    assert client.get(url).status_code == 404


@pytest.fixture
def at_root(settings):
    """Mount the public site at the root (the dashboard at /dashboard/) for one test."""
    import tracker.urls

    settings.TRACKER_PUBLIC_AT_ROOT = True
    importlib.reload(tracker.urls)
    clear_url_caches()
    yield
    settings.TRACKER_PUBLIC_AT_ROOT = False
    importlib.reload(tracker.urls)
    clear_url_caches()


def test_at_the_root_public_pages_are_cached_and_the_dashboard_is_not(
    at_root, client, admin_client, commitment
):
    url = card("commitment", commitment.key)
    assert url.startswith("/en/")
    client.get(url)
    assert client.get(url)["X-Public-Cache"] == "hit"
    for _ in range(2):
        response = admin_client.get("/dashboard/")
        assert response.status_code == 200
        assert "X-Public-Cache" not in response.headers
