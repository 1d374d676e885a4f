"""The Atom feeds of changes, read by an independent parser (feedparser): entries, links,
dates, ids, escaping, language, scopes, and no draft by any key."""

from __future__ import annotations

import datetime as dt
from typing import Any

import feedparser
import pytest
from django.test import Client

from commitments.models import Agreement, Commitment, Correction, ProgressUpdate
from commitments.services.commitments import commitment_change_status, commitment_update
from commitments.services.publishing import agreement_publish_unreviewed
from tests import factories

pytestmark = pytest.mark.django_db

SITE = "https://tracker.example.org"
HOSTILE = "<script>alert('x')</script> & co"


@pytest.fixture(autouse=True)
def site_url(settings: Any) -> None:
    settings.SITE_URL = SITE


@pytest.fixture
def published(agreement: Agreement) -> Agreement:
    agreement_publish_unreviewed(agreement=agreement)
    agreement.refresh_from_db()
    return agreement


@pytest.fixture
def meet(published: Agreement, japan: Any) -> Commitment:
    return factories.commitment_make(
        agreement=published, obligor=japan, key="meet", title="Meet & greet <b>now</b>",
        title_fr="Se réunir",
    )


def _status(commitment: Commitment, note: str, when: dt.datetime) -> ProgressUpdate:
    update = commitment_change_status(commitment=commitment, status="in_progress", note=note)
    ProgressUpdate.objects.filter(pk=update.pk).update(created=when)
    return update


def _correct(agreement: Agreement, commitment: Commitment | None, when: dt.datetime) -> Correction:
    return Correction.objects.create(
        agreement=agreement, commitment=commitment, field="title", old_value="Old",
        new_value="New", note="A typo.", corrected_at=when,
    )


def _get(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/atom+xml")
    assert "Cookie" not in response.get("Vary", "")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


WHEN = dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC)


def test_the_site_feed_says_what_changed_from_what_to_what_and_why(client, meet):
    _status(meet, HOSTILE, WHEN)
    parsed = _get(client, "/public/en/feeds/changes.atom")
    assert parsed.version == "atom10"
    assert parsed.feed.language == "en"
    assert parsed.feed.title == "Commitment Tracker: what changed"
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == f"{SITE}/public/en/feeds/changes.atom"
    assert links["alternate"] == f"{SITE}/public/en/changes/"
    assert parsed.feed.updated_parsed[:5] == (2026, 11, 30, 9, 30)
    [entry] = parsed.entries
    assert entry.title == "Status: Not started → In progress — Meet & greet <b>now</b>"
    assert entry.link == f"{SITE}/public/en/commitments/meet/"
    assert entry.id.startswith("tag:tracker.example.org,2026:changes/en/status-")
    assert entry.updated_parsed[:5] == (2026, 11, 30, 9, 30)
    # The note is text, not markup: escaped in the HTML content, shown as written.
    [content] = entry.content
    assert content.type == "text/html"
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in content.value
    assert "Meet &amp; greet &lt;b&gt;now&lt;/b&gt;" in content.value
    assert "<p>Status: Not started → In progress</p>" in content.value


def test_user_text_never_reaches_the_xml_as_markup(client, meet):
    _status(meet, HOSTILE, WHEN)
    body = client.get("/public/en/feeds/changes.atom").content.decode()
    assert "<script>" not in body
    assert "<b>now</b>" not in body


def test_ids_are_stable_and_the_feed_lists_the_50_newest(client, published, meet):
    for minute in range(55):
        _correct(published, meet, WHEN + dt.timedelta(minutes=minute))
    first = _get(client, "/public/en/feeds/changes.atom")
    again = _get(client, "/public/en/feeds/changes.atom")
    assert len(first.entries) == 50
    assert [e.id for e in first.entries] == [e.id for e in again.entries]
    assert len({e.id for e in first.entries}) == 50
    assert first.entries[0].updated_parsed[:5] == (2026, 11, 30, 10, 24)
    assert first.entries[0].title == "Correction: title: Old → New — Meet & greet <b>now</b>"


