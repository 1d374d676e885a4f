"""The review pages read well (issue 13, item 8): countdowns, time zones, titles, obligors."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from commitments.services.commitments import commitment_update
from core.roles import VIEWERS
from tests.factories import user_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(db):
    return user_make(username="rita", role=VIEWERS)

# The summit fixture is dated 2025-10-28 in Asia/Tokyo; the default commitment is due 180
# days later, on 2026-04-26 (end of day, Tokyo).


def page(client, reviewer, commitment) -> str:
    client.force_login(reviewer)
    return client.get(reverse("dashboard:commitment", args=[commitment.pk])).content.decode()


@pytest.mark.parametrize(
    ("now", "text"),
    [
        (dt.datetime(2026, 4, 24, 3, tzinfo=dt.UTC), "2 days left"),
        # 26 April in Tokyo, still the 25th in UTC: the agreement's zone counts.
        (dt.datetime(2026, 4, 25, 16, tzinfo=dt.UTC), "due today"),
        (dt.datetime(2026, 4, 27, 3, tzinfo=dt.UTC), "1 day overdue"),
        (dt.datetime(2026, 5, 6, 3, tzinfo=dt.UTC), "10 days overdue"),
    ],
)
def test_the_commitment_page_counts_days_left_due_today_and_days_overdue(
    client, reviewer, make_commitment, now, text
):
    commitment = make_commitment()
    with time_machine.travel(now, tick=False):
        body = page(client, reviewer, commitment)
    assert text in body
    assert "days left" not in body or text.endswith("left")


def test_the_flag_time_says_its_time_zone(client, reviewer, make_commitment):
    with time_machine.travel(dt.datetime(2026, 4, 27, 23, 44, tzinfo=dt.UTC), tick=False):
        commitment = make_commitment(deadline_kind="fixed", deadline_date=dt.date(2026, 4, 20))
        body = page(client, reviewer, commitment)
    assert "11:44 p.m. UTC)" in body


def test_pages_name_every_obligor_of_a_shared_commitment(
    client, reviewer, make_commitment, usa, agreement
):
    shared = make_commitment(title="Meet within 180 days")
    commitment_update(commitment=shared, co_obligors=[usa])
    body = page(client, reviewer, shared)
    assert '<dd class="obligors">Japan, United States</dd>' in body
    listing = client.get(reverse("dashboard:commitments")).content.decode()
    assert "<td>Japan, United States</td>" in listing
    agreement_page = client.get(reverse("dashboard:agreement", args=[agreement.pk])).content
    assert "<td>Japan, United States</td>" in agreement_page.decode()


def test_a_long_title_on_the_timeline_can_be_read_in_full(
    client, reviewer, make_commitment, agreement
):
    title = "Japan and the US hold a bilateral ministerial on mining, minerals and metals"
    make_commitment(title=title)
    client.force_login(reviewer)
    body = client.get(reverse("dashboard:agreement", args=[agreement.pk])).content.decode()
    assert f'aria-label="{title}"><title>{title}</title>' in body


def test_a_shared_commitment_counts_in_the_compliance_table_of_each_obligor(
    client, reviewer, make_commitment, usa, agreement
):
    shared = make_commitment(title="Meet within 180 days")
    commitment_update(commitment=shared, co_obligors=[usa])
    client.force_login(reviewer)
    response = client.get(reverse("dashboard:agreement", args=[agreement.pk]))
    rows = {
        entry.party.name: [row.commitment.title for row in entry.rows]
        for entry in response.context["compliance"].parties
    }
    assert rows == {"Japan": ["Meet within 180 days"], "United States": ["Meet within 180 days"]}
