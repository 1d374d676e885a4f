"""The "what changed this week" page: the ISO week in the site's zone, other weeks by
``?week=``, bad and future weeks, the changes grouped by day with what, from, to, why and the
permalink, the counts in words, both languages, no draft."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client

from commitments.models import Agreement, Commitment, Correction, ProgressUpdate
from commitments.services.commitments import commitment_change_status
from commitments.services.publishing import agreement_publish_unreviewed
from publicsite.changes import change_counts, week_label, week_parse
from tests import factories

pytestmark = pytest.mark.django_db

# Thursday of ISO week 2026-W49 (Monday 30 November to Sunday 6 December).
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
URL = "/public/en/changes/"


@pytest.fixture(autouse=True)
def frozen(settings: Any) -> Any:
    settings.SITE_URL = "https://tracker.example.org"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def meet(agreement: Agreement, japan: Any) -> Commitment:
    agreement_publish_unreviewed(agreement=agreement)
    return factories.commitment_make(
        agreement=agreement, obligor=japan, key="meet", title="Hold a meeting",
        title_fr="Tenir une réunion",
    )


def _status(commitment: Commitment, status: str, note: str, when: dt.datetime) -> None:
    update = commitment_change_status(
        commitment=commitment, status=status, note=note, occurred_on=dt.date(2026, 11, 1)
    )
    ProgressUpdate.objects.filter(pk=update.pk).update(created=when)


def _correct(commitment: Commitment, when: dt.datetime, note: str = "A typo.") -> None:
    Correction.objects.create(
        agreement=commitment.agreement, commitment=commitment, field="title",
        old_value="Hold a meting", new_value="Hold a meeting", note=note, corrected_at=when,
    )


def _page(client: Client, url: str = URL, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status
    assert "Cookie" not in response.get("Vary", "")
    return response.content.decode()


def test_this_weeks_changes_by_day_with_what_from_to_why_and_link(client, meet):
    monday = dt.datetime(2026, 11, 30, 1, tzinfo=dt.UTC)
    _status(meet, "in_progress", "Talks & <b>more</b>.", monday)
    _correct(meet, dt.datetime(2026, 12, 2, 8, tzinfo=dt.UTC))
    _status(meet, "not_started", "Last week.", dt.datetime(2026, 11, 29, 23, tzinfo=dt.UTC))
    page = _page(client)
    assert "<h1>What changed this week</h1>" in page
    assert "From Monday 30 November 2026 to Sunday 6 December 2026." in page
    newest = page.index('<time datetime="2026-12-02">Wednesday 2 December 2026</time>')
    assert newest < page.index('<time datetime="2026-11-30">Monday 30 November 2026</time>')
    assert "Talks &amp; &lt;b&gt;more&lt;/b&gt;." in page  # escaped
    assert '<span class="change-old">Not started</span>' in page
    assert '<span class="change-new">In progress</span>' in page
    assert "Correction: title" in page and "A typo." in page
    assert 'href="https://tracker.example.org/public/en/commitments/meet/"' in page
    assert "Last week." not in page
    assert "This week: 1 status change, 1 correction." in page
    assert 'href="/public/en/feeds/changes.atom"' in page
    assert 'href="/public/en/changes/?week=2026-W48"' in page
    assert "Next week" not in page  # the next week has not come


def test_a_past_week_by_its_number(client, meet):
    _status(meet, "in_progress", "Earlier.", dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC))
    _status(meet, "not_started", "Again.", dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC))
    page = _page(client, f"{URL}?week=2026-W48")
    assert "What changed in week 2026-W48" in page
    assert "Earlier." in page and "Again." in page
    assert "This week: 2 status changes." in page
    assert 'href="/public/en/changes/?week=2026-W49"' in page  # next
    assert 'href="/public/en/changes/?week=2026-W47"' in page  # previous


def test_the_week_runs_monday_to_sunday_in_the_sites_zone(client, meet, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    # Sunday 29 November 20:00 UTC is Monday 30 November 05:00 in Tokyo: this week there.
    _status(meet, "in_progress", "Tokyo Monday.", dt.datetime(2026, 11, 29, 20, tzinfo=dt.UTC))
    assert "Tokyo Monday." in _page(client)
    assert "Tokyo Monday." not in _page(client, f"{URL}?week=2026-W48")


@pytest.mark.parametrize("value", ["junk", "2026-W54", "2026-W00", "2026-49", "2026-W4", ""])
def test_a_bad_week_is_a_400_with_a_message(client, value):
    page = _page(client, f"{URL}?week={value}", status=400)
    assert "is not a week" in page
    assert "2026-W49" in page  # the example is this week


def test_a_future_week_says_so(client, meet):
    page = _page(client, f"{URL}?week=2027-W02")
    assert "This week has not happened yet" in page


def test_an_empty_week_says_so(client, meet):
    assert "Nothing changed in this week." in _page(client, f"{URL}?week=2026-W10")


def test_a_drafts_changes_are_not_shown(client, japan):
    draft = factories.agreement_make(parties=[japan], key="draft")
    hidden = factories.commitment_make(agreement=draft, obligor=japan, key="hidden")
    _status(hidden, "in_progress", "Secret.", dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    page = _page(client)
    assert "Secret." not in page and "hidden" not in page


def test_the_french_page(client, meet):
    _status(meet, "in_progress", "Les pourparlers.", dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC))
    page = _page(client, "/public/fr/changes/")
    assert '<html lang="fr">' in page
    assert "mardi 1 décembre 2026" in page
    assert "Tenir une réunion" in page
    assert '<span class="change-new">En cours</span>' in page
    assert "/public/fr/commitments/meet/" in page
    assert 'href="/public/fr/feeds/changes.atom"' in page


def test_the_query_count_does_not_grow_with_the_changes(
    client, meet, django_assert_max_num_queries
):
    _correct(meet, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    with django_assert_max_num_queries(8) as few:
        _page(client)
    for hour in range(20):
        _correct(meet, dt.datetime(2026, 12, 1, hour, tzinfo=dt.UTC))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "21 corrections" in _page(client)


def test_week_values():
    assert week_parse("2026-W49") == dt.date(2026, 11, 30)
    assert week_parse("2026-W53") == dt.date(2026, 12, 28)  # 2026 starts on a Thursday
    assert week_parse("2025-W53") is None  # 2025 has 52 weeks
    assert week_label(dt.date(2027, 1, 1)) == "2026-W53"
    assert change_counts([]) == ""


def test_an_untranslated_title_is_marked_on_the_french_page(client, meet):
    Commitment.objects.filter(pk=meet.pk).update(title_fr="")
    _status(meet, "in_progress", "Begun.", dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC))
    page = _page(client, "/public/fr/changes/")
    assert 'lang="en">Hold a meeting</a>' in page
    assert '<small class="translation-note">(' in page
    assert 'lang="en">Hold a meeting</a>' not in _page(client)  # English: nothing to mark
