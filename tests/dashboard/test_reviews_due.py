"""The overview says how many ratings are due for review and links to their commitments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from alerts.services.scan import scan
from commitments.services.assessments import assessment_record
from core.roles import VIEWERS
from tests.factories import user_make

pytestmark = pytest.mark.django_db


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def test_the_overview_counts_the_ratings_the_scan_flagged(
    client, make_commitment, japan, editor, time_machine
):
    for n, day in enumerate([dt.date(2025, 11, 1), dt.date(2025, 11, 1), dt.date(2026, 4, 1)]):
        assessment_record(
            commitment=make_commitment(), party=japan, rating="in_the_works",
            justification=f"Step {n}.", assessed_on=day, user=editor, now=_noon(day),
        )
    time_machine.move_to(_noon(dt.date(2026, 5, 1)), tick=False)
    scan(now=_noon(dt.date(2026, 5, 1)))
    client.force_login(user_make(username="rita", role=VIEWERS))
    page = client.get(reverse("dashboard:overview")).content.decode()
    link = reverse("dashboard:commitments") + "?review_due=true"
    assert f'<a href="{link}"><strong>2</strong> ratings due for review</a>' in page


def test_the_count_reads_in_french(client, time_machine):
    user = user_make(username="rita", role=VIEWERS)
    client.force_login(user)
    page = client.get(reverse("dashboard:overview"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<strong>0</strong> évaluation à réexaminer" in page
