"""Calendar feeds of recurring commitments: one event per occurrence, each its own status."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from commitments.choices import Status
from commitments.services import commitments as svc
from feeds import services as feed_services
from feeds.models import FeedScope
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 10, 12, 0, tzinfo=dt.UTC)


@time_machine.travel(NOW, tick=False)
def test_each_occurrence_is_an_event_with_its_own_uid_status_and_alarms(
    client, viewer, agreement, japan, source
):
    commitment = factories.recurring_commitment_make(
        agreement=agreement, obligor=japan, title="Farm purchases"
    )
    svc.commitment_change_status(
        commitment=commitment,
        occurrence=commitment.occurrences.get(sequence=2),
        status=Status.FULFILLED,
        evidence_source=source,
        evidence_quote="Achats de la deuxième année réalisés par avance.",
    )
    _feed, secret = feed_services.calendar_feed_create(
        user=viewer, scope=FeedScope.ALL, now=timezone.now()
    )
    response = client.get(reverse("api:feeds:calendar", args=[secret]))
    assert response.status_code == 200
    events = {
        str(e["UID"]): e for e in icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    }
    uids = [f"commitment-{commitment.pk}-occurrence-{n}-due@127.0.0.1" for n in (1, 2, 3)]
    assert sorted(events) == sorted(uids)
    first, second, third = (events[uid] for uid in uids)
    assert first.decoded("DTSTART") == dt.date(2026, 10, 28)
    assert str(first["SUMMARY"]) == "[OVERDUE] Farm purchases (#1)"
    assert str(second["SUMMARY"]) == "Farm purchases (#2)"
    assert "Fulfilled" in second["CATEGORIES"].cats
    assert list(second.walk("VALARM")) == []
    assert third.decoded("DTSTART") == dt.date(2028, 10, 28)
    assert len(list(third.walk("VALARM"))) == 4
    alarm_uids = {str(alarm["UID"]) for alarm in third.walk("VALARM")}
    assert f"commitment-{commitment.pk}-occurrence-3-due-lead-30@127.0.0.1" in alarm_uids
