"""What a review found at the edges of the public site, each kept fixed by a test: hostile
parameters, texts that name a draft, staff names in the anonymous API, parties bound only
as co-obligors, commitments moved between agreements, the second reviewer's view of a
rating, and the cache's key."""

from __future__ import annotations

import datetime as dt

import feedparser
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from commitments.models import Correction, KeyRedirect
from commitments.services.assessments import assessment_record
from commitments.services.commitments import commitment_update
from commitments.services.publishing import publication_change, publication_refusal
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_week_at_the_edge_of_the_calendar_is_refused_not_a_crash(client):
    for week in ("9999-W52", "0001-W01", "1899-W52"):
        response = client.get(reverse("public:week", kwargs={"lang": "en"}), {"week": week})
        assert response.status_code == 400, week


def test_oembed_refuses_odd_sizes_and_broken_urls_plainly(client, settings, commitment):
    url = reverse("public:oembed", kwargs={"lang": "en"})
    page = settings.SITE_URL + reverse(
        "public:commitment", kwargs={"lang": "en", "key": commitment.key}
    )
    assert client.get(url, {"url": page, "maxwidth": "²"}).status_code == 400
    assert client.get(url, {"url": page, "maxwidth": "9" * 5000}).status_code == 400
    assert client.get(url, {"url": "http://[abc/x"}).status_code == 404
    assert client.get(url, {"url": page, "maxwidth": "400"}).status_code == 200


def test_a_control_character_in_a_note_leaves_the_feed_readable(client, commitment):
    Correction.objects.create(
        agreement=commitment.agreement,
        commitment=commitment,
        field="title",
        old_value="Open a consul\x0bate",
        new_value="Open a consulate",
        note="typo\x0bfix",
        corrected_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
    )
    response = client.get(reverse("public:feed", kwargs={"lang": "en"}))
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo
    assert any("typofix" in entry.content[0].value for entry in feed.entries)
    assert all("Change(" not in entry.summary for entry in feed.entries)


def test_a_party_bound_only_as_co_obligor_has_its_public_page(client, commitment, usa):
    # The United States is a party to the agreement here; a party bound only through a
    # commitment (not a party to the agreement) must be public too.
    korea = factories.party_make(key="south-korea", name="Republic of Korea")
    commitment_update(commitment=commitment, co_obligors=[usa, korea])
    page = client.get(reverse("public:party", kwargs={"lang": "en", "key": "south-korea"}))
    assert page.status_code == 200
    assert "Republic of Korea" in page.content.decode()


def test_a_commitment_does_not_move_into_or_out_of_a_published_agreement(
    commitment, published, draft
):
    secret = draft.commitments.get()
    with pytest.raises(ValidationError) as refused:
        commitment_update(commitment=commitment, agreement=draft)
    assert "agreement" in refused.value.message_dict
    with pytest.raises(ValidationError):
        commitment_update(commitment=secret, agreement=published)
    commitment.refresh_from_db()
    secret.refresh_from_db()
    assert commitment.agreement_id != draft.pk
    assert secret.agreement_id == draft.pk


def test_a_draft_anchor_is_not_named_on_the_public_page_nor_to_the_anonymous_api(
    client, settings, commitment, draft
):
    secret = draft.commitments.get()
    commitment_update(
        commitment=commitment,
        deadline_kind="relative",
        anchor_kind="commitment",
        anchor_commitment=secret,
        offset_amount=6,
        offset_unit="months",
    )
    page = client.get(reverse("public:commitment", kwargs={"lang": "en", "key": commitment.key}))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Secret commitment" not in body
    assert "another commitment (not published)" in body
    settings.API_PUBLIC_READ = True
    for url in (f"/api/v1/commitments/{commitment.pk}/", "/api/v1/commitments/"):
        answer = client.get(url)
        assert answer.status_code == 200
        assert "Secret commitment" not in answer.content.decode(), url


def test_the_anonymous_api_names_no_staff_and_keeps_the_archived_text(
    client, settings, commitment, editor, source
):
    commitment_update(commitment=commitment, owner=editor)
    factories.citation_make(source=source, commitment=commitment)
    settings.API_PUBLIC_READ = True
    detail = client.get(f"/api/v1/commitments/{commitment.pk}/").json()
    assert detail["owner"] is None
    assert client.get(f"/api/v1/sources/{source.pk}/").json()["text"] is None
    listed = client.get("/api/v1/commitments/").json()["results"]
    assert all(row["owner"] is None for row in listed)
    client.force_login(editor)
    assert client.get(f"/api/v1/commitments/{commitment.pk}/").json()["owner"] == "editor"


def test_a_rating_is_a_change_the_second_reviewer_rule_sees(settings, commitment, japan, draft):
    settings.TRACKER_PUBLISH_REVIEW_REQUIRED = True
    submitter = factories.user_make(username="b", role="Editors")
    rater = factories.user_make(username="a", role="Editors")
    publication_change(agreement=draft, action="submit", user=submitter)
    draft.refresh_from_db()
    secret = draft.commitments.get()
    assessment_record(
        commitment=secret,
        party=japan,
        rating="in_the_works",
        justification="Work started.",
        assessed_on=dt.date(2025, 11, 3),
        user=rater,
    )
    assert publication_refusal(agreement=draft, action="publish", user=rater)
    third = factories.user_make(username="c", role="Editors")
    assert publication_refusal(agreement=draft, action="publish", user=third) is None


def test_the_cache_keeps_one_entry_per_page_and_answers_only_its_own_host(client, commitment):
    url = reverse("public:commitment", kwargs={"lang": "en", "key": commitment.key})
    assert client.get(url)["X-Public-Cache"] == "miss"
    assert client.get(url)["X-Public-Cache"] == "hit"
    # A parameter no page reads is answered but never stored.
    assert "X-Public-Cache" not in client.get(url, {"utm": "1"})
    assert "X-Public-Cache" not in client.get(url, {"utm": "2"})
    week = reverse("public:week", kwargs={"lang": "en"})
    assert client.get(week + "?week=2026-W10&page=1")["X-Public-Cache"] == "miss"
    assert client.get(week + "?page=1&week=2026-W10")["X-Public-Cache"] == "hit"
    assert client.get(url, HTTP_HOST="evil.example").status_code == 400
    assert not KeyRedirect.objects.exists()


def test_an_overdue_commitment_says_so_in_the_list_and_on_its_card(
    client, published, make_commitment
):
    late = make_commitment(
        key="late-one", title="Late one", deadline_kind="fixed", deadline_date=dt.date(2026, 1, 31)
    )
    late.refresh_from_db()
    assert late.deadline_state == "overdue"
    page = client.get(reverse("public:agreement", kwargs={"lang": "fr", "key": published.key}))
    assert '<strong class="overdue">En retard</strong>' in page.content.decode()
    card = client.get(reverse("public:embed_commitment", kwargs={"lang": "en", "key": "late-one"}))
    assert '<strong class="overdue">Overdue</strong>' in card.content.decode()
