"""One explanation of every due date, the same on the page, in the API, the calendar and mails."""

from __future__ import annotations

import datetime as dt
import html

import icalendar
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from accounts.services import user_set_language
from alerts.models import Alert
from alerts.services.delivery import alerts_send_pending
from commitments.deadlines.text import deadline_explanation
from commitments.models import Commitment
from commitments.selectors import with_deadline_explanation
from commitments.services import commitments as svc
from feeds import services as feed_services
from feeds.models import FeedScope
from tests import factories
from tests.support.api_support import token_client

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 5, 2, 3, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def _explained(commitment: Commitment, language: str) -> str:
    fresh = with_deadline_explanation(Commitment.objects.all()).get(pk=commitment.pk)
    with translation.override(language):
        return deadline_explanation(fresh)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "180 days after the agreement's date (Oct. 28, 2025) → April 26, 2026, ending "
            "23:59:59 Asia/Tokyo (14:59:59 UTC).",
        ),
        (
            "fr",
            "180 jours après la date de l’accord (28 octobre 2025) → 26 avril 2026, se "
            "terminant à 23:59:59 Asia/Tokyo (14:59:59 UTC).",
        ),
    ],
)
def test_a_relative_deadline_ends_at_the_end_of_its_day_in_the_agreement_zone(
    make_commitment, language, expected
):
    assert _explained(make_commitment(), language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "By the end of March 2026, ending March 31, 2026 23:59:59 Europe/Brussels "
            "(21:59:59 UTC).",
        ),
        (
            "fr",
            "D’ici fin mars 2026, se terminant le 31 mars 2026 à 23:59:59 Europe/Brussels "
            "(21:59:59 UTC).",
        ),
    ],
)
def test_by_march_is_a_month_ending_on_its_last_day(japan, language, expected):
    agreement = factories.agreement_make(parties=[japan], time_zone="Europe/Brussels")
    commitment = factories.commitment_make(
        agreement=agreement,
        obligor=japan,
        deadline_kind="period_end",
        offset_amount=None,
        offset_unit="",
        anchor_kind="",
        period_unit="month",
        period_number=3,
        period_year=2026,
    )
    assert (commitment.due_date, commitment.due_precision) == (dt.date(2026, 3, 31), "month")
    assert _explained(commitment, language) == expected


def test_a_new_york_deadline_names_the_next_utc_day(usa):
    agreement = factories.agreement_make(parties=[usa], time_zone="America/New_York")
    commitment = factories.commitment_make(agreement=agreement, obligor=usa)
    assert _explained(commitment, "en").endswith(
        "→ April 26, 2026, ending 23:59:59 America/New_York (April 27, 2026 03:59:59 UTC)."
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "180 days after the agreement's date (Oct. 28, 2025) → originally April 26, 2026; "
            "extended on May 1, 2026 to July 25, 2026, because the talks slipped. Ends July 25, "
            "2026 23:59:59 Asia/Tokyo (14:59:59 UTC).",
        ),
        (
            "fr",
            "180 jours après la date de l’accord (28 octobre 2025) → initialement 26 avril "
            "2026; prorogé le 1 mai 2026, nouvelle échéance 25 juillet 2026, motif : the talks "
            "slipped. Se termine le 25 juillet 2026 à 23:59:59 Asia/Tokyo (14:59:59 UTC).",
        ),
    ],
)
def test_a_revision_is_told_after_the_original_date(make_commitment, source, language, expected):
    commitment = factories.deadline_revision_make(
        commitment=make_commitment(), source=source, new_due_date=dt.date(2026, 7, 25)
    )
    assert _explained(commitment, language) == expected


def test_a_suspended_deadline_says_it_is_not_overdue(make_commitment, source):
    commitment = factories.deadline_revision_make(
        commitment=make_commitment(), source=source, kind="suspended", reason="talks paused"
    )
    assert _explained(commitment, "en") == (
        "180 days after the agreement's date (Oct. 28, 2025) → originally April 26, 2026; "
        "suspended on May 1, 2026, because talks paused. Not overdue while suspended."
    )


@pytest.mark.parametrize("language", ["en", "fr"])
def test_page_api_calendar_and_mail_say_the_same_explanation(
    client, editor, make_commitment, source, smtp_settings, language
):
    """With a revision, in English and in French: one text on the four surfaces."""
    commitment = factories.deadline_revision_make(
        commitment=make_commitment(title="Ministerial meeting"),
        source=source,
        new_due_date=dt.date(2026, 7, 25),
    )
    expected = _explained(commitment, language)
    assert "July 25" in expected or "25 juillet" in expected
    headers = {"Accept-Language": language}
    client.force_login(editor)

    page = client.get(reverse("dashboard:commitment", args=[commitment.pk]), headers=headers)
    assert page.context["deadline_explanation"] == expected
    assert html.escape(expected) in page.content.decode()

    api = token_client(editor)
    detail = api.get(f"/api/v1/commitments/{commitment.pk}/", headers=headers).json()
    assert detail["deadline_explanation"] == expected
    [row] = api.get("/api/v1/commitments/", headers=headers).json()["results"]
    assert row["deadline_explanation"] == expected

    _feed, secret = feed_services.calendar_feed_create(
        user=editor, scope=FeedScope.ALL, now=timezone.now()
    )
    response = client.get(reverse("api:feeds:calendar", args=[secret]), headers=headers)
    [event] = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert expected in str(event["DESCRIPTION"]).replace("\r\n ", "")

    user_set_language(user=editor, language=language)
    assert commitment.due_date is not None
    Alert.objects.create(
        user=editor,
        email=editor.email,
        commitment=commitment,
        due_date=commitment.due_date,
        threshold=7,
        created=TODAY,
    )
    alerts_send_pending(now=dt.datetime(2026, 7, 18, 3, tzinfo=dt.UTC))
    [mail] = smtp_settings.messages
    assert expected in " ".join(mail.text.split())
    assert html.escape(expected) in mail.html


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_recurring_deadline_says_how_it_repeats_and_which_is_next(
    agreement, japan, source, editor, language
):
    """The first date is the rule's; then the series, and the occurrence due next once the
    first is fulfilled: the same text on the API's detail and list."""
    commitment = factories.recurring_commitment_make(agreement=agreement, obligor=japan)
    first = commitment.occurrences.get(sequence=1)
    svc.commitment_change_status(
        commitment=commitment, status="fulfilled", occurrence=first, evidence_source=source,
        evidence_quote="Les achats de la première année sont faits.",
    )
    text = _explained(commitment, language)
    expected = {
        "en": "1 year after the agreement's date (Oct. 28, 2025) → Oct. 28, 2026, then every "
        "year, 3 occurrences; next due Oct. 28, 2027. Ends Oct. 28, 2027 23:59:59 Asia/Tokyo "
        "(14:59:59 UTC).",
        "fr": "1 an après la date de l’accord (28 octobre 2025) → 28 octobre 2026, puis chaque "
        "année, 3 occurrences; prochaine échéance 28 octobre 2027. Se termine le 28 octobre "
        "2027 à 23:59:59 Asia/Tokyo (14:59:59 UTC).",
    }[language]
    assert text == expected
    api = token_client(editor)
    headers = {"Accept-Language": language}
    detail = api.get(f"/api/v1/commitments/{commitment.pk}/", headers=headers).json()
    [row] = api.get("/api/v1/commitments/", headers=headers).json()["results"]
    assert detail["deadline_explanation"] == row["deadline_explanation"] == expected
