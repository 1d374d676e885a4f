"""One text for a deadline rule: every surface says the same words, in the reader's language."""

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
from commitments import deadlines
from commitments.deadlines.text import commitment_rule_in_words, rule_in_words
from commitments.services import commitments as svc
from feeds import services as feed_services
from feeds.models import FeedScope
from tests.support.api_support import token_client

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 1, 3, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "180 days after the agreement's date (Oct. 28, 2025) → April 26, 2026"),
        ("fr", "180 jours après la date de l’accord (28 octobre 2025) → 26 avril 2026"),
    ],
)
def test_admin_dashboard_api_mail_and_calendar_say_the_same_words(
    client, editor, make_commitment, smtp_settings, language, expected
):
    """The rule reads the same on the five surfaces, translated, with dates written locally."""
    commitment = make_commitment(title="Ministerial meeting")
    with translation.override(language):
        assert commitment_rule_in_words(commitment) == expected
    client.force_login(editor)
    headers = {"Accept-Language": language}

    admin = client.get(
        reverse("admin:commitments_commitment_change", args=[commitment.pk]), headers=headers
    )
    assert html.escape(expected) in admin.content.decode()

    dashboard = client.get(reverse("dashboard:commitment", args=[commitment.pk]), headers=headers)
    assert dashboard.context["rule_words"] == expected
    assert html.escape(expected) in dashboard.content.decode()

    api = token_client(editor)
    detail = api.get(f"/api/v1/commitments/{commitment.pk}/", headers=headers).json()
    assert detail["deadline_rule"]["description"] == expected
    [row] = api.get("/api/v1/commitments/", headers=headers).json()["results"]
    assert row["deadline_rule"]["description"] == expected

    user_set_language(user=editor, language=language)
    Alert.objects.create(
        user=editor,
        email=editor.email,
        commitment=commitment,
        due_date=commitment.due_date,
        threshold=7,
        created=TODAY,
    )
    alerts_send_pending(now=dt.datetime(2026, 4, 19, 3, tzinfo=dt.UTC))
    [mail] = smtp_settings.messages
    assert expected in mail.text
    assert html.escape(expected) in mail.html

    _feed, secret = feed_services.calendar_feed_create(
        user=editor, scope=FeedScope.ALL, now=timezone.now()
    )
    response = client.get(reverse("api:feeds:calendar", args=[secret]), headers=headers)
    [event] = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    label = {"en": "Rule: ", "fr": "Règle : "}[language]
    assert label + expected in str(event["DESCRIPTION"])


@pytest.mark.parametrize(
    ("language", "fields", "expected"),
    [
        ("en", {"deadline_kind": "none"}, "No deadline (ongoing)"),
        ("fr", {"deadline_kind": "none"}, "Sans échéance (permanent)"),
        (
            "en",
            {"deadline_kind": "fixed", "deadline_date": dt.date(2026, 3, 31)},
            "On March 31, 2026",
        ),
        (
            "fr",
            {"deadline_kind": "fixed", "deadline_date": dt.date(2026, 3, 31)},
            "Le 31 mars 2026",
        ),
        (
            "en",
            {"deadline_kind": "period_end", "period_unit": "month", "period_number": 4},
            "By the end of April (from the agreement's date, Oct. 28, 2025) → April 2026",
        ),
        (
            "fr",
            {"deadline_kind": "period_end", "period_unit": "month", "period_number": 4},
            "D’ici fin avril (à compter de la date de l’accord, 28 octobre 2025) → avril 2026",
        ),
        (
            "fr",
            {
                "deadline_kind": "period_end",
                "period_unit": "quarter",
                "period_number": 1,
                "period_year": 2027,
            },
            "D’ici la fin du T1 2027",
        ),
        (
            "en",
            {"deadline_kind": "period_end", "period_unit": "year", "period_year": 2030},
            "By the end of 2030",
        ),
        (
            "fr",
            {"offset_amount": 1, "offset_unit": "months"},
            "1 mois après la date de l’accord (28 octobre 2025) → 28 novembre 2025",
        ),
    ],
)
def test_each_kind_of_rule_in_words(make_commitment, language, fields, expected):
    defaults = {"offset_amount": None, "offset_unit": "", "anchor_kind": ""}
    if "offset_amount" in fields:
        defaults = {"anchor_kind": "agreement"}
    commitment = make_commitment(**{**defaults, **fields})
    with translation.override(language):
        assert commitment_rule_in_words(commitment) == expected