def test_the_french_feed_is_in_french(client, meet):
    _status(meet, "Les pourparlers ont commencé.", WHEN)
    parsed = _get(client, "/public/fr/feeds/changes.atom")
    assert parsed.feed.language == "fr"
    [entry] = parsed.entries
    # "Statut", with French typography before the colon.
    assert entry.title.startswith("Statut")
    assert entry.title.endswith("Non commencé → En cours — Se réunir")
    assert entry.link == f"{SITE}/public/fr/commitments/meet/"
    assert entry.id.startswith("tag:tracker.example.org,2026:changes/fr/")


def test_scoped_feeds(client, published, meet, japan, usa):
    other = factories.commitment_make(agreement=published, obligor=usa, key="other")
    _status(meet, "Meet begun.", WHEN)
    _status(other, "Other begun.", WHEN + dt.timedelta(hours=1))
    _correct(published, None, WHEN + dt.timedelta(hours=2))

    def links(url: str) -> list[str]:
        return [e.link.removeprefix(f"{SITE}/public/en/") for e in _get(client, url).entries]

    assert links("/public/en/feeds/agreements/summit-2025-10-28.atom") == [
        "agreements/summit-2025-10-28/", "commitments/other/", "commitments/meet/"
    ]
    assert links("/public/en/feeds/commitments/meet.atom") == ["commitments/meet/"]
    assert links("/public/en/feeds/parties/united-states.atom") == ["commitments/other/"]
    parsed = _get(client, "/public/en/feeds/parties/japan.atom")
    assert parsed.feed.title == "What changed: Japan"
    assert {link.rel: link.href for link in parsed.feed.links}["self"] == (
        f"{SITE}/public/en/feeds/parties/japan.atom"
    )


def test_a_report_correction_links_to_its_report(client, published, meet, japan, editor):
    from commitments.services.reports import report_correct, report_freeze

    report = report_freeze(
        agreement=published, title="Interim", cutoff=dt.date(2026, 3, 31), user=editor,
        now=WHEN,
    )
    report_correct(
        report=report, row=None, field="report", new_value="Read again.", note="Misdated.",
        user=editor, now=WHEN,
    )
    [entry] = _get(client, "/public/en/feeds/changes.atom").entries
    assert entry.link == f"{SITE}/public/en/agreements/summit-2025-10-28/reports/{report.pk}/"


def test_no_feed_for_a_draft_or_an_unknown_key(client, japan, meet):
    draft = factories.agreement_make(parties=[japan], key="secret-draft")
    hidden = factories.commitment_make(agreement=draft, obligor=japan, key="hidden")
    _status(hidden, "Secret.", WHEN)
    for url in (
        "/public/en/feeds/agreements/secret-draft.atom",
        "/public/en/feeds/commitments/hidden.atom",
        "/public/en/feeds/agreements/nothing.atom",
        "/public/fr/feeds/parties/nobody.atom",
    ):
        assert client.get(url).status_code == 404, url
    korea = factories.party_make(key="korea", name="Korea")
    factories.commitment_make(agreement=draft, obligor=korea, key="korean")
    assert client.get("/public/en/feeds/parties/korea.atom").status_code == 404
    assert _get(client, "/public/en/feeds/changes.atom").entries == []


def test_an_old_key_redirects_to_the_current_feed(client, meet, editor):
    commitment_update(commitment=meet, key="meeting", user=editor)
    response = client.get("/public/en/feeds/commitments/meet.atom")
    assert response.status_code == 301
    assert response["Location"] == "/public/en/feeds/commitments/meeting.atom"


def test_a_feeds_queries_do_not_grow_with_its_entries(
    client, published, meet, django_assert_max_num_queries
):
    _correct(published, meet, WHEN)
    _status(meet, "Begun.", WHEN)
    url = "/public/en/feeds/agreements/summit-2025-10-28.atom"
    with django_assert_max_num_queries(10) as few:
        _get(client, url)
    for minute in range(30):
        _correct(published, meet, WHEN + dt.timedelta(minutes=minute))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(_get(client, url).entries) == 32