def test_a_rule_anchored_on_a_commitment_names_it_and_its_fulfilment(make_commitment, source):
    anchor = make_commitment(title="Summit")
    dependent = make_commitment(
        anchor_kind="commitment", anchor_commitment=anchor, offset_amount=2, offset_unit="weeks"
    )
    with translation.override("fr"):
        assert commitment_rule_in_words(dependent) == (
            "2 semaines après la réalisation de «\u00a0Summit\u00a0» (pas encore)"
        )
    svc.commitment_change_status(
        commitment=anchor,
        status="fulfilled",
        occurred_on=dt.date(2026, 1, 10),
        evidence_source=source,
        evidence_quote="Le sommet s'est tenu.",
    )
    dependent.refresh_from_db()
    dependent.anchor_commitment.refresh_from_db()
    with translation.override("en"):
        assert commitment_rule_in_words(dependent) == (
            "2 weeks after “Summit” was fulfilled (Jan. 10, 2026) → Jan. 24, 2026"
        )


def test_the_words_need_no_database():
    """The renderer words a bare rule: the API's list reader gives it plain row values."""
    rule = deadlines.DeadlineRule(
        kind=deadlines.RuleKind.RELATIVE,
        offset_amount=3,
        offset_unit=deadlines.OffsetUnit.DAYS,
    )
    with translation.override("en"):
        assert rule_in_words(rule, agreement_date=dt.date(2025, 10, 28)) == (
            "3 days after the agreement's date (Oct. 28, 2025)"
        )


def test_remembered_dates_are_written_in_the_language_of_each_reader():
    """The day words are remembered per language: a French reader after an English one (and
    back) reads their own words, as freshly formatted ones would be."""
    from django.utils.formats import date_format

    from commitments.deadlines.text import date_in_words

    day = dt.date(2026, 3, 31)
    for language, words, month in [
        ("en", "March 31, 2026", "March 2026"),
        ("fr", "31 mars 2026", "mars 2026"),
        ("en", "March 31, 2026", "March 2026"),
        ("fr", "31 mars 2026", "mars 2026"),
    ]:
        with translation.override(language):
            assert date_in_words(day) == words == date_format(day, "DATE_FORMAT")
            assert date_in_words(day, "month") == month


def test_remembered_words_are_those_of_each_readers_language():
    """Words are translated once per language: a French reader after an English one (and
    back) reads their own words, the month's name and the ratings' labels too."""
    from commitments.choices import rating_label

    after = deadlines.DeadlineRule(
        kind=deadlines.RuleKind.RELATIVE, offset_amount=3, offset_unit=deadlines.OffsetUnit.MONTHS
    )
    by_march = deadlines.DeadlineRule(
        kind=deadlines.RuleKind.PERIOD_END,
        period_unit=deadlines.PeriodUnit.MONTH,
        period_number=3,
    )
    signed = dt.date(2025, 10, 28)
    english = (
        "3 months after the agreement's date (Oct. 28, 2025) → Jan. 28, 2026",
        "By the end of March (from the agreement's date, Oct. 28, 2025)",
        "Not yet rated",
        "Kept",
    )
    french = (
        "3 mois après la date de l’accord (28 octobre 2025) → 28 janvier 2026",
        "D’ici fin mars (à compter de la date de l’accord, 28 octobre 2025)",
        "Pas encore évalué",
        "Tenu",
    )
    for language, expected in [("en", english), ("fr", french), ("en", english), ("fr", french)]:
        with translation.override(language):
            assert (
                rule_in_words(after, agreement_date=signed, due_date=dt.date(2026, 1, 28)),
                rule_in_words(by_march, agreement_date=signed),
                rating_label(None),
                rating_label("kept"),
            ) == expected
